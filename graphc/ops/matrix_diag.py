"""Diagonals and bands of (batches of) matrices: matrix_diag, matrix_diag_part,
matrix_set_diag, matrix_band_part, TF1's tensor ``diag``/``diag_part``, and the compositions
``trace`` and ``eye`` built on them."""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.graph import Tensor
from graphc.ops import creation, elementwise, reduce, shape_ops
from graphc.ops.array import concat
from graphc.ops.common import apply_op, check_kind, rand, randint, static_axis
from graphc.ops.select import cast
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape

__all__ = ["matrix_diag", "matrix_diag_part", "matrix_set_diag", "matrix_band_part", "diag",
           "diag_part", "trace", "eye"]


def _diagonal_length(shape: TensorShape):
    m, n = shape.dims[-2:]
    return None if m is None or n is None else min(m, n)


def _require_rank(op_name, shape: TensorShape, least: int, what="input"):
    if shape.rank is not None and shape.rank < least:
        raise ValueError(f"{op_name}: {what} must have rank >= {least}, got shape {shape}")


def _matrix_diag_shapes(inputs, attrs):
    shape = inputs[0].shape
    _require_rank("matrix_diag", shape, 1, "diagonal")
    return [TensorShape(shape.dims + shape.dims[-1:])]


def _matrix_diag_kernel(diagonal):
    n = diagonal.shape[-1]
    out = np.zeros(diagonal.shape + (n,), diagonal.dtype)
    out[..., np.arange(n), np.arange(n)] = diagonal
    return out


def _diag_part_of(x):
    """``x[..., i, i]`` for each i, as a new array (a reference by loops)."""
    k = min(x.shape[-2:])
    out = np.empty(x.shape[:-2] + (k,), np.float64 if x.dtype.kind == "f" else x.dtype)
    for position in np.ndindex(*x.shape[:-2]):
        for i in range(k):
            out[position + (i,)] = x[position + (i, i)]
    return out


MATRIX_DIAG = registry.register(OpDef(
    name="matrix_diag", dtypes=lambda d, a: [d[0]], shapes=_matrix_diag_shapes,
    kernel=_matrix_diag_kernel, grad=lambda op, dy: [matrix_diag_part(dy)],
    reference=lambda v: np.array([np.diag(row) for row in v.reshape(-1, v.shape[-1])]
                                 ).reshape(v.shape + v.shape[-1:]),
    samples=lambda: [Sample((rand(3),)), Sample((rand(2, 4),)), Sample((randint(2, 1, 3),))],
    error_samples=lambda: [ErrorSample((np.float64(1.0),), match="rank >= 1")],
    doc="Batches of diagonal matrices with the given diagonals (the last dim)."))


@registry.public(MATRIX_DIAG)
def matrix_diag(diagonal, name=None) -> Tensor:
    """Square matrices, zero but for ``diagonal`` (``[..., n] -> [..., n, n]``, TF1).

    Example:
        >>> gc.matrix_diag([[1, 2], [3, 4]])   # [[[1, 0], [0, 2]], [[3, 0], [0, 4]]]
    """
    return apply_op("matrix_diag", [diagonal], name=name or "MatrixDiag")


def _matrix_diag_part_shapes(inputs, attrs):
    shape = inputs[0].shape
    _require_rank("matrix_diag_part", shape, 2)
    return [TensorShape(shape.dims[:-2] + (_diagonal_length(shape),))]


MATRIX_DIAG_PART = registry.register(OpDef(
    name="matrix_diag_part", dtypes=lambda d, a: [d[0]], shapes=_matrix_diag_part_shapes,
    kernel=lambda x: np.diagonal(x, axis1=-2, axis2=-1).copy(),
    grad=lambda op, dy: [matrix_set_diag(creation.zeros_like(op.inputs[0]), dy)],
    reference=_diag_part_of,
    samples=lambda: [Sample((rand(3, 3),)), Sample((rand(2, 3, 4),)), Sample((rand(4, 2),))],
    error_samples=lambda: [ErrorSample((rand(3),), match="rank >= 2")],
    doc="The main diagonals of the innermost matrices."))


