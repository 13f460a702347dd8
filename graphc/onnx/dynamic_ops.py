"""ONNX ops whose shape-like operands (slice bounds, axes, repeats) may be run-time values.

ONNX feeds such operands as tensors; many models (and most of the official node tests) give
them as graph inputs, not constants. graphc's own ops want them when the graph is built, so
the importer uses these instead when a value is not static: each is one registry op whose
kernel reads the operand's value at run time, with ONNX's semantics (negative indices,
clamping, ``axes`` defaults) and shape inference that keeps what is known.
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.ops.common import apply_op
from graphc.registry import OpDef
from graphc.shapes import TensorShape

__all__ = ["onnx_slice", "onnx_tile", "onnx_unsqueeze", "onnx_squeeze", "onnx_reduce",
           "onnx_expand", "onnx_top_k", "onnx_cumsum", "onnx_scatter_nd", "onnx_pad"]

TESTED = "tests/test_onnx.py (ONNX node tests through the importer)"
# each kernel reads an operand's value (bounds, axes, K, indices) that can be out of range
# at run time: raises_on_values=True on every op here


def _unknown_rank(inputs, attrs):
    return [TensorShape(None)]


def _first_dtype(in_dtypes, attrs):
    return [in_dtypes[0]]


def _slice_kernel(x, starts, ends, axes=None, steps=None):
    starts, ends = np.asarray(starts).ravel(), np.asarray(ends).ravel()
    axes = np.arange(len(starts)) if axes is None else np.asarray(axes).ravel()
    steps = np.ones(len(starts), np.int64) if steps is None else np.asarray(steps).ravel()
    index = [slice(None)] * x.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps):
        axis = int(axis) % x.ndim
        dim = x.shape[axis]
        start, end, step = int(start), int(end), int(step)
        if step == 0:
            raise ValueError("Slice: steps must not be 0")
        # ONNX clamps to [0, dim] (to [-1, dim - 1] for negative steps)
        start = start + dim if start < 0 else start
        end = end + dim if end < 0 else end
        if step > 0:
            start, end = min(max(start, 0), dim), min(max(end, 0), dim)
        else:
            start, end = min(max(start, -1), dim - 1), min(max(end, -1), dim - 1)
        index[axis] = slice(start, None if end < 0 and step < 0 else end, step)
    return x[tuple(index)]


def _slice_apply(x, starts, ends, axes=None, steps=None):
    return _slice_kernel(x, starts, ends, axes, steps)


SLICE = registry.register(OpDef(
    name="onnx_slice", dtypes=_first_dtype, shapes=_unknown_rank, unknown_rank_ok=True,
    kernel=lambda x, *operands: np.ascontiguousarray(_slice_apply(x, *operands)),
    grad=registry.NOT_DIFFERENTIABLE, raises_on_values=True, tested_elsewhere=TESTED,
    doc="ONNX Slice with run-time starts/ends/axes/steps."))


def onnx_slice(x, starts, ends, axes=None, steps=None):
    operands = [x, starts, ends] + [v for v in (axes, steps) if v is not None]
    if axes is None and steps is not None:
        raise ValueError("onnx_slice: steps without axes")
    return apply_op("onnx_slice", operands)


TILE = registry.register(OpDef(
    name="onnx_tile", dtypes=_first_dtype, shapes=_unknown_rank, unknown_rank_ok=True,
    kernel=lambda x, repeats: np.tile(x, np.asarray(repeats).astype(np.int64)),
    grad=registry.NOT_DIFFERENTIABLE, raises_on_values=True, tested_elsewhere=TESTED,
    doc="ONNX Tile with run-time repeats."))


def onnx_tile(x, repeats):
    return apply_op("onnx_tile", [x, repeats])


def _unsqueeze_kernel(x, axes):
    out_rank = x.ndim + np.asarray(axes).size
    for axis in sorted(int(a) % out_rank for a in np.asarray(axes).ravel()):
        x = np.expand_dims(x, axis)
    return x


UNSQUEEZE = registry.register(OpDef(
    name="onnx_unsqueeze", dtypes=_first_dtype, shapes=_unknown_rank, unknown_rank_ok=True,
    kernel=_unsqueeze_kernel, grad=registry.NOT_DIFFERENTIABLE, raises_on_values=True,
    tested_elsewhere=TESTED,
    doc="ONNX Unsqueeze with run-time axes."))


def onnx_unsqueeze(x, axes):
    return apply_op("onnx_unsqueeze", [x, axes])


def _squeeze_kernel(x, *axes):
    if not axes:
        return np.squeeze(x)
    return np.squeeze(x, axis=tuple(int(a) % x.ndim for a in np.asarray(axes[0]).ravel()))


SQUEEZE = registry.register(OpDef(
    name="onnx_squeeze", dtypes=_first_dtype, shapes=_unknown_rank, unknown_rank_ok=True,
    kernel=_squeeze_kernel, grad=registry.NOT_DIFFERENTIABLE, raises_on_values=True,
    tested_elsewhere=TESTED,
    doc="ONNX Squeeze with run-time axes."))


def onnx_squeeze(x, axes=None):
    return apply_op("onnx_squeeze", [x] + ([axes] if axes is not None else []))


_REDUCERS = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "prod": np.prod,
             "l1": lambda x, axis, keepdims: np.sum(np.abs(x), axis=axis, keepdims=keepdims),
             "l2": lambda x, axis, keepdims: np.sqrt(np.sum(x * x, axis=axis,
                                                           keepdims=keepdims)),
             "sum_square": lambda x, axis, keepdims: np.sum(x * x, axis=axis,
                                                            keepdims=keepdims),
             "log_sum": lambda x, axis, keepdims: np.log(np.sum(x, axis=axis,
                                                               keepdims=keepdims)),
             "log_sum_exp": lambda x, axis, keepdims: _logsumexp(x, axis, keepdims)}


def _logsumexp(x, axis, keepdims):
    top = np.max(x, axis=axis, keepdims=True) if x.size else np.zeros([1] * x.ndim, x.dtype)
    top = np.where(np.isfinite(top), top, 0)
    out = np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True)) + top
    return out if keepdims else np.squeeze(out, axis=axis)


def _reduce_kernel(x, *axes, kind, keepdims, noop_with_empty_axes):
    chosen = None if not axes else tuple(int(a) % max(x.ndim, 1)
                                         for a in np.asarray(axes[0]).ravel())
    if chosen == () and noop_with_empty_axes:
        return x
    if chosen == ():
        chosen = None
    if x.size == 0 and kind in ("max", "min"):
        # ONNX: the reduction of nothing is the identity of the operation
        fill = -np.inf if kind == "max" else np.inf
        if x.dtype.kind == "b":
            fill = kind == "min"
        elif x.dtype.kind in "iu":
            info = np.iinfo(x.dtype)
            fill = info.min if kind == "max" else info.max
        shape = [1 if (chosen is None or i in chosen) else d for i, d in enumerate(x.shape)]
        out = np.full(shape, fill, x.dtype)
        return out if keepdims else np.squeeze(out, axis=chosen)
    result = _REDUCERS[kind](x, axis=chosen, keepdims=bool(keepdims))
    return np.asarray(result).astype(x.dtype, copy=False)


REDUCE = registry.register(OpDef(
    name="onnx_reduce", dtypes=_first_dtype, shapes=_unknown_rank, unknown_rank_ok=True,
    kernel=_reduce_kernel, attrs={"kind": "sum", "keepdims": 1, "noop_with_empty_axes": 0},
    grad=registry.NOT_DIFFERENTIABLE, raises_on_values=True, tested_elsewhere=TESTED,
    doc="ONNX Reduce* with run-time axes (and ONNX's empty-axes and empty-input rules)."))


def onnx_reduce(x, axes, kind, keepdims=1, noop_with_empty_axes=0):
    attrs = {"kind": kind, "keepdims": int(keepdims),
             "noop_with_empty_axes": int(noop_with_empty_axes)}
    return apply_op("onnx_reduce", [x] + ([axes] if axes is not None else []), attrs)


EXPAND = registry.register(OpDef(
    name="onnx_expand", dtypes=_first_dtype, shapes=_unknown_rank, unknown_rank_ok=True,
    kernel=lambda x, shape: np.ascontiguousarray(
        x * np.ones(np.asarray(shape).astype(np.int64), x.dtype)),
    grad=registry.NOT_DIFFERENTIABLE, raises_on_values=True, tested_elsewhere=TESTED,
    doc="ONNX Expand: broadcast with a shape that may be smaller than the input's."))


def onnx_expand(x, shape):
    return apply_op("onnx_expand", [x, shape])


def _top_k_kernel(x, k, axis, largest):
    k, moved = int(np.asarray(k).ravel()[0]), np.moveaxis(x, axis, -1)
    if not 0 <= k <= moved.shape[-1]:
        raise ValueError(f"TopK: K={k} is outside [0, {moved.shape[-1]}], the size of axis "
                         f"{axis} of an input of shape {list(x.shape)}")
    if largest:  # a stable sort of the reversed row, reversed: ties keep the lower index first
        order = np.argsort(moved[..., ::-1], axis=-1, kind="stable")[..., ::-1]
        order = moved.shape[-1] - 1 - order
    else:
        order = np.argsort(moved, axis=-1, kind="stable")
    order = order[..., :k]
    values = np.take_along_axis(moved, order, axis=-1)
    return (np.ascontiguousarray(np.moveaxis(values, -1, axis)),
            np.ascontiguousarray(np.moveaxis(order, -1, axis)).astype(np.int64))


TOP_K = registry.register(OpDef(
    name="onnx_top_k", dtypes=lambda in_dtypes, attrs: [in_dtypes[0], gdt.int64],
    shapes=lambda inputs, attrs: [TensorShape(None)] * 2, unknown_rank_ok=True,
    kernel=_top_k_kernel, attrs={"axis": -1, "largest": 1}, grad=registry.NOT_DIFFERENTIABLE,
    raises_on_values=True, tested_elsewhere=TESTED,
    doc="ONNX TopK with a run-time K (lower index first on ties)."))


def onnx_top_k(x, k, axis=-1, largest=1):
    return apply_op("onnx_top_k", [x, k], {"axis": int(axis), "largest": int(largest)})


def _cumsum_kernel(x, axis, exclusive, reverse):
    axis = int(np.asarray(axis).ravel()[0])
    running = np.flip(x, axis) if reverse else x
    total = np.cumsum(running, axis=axis, dtype=x.dtype)
    if exclusive:
        total = np.concatenate([np.zeros_like(np.take(total, [0], axis)),
                                np.delete(total, -1, axis)], axis) if x.shape[axis] else total
    return np.ascontiguousarray(np.flip(total, axis) if reverse else total)


CUMSUM = registry.register(OpDef(
    name="onnx_cumsum", dtypes=_first_dtype, shapes=lambda inputs, attrs: [inputs[0].shape],
    unknown_rank_ok=True, kernel=_cumsum_kernel, attrs={"exclusive": 0, "reverse": 0},
    grad=registry.NOT_DIFFERENTIABLE, raises_on_values=True, tested_elsewhere=TESTED,
    doc="ONNX CumSum with a run-time axis."))


def onnx_cumsum(x, axis, exclusive=0, reverse=0):
    return apply_op("onnx_cumsum", [x, axis], {"exclusive": int(exclusive),
                                               "reverse": int(reverse)})


_SCATTER_REDUCTIONS = {"add": np.add, "mul": np.multiply, "max": np.maximum, "min": np.minimum}


def _scatter_nd_kernel(data, indices, updates, reduction):
    out = np.array(data, copy=True)
    depth = indices.shape[-1]
    wrapped = np.where(indices < 0, indices + np.asarray(data.shape[:depth]), indices)
    where = tuple(np.moveaxis(wrapped, -1, 0))
    if reduction == "none":
        out[where] = updates
    else:  # the ufunc's unbuffered ``at`` applies every duplicate index in turn
        _SCATTER_REDUCTIONS[reduction].at(out, where, updates)
    return out


SCATTER_ND = registry.register(OpDef(
    name="onnx_scatter_nd", dtypes=_first_dtype, shapes=lambda inputs, attrs: [inputs[0].shape],
    unknown_rank_ok=True, kernel=_scatter_nd_kernel, attrs={"reduction": "none"},
    grad=registry.NOT_DIFFERENTIABLE, raises_on_values=True, tested_elsewhere=TESTED,
    doc="ONNX ScatterND with a reduction graphc's scatters lack (mul, max, min)."))


def onnx_scatter_nd(data, indices, updates, reduction="none"):
    if reduction not in ("none", *_SCATTER_REDUCTIONS):
        raise ValueError(f"onnx_scatter_nd: unknown reduction {reduction!r}")
    return apply_op("onnx_scatter_nd", [data, indices, updates], {"reduction": reduction})


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "edge", "wrap": "wrap"}


def _pad_kernel(x, pads, *rest, mode):
    value = rest[0] if rest and rest[0] is not None and np.size(rest[0]) else None
    pads = np.asarray(pads).astype(np.int64).ravel()
    rank = x.ndim
    axes = (np.arange(rank) if len(rest) < 2 else
            np.asarray(rest[1]).astype(np.int64).ravel() % max(rank, 1))
    begin, end = np.zeros(rank, np.int64), np.zeros(rank, np.int64)
    begin[axes], end[axes] = pads[:len(axes)], pads[len(axes):]
    # negative pads crop: crop first, then pad the rest
    crop = tuple(slice(int(-min(b, 0)), int(x.shape[i] + min(e, 0)))
                 for i, (b, e) in enumerate(zip(begin, end)))
    x = x[crop]
    widths = [(int(max(b, 0)), int(max(e, 0))) for b, e in zip(begin, end)]
    if mode == "constant":
        fill = 0 if value is None else np.asarray(value).ravel()[0]
        return np.pad(x, widths, mode="constant", constant_values=fill)
    return np.pad(x, widths, mode=_PAD_MODES[mode])


PAD = registry.register(OpDef(
    name="onnx_pad", dtypes=_first_dtype, shapes=_unknown_rank, unknown_rank_ok=True,
    kernel=_pad_kernel, attrs={"mode": "constant"}, grad=registry.NOT_DIFFERENTIABLE,
    raises_on_values=True, tested_elsewhere=TESTED,
    doc="ONNX Pad with run-time pads (constant, reflect, edge and wrap; negative pads crop)."))


def onnx_pad(x, pads, value=None, axes=None, mode="constant"):
    if mode not in _PAD_MODES:
        raise ValueError(f"onnx_pad: unknown mode {mode!r}")
    operands = [x, pads] + ([value] if value is not None or axes is not None else [])
    if axes is not None:
        if value is None:
            raise ValueError("onnx_pad: axes without a constant value operand")
        operands.append(axes)
    return apply_op("onnx_pad", operands, {"mode": mode})
