"""TF1 math functions missing from the elementwise and reduce families: truncatediv and
truncatemod (C's rounding toward zero), lin_space, and compositions of existing ops:
reduce_variance, reduce_std, norm, count_nonzero, meshgrid and accumulate_n."""
from __future__ import annotations

import math
import numbers

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.graph import Tensor
from graphc.ops import elementwise, reduce, shape_ops
from graphc.ops.array import stack
from graphc.ops.common import (FLOAT, NUMERIC, apply_elementwise, apply_op, broadcast_rule,
                               check_kind, rand, same_dtype_rule, static_axis)
# the elementwise family's test tables and its integer division by zero (TF's error)
from graphc.ops.elementwise import (_binary_errors, _binary_samples, _raising_integer_division,
                                    scalar_reference)
from graphc.ops.select import cast
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape
from graphc.static_values import constant_value

__all__ = ["truncatediv", "truncatemod", "lin_space", "linspace", "reduce_variance",
           "reduce_std", "norm", "count_nonzero", "meshgrid", "accumulate_n"]


def _truncated_quotient(x, y, out=None):
    if x.dtype.kind in "iu":
        quotient = np.floor_divide(x, y)
        # floor and truncation differ where the signs differ and the division is inexact
        inexact = (np.remainder(x, y) != 0) & ((x < 0) != (y < 0))
        return np.add(quotient, inexact.astype(x.dtype), out=out)
    return np.trunc(np.divide(x, y), out=out)


def _truncatediv_scalar(a, b):
    if isinstance(a, int):
        quotient = abs(a) // abs(b)
        return quotient if (a < 0) == (b < 0) else -quotient
    return float(math.trunc(a / b))


def _truncatemod_scalar(a, b):
    return a - b * _truncatediv_scalar(a, b) if isinstance(a, int) else math.fmod(a, b)


def _define_truncating(name, kernel, scalar, grad, doc):
    opdef = registry.register(OpDef(
        name=name, dtypes=same_dtype_rule(name, NUMERIC), shapes=broadcast_rule,
        kernel=_raising_integer_division(kernel), grad=grad, elementwise=True,
        raises_on_values=True, unknown_rank_ok=True, fresh_output=True, reference=scalar_reference(scalar),
        samples=_binary_samples(NUMERIC, nonzero_rhs=True), error_samples=_binary_errors(NUMERIC),
        doc=doc))
    return opdef


TRUNCATEDIV = _define_truncating(
    "truncatediv", _truncated_quotient, _truncatediv_scalar, registry.NOT_DIFFERENTIABLE,
    "x / y rounded toward zero (C semantics: -7 / 5 = -1); integer division by zero fails")
TRUNCATEMOD = _define_truncating(
    "truncatemod", np.fmod, _truncatemod_scalar,
    lambda op, dy: [dy, -dy * truncatediv(*op.inputs)],  # x - y trunc(x / y)
    "the remainder of truncatediv, with the sign of x (C's fmod: -7 mod 5 = -2)")


@registry.public(TRUNCATEDIV)
def truncatediv(x, y, name=None) -> Tensor:
    """``x / y`` rounded toward zero, with broadcasting (TF1 ``tf.truncatediv``); unlike
    ``floordiv``, ``-7 / 5`` is ``-1``. Integer division by zero is an error, as in TF.

    Example:
        >>> gc.truncatediv([7, -7], [2, 2])   # [3, -3]
    """
    return apply_elementwise("truncatediv", [x, y], name=name or "TruncateDiv")


@registry.public(TRUNCATEMOD)
def truncatemod(x, y, name=None) -> Tensor:
    """The remainder of ``truncatediv``: it has the sign of ``x`` (TF1 ``tf.truncatemod``).

    Example:
        >>> gc.truncatemod([7, -7], [5, 5])   # [2, -2]
    """
    return apply_elementwise("truncatemod", [x, y], name=name or "TruncateMod")


def _lin_space_dtypes(in_dtypes, attrs):
    check_kind("lin_space", in_dtypes[0], FLOAT, "start")
    if in_dtypes[1] is not in_dtypes[0]:
        raise TypeError(f"lin_space: start and stop must have one dtype, got "
                        f"{in_dtypes[0].name} and {in_dtypes[1].name}")
    check_kind("lin_space", in_dtypes[2], "integer", "num")
    return [in_dtypes[0]]


def _lin_space_shapes(inputs, attrs):
    for what, tensor in zip(("start", "stop", "num"), inputs):
        if tensor.shape.rank not in (None, 0):
            raise ValueError(f"lin_space: {what} must be a scalar, got shape {tensor.shape}")
    num = constant_value(inputs[2])
    if num is not None and int(num) <= 0:
        raise ValueError(f"lin_space: num must be > 0, got {int(num)}")
    return [TensorShape([None if num is None else int(num)])]


def _lin_space_kernel(start, stop, num):
    if num <= 0:
        raise ValueError(f"lin_space: num must be > 0, got {int(num)}")
    # TF's kernel: start + i * step, so the last value may differ from stop in the last bit
    step = (stop - start) / (num - 1) if num > 1 else 0
    return (start + np.arange(num, dtype=start.dtype) * step).astype(start.dtype)