@registry.public(MATRIX_DIAG_PART)
def matrix_diag_part(input, name=None) -> Tensor:  # noqa: A002 - TF1 name
    """The main diagonal of each innermost matrix (``[..., m, n] -> [..., min(m, n)]``).

    Example:
        >>> gc.matrix_diag_part([[1, 2], [3, 4]])   # [1, 4]
    """
    return apply_op("matrix_diag_part", [input], name=name or "MatrixDiagPart")


def _set_diag_dtypes(in_dtypes, attrs):
    if in_dtypes[0] is not in_dtypes[1]:
        raise TypeError(f"matrix_set_diag: input and diagonal must have one dtype, got "
                        f"{in_dtypes[0].name} and {in_dtypes[1].name}")
    return [in_dtypes[0]]


def _set_diag_shapes(inputs, attrs):
    shape, diagonal = inputs[0].shape, inputs[1].shape
    _require_rank("matrix_set_diag", shape, 2)
    if shape.rank is not None:
        expected = TensorShape(shape.dims[:-2] + (_diagonal_length(shape),))
        if not diagonal.is_compatible_with(expected):
            raise ValueError(f"matrix_set_diag: diagonal must have shape {expected} for input "
                             f"of shape {shape}, got {diagonal}")
    return [shape]


def _set_diag_kernel(x, diagonal):
    out = np.array(x, copy=True)
    k = min(x.shape[-2:])
    out[..., np.arange(k), np.arange(k)] = diagonal
    return out


def _set_diag_reference(x, diagonal):
    out = np.array(x, np.float64 if x.dtype.kind == "f" else x.dtype)
    for position in np.ndindex(*x.shape[:-2]):
        for i in range(min(x.shape[-2:])):
            out[position + (i, i)] = diagonal[position + (i,)]
    return out


MATRIX_SET_DIAG = registry.register(OpDef(
    name="matrix_set_diag", dtypes=_set_diag_dtypes, shapes=_set_diag_shapes,
    kernel=_set_diag_kernel, reference=_set_diag_reference,
    grad=lambda op, dy: [matrix_set_diag(dy, creation.zeros_like(op.inputs[1])),
                         matrix_diag_part(dy)],
    samples=lambda: [Sample((rand(3, 3), rand(3))), Sample((rand(2, 2, 4), rand(2, 2)))],
    error_samples=lambda: [ErrorSample((rand(3, 4), rand(4)), match="diagonal must have"),
                           ErrorSample((rand(3, 3), randint(3)), error=TypeError,
                                       match="one dtype")],
    doc="The input with the main diagonals of its innermost matrices replaced."))


@registry.public(MATRIX_SET_DIAG)
def matrix_set_diag(input, diagonal, name=None) -> Tensor:  # noqa: A002 - TF1 name
    """``input`` with the main diagonal of each innermost matrix set to ``diagonal``.

    Example:
        >>> gc.matrix_set_diag(gc.zeros([2, 2]), [1.0, 2.0])   # [[1, 0], [0, 2]]
    """
    graph = graph_of(input, diagonal)
    with graph.as_default(), graph.atomic():
        input = convert_to_tensor(input)  # noqa: A001
        diagonal = convert_to_tensor(diagonal, dtype_hint=input.dtype)
        return apply_op("matrix_set_diag", [input, diagonal], name=name or "MatrixSetDiag")


def _band_dtypes(in_dtypes, attrs):
    for what, dtype in zip(("num_lower", "num_upper"), in_dtypes[1:]):
        check_kind("matrix_band_part", dtype, "integer", what)
    return [in_dtypes[0]]


