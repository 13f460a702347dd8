"""Ops that combine, cut or index arrays: concat, stack, unstack, split, slice, strided_slice
(``tensor[...]``), gather, pad, tile."""
from __future__ import annotations

import builtins
from typing import Optional

import numpy as np

from graphc import registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.graph import Tensor
from graphc.ops.common import (apply_op, normalize_axis, rand, randint, same_dtype_rule,
                               static_axis)
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape

_slice = builtins.slice  # this module defines TF1's ``slice`` op below

__all__ = ["concat", "stack", "unstack", "split", "slice", "strided_slice", "gather", "pad",
           "tile"]


def _fill_missing(op, dys) -> list:
    """Output gradients with zeros for the outputs nothing depended on."""
    from graphc.ops.creation import zeros_like
    return [dy if dy is not None else zeros_like(out) for dy, out in zip(dys, op.outputs)]


def _merge_dims(op_name: str, shapes, skip: Optional[int]) -> list:
    """Dims that all shapes share (except ``skip``); raises naming the disagreeing shapes."""
    rank = shapes[0].rank
    result = list(shapes[0].dims)
    for shape in shapes[1:]:
        if shape.rank != rank:
            raise ValueError(f"{op_name}: all inputs must have rank {rank}, got shape {shape}")
        for i, dim in enumerate(shape.dims):
            if i == skip or dim is None:
                continue
            if result[i] is not None and result[i] != dim:
                listed = ", ".join(str(s) for s in shapes)
                raise ValueError(f"{op_name}: dimension {i} differs between inputs: {listed}")
            result[i] = dim
    return result


def _concat_shapes(inputs, attrs):
    shapes = [t.shape for t in inputs]
    axis = normalize_axis(attrs["axis"], shapes[0].rank, "concat")
    dims = _merge_dims("concat", shapes, axis)
    parts = [s.dims[axis] for s in shapes]
    dims[axis] = None if None in parts else sum(parts)
    return [TensorShape(dims)]


def _concat_grad(op, dy):
    axis = normalize_axis(op.attrs["axis"], dy.shape.rank, "concat")
    sizes = [t.shape[axis] for t in op.inputs]
    if len(sizes) == 1:
        return [dy]
    if None not in sizes:
        return split(dy, sizes, axis=axis)
    from graphc.ops.creation import range as gc_range
    grads, start = [], 0  # sizes known only at run time: pick each piece by index
    for tensor in op.inputs:
        stop = start + _shape_of(tensor)[axis]
        grads.append(gather(dy, gc_range(start, stop), axis=axis))
        start = stop
    return grads


CONCAT = registry.register(OpDef(
    name="concat", dtypes=same_dtype_rule("concat"), shapes=_concat_shapes, grad=_concat_grad,
    kernel=lambda *xs, axis: np.concatenate(xs, axis=axis), attrs={"axis": 0},
    reference=lambda values, axis: np.moveaxis(
        np.array([v for x in values for v in np.moveaxis(x, axis, 0)]), 0, axis),
    samples=lambda: [Sample(([rand(2, 3), rand(4, 3)], 0)), Sample(([rand(2, 3), rand(2, 1)], 1)),
                     Sample(([rand(2, 3), rand(2, 2), rand(2, 0)], -1))],
    error_samples=lambda: [ErrorSample(([rand(2, 3), rand(3, 3)], 1), match="differs"),
                           ErrorSample(([rand(2, 3), rand(2)], 0), match="rank")],
    doc="Join tensors along an existing axis."))


@registry.public(CONCAT)
def concat(values, axis, name="concat") -> Tensor:
    """Join ``values`` along ``axis`` (TF1 argument order: values first).

    Example:
        >>> xy = gc.concat([x, y], axis=1)
    """
    values = list(values)
    axis = int(static_axis(axis, "concat"))
    return apply_op("concat", values, {"axis": axis}, name=name)


def _stack_shapes(inputs, attrs):
    shapes = [t.shape for t in inputs]
    dims = _merge_dims("stack", shapes, None)
    axis = normalize_axis(attrs["axis"], len(dims) + 1, "stack")
    dims.insert(axis, len(inputs))
    return [TensorShape(dims)]


