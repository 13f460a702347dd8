"""ONNX converters for element indexing, ordering and running sums: GatherElements,
ScatterElements, ScatterND, TopK and CumSum.

They use graphc's own ops (gather_nd, tensor_scatter_nd_*, top_k, cumsum: differentiable and
optimizable) whenever the operands graphc wants at build time (K, the axis) are static, and
the run-time forms of ``dynamic_ops`` otherwise (or for reductions graphc has no op for).
"""
from __future__ import annotations

import graphc as gc

from . import dynamic_ops as dyn
from .converters import UnsupportedOpError, _ints, converter


def _wrapped(indices, dim):
    """ONNX indices may count back from the end: -1 is ``dim - 1``."""
    dim = gc.cast(dim, indices.dtype)
    return gc.where(gc.less(indices, 0), indices + dim, indices)


def _element_coordinates(data, indices, axis):
    """``[..., rank]`` gather_nd coordinates addressing, for each entry of ``indices``, the
    element of ``data`` at that index along ``axis`` and at the entry's own position along
    every other axis (GatherElements' and ScatterElements' addressing)."""
    rank = indices.shape.rank
    if rank is None:
        raise UnsupportedOpError("indices of unknown rank")
    axis %= rank
    shape = gc.shape(indices, out_type=indices.dtype)
    coordinates = []
    for dim in range(rank):
        if dim == axis:
            coordinates.append(_wrapped(indices, gc.shape(data, out_type=indices.dtype)[axis]))
            continue
        along = gc.reshape(gc.range(shape[dim], dtype=indices.dtype),
                           [-1 if d == dim else 1 for d in range(rank)])
        coordinates.append(gc.broadcast_to(along, shape))
    return gc.stack(coordinates, axis=-1)


@converter("GatherElements")
def _gather_elements(ctx, ins, attrs):
    data, indices = ins
    return gc.gather_nd(data, _element_coordinates(data, indices, attrs.get("axis", 0)))


def _scatter(data, coordinates, updates, reduction):
    if reduction == "none":
        return gc.tensor_scatter_nd_update(data, coordinates, updates)
    if reduction == "add":
        return gc.tensor_scatter_nd_add(data, coordinates, updates)
    return dyn.onnx_scatter_nd(data, coordinates, updates, reduction)


@converter("ScatterElements")
def _scatter_elements(ctx, ins, attrs):
    data, indices, updates = ins
    coordinates = _element_coordinates(data, indices, attrs.get("axis", 0))
    return _scatter(data, coordinates, updates, attrs.get("reduction", "none"))


@converter("ScatterND")
def _scatter_nd(ctx, ins, attrs):
    data, indices, updates = ins
    depth = indices.shape[-1] if indices.shape.rank else None
    if depth is None:
        raise UnsupportedOpError("ScatterND: indices whose last dimension is unknown")
    data_dims = gc.shape(data, out_type=indices.dtype)[:depth]
    return _scatter(data, _wrapped(indices, data_dims), updates,
                    attrs.get("reduction", "none"))


@converter("TopK")
def _top_k(ctx, ins, attrs):
    x, k_input = ins[0], ins[1] if len(ins) > 1 else None
    axis, largest = attrs.get("axis", -1), attrs.get("largest", 1)
    k = _ints(k_input, "K") if k_input is not None else [attrs["k"]]  # opset < 10: attribute
    if k is None or x.shape.rank is None or (not largest and x.dtype.is_unsigned):
        return dyn.onnx_top_k(x, k_input, axis, largest)
    rank = x.shape.rank
    axis %= rank
    perm = [d for d in range(rank) if d != axis] + [axis]
    inverse = [perm.index(d) for d in range(rank)]
    moved = gc.transpose(x, perm) if axis != rank - 1 else x
    # the k smallest are the k largest of -x; ties keep the lower index first either way
    values, indices = gc.nn.top_k(moved if largest else -moved, k[0])
    values = values if largest else -values
    if axis != rank - 1:
        values, indices = gc.transpose(values, inverse), gc.transpose(indices, inverse)
    return values, gc.cast(indices, gc.int64)


@converter("CumSum")
def _cumsum(ctx, ins, attrs):
    x, axis = ins
    exclusive, reverse = attrs.get("exclusive", 0), attrs.get("reverse", 0)
    static_axis = _ints(axis, "axis")
    if static_axis is None:
        return dyn.onnx_cumsum(x, axis, exclusive, reverse)
    return gc.cumsum(x, static_axis[0], exclusive=bool(exclusive), reverse=bool(reverse))
