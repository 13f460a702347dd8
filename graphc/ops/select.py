"""Elementwise selection and conversion: where, cast, clip_by_value."""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.convert import convert_to_tensor
from graphc.graph import Tensor
from graphc.ops.creation import zeros_like
from graphc.ops.shape_ops import reshape
from graphc.ops.common import apply_elementwise, apply_op, broadcast_rule, rand, randbool, randint
from graphc.registry import ErrorSample, LoopExpr, OpDef, Sample
from graphc.shapes import TensorShape

__all__ = ["where", "cast", "clip_by_value", "to_float", "to_int32", "to_int64", "saturate_cast"]


def _where_dtypes(in_dtypes, attrs):
    cond, x, y = in_dtypes
    if not cond.is_bool:
        raise TypeError(f"where requires a bool condition, got {cond.name}")
    if x is not y:
        raise TypeError(f"where requires x and y of one dtype, got {x.name} and {y.name}")
    return [x]


def _where_grad(op, dy):
    condition = op.inputs[0]
    zeros = zeros_like(dy)
    return [None, where(condition, dy, zeros), where(condition, zeros, dy)]


WHERE = registry.register(OpDef(
    name="where", dtypes=_where_dtypes, shapes=broadcast_rule, kernel=np.where, grad=_where_grad,
    elementwise=True, unknown_rank_ok=True, loop=LoopExpr("({1} if {0} else {2})"),
    finite_outputs=registry.finite_if_inputs_finite,
    reference=lambda c, x, y: np.array([b if a else d for a, b, d in zip(
        *(v.ravel() for v in np.broadcast_arrays(c, x, y)))]).reshape(np.broadcast(c, x, y).shape),
    samples=lambda: [Sample((randbool(3, 4), rand(3, 4), rand(3, 4))),
                     Sample((randbool(3, 1), rand(1, 4), rand(4)))],
    error_samples=lambda: [
        ErrorSample((rand(3), rand(3), rand(3)), error=TypeError, match="bool condition"),
        ErrorSample((randbool(3), rand(3), rand(4)), match="Incompatible shapes")],
    doc="Select from x where condition holds, else from y (broadcasting, as where_v2)."))


def _where_indices_kernel(condition):
    return np.argwhere(condition).astype(np.int64)


def _where_indices_dtypes(in_dtypes, attrs):
    if not in_dtypes[0].is_bool:
        raise TypeError(f"where requires a bool condition, got {in_dtypes[0].name}")
    return [gdt.int64]


WHERE_INDICES = registry.register(OpDef(
    name="where_indices", dtypes=_where_indices_dtypes, grad=registry.NOT_DIFFERENTIABLE,
    shapes=lambda ins, a: [TensorShape([None, ins[0].shape.rank])],
    kernel=_where_indices_kernel,
    reference=lambda c: np.array(list(np.ndindex(*c.shape)), dtype=np.int64).reshape(
        -1, c.ndim)[c.ravel()],
    samples=lambda: [Sample((randbool(3, 4),)), Sample((randbool(5),))],
    doc="Coordinates of the true elements of condition, shape (num_true, rank)."))


@registry.public(WHERE)
def where(condition, x=None, y=None, name=None):
    """``x`` where ``condition`` else ``y``; with only ``condition``, its true coordinates.

    Example:
        >>> z = gc.where(x > 0, x, gc.zeros_like(x))
    """
    if x is None and y is None:
        return apply_op("where_indices", [condition], name=name or "Where")
    if x is None or y is None:
        raise ValueError("where: x and y must both be given, or neither")
    condition = convert_to_tensor(condition)
    x_shape = x.shape if isinstance(x, Tensor) else TensorShape(np.shape(x))
    if condition.shape.rank == 1 and (x_shape.rank or 0) > 1:
        # TF1: a vector condition picks whole rows of x and y (its size is their first dim)
        if not condition.shape.is_compatible_with(x_shape[:1]):
            raise ValueError(f"where: a 1-D condition of shape {condition.shape} must match "
                             f"the first dimension of x's shape {x_shape}")
        condition = reshape(condition, [-1] + [1] * (x_shape.rank - 1))
    return apply_elementwise("where", [condition, x, y], name=name)


registry.public(WHERE_INDICES)(lambda condition, name=None: where(condition, name=name))


def _cast_kernel(x, dtype):
    target = gdt.as_dtype(dtype).np
    if x.dtype.kind == "f" and target.kind == "u" and target.itemsize >= 4:
        return float_to_wide_unsigned(x, target)
    return x.astype(target, copy=False)


def float_to_wide_unsigned(x: np.ndarray, target: np.dtype) -> np.ndarray:
    """Floats to uint32/uint64 as TF1's scalar CPU loops convert them (x86-64's conversion
    through int64): truncation toward zero; a uint32 keeps the low 32 bits of the int64, so
    -1.5 gives 2**32 - 1; a uint64 takes values below 2**64 as they are and wraps negative
    ones; what int64 cannot hold (NaN, infinities, huge values) is int64's minimum, so 0 as
    a uint32 and 2**63 as a uint64. C++ leaves those undefined, and TF's vectorized loops
    give other values (2**31) for arrays of 64 elements or more (measured, TF 2.21): one
    rule everywhere instead; NumPy's own ``astype`` differs between its loops as well.

    Example:
        >>> float_to_wide_unsigned(np.array([-1.0, 2.5, np.nan]), np.dtype(np.uint32))
        array([4294967295,          2,          0], dtype=uint32)
    """
    truncated = np.trunc(x.astype(np.float64))
    with np.errstate(invalid="ignore"):
        fits_int64 = (truncated > -2.0 ** 63) & (truncated < 2.0 ** 63)
        through_int64 = np.where(fits_int64, truncated, 0).astype(np.int64)
        through_int64[~fits_int64] = np.iinfo(np.int64).min
        result = through_int64.astype(target)
        if target.itemsize == 8:  # [2**63, 2**64) is in range for a uint64 but not an int64
            upper = (truncated >= 2.0 ** 63) & (truncated < 2.0 ** 64)
            result[upper] = truncated[upper].astype(target)
    return result


