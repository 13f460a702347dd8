"""Indexing ops: strided_slice (the engine behind ``tensor[...]``), slice, gather, and their
adjoints strided_slice_grad and unsorted_segment_sum."""
from __future__ import annotations

import builtins

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.graph import Tensor
from graphc.index_spec import spec_to_index
from graphc.ops import shape_ops
from graphc.ops.common import apply_op, normalize_axis, rand, randint, static_axis
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape
from graphc.static_values import constant_value, constant_value_as_shape

__all__ = ["strided_slice", "slice", "gather", "unsorted_segment_sum", "strided_slice_grad"]

_slice = builtins.slice  # this module defines TF1's ``slice`` op below


def _strided_slice_shapes(inputs, attrs):
    shape = inputs[0].shape
    spec = attrs["spec"]
    consuming = sum(1 for item in spec if item is not None and item is not Ellipsis)
    if consuming > shape.rank:
        raise ValueError(f"strided_slice: index {_format_spec(spec)} has {consuming} indices "
                         f"for a tensor of rank {shape.rank}")
    dims = list(shape.dims)
    out, position = [], 0
    expanded = []
    for item in spec:
        if item is Ellipsis:
            expanded.extend([("s", None, None, None)] * (shape.rank - consuming))
        else:
            expanded.append(item)
    for item in expanded:
        if item is None:
            out.append(1)
            continue
        dim = dims[position]
        position += 1
        if isinstance(item, tuple):
            if item[3] == 0:
                raise ValueError("strided_slice: slice step cannot be zero")
            out.append(None if dim is None else len(range(*_slice(*item[1:]).indices(dim))))
        elif dim is not None and not -dim <= item < dim:
            raise ValueError(f"strided_slice: index {item} is out of bounds for dimension "
                             f"{position - 1} of size {dim}")
    out.extend(dims[position:])
    return [TensorShape(out)]


def _format_spec(spec) -> str:
    parts = []
    for item in spec:
        if isinstance(item, tuple):
            parts.append(":".join("" if v is None else str(v) for v in item[1:3])
                         + ("" if item[3] is None else f":{item[3]}"))
        else:
            parts.append("..." if item is Ellipsis else "newaxis" if item is None else str(item))
    return "[" + ", ".join(parts) + "]"


def _strided_slice_kernel(x, spec):
    return np.asarray(x[spec_to_index(spec)])


STRIDED_SLICE = registry.register(OpDef(
    name="strided_slice", dtypes=lambda d, a: [d[0]], shapes=_strided_slice_shapes,
    grad=lambda op, dy: [strided_slice_grad(shape_ops.shape(op.inputs[0]), dy, op.attrs["spec"])],
    kernel=_strided_slice_kernel, attrs={"spec": ()}, value_from_shapes=True,
    finite_outputs=registry.finite_if_inputs_finite,
    reference=lambda x, key: np.array(x.tolist())[key],
    samples=lambda: [Sample((rand(4, 5), (1, _slice(None, None, 2)))),
                     Sample((rand(4, 5, 3), (Ellipsis, None, _slice(3, 0, -1)))),
                     Sample((rand(6), (_slice(-2, None),))), Sample((rand(3, 2), (-1,)))],
    error_samples=lambda: [ErrorSample((rand(4, 5), (4,)), match="out of bounds"),
                           ErrorSample((rand(4), (0, 1)), match="rank")],
    doc="NumPy basic indexing: ints, slices with steps, newaxis and Ellipsis."))


def _index_spec(key) -> tuple:
    items = key if isinstance(key, tuple) else (key,)
    spec = []
    for item in items:
        if isinstance(item, _slice):
            bounds = [static_axis(v, "strided_slice") for v in (item.start, item.stop, item.step)]
            spec.append(("s", *[None if v is None else int(v) for v in bounds]))
        elif item is None or item is Ellipsis:
            spec.append(item)
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            spec.append(int(item))
        else:
            value = static_axis(item, "strided_slice")
            if not isinstance(value, int):
                raise TypeError(f"Only integers, slices, newaxis (None) and Ellipsis are valid "
                                f"indices, got {item!r}; use gc.gather for tensor indices")
            spec.append(value)
    if sum(1 for s in spec if s is Ellipsis) > 1:
        raise ValueError("An index can only have a single Ellipsis (...)")
    return tuple(spec)


