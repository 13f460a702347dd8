"""``tf.linalg`` functions built from graphc's matrix ops (differentiable through them):
``matvec``, ``cross``, ``pinv``, ``lstsq`` (``tf.matrix_solve_ls``), ``cholesky_solve``,
``normalize`` and ``matrix_rank``.

Example:
    >>> x = gc.linalg.lstsq(a, b)                   # least squares: min |a x - b|
    >>> gc.linalg.cross([1.0, 0.0, 0.0], [0.0, 1.0, 0.0])   # [0, 0, 1]
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor
from graphc.graph import get_default_graph
from graphc.ops.array import stack
from graphc.ops.elementwise import greater, reciprocal
from graphc.ops.linalg import matmul
from graphc.ops.linalg_decomp import svd
from graphc.ops.linalg_extra import cholesky, matrix_triangular_solve
from graphc.ops.math_extra import norm
from graphc.ops.matrix_diag import eye
from graphc.ops.reduce import reduce_max, reduce_sum
from graphc.ops.select import cast, where
from graphc.ops.shape_ops import expand_dims, shape, squeeze

__all__ = ["matvec", "cross", "pinv", "lstsq", "matrix_solve_ls", "cholesky_solve",
           "normalize", "matrix_rank"]


def matvec(a, b, transpose_a=False, adjoint_a=False, name=None):
    """``a @ b`` for matrices ``a`` and vectors ``b`` (batched) (TF1 ``tf.linalg.matvec``).

    Example:
        >>> y = gc.linalg.matvec(weights, x)
    """
    b = convert_to_tensor(b)
    product = matmul(a, expand_dims(b, -1), transpose_a=transpose_a or adjoint_a)
    return squeeze(product, [-1], name=name)


def cross(a, b, name=None):
    """The cross product of 3-vectors along the last dimension (TF1 ``tf.linalg.cross``).

    Example:
        >>> gc.linalg.cross([1.0, 0.0, 0.0], [0.0, 1.0, 0.0])   # [0, 0, 1]
    """
    a, b = convert_to_tensor(a), convert_to_tensor(b)
    for v in (a, b):
        if v.shape.rank is not None and v.shape.dims[-1] not in (3, None):
            raise ValueError(f"cross: the last dimension must be 3, got shape {v.shape}")
    x = [a[..., i] for i in range(3)]
    y = [b[..., i] for i in range(3)]
    return stack([x[1] * y[2] - x[2] * y[1], x[2] * y[0] - x[0] * y[2],
                  x[0] * y[1] - x[1] * y[0]], axis=-1, name=name or "cross")


def pinv(a, rcond=None, validate_args=False, name=None):
    """The Moore-Penrose pseudo-inverse from the SVD, singular values below ``rcond`` times
    the largest dropped (TF ``tf.linalg.pinv``; default rcond ``10 * max(m, n) * eps``).

    Example:
        >>> x = gc.matmul(gc.linalg.pinv(a), b)
    """
    a = convert_to_tensor(a)
    with get_default_graph().name_scope(name or "pinv"):
        if rcond is None:
            dims = [d for d in (a.shape.dims or [None, None])[-2:]]
            if None in dims:
                raise ValueError("pinv: the matrix shape must be known for the default rcond")
            rcond = 10.0 * max(dims) * np.finfo(a.dtype.np).eps
        s, u, v = svd(a)
        cutoff = rcond * reduce_max(s, -1, keepdims=True)
        kept = greater(s, cutoff)
        s_inverse = where(kept, reciprocal(where(kept, s, s * 0.0 + 1.0)), s * 0.0)
        return matmul(v * expand_dims(s_inverse, -2), u, transpose_b=True)


def lstsq(matrix, rhs, l2_regularizer=0.0, fast=True, name=None):
    """The least-squares solution of ``matrix @ x = rhs`` (with an optional Tikhonov
    ``l2_regularizer``) by the normal equations and Cholesky, as TF1's fast path (TF1
    ``tf.linalg.lstsq`` / ``tf.matrix_solve_ls``); ``fast=False`` uses the SVD.

    Example:
        >>> coefficients = gc.linalg.lstsq(features, targets)
    """
    matrix, rhs = convert_to_tensor(matrix), convert_to_tensor(rhs)
    with get_default_graph().name_scope(name or "matrix_solve_ls"):
        if not fast:
            return matmul(pinv(matrix), rhs)
        m, n = (matrix.shape.dims or [None, None])[-2:]
        if m is None or n is None:
            raise ValueError("lstsq: the matrix shape must be known")
        regularizer = cast(convert_to_tensor(l2_regularizer), matrix.dtype)
        if m >= n:  # overdetermined: (A^T A + l I) x = A^T b
            gram = matmul(matrix, matrix, transpose_a=True) + regularizer * eye(n,
                                                                                dtype=matrix.dtype)
            return cholesky_solve(cholesky(gram), matmul(matrix, rhs, transpose_a=True))
        gram = matmul(matrix, matrix, transpose_b=True) + regularizer * eye(m, dtype=matrix.dtype)
        return matmul(matrix, cholesky_solve(cholesky(gram), rhs), transpose_a=True)


matrix_solve_ls = lstsq


def cholesky_solve(chol, rhs, name=None):
    """The solution of ``A x = rhs`` given ``chol``, A's lower Cholesky factor (TF1
    ``tf.linalg.cholesky_solve``): two triangular solves.

    Example:
        >>> x = gc.linalg.cholesky_solve(gc.linalg.cholesky(a), b)
    """
    with get_default_graph().name_scope(name or "cholesky_solve"):
        y = matrix_triangular_solve(chol, rhs, lower=True, adjoint=False)
        return matrix_triangular_solve(chol, y, lower=True, adjoint=True)


def normalize(tensor, ord="euclidean", axis=None, name=None):  # noqa: A002
    """``(tensor / norm, norm)`` with ``norm`` kept in reduced dims (TF1
    ``tf.linalg.normalize``).

    Example:
        >>> unit, length = gc.linalg.normalize(v)
    """
    tensor = convert_to_tensor(tensor)
    norms = norm(tensor, ord=ord, axis=axis, keepdims=True)
    return tensor / norms, norms


def matrix_rank(a, tol=None, validate_args=False, name=None):
    """The number of singular values above ``tol`` (default ``max(s) * max(m, n) * eps``),
    per matrix (TF ``tf.linalg.matrix_rank``).

    Example:
        >>> gc.linalg.matrix_rank([[1.0, 2.0], [2.0, 4.0]])   # 1
    """
    a = convert_to_tensor(a)
    s = svd(a, compute_uv=False)
    if tol is None:
        dims = (a.shape.dims or [None, None])[-2:]
        largest = max(dims) if None not in dims else cast(reduce_max(shape(a)[-2:]), a.dtype)
        tol = reduce_max(s, -1, keepdims=True) * largest * np.finfo(a.dtype.np).eps
    return reduce_sum(cast(greater(s, tol), gdt.int32), -1, name=name)

