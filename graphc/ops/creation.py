"""Tensors made from values or shapes: constant, fill, zeros, ones, *_like, one_hot, range."""
from __future__ import annotations

import builtins
import math

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.convert import convert_to_tensor, graph_of, numpy_value
from graphc.graph import Tensor
from graphc.ops.common import (NUMERIC, apply_op, check_kind, normalize_axis, rand, randint,
                               same_shape_rule)
from graphc.ops import shape_ops
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape, as_shape
from graphc.static_values import constant_value, constant_value_as_shape

__all__ = ["constant", "fill", "zeros", "ones", "zeros_like", "ones_like", "one_hot", "range"]


def _const_kernel(value, dtype):
    return value


CONST = registry.register(OpDef(
    name="const", dtypes=lambda d, attrs: [gdt.as_dtype(attrs["dtype"])],
    shapes=lambda ins, attrs: [TensorShape(attrs["value"].shape)], kernel=_const_kernel,
    grad=registry.NOT_DIFFERENTIABLE,
    attrs={"value": None, "dtype": None}, reference=lambda value: np.asarray(value),
    samples=lambda: [Sample(([[1.0, 2.0], [3.0, 4.0]],)), Sample((7,))],
    doc="A constant array; its value is read-only so no kernel can modify it."))


@registry.public(CONST)
def constant(value, dtype=None, shape=None, name="Const", verify_shape=False) -> Tensor:
    """A constant tensor (TF1 ``tf.constant``).

    Args:
        value: array-like; a scalar is broadcast to ``shape`` when given.
        dtype: element type (default from the value: float32 for Python floats).
        shape: optional shape; a value with as many elements is reshaped to it.

    Example:
        >>> c = gc.constant([[1, 2], [3, 4]], dtype=gc.float32)
    """
    given, dtype = dtype, gdt.as_dtype(dtype) if dtype is not None else None
    array = numpy_value(value, dtype, context=f"constant '{name}': ")
    if shape is not None:
        shape = as_shape(shape)
        if not shape.is_fully_defined():
            raise ValueError(f"constant '{name}': shape {shape} must be fully defined")
        if array.size == 1 and not verify_shape:
            array = np.full(shape.dims, array.reshape(()), dtype=array.dtype)
        elif array.size == shape.num_elements() and not verify_shape:
            array = array.reshape(shape.dims)
        elif tuple(array.shape) != shape.dims:
            raise ValueError(f"constant '{name}': value of shape {array.shape} cannot be "
                             f"given shape {shape}")
    array = np.array(array, copy=True)
    array.flags.writeable = False
    graph = graph_of()
    op = graph.create_op("const", [], {"value": array, "dtype": gdt.as_dtype(array.dtype)},
                         name=name)
    gdt.remember_string(op, given)
    return op.outputs[0]


def _fill_dtypes(in_dtypes, attrs):
    if not in_dtypes[0].is_integer:
        raise TypeError(f"fill: dims must be an integer tensor, got {in_dtypes[0].name}")
    return [in_dtypes[1]]


def _fill_shapes(inputs, attrs):
    dims, value = inputs
    if dims.shape.rank not in (None, 1):
        raise ValueError(f"fill: dims must be a 1-D tensor, got shape {dims.shape}")
    if value.shape.rank not in (None, 0):
        raise ValueError(f"fill: value must be a scalar, got shape {value.shape}")
    known = constant_value(dims)
    if known is not None and np.any(known < 0):
        raise ValueError(f"fill: dims must be non-negative, got {known.tolist()}")
    return [constant_value_as_shape(dims)]


def _fill_kernel(dims, value):
    if np.any(dims < 0):
        raise ValueError(f"fill: dims must be non-negative, got {dims.tolist()}")
    return np.full(tuple(int(d) for d in dims), value, dtype=value.dtype)


FILL = registry.register(OpDef(
    name="fill", dtypes=_fill_dtypes, shapes=_fill_shapes, kernel=_fill_kernel,
    distribution=registry.Split("generated", chunked=(), batch_shape=0),
    # the value is broadcast to dims, so its gradient sums dy back to the value's shape
    grad=lambda op, dy: [None, shape_ops.sum_to_shape(dy, shape_ops.shape(op.inputs[1]))],
    finite_outputs=registry.finite_if_inputs_finite,
    reference=lambda dims, value: np.full(tuple(dims), value),
    samples=lambda: [Sample((np.array([2, 3], np.int32), np.float64(1.5))),
                     Sample((np.array([0, 2], np.int32), np.int32(3)))],
    error_samples=lambda: [ErrorSample(([2, -1], 1.0), match="non-negative"),
                           ErrorSample((np.array([2.0]), 1.0), error=TypeError,
                                       match="integer")],
    doc="A tensor of shape dims filled with the scalar value."))


