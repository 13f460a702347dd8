"""``gc.linalg.eigh_tridiagonal``: eigenvalues (and eigenvectors) of a real symmetric
tridiagonal matrix, TF's algorithm and constants (``tf.linalg.eigh_tridiagonal``, a
composition of graph ops there and here):

- eigenvalues by bisection on Sturm sequence counts, all of them at once, from the widened
  Gershgorin interval (``select="a"``/``"i"``) or ``select_range`` (``"v"``) until every
  interval is narrower than ``max(tol, eps * |A|)`` or ``nmant + 1`` halvings;
- eigenvectors by inverse iteration (at most 5 solves, LAPACK's xSTEIN rule) from TF's
  seeded start vectors (stateless normal draws, seed ``[7, 42]``), with the vectors of
  eigenvalues closer than ``sqrt(eps) |A|`` re-orthogonalized by QR after each solve.

The shifted solves use graphc's ``tridiagonal_solve`` (dense, partial pivoting), which does
not perturb exactly singular systems as TF's does: an exactly singular shift fails the run.
Its rounding differs from TF's tridiagonal solver, and the sign of an eigenvector follows
the sign of the last, nearly zero pivot of its shifted solve: the eigenvalues match TF's to
rounding, each eigenvector matches TF's up to its sign (and, within a cluster, up to a
rotation of the cluster's orthonormal basis). The result is not differentiable in a useful
sense (bisection), as in TF.

Example:
    >>> gc.linalg.eigh_tridiagonal([0.0, 0.0, 0.0], [1.0, 1.0])   # [-sqrt(2), 0, sqrt(2)]
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc.control_flow import while_loop
from graphc.convert import convert_to_tensor
from graphc.graph import get_default_graph
from graphc.linalg_tridiag import tridiagonal_solve
from graphc.ops.array import concat
from graphc.ops.check_ops import assert_less, assert_less_equal
from graphc.ops.control import identity
from graphc.ops.creation import range as arange, zeros
from graphc.ops.indexing import gather
from graphc.ops.elementwise import (abs as absolute, equal, greater, greater_equal, less,
                                    less_equal, logical_and, logical_not, maximum, minimum,
                                    square)
from graphc.ops.linalg_decomp import qr
from graphc.ops.math_extra import norm
from graphc.ops.reduce import reduce_any, reduce_max, reduce_min
from graphc.ops.scatter import tensor_scatter_nd_update
from graphc.ops.search_repeat import where_v2
from graphc.ops.select import cast, where
from graphc.ops.shape_ops import broadcast_to, expand_dims, shape, size, squeeze, transpose
from graphc.ops.stateless_sampling import stateless_normal

__all__ = ["eigh_tridiagonal"]

_BLOCK = 16  # Sturm steps per while_loop iteration (TF's unrolling; the order is the same)


def _sturm(alpha, beta_sq, pivmin, alpha0_perturbation, x):
    """Per point of ``x``, the number of eigenvalues below it (TF's recurrence)."""
    n = alpha.shape.dims[0]
    zero_counts = zeros(shape(x), dtype=gdt.int32)
    q = alpha[0] - x
    count = where(less(q, 0.0), zero_counts + 1, zero_counts)
    q = where(equal(alpha[0], x), alpha0_perturbation, q)

    def step(i, q, count):
        # gather: graphc's [] slices need indices known when the graph is built
        q = gather(alpha, i) - gather(beta_sq, i - 1) / q - x
        small = less_equal(q, pivmin)
        return where(small, count + 1, count), where(small, minimum(q, -pivmin), q)

    def steps(start, q, count, many):
        for j in range(many):
            count, q = step(start + j, q, count)
        return start + many, q, count

    peel = (n - 1) % _BLOCK
    start, q, count = steps(1, q, count, peel)
    _, _, count = while_loop(lambda i, q, count: less(i, n),
                             lambda i, q, count: steps(i, q, count, _BLOCK),
                             [convert_to_tensor(start), q, count], back_prop=False)
    return count


def _eigenvalues(alpha, beta, select, select_range, tol):
    n = alpha.shape.dims[0]
    finfo = np.finfo(alpha.dtype.np)
    beta_sq, beta_abs = square(beta), absolute(beta)
    row_sums = concat([beta_abs[:1], beta_abs[:-1] + beta_abs[1:], beta_abs[-1:]], 0)
    est_max = minimum(finfo.max, reduce_max(alpha + row_sums))
    est_min = maximum(finfo.min, reduce_min(alpha - row_sums))
    t_norm = maximum(absolute(est_min), absolute(est_max))
    one = np.ones([], alpha.dtype.np)
    safemin = np.maximum(one / finfo.max, (one + finfo.eps) * finfo.tiny)
    pivmin = safemin * maximum(one, reduce_max(beta_sq))
    alpha0_perturbation = square(finfo.eps * beta_abs[0])
    abs_tol = finfo.eps * t_norm
    if tol:
        abs_tol = maximum(tol, abs_tol)
    max_it = finfo.nmant + 1
    check = None
    if select == "a":
        target_counts = arange(n)
    elif select == "i":
        check = assert_less_equal(select_range[0], select_range[1],
                                  message="Got empty index range in select_range.")
        target_counts = arange(select_range[0], select_range[1] + 1)
    elif select == "v":
        check = assert_less(select_range[0], select_range[1],
                            message="Got empty interval in select_range.")
    else:
        raise ValueError(f"eigh_tridiagonal: select must be one of 'a', 'i', 'v', got "
                         f"{select!r}")
    if check is not None:
        with get_default_graph().control_dependencies([check]):
            alpha = identity(alpha)
    fudge = 2.1  # TF widens the starting (Gershgorin) interval a bit
    slack = cast(n, alpha.dtype) * fudge * finfo.eps * t_norm
    if select in ("a", "i"):
        lower = est_min - slack - 2 * fudge * pivmin
        upper = est_max + slack + fudge * pivmin
    else:
        lower = cast(select_range[0], alpha.dtype) - slack - 2 * fudge * pivmin
        upper = cast(select_range[1], alpha.dtype) + slack + fudge * pivmin
        first = _sturm(alpha, beta_sq, pivmin, alpha0_perturbation, lower)
        last = _sturm(alpha, beta_sq, pivmin, alpha0_perturbation, upper)
        target_counts = arange(first, last)
    upper, lower = minimum(upper, finfo.max), maximum(lower, finfo.min)
    targets = shape(target_counts)
    lower, upper = broadcast_to(lower, targets), broadcast_to(upper, targets)
    pivmin = broadcast_to(pivmin, targets)
    alpha0_perturbation = broadcast_to(alpha0_perturbation, targets)

    def midpoint(lower, upper):
        return 0.5 * lower + 0.5 * upper

    def search(i, lower, upper):
        counts = _sturm(alpha, beta_sq, pivmin, alpha0_perturbation, midpoint(lower, upper))
        mid = midpoint(lower, upper)
        return (i + 1, where(less_equal(counts, target_counts), mid, lower),
                where(greater(counts, target_counts), mid, upper))

    _, lower, upper = while_loop(
        lambda i, lower, upper: logical_and(less(i, max_it),
                                            less(abs_tol, reduce_max(upper - lower))),
        search, [convert_to_tensor(0), lower, upper])
    return midpoint(lower, upper)


def _eigenvectors(alpha, beta, eigvals):
    """TF's inverse iteration, clusters of close eigenvalues orthogonalized by QR."""
    k, n = size(eigvals), size(alpha)
    gap = eigvals[1:] - eigvals[:-1]
    eps = np.finfo(eigvals.dtype.np).eps
    t_norm = maximum(absolute(eigvals[0]), absolute(eigvals[-1]))
    close = less(gap, np.sqrt(eps) * t_norm)
    left_close = concat([[False], close], 0)
    right_close = concat([close, [False]], 0)
    starts = squeeze(where_v2(logical_and(logical_not(left_close), right_close)), -1)
    ends = squeeze(where_v2(logical_and(left_close, logical_not(right_close))), -1) + 1
    clusters = size(ends)
    # float32 draws cast up, as TF draws them
    v0 = cast(stateless_normal(concat([[k], [n]], 0), seed=[7, 42]), beta.dtype)
    norms = norm(v0, axis=1)
    v0 = v0 / norms[:, None]
    shifted = expand_dims(alpha, 0) - expand_dims(eigvals, 1)
    beta_rows = broadcast_to(expand_dims(beta, 0), concat([[k], shape(beta)], 0))
    diagonals = [concat([beta_rows, zeros(concat([[k], [1]], 0), beta.dtype)], 1), shifted,
                 concat([zeros(concat([[k], [1]], 0), beta.dtype), beta_rows], 1)]

    def orthogonalize(vectors):
        def one_cluster(index, vectors):
            rows = arange(gather(starts, index), gather(ends, index))
            q, _ = qr(transpose(gather(vectors, rows)))
            return index + 1, tensor_scatter_nd_update(vectors, expand_dims(rows, -1),
                                                       transpose(q))
        _, vectors = while_loop(lambda i, v: less(i, clusters), one_cluster,
                                [convert_to_tensor(0), vectors])
        return vectors

    def keep_going(i, v, norms, old_norms):
        return logical_and(less(i, 5), reduce_any(greater_equal(
            norms, convert_to_tensor(1.1, dtype=norms.dtype) * old_norms)))

    def iterate(i, v, norms, old_norms):
        solved = tridiagonal_solve(diagonals, v, diagonals_format="sequence")  # per row
        new_norms = norm(solved, axis=1)
        return i + 1, orthogonalize(solved / new_norms[:, None]), new_norms, norms

    _, v, _, _ = while_loop(keep_going, iterate,
                            [convert_to_tensor(0), v0, norms, zeros(shape(norms), beta.dtype)])
    return transpose(v)


def eigh_tridiagonal(alpha, beta, eigvals_only=True, select="a", select_range=None,
                     tol=None, name=None):
    """The eigenvalues (ascending; with ``eigvals_only=False`` also the eigenvectors, as
    columns) of the real symmetric tridiagonal matrix with diagonal ``alpha`` (``[n]``)
    and off-diagonal ``beta`` (``[n - 1]``), TF's ``tf.linalg.eigh_tridiagonal``:
    ``select="a"`` all, ``"i"`` those of indices ``select_range[0]..[1]``, ``"v"`` those
    in ``(select_range[0], select_range[1]]``. As in TF, ``n <= 1`` returns ``alpha``.

    Example:
        >>> e, v = gc.linalg.eigh_tridiagonal([2.0, 2.0], [1.0], eigvals_only=False)  # 1, 3
    """
    graph = get_default_graph()
    with graph.name_scope(name or "eigh_tridiagonal"):
        alpha = convert_to_tensor(alpha, name="alpha")
        if alpha.shape.rank != 1 or alpha.shape.dims[0] is None:
            raise ValueError(f"eigh_tridiagonal: alpha must be a vector of known length, got "
                             f"shape {alpha.shape}")
        n = alpha.shape.dims[0]
        if n <= 1:
            return alpha
        beta = convert_to_tensor(beta, name="beta")
        if alpha.dtype is not beta.dtype:
            raise ValueError(f"eigh_tridiagonal: 'alpha' and 'beta' must have the same type, "
                             f"got {alpha.dtype.name} and {beta.dtype.name}")
        if not alpha.dtype.is_floating:
            raise TypeError(f"eigh_tridiagonal: alpha must be float32 or float64, got "
                            f"{alpha.dtype.name}")
        if beta.shape.rank != 1 or beta.shape.dims[0] not in (None, n - 1):
            raise ValueError(f"eigh_tridiagonal: beta must be a vector of length n - 1 = "
                             f"{n - 1}, got shape {beta.shape}")
        eigvals = _eigenvalues(alpha, beta, select, select_range, tol)
        if eigvals_only:
            return eigvals
        return eigvals, _eigenvectors(alpha, beta, eigvals)