LIN_SPACE = registry.register(OpDef(
    name="lin_space", dtypes=_lin_space_dtypes, shapes=_lin_space_shapes,
    kernel=_lin_space_kernel, grad=registry.NOT_DIFFERENTIABLE,
    reference=lambda start, stop, num: np.linspace(float(start), float(stop), int(num)),
    samples=lambda: [Sample((np.float64(-1.0), np.float64(2.0), np.int32(7))),
                     Sample((np.float32(3.0), np.float32(1.0), np.int64(1)), rtol=1e-6),
                     Sample((np.float32(0.0), np.float32(1.0), np.int32(11)), rtol=1e-6)],
    error_samples=lambda: [
        ErrorSample((rand(2), np.float64(1.0), np.int32(3)), match="scalar"),
        ErrorSample((np.int32(0), np.int32(1), np.int32(3)), error=TypeError, match="floating")],
    doc="num evenly spaced values from start to stop, both included."))


@registry.public(LIN_SPACE)
def lin_space(start, stop, num, name=None) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop``, both included
    (TF1 ``tf.lin_space`` / ``tf.linspace``).

    Example:
        >>> gc.lin_space(0.0, 1.0, 5)   # [0, 0.25, 0.5, 0.75, 1]
    """
    graph = graph_of(start, stop, num)
    with graph.as_default(), graph.atomic():
        start = convert_to_tensor(start, dtype_hint=gdt.float32)
        stop = convert_to_tensor(stop, dtype_hint=start.dtype)
        num = convert_to_tensor(num, dtype_hint=gdt.int32)
        return apply_op("lin_space", [start, stop, num], name=name or "LinSpace")


linspace = lin_space


def _axes_and_keep(op_name, axis, keepdims, reduction_indices=None, keep_dims=None):
    axis = static_axis(axis if axis is not None else reduction_indices, op_name)
    keep = bool(keepdims if keepdims is not None else keep_dims)
    return axis, keep


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """The variance (mean squared deviation from the mean) over ``axis``
    (TF ``tf.math.reduce_variance``).

    Example:
        >>> gc.math.reduce_variance([[1.0, 2.0], [3.0, 4.0]])   # 1.25
    """
    graph = graph_of(input_tensor)
    with graph.as_default(), graph.name_scope(name or "reduce_variance"):
        x = convert_to_tensor(input_tensor)
        check_kind("reduce_variance", x.dtype, FLOAT)
        axis, keep = _axes_and_keep("reduce_variance", axis, keepdims)
        means = reduce.reduce_mean(x, axis=axis, keepdims=True)
        return reduce.reduce_mean(elementwise.square(x - means), axis=axis, keepdims=keep)


def reduce_std(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """The standard deviation over ``axis``: ``sqrt(reduce_variance)`` (TF ``tf.math``).

    Example:
        >>> gc.math.reduce_std([[1.0, 2.0], [3.0, 4.0]], axis=0)   # [1, 1]
    """
    graph = graph_of(input_tensor)
    with graph.as_default(), graph.name_scope(name or "reduce_std"):
        return elementwise.sqrt(reduce_variance(input_tensor, axis=axis, keepdims=keepdims))


def _norm_axes(axis, rank):
    if axis is None:
        return None, False
    axes = static_axis(axis, "norm")
    if isinstance(axes, (list, tuple)):
        if len(axes) == 2:
            if rank is not None and axes[0] % rank == axes[1] % rank:
                raise ValueError(f"norm: the two axes of a matrix norm must differ, got {axes}")
            return tuple(int(a) for a in axes), True
        if len(axes) == 1:
            return int(axes[0]), False
        raise ValueError(f"norm: axis must be an int or a pair of ints, got {axis!r}")
    return int(axes), False


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None,  # noqa: A002
         keep_dims=None) -> Tensor:
    """The vector norm of ``tensor`` (flattened when ``axis`` is None, or along an int
    ``axis``) or the matrix norm over a pair of axes (TF1 ``tf.norm``).

    ``ord``: ``'euclidean'`` (default; Frobenius for matrices), ``'fro'`` (matrices), 1,
    2 (vectors), ``np.inf``, or any p > 0 for vectors.

    Example:
        >>> gc.norm([3.0, 4.0])                                   # 5.0
        >>> gc.norm([[1.0, -2.0], [3.0, 4.0]], ord=1, axis=[0, 1])  # 6.0 (largest column sum)
    """
    graph = graph_of(tensor)
    with graph.as_default(), graph.name_scope(name or "norm"):
        x = convert_to_tensor(tensor)
        check_kind("norm", x.dtype, FLOAT)
        keep = bool(keepdims if keepdims is not None else keep_dims)
        axes, is_matrix = _norm_axes(axis, x.shape.rank)
        if is_matrix:
            if ord not in ("euclidean", "fro", 1, np.inf):
                raise ValueError(f"norm: ord must be a supported matrix norm ('euclidean', "
                                 f"'fro', 1, inf), got {ord!r}")
        elif ord == "fro" or not (ord == "euclidean" or (
                isinstance(ord, numbers.Number) and not isinstance(ord, bool) and ord > 0)):
            raise ValueError(f"norm: ord must be a supported vector norm ('euclidean', 1, 2, "
                             f"inf or p > 0), got {ord!r}")
        if ord in ("euclidean", "fro", 2):  # (a matrix's 2-norm was refused above)
            return elementwise.sqrt(reduce.reduce_sum(x * x, axis=axes, keepdims=keep))
        magnitude = elementwise.abs(x)
        if is_matrix:  # 1: the largest column sum; inf: the largest row sum
            rows, columns = axes if ord == 1 else axes[::-1]
            sums = reduce.reduce_sum(magnitude, axis=rows, keepdims=True)
            result = reduce.reduce_max(sums, axis=columns, keepdims=True)
            return result if keep else shape_ops.squeeze(result, axis=list(axes))
        if ord == np.inf:
            return reduce.reduce_max(magnitude, axis=axes, keepdims=keep)
        if ord == 1:
            return reduce.reduce_sum(magnitude, axis=axes, keepdims=keep)
        total = reduce.reduce_sum(elementwise.pow(magnitude, float(ord)), axis=axes,
                                  keepdims=keep)
        return elementwise.pow(total, 1.0 / float(ord))


def count_nonzero(input_tensor, axis=None, keepdims=None, dtype=gdt.int64, name=None,
                  reduction_indices=None, keep_dims=None) -> Tensor:
    """How many entries over ``axis`` are not zero (not False), as ``dtype``
    (TF1 ``tf.count_nonzero``).

    Example:
        >>> gc.count_nonzero([[0, 1, 2], [0, 0, 3]], axis=1)   # [2, 1]
    """
    graph = graph_of(input_tensor)
    with graph.as_default(), graph.name_scope(name or "count_nonzero"):
        x = convert_to_tensor(input_tensor)
        axis, keep = _axes_and_keep("count_nonzero", axis, keepdims, reduction_indices,
                                    keep_dims)
        nonzero = elementwise.not_equal(x, convert_to_tensor(np.zeros((), x.dtype.np)))
        counts = reduce.reduce_sum(cast(nonzero, gdt.int64), axis=axis, keepdims=keep)
        return counts if gdt.as_dtype(dtype) is gdt.int64 else cast(counts, dtype)


def meshgrid(*args, **kwargs):
    """Coordinate grids from 1-D coordinate vectors (TF1 ``tf.meshgrid``): with
    ``indexing='xy'`` (default) the first two outputs have shape ``(len(y), len(x), ...)``,
    with ``'ij'`` ``(len(x), len(y), ...)``.

    Example:
        >>> X, Y = gc.meshgrid([1, 2, 3], [4, 5])   # both of shape (2, 3)
    """
    indexing = kwargs.pop("indexing", "xy")
    name = kwargs.pop("name", "meshgrid")
    if kwargs:
        raise TypeError(f"meshgrid: unexpected keyword arguments {sorted(kwargs)}")
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    if not args:
        return []
    graph = graph_of(*args)
    with graph.as_default(), graph.name_scope(name):
        vectors = [shape_ops.reshape(convert_to_tensor(x), [-1]) for x in args]
        count = len(vectors)
        layouts = [[-1 if d == i else 1 for d in range(count)] for i in range(count)]
        sizes = [shape_ops.size(v) for v in vectors]
        if indexing == "xy" and count > 1:
            # 'xy' is 'ij' with the first two axes swapped
            for layout in layouts:
                layout[0], layout[1] = layout[1], layout[0]
            sizes[0], sizes[1] = sizes[1], sizes[0]
        full = stack(sizes)
        return [shape_ops.broadcast_to(shape_ops.reshape(v, layout), full)
                for v, layout in zip(vectors, layouts)]


def accumulate_n(inputs, shape=None, tensor_dtype=None, name=None) -> Tensor:
    """The elementwise sum of a list of tensors of one shape and dtype (TF1
    ``tf.accumulate_n``; here the same computation as ``add_n``).

    Example:
        >>> total = gc.accumulate_n([a, b, c])
    """
    inputs = list(inputs) if isinstance(inputs, (list, tuple)) else None
    if not inputs:
        raise ValueError("accumulate_n: inputs must be a non-empty list of tensors")
    graph = graph_of(*inputs)
    with graph.as_default(), graph.atomic():
        tensors = [convert_to_tensor(t) for t in inputs]
        if tensor_dtype is not None and tensors[0].dtype is not gdt.as_dtype(tensor_dtype):
            raise TypeError(f"accumulate_n: tensor_dtype {gdt.as_dtype(tensor_dtype).name} "
                            f"does not match the inputs' dtype {tensors[0].dtype.name}")
        if shape is not None and not tensors[0].shape.is_compatible_with(shape):
            raise ValueError(f"accumulate_n: shape {TensorShape(shape)} does not match the "
                             f"inputs' shape {tensors[0].shape}")
        return elementwise.add_n(tensors, name=name or "AccumulateN")