@registry.public(FILL)
def fill(dims, value, name=None) -> Tensor:
    """A tensor of shape ``dims`` filled with ``value`` (TF1 ``tf.fill``).

    Example:
        >>> t = gc.fill([2, 3], 9.0)
    """
    graph = graph_of(dims, value)
    with graph.as_default(), graph.atomic():
        dims = convert_to_tensor(dims, dtype_hint=gdt.int32)
        return apply_op("fill", [dims, value], name=name or "Fill")


def _filled(shape, dtype, number, name):
    dtype = gdt.as_dtype(dtype)
    graph = graph_of(shape)
    with graph.as_default(), graph.atomic(), graph.name_scope(name) as scope:
        # an array of the dtype: a Python 0 or 1 would not convert to bool (lossy)
        return fill(shape, constant(np.array(number, dtype.np)), name=scope)


def zeros(shape, dtype=gdt.float32, name="zeros") -> Tensor:
    """A tensor of zeros (TF1 ``tf.zeros``); ``shape`` may be a list, tensor or mix.

    Example:
        >>> b = gc.zeros([10])
    """
    return _filled(shape, dtype, 0, name)


def ones(shape, dtype=gdt.float32, name="ones") -> Tensor:
    """A tensor of ones (TF1 ``tf.ones``).

    Example:
        >>> m = gc.ones([2, 2], dtype=gc.int32)
    """
    return _filled(shape, dtype, 1, name)


def _like_op(name: str, number: int) -> OpDef:
    def kernel(x, dtype):
        target = gdt.as_dtype(dtype).np if dtype is not None else x.dtype
        return np.full(x.shape, number, dtype=target)
    return registry.register(OpDef(
        name=name, dtypes=lambda d, attrs: [gdt.as_dtype(attrs["dtype"] or d[0])],
        shapes=same_shape_rule, kernel=kernel, grad=registry.NOT_DIFFERENTIABLE,
        attrs={"dtype": None}, unknown_rank_ok=True, value_from_shapes=True,
        finite_outputs=registry.always_finite,
        reference=lambda x, dtype=None: np.full(np.shape(x), number),
        samples=lambda: [Sample((rand(2, 3),)), Sample((randint(4), gdt.float32))],
        doc=f"A tensor of {number}s with the shape of its input."))


ZEROS_LIKE = _like_op("zeros_like", 0)
ONES_LIKE = _like_op("ones_like", 1)


@registry.public(ZEROS_LIKE)
def zeros_like(tensor, dtype=None, name=None, optimize=True) -> Tensor:
    """Zeros with the shape (and by default dtype) of ``tensor``.

    Example:
        >>> z = gc.zeros_like(x)
    """
    attrs = {"dtype": gdt.as_dtype(dtype) if dtype is not None else None}
    return apply_op("zeros_like", [tensor], attrs, name=name or "zeros_like")


@registry.public(ONES_LIKE)
def ones_like(tensor, dtype=None, name=None, optimize=True) -> Tensor:
    """Ones with the shape (and by default dtype) of ``tensor``.

    Example:
        >>> o = gc.ones_like(x)
    """
    attrs = {"dtype": gdt.as_dtype(dtype) if dtype is not None else None}
    return apply_op("ones_like", [tensor], attrs, name=name or "ones_like")


def _one_hot_shapes(inputs, attrs):
    shape = inputs[0].shape
    axis = attrs["axis"]
    axis = shape.rank if axis == -1 else normalize_axis(axis, shape.rank + 1, "one_hot")
    dims = list(shape.dims)
    dims.insert(axis, attrs["depth"])
    return [TensorShape(dims)]


def _one_hot_dtypes(in_dtypes, attrs):
    check_kind("one_hot", in_dtypes[0], "integer", "indices tensor")
    return [gdt.as_dtype(attrs["dtype"])]


def _one_hot_kernel(indices, depth, on_value, off_value, axis, dtype):
    hot = indices[..., None] == np.arange(depth)
    out = np.where(hot, on_value, off_value).astype(gdt.as_dtype(dtype).np)
    return out if axis == -1 else np.moveaxis(out, -1, axis)


def _one_hot_reference(indices, depth, on_value=1.0, off_value=0.0, axis=-1, dtype=None):
    out = np.full(indices.shape + (depth,), off_value, dtype=np.float64)
    for position in np.ndindex(*indices.shape):
        if 0 <= indices[position] < depth:
            out[position + (int(indices[position]),)] = on_value
    return out if axis == -1 else np.moveaxis(out, -1, axis)


