"""Ops that change or report shapes: reshape, transpose, expand_dims, squeeze, broadcast_to
and its adjoint sum_to_shape, shape, size, rank."""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.graph import Tensor
from graphc.ops.common import (NUMERIC, apply_op, check_kind, normalize_axes, normalize_axis,
                               rand, randint, static_axis)
from graphc.ops.common import broadcast_to_split, sum_to_shape_split  # graphc.dask splits
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape, broadcast_shapes
from graphc.static_values import constant_value, constant_value_as_shape

__all__ = ["reshape", "transpose", "expand_dims", "squeeze", "broadcast_to", "sum_to_shape",
           "shape", "size", "rank"]


def _first_dtype(in_dtypes, attrs):
    return [in_dtypes[0]]


def _shape_tensor_dtypes(op_name):
    def rule(in_dtypes, attrs):
        if not in_dtypes[1].is_integer:
            raise TypeError(f"{op_name}: the shape must be an integer tensor, "
                            f"got {in_dtypes[1].name}")
        return [in_dtypes[0]]
    return rule


def _reshape_shapes(inputs, attrs):
    x, shape = inputs
    if shape.shape.rank not in (None, 1):
        raise ValueError(f"reshape: shape must be a 1-D tensor, got shape {shape.shape}")
    target = constant_value_as_shape(shape)
    value = constant_value(shape)
    if value is None or target.rank is None:
        return [target]
    values = [int(v) for v in np.ravel(value)]
    if values.count(-1) > 1 or any(v < -1 for v in values):
        raise ValueError(f"reshape: shape {values} may hold at most one -1 and no other "
                         "negative value")
    if x.shape.is_fully_defined():
        total = x.shape.num_elements()
        known = int(np.prod([v for v in values if v != -1], dtype=np.int64))
        if -1 in values:
            if known == 0 or total % known:
                raise ValueError(f"Cannot reshape a tensor with {total} elements to shape "
                                 f"{values}")
            values[values.index(-1)] = total // known
        elif known != total:
            raise ValueError(f"Cannot reshape a tensor with {total} elements to shape {values} "
                             f"({known} elements)")
    return [TensorShape([None if v == -1 else v for v in values])]


def _reshape_kernel(x, shape):
    return np.reshape(x, tuple(int(d) for d in shape))


RESHAPE = registry.register(OpDef(
    name="reshape", dtypes=_shape_tensor_dtypes("reshape"), shapes=_reshape_shapes,
    grad=lambda op, dy: [reshape(dy, shape(op.inputs[0])), None],
    kernel=_reshape_kernel, unknown_rank_ok=True, finite_outputs=registry.finite_if_inputs_finite,
    distribution=registry.Split("rowwise", batch_shape=1),  # keeping the batch axis first
    reference=lambda x, shape: np.array(x.ravel().tolist()).reshape(shape),
    samples=lambda: [Sample((rand(2, 6), [3, -1])), Sample((rand(2, 3, 2), [12])),
                     Sample((randint(4), [2, 1, 2])), Sample((rand(0, 3), [3, 0]))],
    error_samples=lambda: [ErrorSample((rand(2, 3), [4]), match="6 elements"),
                           ErrorSample((rand(2, 3), [-1, -1]), match="at most one -1")],
    doc="Same elements, new shape; one dim may be -1 (inferred)."))


@registry.public(RESHAPE)
def reshape(tensor, shape, name=None) -> Tensor:
    """Reshape ``tensor`` to ``shape`` (a list, tensor, or a list mixing both; -1 inferred).

    Example:
        >>> flat = gc.reshape(images, [-1, 784])
    """
    graph = graph_of(tensor, shape)
    with graph.as_default(), graph.atomic():
        shape = convert_to_tensor(shape, dtype_hint=gdt.int32)
        return apply_op("reshape", [tensor, shape], name=name or "Reshape")


def _transpose_shapes(inputs, attrs):
    shape = inputs[0].shape
    perm = attrs["perm"]
    if perm is None:
        return [TensorShape(shape.dims[::-1])]
    if sorted(perm) != list(range(shape.rank)):
        raise ValueError(f"transpose: perm {list(perm)} is not a permutation of the "
                         f"{shape.rank} dims of shape {shape}")
    return [TensorShape([shape.dims[p] for p in perm])]


def _transpose_grad(op, dy):
    perm = op.attrs["perm"]
    if perm is None:
        return [transpose(dy)]
    return [transpose(dy, [perm.index(i) for i in range(len(perm))])]  # the inverse perm


