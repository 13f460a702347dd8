"""Dense linear algebra on (batches of) square matrices: matrix_inverse,
matrix_determinant, log_matrix_determinant (slogdet), cholesky, matrix_solve and
matrix_triangular_solve, with TF1's gradient rules (``tensorflow/python/ops/linalg_grad.py``).

Every op works on the innermost two dims; the leading dims are a batch. A singular matrix
(or one that is not positive definite, for cholesky) fails at run time with TF's
InvalidArgumentError, naming the op.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from graphc import registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.graph import Tensor
from graphc.ops import shape_ops
from graphc.ops.common import FLOAT, apply_op, check_kind, rand
from graphc.ops.linalg import matmul
from graphc.ops.matrix_diag import matrix_band_part, matrix_diag_part, matrix_set_diag
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape

__all__ = ["matrix_inverse", "matrix_determinant", "log_matrix_determinant", "cholesky",
           "matrix_solve", "matrix_triangular_solve"]


def _square_shape(op_name, shape: TensorShape, what="input"):
    if shape.rank is not None and shape.rank < 2:
        raise ValueError(f"{op_name}: {what} must have rank >= 2, got shape {shape}")
    if shape.rank is not None and None not in shape.dims[-2:] and shape[-1] != shape[-2]:
        raise ValueError(f"{op_name}: {what} must be square matrices, got shape {shape}")


def _float_rule(op_name, count_outputs=1):
    def dtypes(in_dtypes, attrs):
        for dtype in in_dtypes[1:]:
            if dtype is not in_dtypes[0]:
                raise TypeError(f"{op_name}: matrix and rhs must have one dtype, got "
                                f"{in_dtypes[0].name} and {dtype.name}")
        check_kind(op_name, in_dtypes[0], FLOAT)
        return [in_dtypes[0]] * count_outputs
    return dtypes


def _checked(op_name, fn, problem="Input is not invertible"):
    """``fn`` with NumPy's LinAlgError turned into a message naming the op (TF's text)."""
    def kernel(*arrays, **attrs):
        try:
            return fn(*arrays, **attrs)
        except np.linalg.LinAlgError as err:
            raise ValueError(f"{op_name}: {problem} ({err})") from None
    return kernel


def _adjoint(x, op_name):
    """The transpose of the innermost matrices (real dtypes: the adjoint)."""
    rank = x.shape.rank
    if rank is None:
        raise ValueError(f"{op_name}: the gradient needs the rank of {x.name}, which is unknown")
    return shape_ops.transpose(x, list(range(rank - 2)) + [rank - 1, rank - 2])


def _transposed(a, adjoint):
    return np.swapaxes(a, -1, -2) if adjoint else a


def _apply_same_dtype(op_type, values, attrs, name):
    """Build ``op_type`` with Python values taking the first tensor's dtype (as TF converts
    ``tf.linalg.solve(a, [[1.0], [2.0]])`` for a float64 ``a``)."""
    graph = graph_of(*values)
    with graph.as_default(), graph.atomic():
        first = convert_to_tensor(values[0])
        rest = [convert_to_tensor(v, dtype_hint=first.dtype) for v in values[1:]]
        return apply_op(op_type, [first, *rest], attrs, name=name)


def _well_conditioned(*batch, n=3):
    return rand(*batch, n, n) + 4.0 * np.eye(n)


def _positive_definite(*batch, n=3):
    a = rand(*batch, n, n)
    return a @ np.swapaxes(a, -1, -2) + 3.0 * np.eye(n)


def _square_errors():
    return [ErrorSample((rand(3, 4),), match="square"), ErrorSample((rand(3),), match="rank"),
            ErrorSample((np.eye(3, dtype=np.int32),), error=TypeError, match="floating")]


def _square_shapes(op_name, keep_matrix=True):
    def shapes(inputs, attrs):
        shape = inputs[0].shape
        _square_shape(op_name, shape)
        if keep_matrix or shape.rank is None:
            return [shape if keep_matrix else TensorShape(None)]
        return [TensorShape(shape.dims[:-2])]
    return shapes


def _inverse_grad(op, dy):
    # Y = A^-1: dY = -Y dA Y, so dA = -Y^T dY Y^T; with adjoint, Y = A^-T and dA = -Y dY^T Y
    inverse = op.outputs[0]
    if op.attrs["adjoint"]:
        return [-matmul(inverse, matmul(dy, inverse, transpose_a=True))]
    return [-matmul(inverse, matmul(dy, inverse, transpose_b=True), transpose_a=True)]


MATRIX_INVERSE = registry.register(OpDef(
    raises_on_values=True,  # a singular or non-positive-definite matrix
    name="matrix_inverse", dtypes=_float_rule("matrix_inverse"),
    shapes=_square_shapes("matrix_inverse"), attrs={"adjoint": False},
    kernel=_checked("matrix_inverse", lambda a, adjoint: np.linalg.inv(_transposed(a, adjoint))),
    grad=_inverse_grad,
    reference=lambda a, adjoint=False: np.array(
        [np.linalg.solve(_transposed(m, adjoint), np.eye(m.shape[-1]))
         for m in a.reshape((-1,) + a.shape[-2:])]).reshape(a.shape),
    samples=lambda: [Sample((_well_conditioned(),)), Sample((_well_conditioned(2),), {
        "adjoint": True}), Sample((_well_conditioned(n=2).astype(np.float32),), rtol=1e-5)],
    error_samples=_square_errors, doc="The inverse of each innermost square matrix."))


@registry.public(MATRIX_INVERSE)
def matrix_inverse(input, adjoint=False, name=None) -> Tensor:  # noqa: A002 - TF1 name
    """The inverse of each innermost square matrix (of its adjoint when ``adjoint``)
    (TF1 ``tf.matrix_inverse``, ``tf.linalg.inv``).

    Example:
        >>> gc.linalg.inv([[2.0, 0.0], [0.0, 4.0]])   # [[0.5, 0], [0, 0.25]]
    """
    return apply_op("matrix_inverse", [input], {"adjoint": bool(adjoint)},
                    name=name or "MatrixInverse")


def _scaled_adjoint_inverse(op, scale):
    """``scale[..., None, None] * inverse(a)^T``: the gradient of det and log|det|."""
    a = op.inputs[0]
    multipliers = shape_ops.expand_dims(shape_ops.expand_dims(scale, -1), -1)
    return multipliers * matrix_inverse(a, adjoint=True)


MATRIX_DETERMINANT = registry.register(OpDef(
    name="matrix_determinant", dtypes=_float_rule("matrix_determinant"),
    shapes=_square_shapes("matrix_determinant", keep_matrix=False),
    kernel=lambda a: np.asarray(np.linalg.det(a)),
    grad=lambda op, dy: [_scaled_adjoint_inverse(op, dy * op.outputs[0])],
    reference=lambda a: np.array([np.prod(np.linalg.eigvals(m)).real
                                  for m in a.reshape((-1,) + a.shape[-2:])]).reshape(
        a.shape[:-2]),
    samples=lambda: [Sample((_well_conditioned(),)), Sample((rand(2, 2, 2),)),
                     Sample((_well_conditioned(n=4).astype(np.float32),), rtol=1e-5)],
    error_samples=_square_errors, doc="The determinant of each innermost square matrix."))


@registry.public(MATRIX_DETERMINANT)
def matrix_determinant(input, name=None) -> Tensor:  # noqa: A002 - TF1 name
    """The determinant of each innermost square matrix (TF1 ``tf.matrix_determinant``).

    Example:
        >>> gc.linalg.det([[1.0, 2.0], [3.0, 4.0]])   # -2.0
    """
    return apply_op("matrix_determinant", [input], name=name or "MatrixDeterminant")


LogMatrixDeterminant = namedtuple("LogMatrixDeterminant", ["sign", "log_abs_determinant"])


def _slogdet_kernel(a):
    sign, log_abs = np.linalg.slogdet(a)
    return np.asarray(sign, a.dtype), np.asarray(log_abs, a.dtype)


LOG_MATRIX_DETERMINANT = registry.register(OpDef(
    name="log_matrix_determinant", dtypes=_float_rule("log_matrix_determinant", 2),
    shapes=lambda ins, attrs: _square_shapes("log_matrix_determinant", False)(ins, attrs) * 2,
    kernel=_slogdet_kernel,
    grad=lambda op, dsign, dlog: [None if dlog is None else _scaled_adjoint_inverse(op, dlog)],
    reference=lambda a: (np.sign(np.linalg.det(a)), np.log(np.abs(np.linalg.det(a)))),
    samples=lambda: [Sample((_well_conditioned(),)), Sample((rand(3, 2, 2),))],
    error_samples=_square_errors,
    doc="(sign, log|det|) of each innermost square matrix, without overflow."))


@registry.public(LOG_MATRIX_DETERMINANT)
def log_matrix_determinant(input, name=None):  # noqa: A002 - TF1 name
    """``(sign, log_abs_determinant)`` of each innermost square matrix (TF1
    ``tf.log_matrix_determinant``, ``tf.linalg.slogdet``).

    Example:
        >>> sign, log_abs = gc.linalg.slogdet([[1.0, 2.0], [3.0, 4.0]])   # -1, log(2)
    """
    return LogMatrixDeterminant(*apply_op("log_matrix_determinant", [input],
                                          name=name or "LogMatrixDeterminant"))


def _cholesky_kernel(a):
    # TF documents the input as symmetric; reading it as (a + a^T) / 2 makes TF's symmetric
    # gradient below the exact derivative of this kernel
    return np.linalg.cholesky((a + np.swapaxes(a, -1, -2)) / 2)


def _cholesky_grad(op, dy):
    # TF's _CholeskyGrad (Murray 2016, "Differentiation of the Cholesky decomposition")
    lower = op.outputs[0]
    lower_inverse = matrix_inverse(lower)
    middle = matmul(lower, dy, transpose_a=True)
    middle = matrix_band_part(matrix_set_diag(middle, 0.5 * matrix_diag_part(middle)), -1, 0)
    grad = matmul(matmul(lower_inverse, middle, transpose_a=True), lower_inverse)
    return [0.5 * (grad + _adjoint(grad, "cholesky"))]


CHOLESKY = registry.register(OpDef(
    raises_on_values=True,  # a singular or non-positive-definite matrix
    name="cholesky", dtypes=_float_rule("cholesky"), shapes=_square_shapes("cholesky"),
    kernel=_checked("cholesky", _cholesky_kernel, "Cholesky decomposition was not successful; "
                    "the input might not be valid (symmetric positive definite)"),
    grad=_cholesky_grad,
    reference=lambda a: np.array([np.linalg.cholesky((m + m.T) / 2)
                                  for m in a.reshape((-1,) + a.shape[-2:])]).reshape(a.shape),
    samples=lambda: [Sample((_positive_definite(),)), Sample((_positive_definite(2, n=2),))],
    error_samples=_square_errors,
    doc="The lower Cholesky factor L (L L^T = input) of each symmetric positive definite "
        "innermost matrix."))


@registry.public(CHOLESKY)
def cholesky(input, name=None) -> Tensor:  # noqa: A002 - TF1 name
    """The lower-triangular ``L`` with ``L @ L^T == input`` for each innermost symmetric
    positive definite matrix (TF1 ``tf.cholesky``, ``tf.linalg.cholesky``).

    Example:
        >>> gc.cholesky([[4.0, 2.0], [2.0, 2.0]])   # [[2, 0], [1, 1]]
    """
    return apply_op("cholesky", [input], name=name or "Cholesky")


def _solve_shapes(op_name):
    def shapes(inputs, attrs):
        matrix, rhs = inputs[0].shape, inputs[1].shape
        _square_shape(op_name, matrix, "matrix")
        if rhs.rank is not None and rhs.rank < 2:
            raise ValueError(f"{op_name}: rhs must have rank >= 2, got shape {rhs}")
        if matrix.rank is not None and rhs.rank is not None and not (
                matrix[:-1].is_compatible_with(rhs[:-1])):
            raise ValueError(f"{op_name}: matrix {matrix} and rhs {rhs} differ in batch or "
                             f"row dims (matrix [..., M, M], rhs [..., M, K])")
        return [rhs]
    return shapes


def _solve_grad(solver):
    """TF's _MatrixSolveGrad/_MatrixTriangularSolveGrad: the rhs gets the solve with the
    adjoint matrix, the matrix minus its outer product with the solution."""
    def grad(op, dy):
        a, x, adjoint = op.inputs[0], op.outputs[0], op.attrs["adjoint"]
        grad_rhs = solver(op, a, dy, not adjoint)
        if adjoint:
            grad_a = -matmul(x, grad_rhs, transpose_b=True)
        else:
            grad_a = -matmul(grad_rhs, x, transpose_b=True)
        if "lower" in op.attrs:
            grad_a = matrix_band_part(grad_a, -1, 0) if op.attrs["lower"] else \
                matrix_band_part(grad_a, 0, -1)
        return [grad_a, grad_rhs]
    return grad


def _solve_kernel(a, b, adjoint):
    return np.linalg.solve(_transposed(a, adjoint), b)


def _triangle(a, lower):
    return np.tril(a) if lower else np.triu(a)


MATRIX_SOLVE = registry.register(OpDef(
    raises_on_values=True,  # a singular or non-positive-definite matrix
    name="matrix_solve", dtypes=_float_rule("matrix_solve"), shapes=_solve_shapes("matrix_solve"),
    attrs={"adjoint": False}, kernel=_checked("matrix_solve", _solve_kernel),
    grad=_solve_grad(lambda op, a, dy, adjoint: matrix_solve(a, dy, adjoint=adjoint)),
    reference=lambda a, b, adjoint=False: np.linalg.inv(_transposed(a, adjoint)) @ b,
    samples=lambda: [Sample((_well_conditioned(), rand(3, 2))),
                     Sample((_well_conditioned(2), rand(2, 3, 1)), {"adjoint": True})],
    error_samples=lambda: [ErrorSample((rand(3, 3), rand(4, 2)), match="differ"),
                           ErrorSample((rand(3, 3), rand(3, 2, dtype=np.float32)),
                                       error=TypeError, match="one dtype")],
    doc="X with matrix @ X = rhs for each innermost matrix (its adjoint when adjoint)."))


@registry.public(MATRIX_SOLVE)
def matrix_solve(matrix, rhs, adjoint=False, name=None) -> Tensor:
    """``X`` with ``matrix @ X == rhs`` (``matrix^T @ X`` when ``adjoint``) for each
    innermost square matrix (TF1 ``tf.matrix_solve``, ``tf.linalg.solve``).

    Example:
        >>> gc.linalg.solve([[2.0, 0.0], [0.0, 4.0]], [[2.0], [2.0]])   # [[1], [0.5]]
    """
    return _apply_same_dtype("matrix_solve", [matrix, rhs], {"adjoint": bool(adjoint)},
                             name or "MatrixSolve")


MATRIX_TRIANGULAR_SOLVE = registry.register(OpDef(
    raises_on_values=True,  # a singular or non-positive-definite matrix
    name="matrix_triangular_solve", dtypes=_float_rule("matrix_triangular_solve"),
    shapes=_solve_shapes("matrix_triangular_solve"), attrs={"lower": True, "adjoint": False},
    # only the named triangle of the matrix is read, as in TF
    kernel=_checked("matrix_triangular_solve", lambda a, b, lower, adjoint: _solve_kernel(
        _triangle(a, lower), b, adjoint)),
    grad=_solve_grad(lambda op, a, dy, adjoint: matrix_triangular_solve(
        a, dy, lower=op.attrs["lower"], adjoint=adjoint)),
    reference=lambda a, b, lower=True, adjoint=False: np.linalg.inv(
        _transposed(_triangle(a, lower), adjoint)) @ b,
    samples=lambda: [Sample((_well_conditioned(), rand(3, 2))),
                     Sample((_well_conditioned(), rand(3, 1)), {"lower": False}),
                     Sample((_well_conditioned(2), rand(2, 3, 2)), {"adjoint": True})],
    error_samples=lambda: [ErrorSample((rand(3, 3), rand(4, 2)), match="differ")],
    doc="X with triangle(matrix) @ X = rhs; only the lower (or upper) triangle is read."))


@registry.public(MATRIX_TRIANGULAR_SOLVE)
def matrix_triangular_solve(matrix, rhs, lower=True, adjoint=False, name=None) -> Tensor:
    """``X`` with ``matrix @ X == rhs`` for lower (or upper, ``lower=False``) triangular
    innermost matrices; the other triangle is not read (TF1 ``tf.matrix_triangular_solve``).

    Example:
        >>> gc.linalg.triangular_solve([[2.0, 0.0], [1.0, 1.0]], [[2.0], [2.0]])  # [[1], [1]]
    """
    return _apply_same_dtype("matrix_triangular_solve", [matrix, rhs],
                             {"lower": bool(lower), "adjoint": bool(adjoint)},
                             name or "MatrixTriangularSolve")