def _band_shapes(inputs, attrs):
    _require_rank("matrix_band_part", inputs[0].shape, 2)
    for what, tensor in zip(("num_lower", "num_upper"), inputs[1:]):
        if tensor.shape.rank not in (None, 0):
            raise ValueError(f"matrix_band_part: {what} must be a scalar, got shape "
                             f"{tensor.shape}")
    return [inputs[0].shape]


def _band_kernel(x, num_lower, num_upper):
    rows, columns = np.ogrid[:x.shape[-2], :x.shape[-1]]
    inside = (((num_lower < 0) | (rows - columns <= num_lower))
              & ((num_upper < 0) | (columns - rows <= num_upper)))
    return np.where(inside, x, np.zeros((), x.dtype))


def _band_reference(x, num_lower, num_upper):
    out = np.array(x, np.float64 if x.dtype.kind == "f" else x.dtype)
    for index in np.ndindex(*x.shape):
        i, j = index[-2:]
        if (num_lower >= 0 and i - j > num_lower) or (num_upper >= 0 and j - i > num_upper):
            out[index] = 0
    return out


MATRIX_BAND_PART = registry.register(OpDef(
    name="matrix_band_part", dtypes=_band_dtypes, shapes=_band_shapes, kernel=_band_kernel,
    grad=lambda op, dy: [matrix_band_part(dy, *op.inputs[1:]), None, None],
    reference=_band_reference, finite_outputs=registry.finite_if_inputs_finite,
    samples=lambda: [Sample((rand(4, 4), np.int64(1), np.int64(0))),
                     Sample((rand(2, 3, 5), np.int64(-1), np.int64(1))),
                     Sample((rand(3, 4), np.int32(0), np.int32(-1)))],
    error_samples=lambda: [ErrorSample((rand(4), np.int64(1), np.int64(1)), match="rank >= 2"),
                           ErrorSample((rand(4, 4), np.float64(1), np.int64(1)),
                                       error=TypeError, match="num_lower")],
    doc="Zero outside the band of num_lower sub- and num_upper superdiagonals (-1: all)."))


@registry.public(MATRIX_BAND_PART)
def matrix_band_part(input, num_lower, num_upper, name=None) -> Tensor:  # noqa: A002
    """Keep ``num_lower`` diagonals below and ``num_upper`` above the main one of each
    innermost matrix (a negative count keeps the whole triangle); zero the rest (TF1).

    Example:
        >>> lower = gc.matrix_band_part(a, -1, 0)   # the lower triangle
        >>> tridiagonal = gc.matrix_band_part(a, 1, 1)
    """
    graph = graph_of(input, num_lower, num_upper)
    with graph.as_default(), graph.atomic():
        bounds = [convert_to_tensor(v, dtype_hint=gdt.int64) for v in (num_lower, num_upper)]
        return apply_op("matrix_band_part", [input, *bounds], name=name or "MatrixBandPart")


def _diag_shapes(inputs, attrs):
    shape = inputs[0].shape
    _require_rank("diag", shape, 1, "diagonal")
    return [TensorShape(None) if shape.rank is None else TensorShape(shape.dims * 2)]


def _diag_part_shapes(inputs, attrs):
    shape = inputs[0].shape
    if shape.rank is None:
        return [TensorShape(None)]
    half = shape.rank // 2
    if shape.rank == 0 or shape.rank % 2 or not shape[:half].is_compatible_with(shape[half:]):
        raise ValueError(f"diag_part: input must have a shape [d1..dk, d1..dk] of even rank, "
                         f"got shape {shape}")
    return [shape[:half].merge_with(shape[half:])]