def _transpose_reference(x, perm):
    perm = list(perm) if perm is not None else list(range(x.ndim))[::-1]
    out = np.empty([x.shape[p] for p in perm], x.dtype)
    for index in np.ndindex(*out.shape):
        source = [0] * x.ndim
        for k, p in enumerate(perm):
            source[p] = index[k]
        out[index] = x[tuple(source)]
    return out


TRANSPOSE = registry.register(OpDef(
    name="transpose", dtypes=_first_dtype, shapes=_transpose_shapes, grad=_transpose_grad,
    kernel=lambda x, perm: np.transpose(x, perm), attrs={"perm": None},
    finite_outputs=registry.finite_if_inputs_finite,
    reference=lambda x, perm=None: _transpose_reference(x, perm),
    samples=lambda: [Sample((rand(2, 3),)), Sample((rand(2, 3, 4), [2, 0, 1]))],
    error_samples=lambda: [ErrorSample((rand(2, 3), [0, 0]), match="not a permutation")],
    doc="Permute the dims; default perm reverses them."))


@registry.public(TRANSPOSE)
def transpose(a, perm=None, name="transpose", conjugate=False) -> Tensor:
    """Permute the dimensions of ``a`` (default: reverse them).

    Example:
        >>> at = gc.transpose(a, [1, 0])
    """
    perm = static_axis(perm, "transpose")
    attrs = {"perm": tuple(int(p) for p in perm) if perm is not None else None}
    return apply_op("transpose", [a], attrs, name=name)


def _expand_dims_shapes(inputs, attrs):
    dims = list(inputs[0].shape.dims)
    axis = normalize_axis(attrs["axis"], len(dims) + 1, "expand_dims")
    dims.insert(axis, 1)
    return [TensorShape(dims)]


def _expand_dims_kernel(x, axis):
    return np.expand_dims(x, axis)


EXPAND_DIMS = registry.register(OpDef(
    name="expand_dims", dtypes=_first_dtype, shapes=_expand_dims_shapes,
    grad=lambda op, dy: [reshape(dy, shape(op.inputs[0]))],
    kernel=_expand_dims_kernel, attrs={"axis": 0}, finite_outputs=registry.finite_if_inputs_finite,
    distribution=registry.rowwise_unless_axis0(of_output=True),
    reference=lambda x, axis: x.reshape(x.shape[:axis % (x.ndim + 1)] + (1,)
                                        + x.shape[axis % (x.ndim + 1):]),
    samples=lambda: [Sample((rand(2, 3), 1)), Sample((rand(2, 3), -1)), Sample((rand(), 0))],
    error_samples=lambda: [ErrorSample((rand(2, 3), 3), match="out of range")],
    doc="Insert a dim of size 1 at axis."))


@registry.public(EXPAND_DIMS)
def expand_dims(input, axis=None, name=None, dim=None) -> Tensor:  # noqa: A002
    """Insert a length-1 dimension at ``axis``.

    Example:
        >>> col = gc.expand_dims(v, 1)
    """
    axis = static_axis(axis if axis is not None else dim, "expand_dims")
    if axis is None:
        raise ValueError("expand_dims: axis is required")
    return apply_op("expand_dims", [input], {"axis": int(axis)}, name=name or "ExpandDims")


def _squeeze_shapes(inputs, attrs):
    dims = inputs[0].shape.dims
    axes = normalize_axes(attrs["axis"], len(dims), "squeeze")
    if axes is None:
        if None in dims:
            return [TensorShape(None)]
        return [TensorShape([d for d in dims if d != 1])]
    for axis in axes:
        if dims[axis] not in (None, 1):
            raise ValueError(f"squeeze: cannot squeeze dim {axis} of size {dims[axis]} in "
                             f"shape {inputs[0].shape}")
    return [TensorShape([d for i, d in enumerate(dims) if i not in axes])]


def _squeeze_kernel(x, axis):
    return np.squeeze(x, axis=axis)


SQUEEZE = registry.register(OpDef(
    name="squeeze", dtypes=_first_dtype, shapes=_squeeze_shapes, kernel=_squeeze_kernel,
    grad=lambda op, dy: [reshape(dy, shape(op.inputs[0]))],
    attrs={"axis": None}, finite_outputs=registry.finite_if_inputs_finite,
    reference=lambda x, axis=None: x.reshape([d for i, d in enumerate(x.shape)
                                              if d != 1 or (axis is not None and i not in
                                                            [a % x.ndim for a in axis])]),
    samples=lambda: [Sample((rand(1, 3, 1),)), Sample((rand(1, 3, 1), [2]))],
    error_samples=lambda: [ErrorSample((rand(2, 3), [0]), match="cannot squeeze")],
    doc="Remove dims of size 1 (all, or those in axis)."))


