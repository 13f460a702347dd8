"""Matrix decompositions with TF1's gradient rules (``tensorflow/python/ops/linalg_grad.py``):
``svd`` (``s, u, v`` with ``a = u diag(s) v^T``), ``qr`` and the symmetric eigensolvers
``self_adjoint_eig`` / ``self_adjoint_eigvals`` (``eigh`` / ``eigvalsh``: the lower
triangle is read, as LAPACK's and TF's are). Leading dims are a batch.

The gradients divide by differences of eigen- or singular values: repeated values give
infinite gradients there, as in TF (``svd`` uses TF's safe reciprocal, 0 for exact ties).

Example:
    >>> s, u, v = gc.linalg.svd(a)                 # a == u @ diag(s) @ v^T
    >>> e, v = gc.linalg.eigh(cov)
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from graphc import registry
from graphc.ops import shape_ops
from graphc.ops.array import concat
from graphc.ops.common import FLOAT, apply_op, check_kind, rand
from graphc.ops.creation import zeros_like
from graphc.ops.elementwise import reciprocal, square
from graphc.ops.linalg import matmul
from graphc.ops.linalg_extra import matrix_triangular_solve
from graphc.ops.matrix_diag import matrix_band_part, matrix_diag, matrix_diag_part, matrix_set_diag
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape

__all__ = ["svd", "qr", "self_adjoint_eig", "self_adjoint_eigvals"]

Eigh = namedtuple("Eigh", ["e", "v"])
Qr = namedtuple("Qr", ["q", "r"])


def _matrix_dtypes(op_name, outputs):
    def rule(in_dtypes, attrs):
        check_kind(op_name, in_dtypes[0], FLOAT)
        return [in_dtypes[0]] * outputs
    return rule


def _matrix_input(op_name, shape: TensorShape, square_only: bool):
    if shape.rank is not None and shape.rank < 2:
        raise ValueError(f"{op_name}: input must have rank >= 2, got shape {shape}")
    if square_only and shape.rank is not None and None not in shape.dims[-2:] \
            and shape[-1] != shape[-2]:
        raise ValueError(f"{op_name}: input must be square matrices, got shape {shape}")


def _adjoint(x, op_name="a decomposition"):
    rank = x.shape.rank
    if rank is None:
        raise ValueError(f"{op_name}: the gradient needs the rank of {x.name}, which is "
                         "unknown")
    return shape_ops.transpose(x, list(range(rank - 2)) + [rank - 1, rank - 2])


def _expand(x, axis):
    return shape_ops.expand_dims(x, axis)


def _filled(dys, outputs):
    return [dy if dy is not None else zeros_like(out) for dy, out in zip(dys, outputs)]


# -- symmetric eigendecomposition --------------------------------------------------------
def _finite_or_nan(decompose, outputs_like):
    """``decompose`` of matrices, or NaN results for a batch holding NaN or Inf (LAPACK
    would not converge; NaN in, NaN out, as the other matrix ops)."""
    def kernel(a, **attrs):
        if np.isfinite(a).all():
            return decompose(a, **attrs)
        shapes = outputs_like(a, **attrs)
        filled = tuple(np.full(shape, np.nan, a.dtype) for shape in shapes)
        return filled if len(filled) > 1 else filled[0]
    return kernel


def _eig_result_shapes(a):
    return [a.shape[:-1], a.shape]


def _eig_shapes(with_vectors):
    def shapes(inputs, attrs):
        shape = inputs[0].shape
        _matrix_input("self_adjoint_eig", shape, True)
        values = TensorShape(None) if shape.rank is None else TensorShape(shape.dims[:-1])
        return [values, shape] if with_vectors else [values]
    return shapes


def _eig_grad_from(op_name, e, v, grad_e, grad_v):
    """TF's _SelfAdjointEigV2Grad: dA from the cotangents of e and v (grad_v may be None)."""
    if grad_v is not None:
        gaps = _expand(e, -2) - _expand(e, -1)
        f = matrix_set_diag(reciprocal(gaps), zeros_like(e))
        inner = matrix_diag(grad_e) + f * matmul(v, grad_v, transpose_a=True)
    else:
        inner = matrix_diag(grad_e)
    grad_a = matmul(v, matmul(inner, v, transpose_b=True))
    # the decomposition reads only the lower triangle: symmetrize and keep that half
    grad_a = matrix_band_part(grad_a + _adjoint(grad_a, op_name), -1, 0)
    return matrix_set_diag(grad_a, 0.5 * matrix_diag_part(grad_a))


