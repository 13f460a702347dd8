"""``gc.linalg.tridiagonal_solve`` and ``tridiagonal_matmul`` (TF's ``tf.linalg``) over the
three diagonals of tridiagonal matrices, in TF's three formats:

- ``"compact"``: ``[..., 3, M]``, rows superdiagonal (its last element ignored), diagonal,
  subdiagonal (its first element ignored);
- ``"sequence"``: a list or tuple of those three ``[..., M]`` tensors;
- ``"matrix"``: the ``[..., M, M]`` matrix itself (only its three diagonals are read).

The matrix is assembled densely and the system solved with ``matrix_solve`` (partial
pivoting: TF's default), so both functions have gradients through graphc's matrix ops;
O(M^3) per system instead of TF's O(M) Thomas algorithm, which matters only for large M.

Example:
    >>> x = gc.linalg.tridiagonal_solve([[1.0, 1.0, 0.0], [4.0, 4.0, 4.0], [0.0, 1.0, 1.0]],
    ...                                 [[1.0], [2.0], [3.0]])
"""
from __future__ import annotations

from graphc.convert import convert_to_tensor
from graphc.graph import get_default_graph
from graphc.ops.array import concat, unstack
from graphc.ops.creation import zeros_like
from graphc.ops.linalg import matmul
from graphc.ops.linalg_extra import matrix_solve
from graphc.ops.matrix_diag import matrix_diag, matrix_diag_part
from graphc.ops.padding import pad
from graphc.ops.shape_ops import expand_dims, squeeze, transpose

__all__ = ["tridiagonal_solve", "tridiagonal_matmul"]

FORMATS = ("compact", "sequence", "matrix")


def _three(diagonals, diagonals_format, op_name):
    """``(superdiagonal, diagonal, subdiagonal)``, each ``[..., M]``."""
    if diagonals_format not in FORMATS:
        raise ValueError(f"{op_name}: diagonals_format must be one of {list(FORMATS)}, got "
                         f"{diagonals_format!r}")
    if diagonals_format == "sequence":
        if not isinstance(diagonals, (list, tuple)) or len(diagonals) != 3:
            raise ValueError(f"{op_name}: diagonals_format 'sequence' takes a list of three "
                             f"tensors (super, main, sub), got {diagonals!r}")
        return tuple(convert_to_tensor(d) for d in diagonals)
    diagonals = convert_to_tensor(diagonals, name="diagonals")
    rank = diagonals.shape.rank
    if diagonals_format == "matrix":
        if rank is not None and rank < 2:
            raise ValueError(f"{op_name}: diagonals_format 'matrix' takes [..., M, M], got "
                             f"shape {diagonals.shape}")
        main = matrix_diag_part(diagonals)
        upper = matrix_diag_part(diagonals[..., :-1, 1:])
        lower = matrix_diag_part(diagonals[..., 1:, :-1])
        zero = zeros_like(main[..., :1])
        return concat([upper, zero], -1), main, concat([zero, lower], -1)
    dims = diagonals.shape.dims
    if rank is not None and (rank < 2 or dims[-2] not in (None, 3)):
        raise ValueError(f"{op_name}: diagonals_format 'compact' takes [..., 3, M], got shape "
                         f"{diagonals.shape}")
    return tuple(unstack(diagonals, 3, axis=-2))


def _shifted(values, above: bool):
    """The ``[..., M, M]`` matrix with ``values[..., :M-1]`` (above) or ``values[..., 1:]``
    (below) on the first off-diagonal."""
    rank = values.shape.rank
    if rank is None:
        raise ValueError("tridiagonal matrices need diagonals of known rank")
    part = matrix_diag(values[..., :-1] if above else values[..., 1:])
    batch = [[0, 0]] * (rank - 1)
    return pad(part, batch + ([[0, 1], [1, 0]] if above else [[1, 0], [0, 1]]))


def _matrix(super_diagonal, diagonal, sub_diagonal):
    return matrix_diag(diagonal) + _shifted(super_diagonal, True) + \
        _shifted(sub_diagonal, False)


def tridiagonal_solve(diagonals, rhs, diagonals_format="compact", transpose_rhs=False,
                      conjugate_rhs=False, name=None, partial_pivoting=True,
                      perturb_singular=False):
    """X with ``A X = rhs`` for tridiagonal ``A`` given by its ``diagonals`` (see the
    module docstring), ``rhs`` ``[..., M, K]`` (``[..., K, M]``, transposed first, with
    ``transpose_rhs``; a vector ``[..., M]`` gives a vector). TF's
    ``tf.linalg.tridiagonal_solve``.

    Example:
        >>> x = gc.linalg.tridiagonal_solve(diagonals, rhs)
    """
    if not partial_pivoting or perturb_singular:
        raise ValueError("tridiagonal_solve: graphc solves with partial pivoting and without "
                         "perturbing singular matrices (TF's defaults) only")
    graph = get_default_graph()
    with graph.name_scope(name or "tridiagonal_solve"):
        a = _matrix(*_three(diagonals, diagonals_format, "tridiagonal_solve"))
        b = convert_to_tensor(rhs, name="rhs")
        vector = b.shape.rank == a.shape.rank - 1 if None not in (
            a.shape.rank, b.shape.rank) else False
        if vector:
            b = expand_dims(b, -1)
        elif transpose_rhs:
            b = _swap_last(b)
        x = matrix_solve(a, b)
        return squeeze(x, [-1]) if vector else x


def _swap_last(x):
    rank = x.shape.rank
    return transpose(x, list(range(rank - 2)) + [rank - 1, rank - 2])


def tridiagonal_matmul(diagonals, rhs, diagonals_format="compact", name=None):
    """``A @ rhs`` for tridiagonal ``A`` given by its ``diagonals`` (see the module
    docstring), ``rhs`` ``[..., M, N]``. TF's ``tf.linalg.tridiagonal_matmul``.

    Example:
        >>> y = gc.linalg.tridiagonal_matmul(diagonals, x)
    """
    graph = get_default_graph()
    with graph.name_scope(name or "tridiagonal_matmul"):
        a = _matrix(*_three(diagonals, diagonals_format, "tridiagonal_matmul"))
        return matmul(a, convert_to_tensor(rhs, name="rhs"))