@registry.public(SQUEEZE)
def squeeze(input, axis=None, name=None, squeeze_dims=None) -> Tensor:  # noqa: A002
    """Remove size-1 dimensions (all of them, or those listed in ``axis``).

    Example:
        >>> v = gc.squeeze(col, [1])
    """
    axis = static_axis(axis if axis is not None else squeeze_dims, "squeeze")
    if isinstance(axis, int):
        axis = [axis]
    attrs = {"axis": tuple(axis) if axis is not None else None}
    return apply_op("squeeze", [input], attrs, name=name or "Squeeze")


def _broadcast_to_shapes(inputs, attrs):
    x, shape = inputs
    target = constant_value_as_shape(shape)
    if target.rank is not None and x.shape.rank is not None and x.shape.rank > target.rank:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {target}")
    merged = broadcast_shapes(x.shape, target)
    if target.rank is not None and not merged.is_compatible_with(target):
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {target}")
    return [target.merge_with(merged) if target.rank is not None else merged]


BROADCAST_TO = registry.register(OpDef(
    name="broadcast_to", dtypes=_shape_tensor_dtypes("broadcast_to"), shapes=_broadcast_to_shapes,
    grad=lambda op, dy: [sum_to_shape(dy, shape(op.inputs[0])), None],
    kernel=lambda x, shape: np.broadcast_to(x, tuple(int(d) for d in shape)),
    distribution=broadcast_to_split,
    finite_outputs=registry.finite_if_inputs_finite,
    reference=lambda x, shape: x * np.ones(shape, dtype=x.dtype),
    samples=lambda: [Sample((rand(3), [2, 3])), Sample((rand(2, 1), [2, 4]))],
    error_samples=lambda: [ErrorSample((rand(3), [2, 4]), match="cannot broadcast|Incompatible")],
    doc="Broadcast to an explicit shape."))


@registry.public(BROADCAST_TO)
def broadcast_to(input, shape, name=None) -> Tensor:  # noqa: A002
    """Broadcast ``input`` to ``shape`` with NumPy rules.

    Example:
        >>> m = gc.broadcast_to(row, [4, 3])
    """
    graph = graph_of(input, shape)
    with graph.as_default(), graph.atomic():
        shape = convert_to_tensor(shape, dtype_hint=gdt.int32)
        return apply_op("broadcast_to", [input, shape], name=name or "BroadcastTo")


# sum_to_shape is broadcast_to's adjoint (and broadcast_to its), so the two live together.
def _sum_to_shape_dtypes(in_dtypes, attrs):
    check_kind("sum_to_shape", in_dtypes[1], "integer", "shape")
    check_kind("sum_to_shape", in_dtypes[0], NUMERIC)
    return [in_dtypes[0]]


def _sum_to_shape_shapes(inputs, attrs):
    target = constant_value_as_shape(inputs[1])
    if target.rank is not None and inputs[0].shape.rank is not None:
        if target.rank > inputs[0].shape.rank:
            raise ValueError(f"sum_to_shape: cannot sum shape {inputs[0].shape} to the larger "
                             f"rank of {target}")
    return [target]


def _sum_to_shape_kernel(x, shape):
    shape = tuple(int(d) for d in shape)
    if x.shape == shape:
        return x
    leading = x.ndim - len(shape)
    if leading < 0 or any(d not in (1, x.shape[leading + i]) for i, d in enumerate(shape)):
        raise ValueError(f"sum_to_shape: shape {x.shape} does not broadcast from {shape}")
    axes = tuple(range(leading)) + tuple(leading + i for i, d in enumerate(shape)
                                         if d == 1 and x.shape[leading + i] != 1)
    return np.sum(x, axis=axes, dtype=x.dtype).reshape(shape)


def _sum_to_shape_grad(op, dy):
    return [broadcast_to(dy, shape(op.inputs[0])), None]


def _sum_to_shape_reference(x, shape):
    out = np.zeros(shape)
    for index in np.ndindex(*x.shape):
        target = tuple(0 if d == 1 else i for i, d in zip(index[x.ndim - len(shape):], shape))
        out[target] += x[index]
    return out