def _eig_grad(op, grad_e, grad_v):
    e, v = op.outputs
    return [_eig_grad_from(op.type, e, v, zeros_like(e) if grad_e is None else grad_e,
                           grad_v)]


def _eigvals_grad(op, grad_e):
    e, v = self_adjoint_eig(op.inputs[0])  # TF recomputes the vectors the same way
    return [_eig_grad_from(op.type, e, v, grad_e, None)]


def _symmetric(*batch, n=3):
    a = rand(*batch, n, n)
    return a + np.swapaxes(a, -1, -2) + np.diag(np.arange(n) * 2.0)  # distinct eigenvalues


SELF_ADJOINT_EIG = registry.register(OpDef(
    name="self_adjoint_eig", dtypes=_matrix_dtypes("self_adjoint_eig", 2),
    shapes=_eig_shapes(True), grad=_eig_grad,
    kernel=_finite_or_nan(lambda a: tuple(np.linalg.eigh(a)), _eig_result_shapes),
    unknown_rank_ok=True, raises_on_values=True,
    tested_elsewhere="tests/ops/test_linalg_decomp.py",  # eigenvectors' signs are free
    doc="Eigenvalues (ascending) and eigenvectors of symmetric matrices (lower triangle)."))

SELF_ADJOINT_EIGVALS = registry.register(OpDef(
    name="self_adjoint_eigvals", dtypes=_matrix_dtypes("self_adjoint_eigvals", 1),
    shapes=_eig_shapes(False), grad=_eigvals_grad,
    kernel=_finite_or_nan(np.linalg.eigvalsh, lambda a: [a.shape[:-1]]),
    unknown_rank_ok=True, raises_on_values=True,
    reference=lambda a: np.sort(np.linalg.eigvals(np.tril(a) + np.swapaxes(np.tril(a, -1),
                                                                           -1, -2)).real, -1),
    samples=lambda: [Sample((_symmetric(),)), Sample((_symmetric(2, n=4),))],
    error_samples=lambda: [ErrorSample((rand(3, 4),), match="square")],
    doc="Eigenvalues (ascending) of symmetric matrices (lower triangle)."))


@registry.public(SELF_ADJOINT_EIG)
def self_adjoint_eig(tensor, name=None):
    """``(e, v)``: the eigenvalues (ascending) and eigenvectors (columns) of the symmetric
    matrices ``tensor`` (its lower triangle is read) (TF1 ``tf.self_adjoint_eig``,
    ``tf.linalg.eigh``).

    Example:
        >>> e, v = gc.linalg.eigh(cov)
    """
    return Eigh(*apply_op("self_adjoint_eig", [tensor], name=name or "SelfAdjointEigV2"))


@registry.public(SELF_ADJOINT_EIGVALS)
def self_adjoint_eigvals(tensor, name=None):
    """The eigenvalues (ascending) of the symmetric matrices ``tensor`` (TF1
    ``tf.self_adjoint_eigvals``, ``tf.linalg.eigvalsh``).

    Example:
        >>> gc.linalg.eigvalsh([[2.0, 1.0], [1.0, 2.0]])   # [1, 3]
    """
    return apply_op("self_adjoint_eigvals", [tensor], name=name or "SelfAdjointEigV2")