@registry.public(STRIDED_SLICE)
def _getitem(tensor, key, name="strided_slice") -> Tensor:
    """``tensor[key]`` with NumPy basic-indexing semantics.

    Example:
        >>> first_col = x[:, 0]
    """
    return apply_op("strided_slice", [tensor], {"spec": _index_spec(key)}, name=name)


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0,
                  new_axis_mask=0, shrink_axis_mask=0, name=None) -> Tensor:
    """TF1's ``tf.strided_slice`` with bit masks; ``x[...]`` is the friendlier spelling.

    Example:
        >>> y = gc.strided_slice(x, [0, 1], [2, 3], [1, 1])  # x[0:2, 1:3]
    """
    begin, end = list(static_axis(begin, "strided_slice")), list(static_axis(end, "strided_slice"))
    strides = [1] * len(begin) if strides is None else list(static_axis(strides, "strided_slice"))
    key = []
    for i, (b, e, s) in enumerate(zip(begin, end, strides)):
        bit = 1 << i
        if ellipsis_mask & bit:
            key.append(Ellipsis)
        elif new_axis_mask & bit:
            key.append(None)
        elif shrink_axis_mask & bit:
            key.append(int(b))
        else:
            key.append(_slice(None if begin_mask & bit else b, None if end_mask & bit else e, s))
    return _getitem(input_, tuple(key), name=name or "StridedSlice")


def slice(input_, begin, size, name=None) -> Tensor:  # noqa: A001 - TF1 name
    """``size[i]`` elements from ``begin[i]`` in each dim; size -1 takes the rest.

    Example:
        >>> y = gc.slice(x, [0, 1], [2, -1])
    """
    try:
        begin, size = ([int(v) for v in static_axis(value, "slice")] for value in (begin, size))
    except ValueError:  # known only at run time: the op graphc.ops.dynamic_slice registers
        return apply_op("dynamic_slice", [input_, begin, size], name=name or "Slice")
    if len(begin) != len(size):
        raise ValueError(f"slice: begin {begin} and size {size} must have the same length")
    key = tuple(_slice(b, None if s == -1 else b + s) for b, s in zip(begin, size))
    return _getitem(input_, key, name=name or "Slice")


def _gather_dtypes(in_dtypes, attrs):
    if not in_dtypes[1].is_integer:
        raise TypeError(f"gather: indices must be integers, got {in_dtypes[1].name}")
    return [in_dtypes[0]]


def _gather_shapes(inputs, attrs):
    params, indices = inputs[0].shape, inputs[1].shape
    axis = normalize_axis(attrs["axis"], params.rank, "gather")
    return [TensorShape(params.dims[:axis] + indices.dims + params.dims[axis + 1:])]


def _gather_kernel(params, indices, axis):
    limit = params.shape[axis]
    if np.ndim(indices) == 0:  # one slice (a TensorArray read): copy it, not all of a
        # strided params (np.take makes params contiguous first: a loop reading row t of
        # a transposed [time, batch, depth] input would copy all of it every iteration)
        index = int(indices)
        if not 0 <= index < limit:
            raise IndexError(f"gather: index {index} is not in [0, {limit}) on axis {axis}")
        # np.array, not .copy(): one element of a string (object) vector is a bytes object
        return np.array(params[(_slice(None),) * axis + (index,)], dtype=params.dtype)
    if indices.size and (indices.min() < 0 or indices.max() >= limit):
        bad = indices[(indices < 0) | (indices >= limit)].ravel()[0]
        raise IndexError(f"gather: index {bad} is not in [0, {limit}) on axis {axis}")
    return np.take(params, indices, axis=axis)