def _diag_part_kernel(x):
    half = x.shape[:x.ndim // 2]
    size = int(np.prod(half, dtype=np.int64))
    return x.reshape(size, size).diagonal().reshape(half).copy()


def _diag_reference(v):
    out = np.zeros(v.shape * 2, np.float64 if v.dtype.kind == "f" else v.dtype)
    for index in np.ndindex(*v.shape):
        out[index * 2] = v[index]
    return out


DIAG = registry.register(OpDef(
    name="diag", dtypes=lambda d, a: [d[0]], shapes=_diag_shapes, unknown_rank_ok=True,
    kernel=lambda v: np.diagflat(v.ravel()).reshape(v.shape * 2),
    grad=lambda op, dy: [diag_part(dy)], reference=_diag_reference,
    samples=lambda: [Sample((rand(3),)), Sample((rand(2, 3),)), Sample((randint(2),))],
    error_samples=lambda: [ErrorSample((np.float64(1.0),), match="rank >= 1")],
    doc="out[i1..ik, i1..ik] = diagonal[i1..ik]: a tensor of twice the rank (TF1 tf.diag)."))

DIAG_PART = registry.register(OpDef(
    name="diag_part", dtypes=lambda d, a: [d[0]], shapes=_diag_part_shapes,
    unknown_rank_ok=True, kernel=_diag_part_kernel, grad=lambda op, dy: [diag(dy)],
    reference=lambda x: np.array([x[index * 2] for index in np.ndindex(*x.shape[:x.ndim // 2])]
                                 ).reshape(x.shape[:x.ndim // 2]),
    samples=lambda: [Sample((rand(3, 3),)), Sample((rand(2, 3, 2, 3),))],
    error_samples=lambda: [ErrorSample((rand(2, 3),), match="even rank"),
                           ErrorSample((rand(2, 2, 2),), match="even rank")],
    doc="The diagonal of a [d1..dk, d1..dk] tensor (diag's inverse)."))


@registry.public(DIAG)
def diag(diagonal, name=None) -> Tensor:
    """A tensor of twice the rank, zero but for ``out[i, j, ..., i, j, ...] = diagonal[i, j,
    ...]`` (TF1 ``tf.diag``; for a vector, the diagonal matrix).

    Example:
        >>> gc.diag([1.0, 2.0])   # [[1, 0], [0, 2]]
    """
    return apply_op("diag", [diagonal], name=name or "Diag")


@registry.public(DIAG_PART)
def diag_part(input, name=None) -> Tensor:  # noqa: A002 - TF1 name
    """The diagonal of a tensor of shape ``[d1..dk, d1..dk]`` (TF1 ``tf.diag_part``).

    Example:
        >>> gc.diag_part([[1.0, 2.0], [3.0, 4.0]])   # [1, 4]
    """
    return apply_op("diag_part", [input], name=name or "DiagPart")


def trace(x, name=None) -> Tensor:
    """The sum of the main diagonal of each innermost matrix (TF1 ``tf.trace``).

    Example:
        >>> gc.trace([[1.0, 2.0], [3.0, 4.0]])   # 5.0
    """
    graph = graph_of(x)
    with graph.as_default(), graph.name_scope(name or "Trace"):
        return reduce.reduce_sum(matrix_diag_part(x), axis=-1)


def eye(num_rows, num_columns=None, batch_shape=None, dtype=gdt.float32, name=None) -> Tensor:
    """Identity matrices of ``num_rows x num_columns`` (square by default), optionally in a
    batch of ``batch_shape`` (TF1 ``tf.eye``); the sizes may be tensors.

    Example:
        >>> gc.eye(2)                              # [[1, 0], [0, 1]]
        >>> gc.eye(2, 3, batch_shape=[4])          # shape (4, 2, 3)
    """
    graph = graph_of(num_rows, num_columns)
    with graph.as_default(), graph.name_scope(name or "eye"):
        rows = creation.range(num_rows)
        columns = rows if num_columns is None else creation.range(num_columns)
        # i == j on the grid of row and column numbers
        grid = elementwise.equal(shape_ops.expand_dims(rows, -1), columns)
        matrix = cast(grid, dtype)
        if batch_shape is None:
            return matrix
        batch = [int(d) for d in static_axis(batch_shape, "eye")]
        size = shape_ops.shape(matrix)
        return shape_ops.broadcast_to(matrix, concat([creation.constant(
            batch, dtype=size.dtype), size], 0))