# -- singular value decomposition ----------------------------------------------------------
def _svd_shapes(inputs, attrs):
    shape = inputs[0].shape
    _matrix_input("svd", shape, False)
    if shape.rank is None:
        return [TensorShape(None)] * (3 if attrs["compute_uv"] else 1)
    batch, (m, n) = list(shape.dims[:-2]), shape.dims[-2:]
    k = None if m is None or n is None else min(m, n)
    values = TensorShape(batch + [k])
    if not attrs["compute_uv"]:
        return [values]
    cols_u, cols_v = (m, n) if attrs["full_matrices"] else (k, k)
    return [values, TensorShape(batch + [m, cols_u]), TensorShape(batch + [n, cols_v])]


def _svd_kernel(a, full_matrices, compute_uv):
    if not compute_uv:
        return np.linalg.svd(a, compute_uv=False)
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    return s, u, np.swapaxes(vh, -1, -2)


def _svd_result_shapes(a, full_matrices, compute_uv):
    m, n = a.shape[-2:]
    k, batch = min(m, n), a.shape[:-2]
    if not compute_uv:
        return [batch + (k,)]
    cols_u, cols_v = (m, n) if full_matrices else (k, k)
    return [batch + (k,), batch + (m, cols_u), batch + (n, cols_v)]


def _safe_reciprocal(x, epsilon=1e-20):
    return x * reciprocal(x * x + epsilon)


def _svd_grad(op, grad_s, grad_u=None, grad_v=None):
    a = op.inputs[0]
    if not op.attrs["compute_uv"]:
        s, u, v = svd(a, compute_uv=True)
        grad_s = zeros_like(op.outputs[0]) if grad_s is None else grad_s
        return [matmul(u, matmul(matrix_diag(grad_s), v, transpose_b=True))]
    s, u, v = op.outputs
    grad_s, grad_u, grad_v = _filled([grad_s, grad_u, grad_v], op.outputs)
    m, n = a.shape.dims[-2:] if a.shape.rank is not None else (None, None)
    if m is None or n is None:
        raise NotImplementedError(f"svd gradient of op {op.name!r}: the inner matrix shape "
                                  f"must be known, got {a.shape}")
    full = op.attrs["full_matrices"]
    if full and m != n:
        raise NotImplementedError(f"svd gradient of op {op.name!r}: not implemented for "
                                  f"non-square matrices ({m}x{n}) with full_matrices=True")
    transposed = m > n  # work on a^T = v s u^T and transpose the result back
    if transposed:
        m, n, u, v, grad_u, grad_v = n, m, v, u, grad_v, grad_u
    s_squared = square(s)
    f = matrix_set_diag(_safe_reciprocal(_expand(s_squared, -2) - _expand(s_squared, -1)),
                        zeros_like(s))
    s_mat, grad_s_mat = matrix_diag(s), matrix_diag(grad_s)
    v1, grad_v1 = v[..., :, :m], grad_v[..., :, :m]
    f_u = f * matmul(u, grad_u, transpose_a=True)
    f_v = f * matmul(v1, grad_v1, transpose_a=True)
    core = grad_s_mat + matmul(f_u + _adjoint(f_u), s_mat) + matmul(s_mat, f_v + _adjoint(f_v))
    grad_a = matmul(u, matmul(core, v1, transpose_b=True))
    if m != n:
        gv1t = _adjoint(grad_v1)
        rest = gv1t - matmul(matmul(gv1t, v1), v1, transpose_b=True)
        grad_a = grad_a + matmul(matmul(u, matrix_diag(_safe_reciprocal(s))), rest)
    return [_adjoint(grad_a) if transposed else grad_a]


SVD = registry.register(OpDef(
    name="svd", dtypes=lambda d, attrs: _matrix_dtypes("svd", 3 if attrs["compute_uv"] else 1)(
        d, attrs),
    shapes=_svd_shapes, kernel=_finite_or_nan(_svd_kernel, _svd_result_shapes), grad=_svd_grad,
    attrs={"full_matrices": False, "compute_uv": True}, unknown_rank_ok=True,
    raises_on_values=True,
    tested_elsewhere="tests/ops/test_linalg_decomp.py",  # singular vectors' signs are free
    doc="Singular values (descending) and vectors: a = u diag(s) v^T."))