GATHER = registry.register(OpDef(
    raises_on_values=True,  # indices out of range
    name="gather", dtypes=_gather_dtypes, shapes=_gather_shapes, kernel=_gather_kernel,
    grad=lambda op, dy: [_gather_grad(op, dy), None],
    attrs={"axis": 0}, finite_outputs=registry.finite_if_inputs_finite, fresh_output=True,
    distribution=lambda op, host: registry.Split("rowwise", (1,))  # host weights, chunked ids
    if op.attrs["axis"] == 0 else None,
    reference=lambda p, i, axis=0: np.stack([p.take(int(k), axis=axis) for k in i.ravel()],
                                            axis=axis).reshape(
        p.shape[:axis] + i.shape + p.shape[axis + 1:]),
    samples=lambda: [Sample((rand(5, 3), randint(4, low=0, high=5))),
                     Sample((rand(3, 4), randint(2, 2, low=0, high=4), 1))],
    error_samples=lambda: [ErrorSample((rand(5, 3), rand(2)), error=TypeError,
                                       match="integers")],
    doc="Select slices along axis by integer indices; out-of-range indices are an error."))


# gather with batch_dims: graphc.ops.batch_gather puts its function here when imported
BATCHED_GATHER: list = [None]


@registry.public(GATHER)
def gather(params, indices, axis=None, name=None, validate_indices=None, batch_dims=0) -> Tensor:
    """Slices of ``params`` along ``axis`` picked by ``indices`` (TF1 ``tf.gather``).

    Example:
        >>> rows = gc.gather(embeddings, ids)
    """
    if batch_dims:  # a composition of plain gathers, defined by a family above this one
        return BATCHED_GATHER[0](params, indices, None if axis is None else
                                 int(static_axis(axis, "gather")), int(batch_dims), name)
    axis = 0 if axis is None else int(static_axis(axis, "gather"))
    graph = graph_of(params, indices)
    with graph.as_default(), graph.atomic():
        indices = convert_to_tensor(indices)
        return apply_op("gather", [params, indices], {"axis": axis}, name=name or "GatherV2")


def _slice_by_spec(tensor, spec):
    return apply_op("strided_slice", [tensor], {"spec": spec}, name="strided_slice")


def _gather_grad(op, dy):
    """Scatter-add dy back into params' shape: segment sums over the gathered axis."""
    params, indices = op.inputs
    axis = normalize_axis(op.attrs["axis"], params.shape.rank, "gather")
    q = indices.shape.rank
    rank = dy.shape.rank
    # bring the index dims to the front: (indices..., params[:axis], params[axis+1:])
    front = list(range(axis, axis + q)) + list(range(axis)) + list(range(axis + q, rank))
    moved = shape_ops.transpose(dy, front) if front != list(range(rank)) else dy
    summed = unsorted_segment_sum(moved, indices, shape_ops.shape(params)[axis])
    back = list(range(1, axis + 1)) + [0] + list(range(axis + 1, params.shape.rank))
    return shape_ops.transpose(summed, back) if back != list(range(params.shape.rank)) else summed


def _segment_dtypes(in_dtypes, attrs):
    if not in_dtypes[1].is_integer or not in_dtypes[2].is_integer:
        raise TypeError(f"unsorted_segment_sum: segment_ids and num_segments must be integers, "
                        f"got {in_dtypes[1].name} and {in_dtypes[2].name}")
    return [in_dtypes[0]]


def _segment_shapes(inputs, attrs):
    data, ids, count = (t.shape for t in inputs)
    if not ids.is_compatible_with(data[:ids.rank]):
        raise ValueError(f"unsorted_segment_sum: segment_ids shape {ids} must be a prefix of "
                         f"data shape {data}")
    known = constant_value(inputs[2])
    return [TensorShape([None if known is None else int(known)] + list(data.dims[ids.rank:]))]


