"""``matrix_square_root``: TF's MatrixSquareRoot (``tf.linalg.sqrtm``), the principal square
root of (batches of) real square matrices, by TF's algorithm (Eigen's ``MatrixSquareRoot``):
the real Schur form ``A = Z T Z^T``, the square root ``S`` of the quasi-triangular ``T``
block by block (Higham 1987: ``sqrt`` of each 1x1 and 2x2 diagonal block, then each
off-diagonal block from the Sylvester equation ``S_ii X + X S_jj = T_ij - sum S_ik S_kj``)
and ``Z S Z^T``.

As in TF, nothing is special-cased: a negative real eigenvalue (no real square root) gives a
NaN block, which the final products spread over the matrix; singular matrices whose zero
eigenvalue is repeated give 0/0 = NaN; a matrix with NaN or Inf gives NaN (its Schur form
does not exist). The gradient is TF's ``_MatrixSquareRootGrad``: ``dA = R dR + dR R`` solved
for the cotangent as one Kronecker-product linear system of size N^2 per matrix.

Example:
    >>> gc.linalg.sqrtm([[4.0, 0.0], [0.0, 9.0]])   # [[2, 0], [0, 3]]
"""
from __future__ import annotations

import numpy as np
import scipy.linalg

from graphc import registry
from graphc.ops import shape_ops
from graphc.ops.array import concat
from graphc.ops.common import apply_op, rand
from graphc.ops.linalg_decomp import _adjoint
from graphc.ops.linalg_extra import matrix_solve
from graphc.ops.linalg_lu import check_matrix_dtype, square_matrix_shape
from graphc.ops.matrix_diag import eye
from graphc.registry import ErrorSample, OpDef, Sample

__all__ = ["matrix_square_root"]


def _diagonal_blocks(t: np.ndarray) -> list:
    """``(start, size)`` of the diagonal blocks of the quasi-triangular ``t``: 2x2 where the
    entry below the diagonal is nonzero (a complex pair of eigenvalues), else 1x1."""
    blocks, i, n = [], 0, t.shape[0]
    while i < n:
        size = 2 if i + 1 < n and t[i + 1, i] != 0 else 1
        blocks.append((i, size))
        i += size
    return blocks


def _sqrt_2x2(block: np.ndarray) -> np.ndarray:
    """The real principal square root of a 2x2 block with complex eigenvalues a +- ib:
    (B + sqrt(det B) I) / sqrt(trace B + 2 sqrt(det B)), both roots real and positive."""
    root_det = np.sqrt(block[0, 0] * block[1, 1] - block[0, 1] * block[1, 0])
    return (block + root_det * np.eye(2, dtype=block.dtype)) / np.sqrt(
        block[0, 0] + block[1, 1] + 2 * root_det)


def _solve_sylvester(left, right, rhs):
    """X with ``left X + X right = rhs`` for blocks of sizes 1 or 2 (Eigen's 1x2, 2x1 and
    2x2 cases), as the Kronecker system on column-major vec(X); singular: NaN."""
    rows, columns = rhs.shape
    system = np.kron(np.eye(columns, dtype=rhs.dtype), left) + \
        np.kron(right.T, np.eye(rows, dtype=rhs.dtype))
    try:
        solution = np.linalg.solve(system, rhs.reshape(-1, order="F"))
    except np.linalg.LinAlgError:
        return np.full_like(rhs, np.nan)
    return solution.reshape((rows, columns), order="F")


def sqrt_quasi_triangular(t: np.ndarray) -> np.ndarray:
    """S with S @ S == t for the real Schur factor ``t``, in Eigen's order: the diagonal
    blocks, then the blocks above them column by column, each column from the bottom up."""
    blocks = _diagonal_blocks(t)
    s = np.zeros_like(t)
    for start, size in blocks:
        end = start + size
        s[start:end, start:end] = np.sqrt(t[start:end, start:end]) if size == 1 else \
            _sqrt_2x2(t[start:end, start:end])
    for column, (j, nj) in enumerate(blocks):
        for i, ni in reversed(blocks[:column]):
            inner = slice(i + ni, j)  # the blocks strictly between i and j
            rhs = t[i:i + ni, j:j + nj] - s[i:i + ni, inner] @ s[inner, j:j + nj]
            if ni == nj == 1:
                s[i, j] = rhs[0, 0] / (s[i, i] + s[j, j])
            else:
                s[i:i + ni, j:j + nj] = _solve_sylvester(
                    s[i:i + ni, i:i + ni], s[j:j + nj, j:j + nj], rhs)
    return s


