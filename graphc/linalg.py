"""``gc.linalg``: TF1's ``tf.linalg`` namespace (matrix ops under their short names).

Example:
    >>> x = gc.linalg.solve(a, b)              # a @ x == b
    >>> sign, log_abs = gc.linalg.slogdet(a)
"""
from graphc.convert import convert_to_tensor, graph_of
from graphc.graph import Tensor
from graphc.ops.elementwise import log
from graphc.ops.linalg import einsum, matmul, tensordot  # noqa: F401
from graphc.ops.linalg_extra import cholesky  # noqa: F401
from graphc.ops.linalg_decomp import qr, svd  # noqa: F401
from graphc.ops.linalg_decomp import self_adjoint_eig as eigh  # noqa: F401
from graphc.ops.linalg_decomp import self_adjoint_eigvals as eigvalsh  # noqa: F401
from graphc.ops.linalg_extra import log_matrix_determinant as slogdet  # noqa: F401
from graphc.ops.linalg_extra import matrix_determinant as det  # noqa: F401
from graphc.tf1_helpers import cross  # noqa: F401,E402
from graphc.ops.linalg_extra import matrix_inverse as inv  # noqa: F401
from graphc.ops.linalg_extra import matrix_solve as solve  # noqa: F401
from graphc.ops.linalg_extra import matrix_triangular_solve as triangular_solve  # noqa: F401
from graphc.ops.math_extra import norm  # noqa: F401
from graphc.ops.matrix_diag import eye, matrix_band_part as band_part  # noqa: F401
from graphc.ops.matrix_diag import matrix_diag as diag  # noqa: F401
from graphc.ops.matrix_diag import matrix_diag_part as diag_part  # noqa: F401
from graphc.ops.matrix_diag import matrix_set_diag as set_diag  # noqa: F401
from graphc.ops.matrix_diag import diag as tensor_diag  # noqa: F401
from graphc.ops.matrix_diag import diag_part as tensor_diag_part  # noqa: F401
from graphc.ops.matrix_diag import trace  # noqa: F401
from graphc.ops.reduce import reduce_sum
from graphc.ops.shape_ops import transpose as _transpose

__all__ = ["adjoint", "band_part", "cholesky", "det", "diag", "diag_part", "einsum", "eye",
           "inv", "logdet", "matmul", "matrix_transpose", "norm", "set_diag", "slogdet",
           "solve", "tensor_diag", "tensor_diag_part", "tensordot", "trace", "transpose",
           "triangular_solve"]


def matrix_transpose(a, name="matrix_transpose", conjugate=False) -> Tensor:
    """Each innermost matrix transposed (TF1 ``tf.linalg.transpose``, ``tf.matrix_transpose``;
    real dtypes only, so ``conjugate`` changes nothing).

    Example:
        >>> gc.linalg.transpose(gc.zeros([5, 2, 3])).shape   # (5, 3, 2)
    """
    graph = graph_of(a)
    with graph.as_default(), graph.name_scope(name):
        a = convert_to_tensor(a)
        rank = a.shape.rank
        if rank is None or rank < 2:
            raise ValueError(f"matrix_transpose: {a.name} must have a known rank >= 2, got "
                             f"shape {a.shape}")
        return _transpose(a, list(range(rank - 2)) + [rank - 1, rank - 2])


transpose = matrix_transpose


def adjoint(matrix, name=None) -> Tensor:
    """The conjugate transpose of each innermost matrix (real dtypes: the transpose).

    Example:
        >>> gc.linalg.adjoint([[1.0, 2.0], [3.0, 4.0]])   # [[1, 3], [2, 4]]
    """
    return matrix_transpose(matrix, name=name or "adjoint")


def logdet(matrix, name=None) -> Tensor:
    """log(det(matrix)) of each innermost Hermitian positive definite matrix, computed from
    its Cholesky factor: 2 * sum(log(diag(L))) (TF ``tf.linalg.logdet``).

    Example:
        >>> gc.linalg.logdet([[4.0, 0.0], [0.0, 9.0]])   # log(36)
    """
    graph = graph_of(matrix)
    with graph.as_default(), graph.name_scope(name or "logdet"):
        return 2.0 * reduce_sum(log(diag_part(cholesky(matrix))), axis=-1)


from graphc.linalg_more import (cholesky_solve, cross, lstsq, matrix_rank,  # noqa: E402,F401
                                matvec, normalize, pinv)
from graphc.linalg_expm import expm  # noqa: E402,F401
from graphc.ops.linalg_lu import lu  # noqa: E402,F401
from graphc.ops.linalg_sqrtm import matrix_square_root as sqrtm  # noqa: E402,F401
from graphc.linalg_lu import (logm, lu_matrix_inverse, lu_reconstruct,  # noqa: E402,F401
                              lu_solve)
from graphc.clip_ops import global_norm  # noqa: E402,F401
from graphc.nn_norm import l2_normalize  # noqa: E402,F401
from graphc.linalg_tridiag import tridiagonal_matmul, tridiagonal_solve  # noqa: E402,F401
from graphc.linalg_eigh_tridiag import eigh_tridiagonal  # noqa: E402,F401