def _segment_kernel(data, ids, num_segments):
    count = int(num_segments)
    if ids.size and (ids.min() < 0 or ids.max() >= count):
        raise IndexError(f"unsorted_segment_sum: segment id out of [0, {count})")
    out = np.zeros((count,) + data.shape[ids.ndim:], dtype=data.dtype)
    # the row count spelled out: -1 is ambiguous when a trailing dim is 0
    np.add.at(out, ids.reshape(-1), data.reshape((ids.size,) + data.shape[ids.ndim:]))
    return out


def _segment_reference(data, ids, num_segments):
    out = np.zeros((num_segments,) + data.shape[ids.ndim:])
    for position in np.ndindex(*ids.shape):
        out[ids[position]] += data[position]
    return out


UNSORTED_SEGMENT_SUM = registry.register(OpDef(
    raises_on_values=True,  # indices out of range
    name="unsorted_segment_sum", dtypes=_segment_dtypes, shapes=_segment_shapes,
    kernel=_segment_kernel, grad=lambda op, dy: [gather(dy, op.inputs[1]), None, None],
    distribution=registry.Split("reduction", (0, 1), "sum"),  # chunks of rows and their ids
    reference=_segment_reference,
    samples=lambda: [Sample((rand(5, 3), randint(5, low=0, high=4), np.int32(4))),
                     Sample((rand(2, 3), randint(2, 3, low=0, high=2), np.int32(2)))],
    error_samples=lambda: [ErrorSample((rand(5, 3), randint(4, low=0, high=2), np.int32(2)),
                                       match="prefix")],
    doc="out[k] = sum of data[i] with segment_ids[i] == k (gather's adjoint)."))


@registry.public(UNSORTED_SEGMENT_SUM)
def unsorted_segment_sum(data, segment_ids, num_segments, name=None) -> Tensor:
    """Sums of ``data`` slices grouped by ``segment_ids`` into ``num_segments`` rows.

    Example:
        >>> totals = gc.math.unsorted_segment_sum(values, ids, num_segments=10)
    """
    return apply_op("unsorted_segment_sum", [data, segment_ids, num_segments],
                    name=name or "UnsortedSegmentSum")


def _slice_grad_shapes(inputs, attrs):
    return [constant_value_as_shape(inputs[0])]


def _slice_grad_kernel(shape, dy, spec):
    out = np.zeros(tuple(int(d) for d in shape), dtype=dy.dtype)
    out[spec_to_index(spec)] = dy
    return out


STRIDED_SLICE_GRAD = registry.register(OpDef(
    name="strided_slice_grad",
    dtypes=lambda d, a: [d[1]], shapes=_slice_grad_shapes, kernel=_slice_grad_kernel,
    grad=lambda op, dy: [None, _slice_by_spec(dy, op.attrs["spec"])], attrs={"spec": ()},
    reference=lambda shape, dy, key: _scatter_reference(shape, dy, key),
    samples=lambda: [Sample((np.array([4, 5], np.int32), rand(3), (1, _slice(None, None, 2))))],
    doc="Zeros of shape with dy written at tensor[spec] (strided_slice's adjoint)."))


def _scatter_reference(shape, dy, key):
    out = np.zeros(shape)
    out[key] = dy
    return out


@registry.public(STRIDED_SLICE_GRAD)
def strided_slice_grad(shape, dy, spec, name=None) -> Tensor:
    """Zeros of ``shape`` with ``dy`` at ``[spec]``; spec as in ``tensor[...]``."""
    spec = spec if all(not isinstance(s, _slice) for s in spec) else _index_spec(spec)
    graph = graph_of(shape, dy)
    with graph.as_default(), graph.atomic():
        shape = convert_to_tensor(shape, dtype_hint=gdt.int32)
        return apply_op("strided_slice_grad", [shape, dy], {"spec": spec},
                        name=name or "StridedSliceGrad")