STACK = registry.register(OpDef(
    name="stack", dtypes=same_dtype_rule("stack"), shapes=_stack_shapes,
    grad=lambda op, dy: unstack(dy, num=len(op.inputs), axis=op.attrs["axis"]),
    kernel=lambda *xs, axis: np.stack(xs, axis=axis), attrs={"axis": 0},
    reference=lambda values, axis=0: np.moveaxis(np.array([np.asarray(v) for v in values]),
                                                 0, axis),
    samples=lambda: [Sample(([rand(2, 3), rand(2, 3)],)), Sample(([rand(3), rand(3)], 1)),
                     Sample(([np.float64(1.0), np.float64(2.0)],))],
    error_samples=lambda: [ErrorSample(([rand(2, 3), rand(3, 3)],), match="differs")],
    doc="Join tensors of one shape along a new axis."))


@registry.public(STACK)
def stack(values, axis=0, name="stack") -> Tensor:
    """Stack same-shaped tensors along a new ``axis`` (TF1 ``tf.stack``).

    Example:
        >>> pair = gc.stack([a, b])
    """
    return apply_op("stack", list(values), {"axis": int(axis)}, name=name)


def _unstack_shapes(inputs, attrs):
    dims = list(inputs[0].shape.dims)
    axis = normalize_axis(attrs["axis"], len(dims), "unstack")
    if dims[axis] is not None and dims[axis] != attrs["num"]:
        raise ValueError(f"unstack: num={attrs['num']} does not match dim {axis} of size "
                         f"{dims[axis]}")
    del dims[axis]
    return [TensorShape(dims)] * attrs["num"]


UNSTACK = registry.register(OpDef(
    name="unstack", dtypes=lambda d, attrs: [d[0]] * attrs["num"], shapes=_unstack_shapes,
    grad=lambda op, *dys: [stack(_fill_missing(op, dys), axis=op.attrs["axis"])],
    kernel=lambda x, num, axis: tuple(np.moveaxis(x, axis, 0)), attrs={"num": None, "axis": 0},
    reference=lambda x, num=None, axis=0: [x.take(i, axis=axis) for i in range(x.shape[axis])],
    samples=lambda: [Sample((rand(3, 2), 3)), Sample((rand(2, 4), 4, 1))],
    doc="Split a tensor into its slices along axis (num outputs)."))


@registry.public(UNSTACK)
def unstack(value, num=None, axis=0, name="unstack"):
    """The slices of ``value`` along ``axis`` as a list of ``num`` tensors.

    Example:
        >>> a, b = gc.unstack(pair)
    """
    value = convert_to_tensor(value)
    if value.shape.rank is None:
        raise ValueError(f"unstack: the rank of '{value.name}' must be known")
    axis_n = normalize_axis(axis, value.shape.rank, "unstack")
    num = value.shape[axis_n] if num is None else num
    if num is None:
        raise ValueError(f"unstack: cannot infer num from shape {value.shape} of '{value.name}'")
    out = apply_op("unstack", [value], {"num": int(num), "axis": int(axis)}, name=name)
    return list(out) if isinstance(out, tuple) else [out]