ONE_HOT = registry.register(OpDef(
    name="one_hot", dtypes=_one_hot_dtypes, shapes=_one_hot_shapes, kernel=_one_hot_kernel,
    grad=registry.NOT_DIFFERENTIABLE,
    attrs={"depth": None, "on_value": 1, "off_value": 0, "axis": -1, "dtype": gdt.float32},
    finite_outputs=lambda op, _: bool(np.isfinite([op.attrs["on_value"],
                                                   op.attrs["off_value"]]).all()),
    reference=_one_hot_reference,
    samples=lambda: [Sample((randint(5, low=-1, high=5), 4)),
                     Sample((randint(2, 3, low=0, high=3), 3), {"on_value": 5.0,
                                                                "off_value": -1.0, "axis": 0})],
    error_samples=lambda: [ErrorSample((rand(3), 4), error=TypeError, match="integer")],
    doc="One-hot encoding along a new axis; out-of-range indices give all off_value."))


@registry.public(ONE_HOT)
def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None,
            name=None) -> Tensor:
    """One-hot vectors of length ``depth`` (TF1 ``tf.one_hot``).

    Example:
        >>> labels = gc.one_hot(y, depth=10)
    """
    dtype = gdt.as_dtype(dtype) if dtype is not None else gdt.float32
    attrs = {"depth": int(depth), "on_value": 1 if on_value is None else on_value,
             "off_value": 0 if off_value is None else off_value,
             "axis": -1 if axis is None else int(axis), "dtype": dtype}
    return apply_op("one_hot", [indices], attrs, name=name or "one_hot")


def _range_dtypes(in_dtypes, attrs):
    if len({d.name for d in in_dtypes}) != 1:
        raise TypeError("range requires start, limit and delta of one dtype, got "
                        + ", ".join(d.name for d in in_dtypes))
    check_kind("range", in_dtypes[0], NUMERIC)
    return [in_dtypes[0]]


def _range_shapes(inputs, attrs):
    for tensor in inputs:
        if tensor.shape.rank not in (None, 0):
            raise ValueError(f"range: start, limit and delta must be scalars, got {tensor.shape}")
    values = [constant_value(t) for t in inputs]
    if any(v is None for v in values):
        return [TensorShape([None])]
    start, limit, delta = (v.item() for v in values)
    if delta == 0:
        raise ValueError("range: delta must not be 0")
    if all(isinstance(v, int) for v in (start, limit, delta)):
        return [TensorShape([max(0, -((start - limit) // delta))])]  # exact for int64
    return [TensorShape([max(0, math.ceil((limit - start) / delta))])]


def _range_kernel(start, limit, delta):
    if delta == 0:
        raise ValueError("range: delta must not be 0")
    return np.arange(start, limit, delta, dtype=start.dtype)


RANGE = registry.register(OpDef(
    name="range", dtypes=_range_dtypes, shapes=_range_shapes, kernel=_range_kernel,
    grad=registry.NOT_DIFFERENTIABLE,
    reference=lambda start, limit, delta: np.array(
        [start + i * delta for i in builtins.range(max(0, math.ceil((limit - start) / delta)))]),
    samples=lambda: [Sample((np.int32(2), np.int32(11), np.int32(3))),
                     Sample((np.float64(1.0), np.float64(-1.0), np.float64(-0.5)))],
    error_samples=lambda: [ErrorSample((1, 5, 0), match="delta must not be 0")],
    doc="Evenly spaced values in [start, limit)."))


_RANGE_DTYPES = (gdt.int32, gdt.int64, gdt.float32, gdt.float64)  # TF1's dtype_hierarchy


def _range_dtype_rank(dtype) -> int:
    """TF1's order for the dtype of a range of mixed arguments: int32 < int64 < float32 <
    float64 (the widest wins)."""
    return _RANGE_DTYPES.index(dtype) if dtype in _RANGE_DTYPES else -1


@registry.public(RANGE)
def range(start, limit=None, delta=1, dtype=None, name="range") -> Tensor:  # noqa: A001
    """``[start, start+delta, ...)`` below ``limit`` (TF1 ``tf.range``).

    Example:
        >>> idx = gc.range(10)
    """
    if limit is None:
        start, limit = 0, start
    graph = graph_of(start, limit, delta)
    with graph.as_default(), graph.atomic():
        wanted = gdt.as_dtype(dtype) if dtype is not None else None
        hint = next((v.dtype for v in (start, limit, delta) if isinstance(v, Tensor)), None)
        # Python values take TF1's default dtypes (an int beyond int32 is int64), or the
        # requested dtype, which must hold them
        try:
            tensors = [convert_to_tensor(v, dtype=wanted, dtype_hint=hint, name=part)
                       if not isinstance(v, Tensor) else v
                       for v, part in zip((start, limit, delta), ("start", "limit", "delta"))]
        except TypeError as err:
            raise TypeError(f"range: {err}") from None
        if wanted is None:
            wanted = max([t.dtype for t in tensors], key=_range_dtype_rank)
        converted = []
        for tensor in tensors:
            if tensor.dtype is not wanted:  # the cast op by its name: select builds on creation
                tensor = apply_op("cast", [tensor], {"dtype": wanted})
            converted.append(tensor)
        return apply_op("range", converted, name=name)