@registry.public(SVD)
def svd(tensor, full_matrices=False, compute_uv=True, name=None):
    """``(s, u, v)`` with ``tensor = u @ diag(s) @ v^T`` (singular values descending), or
    ``s`` alone with ``compute_uv=False`` (TF1 ``tf.svd`` / ``tf.linalg.svd``).

    Example:
        >>> s, u, v = gc.linalg.svd(a)
        >>> s = gc.linalg.svd(a, compute_uv=False)
    """
    outputs = apply_op("svd", [tensor], {"full_matrices": bool(full_matrices),
                                         "compute_uv": bool(compute_uv)}, name=name or "Svd")
    return tuple(outputs) if compute_uv else outputs


# -- QR --------------------------------------------------------------------------------------
def _qr_shapes(inputs, attrs):
    shape = inputs[0].shape
    _matrix_input("qr", shape, False)
    if shape.rank is None:
        return [TensorShape(None)] * 2
    batch, (m, n) = list(shape.dims[:-2]), shape.dims[-2:]
    k = m if attrs["full_matrices"] else (None if m is None or n is None else min(m, n))
    return [TensorShape(batch + [m, k]), TensorShape(batch + [k, n])]


def _qr_kernel(a, full_matrices):
    q, r = np.linalg.qr(a, mode="complete" if full_matrices else "reduced")
    return q, r


def _triangular_solve_right(x, r):
    """``x r^-T`` for upper triangular r (TF's _TriangularSolve), without an inverse."""
    return _adjoint(matrix_triangular_solve(r, _adjoint(x), lower=False, adjoint=False))


def _qr_grad_deep(q, r, dq, dr):
    qdq = matmul(q, dq, transpose_a=True)
    rdr = matmul(r, dr, transpose_b=True)
    lower = matrix_band_part(qdq - _adjoint(qdq) + rdr - _adjoint(rdr), -1, 0)
    return matmul(q, dr + _triangular_solve_right(lower, r)) + \
        _triangular_solve_right(dq - matmul(q, qdq), r)


def _qr_grad(op, dq, dr):
    a = op.inputs[0]
    q, r = op.outputs
    dq, dr = _filled([dq, dr], op.outputs)
    m, n = (q.shape.dims[-2], r.shape.dims[-1]) if a.shape.rank is not None else (None, None)
    if m is None or n is None:
        raise NotImplementedError(f"qr gradient of op {op.name!r}: the matrix shape must be "
                                  f"known, got {a.shape}")
    if op.attrs["full_matrices"] and m > n:
        raise NotImplementedError(f"qr gradient of op {op.name!r}: not implemented for "
                                  f"{m}x{n} matrices with full_matrices=True")
    if m >= n:
        return [_qr_grad_deep(q, r, dq, dr)]
    # wide: a = [x, y], r = [u, w]; the square part x = q u carries the rest
    y, u, dw, du = a[..., :, m:], r[..., :, :m], dr[..., :, m:], dr[..., :, :m]
    dx = _qr_grad_deep(q, u, dq + matmul(y, dw, transpose_b=True), du)
    return [concat([dx, matmul(q, dw)], -1)]


QR = registry.register(OpDef(
    name="qr", dtypes=_matrix_dtypes("qr", 2), shapes=_qr_shapes, kernel=_qr_kernel,
    grad=_qr_grad, attrs={"full_matrices": False}, unknown_rank_ok=True,
    tested_elsewhere="tests/ops/test_linalg_decomp.py",  # the factors' signs are free
    doc="QR decomposition: q with orthonormal columns, r upper triangular, a = q r."))


@registry.public(QR)
def qr(input, full_matrices=False, name=None):  # noqa: A002
    """``(q, r)`` with ``input = q @ r``, ``q`` orthonormal columns and ``r`` upper
    triangular (TF1 ``tf.qr`` / ``tf.linalg.qr``).

    Example:
        >>> q, r = gc.linalg.qr(a)
    """
    return Qr(*apply_op("qr", [input], {"full_matrices": bool(full_matrices)},
                        name=name or "Qr"))