def _split_sizes(op_name, dim, sizes, num):
    if sizes is None:
        if dim is not None and dim % num:
            raise ValueError(f"{op_name}: dimension of size {dim} cannot be split into {num} "
                             "equal parts")
        return [None if dim is None else dim // num] * num
    sizes = list(sizes)
    if sizes.count(-1) > 1:
        raise ValueError(f"{op_name}: at most one size may be -1, got {sizes}")
    if dim is not None:
        known = sum(s for s in sizes if s != -1)
        if -1 in sizes:
            sizes[sizes.index(-1)] = dim - known
        if sum(sizes) != dim or min(sizes) < 0:
            raise ValueError(f"{op_name}: sizes {list(sizes)} do not sum to the dimension "
                             f"size {dim}")
    return [None if s == -1 else s for s in sizes]


def _split_shapes(inputs, attrs):
    dims = list(inputs[0].shape.dims)
    axis = normalize_axis(attrs["axis"], len(dims), "split")
    outs = []
    for size in _split_sizes("split", dims[axis], attrs["sizes"], attrs["num"]):
        piece = list(dims)
        piece[axis] = size
        outs.append(TensorShape(piece))
    return outs


def _split_kernel(x, num, sizes, axis):
    if sizes is None:
        if x.shape[axis] % num:
            raise ValueError(f"split: dimension of size {x.shape[axis]} cannot be split into "
                             f"{num} equal parts")
        return tuple(np.split(x, num, axis=axis))
    sizes = list(sizes)
    if -1 in sizes:
        sizes[sizes.index(-1)] = x.shape[axis] - (sum(sizes) + 1)
    if sum(sizes) != x.shape[axis]:
        raise ValueError(f"split: sizes {sizes} do not sum to {x.shape[axis]}")
    return tuple(np.split(x, np.cumsum(sizes)[:-1], axis=axis))


SPLIT = registry.register(OpDef(
    name="split", dtypes=lambda d, attrs: [d[0]] * attrs["num"], shapes=_split_shapes,
    grad=lambda op, *dys: [concat(_fill_missing(op, dys), axis=op.attrs["axis"])],
    kernel=_split_kernel, attrs={"num": None, "sizes": None, "axis": 0},
    reference=lambda x, parts, axis=0: [x.take(range(start, start + size), axis=axis)
                                        for start, size in _reference_split(x, parts, axis)],
    samples=lambda: [Sample((rand(6, 2), 3)), Sample((rand(2, 5), [1, -1, 2], 1))],
    error_samples=lambda: [ErrorSample((rand(5, 2), 2), match="cannot be split"),
                           ErrorSample((rand(5, 2), [1, 2]), match="do not sum")],
    doc="Split into num equal parts or parts of the given sizes along axis."))


def _reference_split(x, parts, axis):
    dim = x.shape[axis]
    sizes = [dim // parts] * parts if isinstance(parts, int) else list(parts)
    if -1 in sizes:
        sizes[sizes.index(-1)] = dim - (sum(sizes) + 1)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int)
    return list(zip(starts.tolist(), sizes))


@registry.public(SPLIT)
def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """Split ``value`` into equal parts (an int) or parts of given sizes (a list).

    Example:
        >>> left, right = gc.split(x, 2, axis=1)
    """
    axis = int(static_axis(axis, "split"))
    parts = static_axis(num_or_size_splits, "split")
    if isinstance(parts, (list, tuple)):
        attrs = {"num": len(parts), "sizes": tuple(int(s) for s in parts), "axis": axis}
    else:
        attrs = {"num": int(parts), "sizes": None, "axis": axis}
    out = apply_op("split", [value], attrs, name=name)
    return list(out) if isinstance(out, tuple) else [out]


# -- strided slice: the engine behind tensor[...] -------------------------------------------
def _spec_to_index(spec) -> tuple:
    index = []
    for item in spec:
        if isinstance(item, tuple):
            index.append(_slice(item[1], item[2], item[3]))
        else:
            index.append(item)
    return tuple(index)


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
    return np.asarray(x[_spec_to_index(spec)])


STRIDED_SLICE = registry.register(OpDef(
    name="strided_slice", dtypes=lambda d, a: [d[0]], shapes=_strided_slice_shapes,
    grad=lambda op, dy: [strided_slice_grad(_shape_of(op.inputs[0]), dy, op.attrs["spec"])],
    kernel=_strided_slice_kernel, attrs={"spec": ()},
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
    begin = [int(b) for b in static_axis(begin, "slice")]
    size = [int(s) for s in static_axis(size, "slice")]
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
    if indices.size and (indices.min() < 0 or indices.max() >= limit):
        bad = indices[(indices < 0) | (indices >= limit)].ravel()[0]
        raise IndexError(f"gather: index {bad} is not in [0, {limit}) on axis {axis}")
    return np.take(params, indices, axis=axis)


GATHER = registry.register(OpDef(
    name="gather", dtypes=_gather_dtypes, shapes=_gather_shapes, kernel=_gather_kernel,
    grad=lambda op, dy: [_gather_grad(op, dy), None],
    attrs={"axis": 0},
    reference=lambda p, i, axis=0: np.stack([p.take(int(k), axis=axis) for k in i.ravel()],
                                            axis=axis).reshape(
        p.shape[:axis] + i.shape + p.shape[axis + 1:]),
    samples=lambda: [Sample((rand(5, 3), randint(4, low=0, high=5))),
                     Sample((rand(3, 4), randint(2, 2, low=0, high=4), 1))],
    error_samples=lambda: [ErrorSample((rand(5, 3), rand(2)), error=TypeError,
                                       match="integers")],
    doc="Select slices along axis by integer indices; out-of-range indices are an error."))


@registry.public(GATHER)
def gather(params, indices, axis=None, name=None, validate_indices=None, batch_dims=0) -> Tensor:
    """Slices of ``params`` along ``axis`` picked by ``indices`` (TF1 ``tf.gather``).

    Example:
        >>> rows = gc.gather(embeddings, ids)
    """
    if batch_dims:
        raise NotImplementedError("gather: batch_dims != 0 is not supported yet")
    axis = 0 if axis is None else int(static_axis(axis, "gather"))
    graph = graph_of(params, indices)
    with graph.as_default(), graph.atomic():
        indices = convert_to_tensor(indices)
        return apply_op("gather", [params, indices], {"axis": axis}, name=name or "GatherV2")


def _pad_shapes(inputs, attrs):
    shape = inputs[0].shape
    paddings = attrs["paddings"]
    if len(paddings) != shape.rank or any(len(p) != 2 or min(p) < 0 for p in paddings):
        raise ValueError(f"pad: paddings {list(paddings)} must be {shape.rank} non-negative "
                         f"[before, after] pairs for shape {shape}")
    mode = attrs["mode"]
    if mode not in ("CONSTANT", "REFLECT", "SYMMETRIC"):
        raise ValueError(f"pad: mode must be CONSTANT, REFLECT or SYMMETRIC, got {mode!r}")
    limit_offset = 1 if mode == "REFLECT" else 0
    for dim, (before, after) in zip(shape.dims, paddings):
        if mode != "CONSTANT" and dim is not None and max(before, after) > dim - limit_offset:
            raise ValueError(f"pad: {mode} paddings {before, after} are too large for a "
                             f"dimension of size {dim}")
    return [TensorShape([None if d is None else d + a + b for d, (a, b) in
                         zip(shape.dims, paddings)])]


def _pad_kernel(x, paddings, mode, constant_values):
    if mode == "CONSTANT":
        return np.pad(x, paddings, mode="constant", constant_values=constant_values)
    return np.pad(x, paddings, mode=mode.lower())


PAD = registry.register(OpDef(
    name="pad", dtypes=lambda d, a: [d[0]], shapes=_pad_shapes, kernel=_pad_kernel,
    grad=lambda op, dy: [_pad_grad(op, dy)],
    attrs={"paddings": (), "mode": "CONSTANT", "constant_values": 0},
    reference=lambda x, paddings, mode="CONSTANT", constant_values=0: _pad_reference(
        x, paddings, mode, constant_values),
    samples=lambda: [Sample((rand(2, 3), [[1, 0], [2, 1]])),
                     Sample((rand(3, 3), [[1, 2], [0, 1]], "REFLECT")),
                     Sample((rand(3, 2), [[3, 0], [1, 2]], "SYMMETRIC")),
                     Sample((rand(2), [[1, 1]]), {"constant_values": 7.0})],
    error_samples=lambda: [ErrorSample((rand(2, 3), [[1, 1]]), match="pairs"),
                           ErrorSample((rand(2, 3), [[2, 0], [0, 0]], "REFLECT"),
                                       match="too large")],
    doc="Pad with a constant, or by reflecting (REFLECT / SYMMETRIC) the edges."))


def _pad_reference(x, paddings, mode, constant_values):
    out = x
    for axis, (before, after) in enumerate(paddings):
        n = out.shape[axis]
        if mode == "CONSTANT":
            index = [-1] * before + list(range(n)) + [-1] * after
        elif mode == "REFLECT":
            index = list(range(before, 0, -1)) + list(range(n)) + [n - 2 - i for i in range(after)]
        else:
            index = list(range(before - 1, -1, -1)) + list(range(n)) + [n - 1 - i for i in
                                                                         range(after)]
        pieces = [np.full_like(out.take([0], axis=axis), constant_values) if i == -1
                  else out.take([i], axis=axis) for i in index]
        out = np.concatenate(pieces, axis=axis) if pieces else out
    return out


@registry.public(PAD)
def pad(tensor, paddings, mode="CONSTANT", name=None, constant_values=0) -> Tensor:
    """Pad ``tensor`` by ``paddings[i] = [before, after]`` in each dimension.

    Example:
        >>> padded = gc.pad(img, [[0, 0], [1, 1], [1, 1], [0, 0]])
    """
    paddings = static_axis(paddings, "pad")
    attrs = {"paddings": tuple(tuple(int(v) for v in p) for p in paddings),
             "mode": str(mode).upper(), "constant_values": constant_values}
    return apply_op("pad", [tensor], attrs, name=name or "Pad")


def _tile_shapes(inputs, attrs):
    shape, multiples = inputs[0].shape, attrs["multiples"]
    if len(multiples) != shape.rank or min(multiples, default=0) < 0:
        raise ValueError(f"tile: multiples {list(multiples)} must be {shape.rank} non-negative "
                         f"ints for shape {shape}")
    return [TensorShape([None if d is None else d * m for d, m in zip(shape.dims, multiples)])]


TILE = registry.register(OpDef(
    name="tile", dtypes=lambda d, a: [d[0]], shapes=_tile_shapes, grad=lambda op, dy: [
        _tile_grad(op, dy)],
    kernel=lambda x, multiples: np.tile(x, multiples), attrs={"multiples": ()},
    reference=lambda x, multiples: _tile_reference(x, multiples),
    samples=lambda: [Sample((rand(2, 3), [2, 1])), Sample((rand(2), [3]))],
    error_samples=lambda: [ErrorSample((rand(2, 3), [2]), match="multiples")],
    doc="Repeat the whole tensor multiples[i] times along each dim."))


def _tile_reference(x, multiples):
    for axis, count in enumerate(multiples):
        x = np.concatenate([x] * count, axis=axis) if count else x.take([], axis=axis)
    return x


@registry.public(TILE)
def tile(input, multiples, name=None) -> Tensor:  # noqa: A002
    """Repeat ``input`` ``multiples[i]`` times along dimension i.

    Example:
        >>> t = gc.tile(row, [4, 1])
    """
    multiples = tuple(int(m) for m in static_axis(multiples, "tile"))
    return apply_op("tile", [input], {"multiples": multiples}, name=name or "Tile")


# -- gradient helpers and the ops that exist for them ----------------------------------------
def _slice_by_spec(tensor, spec):
    return apply_op("strided_slice", [tensor], {"spec": spec}, name="strided_slice")


def _shape_of(tensor):
    from graphc.ops.shape_ops import shape
    return shape(tensor)


def _gather_grad(op, dy):
    """Scatter-add dy back into params' shape: segment sums over the gathered axis."""
    from graphc.ops.shape_ops import transpose
    params, indices = op.inputs
    axis = normalize_axis(op.attrs["axis"], params.shape.rank, "gather")
    q = indices.shape.rank
    rank = dy.shape.rank
    # bring the index dims to the front: (indices..., params[:axis], params[axis+1:])
    front = list(range(axis, axis + q)) + list(range(axis)) + list(range(axis + q, rank))
    moved = transpose(dy, front) if front != list(range(rank)) else dy
    summed = unsorted_segment_sum(moved, indices, _shape_of(params)[axis])
    back = list(range(1, axis + 1)) + [0] + list(range(axis + 1, params.shape.rank))
    return transpose(summed, back) if back != list(range(params.shape.rank)) else summed


def _pad_grad(op, dy):
    paddings = op.attrs["paddings"]
    if op.attrs["mode"] == "CONSTANT":
        key = tuple(_slice(before, -after if after else None) for before, after in paddings)
        return _getitem(dy, key)
    return mirror_pad_grad(dy, paddings, op.attrs["mode"])


def _tile_grad(op, dy):
    """View dy as (m0, d0, m1, d1, ...) and sum over the m axes."""
    from graphc.ops.reduce import reduce_sum
    from graphc.ops.shape_ops import reshape
    multiples = op.attrs["multiples"]
    dims = _shape_of(op.inputs[0])
    split_shape = []
    for i, multiple in enumerate(multiples):
        split_shape += [multiple, dims[i]]
    summed = reduce_sum(reshape(dy, split_shape), axis=list(range(0, 2 * len(multiples), 2)))
    return summed


def _segment_dtypes(in_dtypes, attrs):
    if not in_dtypes[1].is_integer or not in_dtypes[2].is_integer:
        raise TypeError(f"unsorted_segment_sum: segment_ids and num_segments must be integers, "
                        f"got {in_dtypes[1].name} and {in_dtypes[2].name}")
    return [in_dtypes[0]]


def _segment_shapes(inputs, attrs):
    from graphc.static_values import constant_value
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
    np.add.at(out, ids.reshape(-1), data.reshape((-1,) + data.shape[ids.ndim:]))
    return out


def _segment_reference(data, ids, num_segments):
    out = np.zeros((num_segments,) + data.shape[ids.ndim:])
    for position in np.ndindex(*ids.shape):
        out[ids[position]] += data[position]
    return out


UNSORTED_SEGMENT_SUM = registry.register(OpDef(
    name="unsorted_segment_sum", dtypes=_segment_dtypes, shapes=_segment_shapes,
    kernel=_segment_kernel, grad=lambda op, dy: [gather(dy, op.inputs[1]), None, None],
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
    from graphc.static_values import constant_value_as_shape
    return [constant_value_as_shape(inputs[0])]


def _slice_grad_kernel(shape, dy, spec):
    out = np.zeros(tuple(int(d) for d in shape), dtype=dy.dtype)
    out[_spec_to_index(spec)] = dy
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
    from graphc.convert import convert_to_tensor, graph_of
    from graphc import dtypes as gdt
    spec = spec if all(not isinstance(s, _slice) for s in spec) else _index_spec(spec)
    graph = graph_of(shape, dy)
    with graph.as_default(), graph.atomic():
        shape = convert_to_tensor(shape, dtype_hint=gdt.int32)
        return apply_op("strided_slice_grad", [shape, dy], {"spec": spec},
                        name=name or "StridedSliceGrad")


def _mirror_index(n, before, after, mode):
    """For each padded position, the source index along one dim."""
    if mode == "REFLECT":
        left = list(range(before, 0, -1))
        right = [n - 2 - i for i in range(after)]
    else:
        left = list(range(before - 1, -1, -1))
        right = [n - 1 - i for i in range(after)]
    return np.array(left + list(range(n)) + right, dtype=np.intp)


def _mirror_pad_grad_kernel(dy, paddings, mode):
    out = dy
    for axis, (before, after) in enumerate(paddings):
        n = out.shape[axis] - before - after
        folded = np.zeros(out.shape[:axis] + (n,) + out.shape[axis + 1:], dtype=dy.dtype)
        index = _mirror_index(n, before, after, mode)
        np.add.at(np.moveaxis(folded, axis, 0), index, np.moveaxis(out, axis, 0))
        out = folded
    return out


def _mirror_pad_grad_shapes(inputs, attrs):
    dims = [None if d is None else d - a - b for d, (a, b) in
            zip(inputs[0].shape.dims, attrs["paddings"])]
    limit = 1 if attrs["mode"] == "REFLECT" else 0
    for dim, (before, after) in zip(dims, attrs["paddings"]):
        if dim is not None and max(before, after) > dim - limit:
            raise ValueError(f"mirror_pad_grad: {attrs['mode']} paddings {before, after} are "
                             f"too large for an unpadded dimension of size {dim}")
    return [TensorShape(dims)]


MIRROR_PAD_GRAD = registry.register(OpDef(
    name="mirror_pad_grad", dtypes=lambda d, a: [d[0]], shapes=_mirror_pad_grad_shapes,
    kernel=_mirror_pad_grad_kernel, attrs={"paddings": (), "mode": "REFLECT"},
    grad=lambda op, dy: [pad(dy, op.attrs["paddings"], mode=op.attrs["mode"])],
    reference=lambda dy, paddings, mode: _mirror_reference(dy, paddings, mode),
    samples=lambda: [Sample((rand(7, 8), [[1, 2], [2, 1]], "REFLECT")),
                     Sample((rand(5, 5), [[1, 1], [0, 2]], "SYMMETRIC"))],
    error_samples=lambda: [ErrorSample((rand(4, 4), [[1, 2], [0, 0]], "REFLECT"),
                                       match="too large")],
    doc="Folds a REFLECT/SYMMETRIC-padded gradient back onto the unpadded tensor."))


def _mirror_reference(dy, paddings, mode):
    sources = [_mirror_index(d - a - b, a, b, mode) for d, (a, b) in zip(dy.shape, paddings)]
    out = np.zeros([d - a - b for d, (a, b) in zip(dy.shape, paddings)])
    for position in np.ndindex(*dy.shape):
        out[tuple(src[p] for src, p in zip(sources, position))] += dy[position]
    return out


@registry.public(MIRROR_PAD_GRAD)
def mirror_pad_grad(dy, paddings, mode, name=None) -> Tensor:
    """The adjoint of ``pad`` in REFLECT or SYMMETRIC mode."""
    paddings = tuple(tuple(int(v) for v in p) for p in paddings)
    return apply_op("mirror_pad_grad", [dy], {"paddings": paddings, "mode": mode},
                    name=name or "MirrorPadGrad")