def _cast_grad(op, dy):
    source = op.inputs[0]
    return [cast(dy, source.dtype) if source.dtype.is_floating and dy.dtype.is_floating
            else None]  # casts from or to integers end the gradient


def _cast_finite(op, finite_inputs) -> bool:
    """A float stays finite in a float at least as wide; every integer fits a float whose
    largest value exceeds the integer dtype's (not uint16 in float16: 65535 > 65504)."""
    source, target = op.inputs[0].dtype, op.outputs[0].dtype
    if not target.is_floating:
        return True  # integers and bools hold no NaN or Inf
    if source.is_floating:
        return finite_inputs[0] and target.size >= source.size
    return source.is_bool or float(np.finfo(target.np).max) >= float(source.max)


CAST = registry.register(OpDef(
    name="cast", dtypes=lambda d, attrs: [gdt.as_dtype(attrs["dtype"])], grad=_cast_grad,
    shapes=lambda ins, a: [ins[0].shape], kernel=_cast_kernel, attrs={"dtype": None},
    elementwise=True, unknown_rank_ok=True, finite_outputs=_cast_finite,
    loop=LoopExpr("{0}", plain=True),  # loops round every value to its step's dtype
    reference=lambda x, dtype: np.array([gdt.as_dtype(dtype).as_numpy_dtype(v)
                                         for v in x.ravel()]).reshape(x.shape),
    samples=lambda: [Sample((rand(3, 4, low=-5, high=5), gdt.int32)),
                     Sample((randint(3, 4), gdt.float32)),
                     Sample((randbool(2, 2), gdt.float64)),
                     Sample((rand(0, 2), gdt.float32)),
                     Sample((rand(3, 2), gdt.float64))],
    doc="Convert to dtype; floats to ints truncate toward zero (TF1)."))


@registry.public(CAST)
def cast(x, dtype, name=None):
    """Convert ``x`` to ``dtype`` (floats to integers truncate toward zero).

    Example:
        >>> i = gc.cast(x, gc.int32)
    """
    result = apply_op("cast", [x], {"dtype": gdt.as_dtype(dtype)}, name=name or "Cast")
    gdt.remember_string(result.op, dtype)
    return result


def saturate_cast(value, dtype, name=None):
    """Cast, clipping to the target dtype's range first (TF1 ``saturate_cast``)."""
    dtype = gdt.as_dtype(dtype)
    value = convert_to_tensor(value)
    if value.dtype.is_numeric and dtype.is_numeric and value.dtype.is_floating:
        low = max(float(dtype.min), float(value.dtype.min))
        high = min(float(dtype.max), float(value.dtype.max))
        value = clip_by_value(value, low, high)
    return cast(value, dtype, name=name)


def to_float(x, name="ToFloat"):
    return cast(x, gdt.float32, name=name)


def to_int32(x, name="ToInt32"):
    return cast(x, gdt.int32, name=name)


def to_int64(x, name="ToInt64"):
    return cast(x, gdt.int64, name=name)


def _clip_dtypes(in_dtypes, attrs):
    if len({d.name for d in in_dtypes}) != 1:
        listed = ", ".join(d.name for d in in_dtypes)
        raise TypeError(f"clip_by_value requires inputs of one dtype, got {listed}")
    if not in_dtypes[0].is_numeric:
        raise TypeError(f"clip_by_value requires a numeric input, got {in_dtypes[0].name}")
    return [in_dtypes[0]]


def _clip_shapes(inputs, attrs):
    out = broadcast_rule(inputs, attrs)[0]
    if not out.is_compatible_with(inputs[0].shape):
        raise ValueError(f"clip_by_value: clip bounds must not enlarge the shape of t, got "
                         f"{out} from t of shape {inputs[0].shape}")
    return [out]


def _clip_grad(op, dy):
    t, low, high = op.inputs
    zeros = zeros_like(dy)
    below, above = t < low, t > high
    inside = ~(below | above)
    return [where(inside, dy, zeros), where(below, dy, zeros), where(above, dy, zeros)]


CLIP = registry.register(OpDef(
    name="clip_by_value", dtypes=_clip_dtypes, shapes=_clip_shapes, grad=_clip_grad,
    kernel=lambda t, lo, hi: np.minimum(np.maximum(t, lo), hi),
    elementwise=True, unknown_rank_ok=True, finite_outputs=registry.finite_if_inputs_finite,
    reference=lambda t, lo, hi: np.array([min(max(a, b), c) for a, b, c in zip(
        *(v.ravel() for v in np.broadcast_arrays(t, lo, hi)))]).reshape(t.shape),
    samples=lambda: [Sample((rand(3, 4), np.float64(-0.5), np.float64(0.7))),
                     Sample((rand(3, 4), rand(4, low=-1, high=0), rand(3, 1, low=0, high=1)))],
    error_samples=lambda: [ErrorSample((rand(3), rand(2, 3), rand(3)),
                                       match="must not enlarge")],
    doc="Clip t elementwise to [clip_value_min, clip_value_max]."))


@registry.public(CLIP)
def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """Clip ``t`` to ``[clip_value_min, clip_value_max]`` elementwise.

    Example:
        >>> y = gc.clip_by_value(x, 0.0, 1.0)
    """
    return apply_elementwise("clip_by_value", [t, clip_value_min, clip_value_max], name=name)