SUM_TO_SHAPE = registry.register(OpDef(
    name="sum_to_shape", dtypes=_sum_to_shape_dtypes, shapes=_sum_to_shape_shapes,
    kernel=_sum_to_shape_kernel, grad=_sum_to_shape_grad, reference=_sum_to_shape_reference,
    distribution=sum_to_shape_split,
    samples=lambda: [Sample((rand(2, 3, 4), [3, 1])), Sample((rand(3, 4), [3, 4])),
                     Sample((rand(2, 5), [1, 1]))],
    error_samples=lambda: [ErrorSample((rand(3), [2, 3]), match="larger rank")],
    doc="Sum x down to a shape it was broadcast from (the inverse of broadcasting, for "
        "gradients)."))


@registry.public(SUM_TO_SHAPE)
def sum_to_shape(x, shape, name=None):
    """Sum ``x`` over the axes along which ``shape`` was broadcast to produce it.

    Example:
        >>> db = gc.sum_to_shape(dz, gc.shape(b))
    """
    graph = graph_of(x, shape)
    with graph.as_default(), graph.atomic():
        shape = convert_to_tensor(shape, dtype_hint=gdt.int32)
        return apply_op("sum_to_shape", [x, shape], name=name or "SumToShape")


def _out_type_rule(in_dtypes, attrs):
    out = gdt.as_dtype(attrs["out_type"])
    if not out.is_integer:
        raise TypeError(f"out_type must be an integer dtype, got {out.name}")
    return [out]


def _shape_of(inputs, attrs):
    rank = inputs[0].shape.rank
    return [TensorShape([rank])]


SHAPE = registry.register(OpDef(
    name="shape", dtypes=_out_type_rule, shapes=_shape_of, unknown_rank_ok=True,
    value_from_shapes=True, fresh_output=True,
    grad=registry.NOT_DIFFERENTIABLE,
    kernel=lambda x, out_type: np.array(x.shape, dtype=gdt.as_dtype(out_type).np),
    distribution=registry.SHAPE_ONLY,
    attrs={"out_type": gdt.int32}, reference=lambda x, out_type=None: np.array(x.shape),
    samples=lambda: [Sample((rand(2, 3),)), Sample((rand(),)), Sample((rand(0, 4),))],
    doc="The dynamic shape of a tensor as a 1-D integer tensor."))
SIZE = registry.register(OpDef(
    name="size", dtypes=_out_type_rule, shapes=lambda ins, a: [TensorShape([])],
    grad=registry.NOT_DIFFERENTIABLE,
    kernel=lambda x, out_type: np.array(x.size, dtype=gdt.as_dtype(out_type).np),
    distribution=registry.SHAPE_ONLY,
    attrs={"out_type": gdt.int32}, unknown_rank_ok=True, value_from_shapes=True,
    reference=lambda x, out_type=None: np.prod(x.shape, dtype=np.int64),
    samples=lambda: [Sample((rand(2, 3),)), Sample((rand(0, 4),))],
    doc="The number of elements of a tensor."))
RANK = registry.register(OpDef(
    name="rank", dtypes=lambda d, a: [gdt.int32], shapes=lambda ins, a: [TensorShape([])],
    grad=registry.NOT_DIFFERENTIABLE,
    kernel=lambda x: np.array(x.ndim, dtype=np.int32), unknown_rank_ok=True,
    value_from_shapes=True,
    reference=lambda x: len(x.shape), samples=lambda: [Sample((rand(2, 3),)), Sample((rand(),))],
    doc="The number of dimensions of a tensor."))


@registry.public(SHAPE)
def shape(input, name=None, out_type=gdt.int32) -> Tensor:  # noqa: A002
    """The run-time shape of ``input`` as a 1-D tensor.

    Example:
        >>> batch = gc.shape(x)[0]
    """
    return apply_op("shape", [input], {"out_type": gdt.as_dtype(out_type)}, name=name or "Shape")


@registry.public(SIZE)
def size(input, name=None, out_type=gdt.int32) -> Tensor:  # noqa: A002
    """The number of elements of ``input``.

    Example:
        >>> n = gc.size(x)
    """
    return apply_op("size", [input], {"out_type": gdt.as_dtype(out_type)}, name=name or "Size")


@registry.public(RANK)
def rank(input, name=None) -> Tensor:  # noqa: A002
    """The number of dimensions of ``input``.

    Example:
        >>> r = gc.rank(x)
    """
    return apply_op("rank", [input], name=name or "Rank")