def sqrtm_one(matrix: np.ndarray) -> np.ndarray:
    """The principal square root of one real matrix, TF's way (NaN where TF gives NaN)."""
    if not np.isfinite(matrix).all():
        return np.full_like(matrix, np.nan)
    t, z = scipy.linalg.schur(matrix, output="real")
    with np.errstate(all="ignore"):  # sqrt(-x), 0/0 and 0*Inf make NaN, as in TF
        s = sqrt_quasi_triangular(t)
        return (z @ s @ z.T).astype(matrix.dtype)


def _sqrtm_kernel(a):
    n = a.shape[-1]
    flat = a.reshape((int(np.prod(a.shape[:-2])), n, n))  # -1 is ambiguous at size 0
    return np.stack([sqrtm_one(m) for m in flat]).reshape(a.shape) if flat.shape[0] and n \
        else a.copy()


def _sqrtm_dtypes(in_dtypes, attrs):
    check_matrix_dtype("matrix_square_root", in_dtypes[0])
    return [in_dtypes[0]]


def _kronecker(left, right, batch, order):
    """kron(left, right) of [..., m, m] matrices (``left`` may be an unbatched [m, m]):
    entry [(a, b), (c, d)] = left[a, c] * right[b, d], as TF's _KroneckerProduct."""
    spread_left = shape_ops.expand_dims(shape_ops.expand_dims(left, -1), -3)  # [.., a,1,c,1]
    spread_right = shape_ops.expand_dims(shape_ops.expand_dims(right, -3), -2)  # [.., 1,b,1,d]
    return shape_ops.reshape(spread_left * spread_right,
                             concat([batch, [order * order, order * order]], 0))


def _transposed(x):
    return _adjoint(x, "matrix_square_root")


def _sqrtm_grad(op, grad):
    # R = sqrtm(A), A = R R: dA = R dR + dR R; in column-major vec form
    # (I kron R + R^T kron I) vec(dR) = vec(dA); TF solves the transposed system
    root = op.outputs[0]
    dims = shape_ops.shape(root)
    order, batch = dims[-1], dims[:-2]
    identity = eye(order, dtype=root.dtype)
    system = _kronecker(identity, _transposed(root), batch, order) + \
        _kronecker(root, identity, batch, order)
    vec_grad = shape_ops.reshape(_transposed(grad), concat([batch, [order * order, 1]], 0))
    solution = matrix_solve(system, vec_grad)
    return [_transposed(shape_ops.reshape(solution, dims))]


def _reference(a):
    n = a.shape[-1]
    roots = [scipy.linalg.sqrtm(m.astype(np.float64)).real for m in a.reshape((-1, n, n))]
    return np.array(roots).reshape(a.shape)


def _general(*batch, n=3):
    """Matrices with eigenvalues of positive real part, some complex pairs."""
    a = rand(*batch, n, n)
    return a - np.swapaxes(a, -1, -2) + 3.0 * np.eye(n) + 0.3 * rand(*batch, n, n)


def _positive_definite(*batch, n=3):
    a = rand(*batch, n, n)
    return a @ np.swapaxes(a, -1, -2) + 0.5 * np.eye(n)


MATRIX_SQUARE_ROOT = registry.register(OpDef(
    name="matrix_square_root", dtypes=_sqrtm_dtypes, unknown_rank_ok=True,
    shapes=lambda inputs, attrs: [square_matrix_shape("matrix_square_root", inputs[0].shape)],
    kernel=_sqrtm_kernel, grad=_sqrtm_grad, reference=_reference,
    samples=lambda: [Sample((_positive_definite(),)), Sample((_general(2, n=4),)),
                     Sample((_general(n=2),)),
                     Sample((_positive_definite(n=3).astype(np.float32),), rtol=1e-4)],
    error_samples=lambda: [
        ErrorSample((rand(3, 4),), match="matrix_square_root: .*square.*3 x 4"),
        ErrorSample((rand(3),), match=r"matrix_square_root: .*rank >= 2"),
        ErrorSample((np.eye(3, dtype=np.int32),), error=TypeError,
                    match="matrix_square_root.*int32")],
    doc="The principal square root of each innermost real square matrix (real Schur)."))


@registry.public(MATRIX_SQUARE_ROOT)
def matrix_square_root(input, name=None):  # noqa: A002 - TF's argument name
    """The principal square root ``R`` (``R @ R == input``, eigenvalues of positive real
    part) of each innermost square matrix of ``input`` (``[..., N, N]``, float32 or
    float64), TF's ``tf.linalg.sqrtm``; NaN where no real square root exists (a negative
    real eigenvalue) or it is not unique (a repeated zero eigenvalue).

    Example:
        >>> gc.linalg.sqrtm([[1.0, 1.0], [0.0, 1.0]])   # [[1, 0.5], [0, 1]]
    """
    return apply_op("matrix_square_root", [input], name=name or "MatrixSquareRoot")
