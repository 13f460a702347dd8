"""``tf.linalg.lu_solve``, ``lu_matrix_inverse`` and ``lu_reconstruct``: TF's compositions
over the ``(lower_upper, perm)`` that ``gc.linalg.lu`` returns (``input[..., perm, :] ==
L @ U``), built of graphc ops as TF builds them of its own (band_part, set_diag, matmul,
triangular solves and row gathers), so gradients reach ``lower_upper`` and ``rhs``; and
``logm``, which TF defines for complex matrices only (graphc has no complex dtypes).

Batched permutations are applied as one gather over the flattened rows (row ``i`` of matrix
``b`` is row ``b * N + i``) where TF gathers with ``(b, i)`` index pairs: the same rows.
Shapes known when the graph is built are checked then, with TF's messages; with
``validate_args`` the checks that need run-time shapes become assertions, as in TF.

Example:
    >>> lower_upper, perm = gc.linalg.lu(a)
    >>> x = gc.linalg.lu_solve(lower_upper, perm, b)       # a @ x == b
    >>> a_again = gc.linalg.lu_reconstruct(lower_upper, perm)
"""
from __future__ import annotations

import numpy as np

from graphc.convert import convert_to_tensor, graph_of
from graphc.graph import Graph, Tensor
from graphc.ops.array import concat, stack
from graphc.ops.counting import invert_permutation
from graphc.ops.check_ops import assert_equal, assert_rank, assert_rank_at_least
from graphc.ops.control import identity
from graphc.ops.creation import ones, range as arange
from graphc.ops.indexing import gather
from graphc.ops.linalg import matmul
from graphc.ops.linalg_extra import matrix_triangular_solve
from graphc.ops.matrix_diag import eye, matrix_band_part, matrix_set_diag
from graphc.ops.reduce import reduce_prod
from graphc.ops.shape_checks import broadcast_dynamic_shape
from graphc.ops.select import cast
from graphc.ops.shape_ops import broadcast_to, rank, reshape, shape

__all__ = ["lu_solve", "lu_matrix_inverse", "lu_reconstruct", "logm"]


def _inputs(op_name, lower_upper, perm, rhs=None):
    """The tensors, converted as TF converts them: Python values of ``lower_upper`` become
    float32 and those of ``rhs`` take its dtype; arrays and tensors keep their own dtype."""
    lower_upper = convert_to_tensor(lower_upper, name="lower_upper")
    perm = convert_to_tensor(perm, name="perm")
    if rhs is not None:
        python = not isinstance(rhs, (Tensor, np.ndarray, np.generic))
        rhs = convert_to_tensor(rhs, dtype_hint=lower_upper.dtype if python else None,
                                name="rhs")
    if not perm.dtype.is_integer:
        raise TypeError(f"{op_name}: perm must be int32 or int64 (the p of tf.linalg.lu), got "
                        f"{perm.dtype.name}")
    return lower_upper, perm, rhs


def _checks(op_name, lower_upper, perm, rhs, validate_args) -> list:
    """TF's lu_reconstruct_assertions and _lu_solve_assertions: static checks raise
    ValueError (TF's message, with the shapes), the rest become assertions if asked."""
    lu_shape, perm_shape = lower_upper.shape, perm.shape
    found = []
    message = "Input `lower_upper` must have at least 2 dimensions."
    if lu_shape.rank is not None and lu_shape.rank < 2:
        raise ValueError(f"{op_name}: {message} Got shape {lu_shape}")
    elif validate_args and lu_shape.rank is None:
        found.append(assert_rank_at_least(lower_upper, 2, message=message))
    message = "`rank(lower_upper)` must equal `rank(perm) + 1`"
    if lu_shape.rank is not None and perm_shape.rank is not None:
        if lu_shape.rank != perm_shape.rank + 1:
            raise ValueError(f"{op_name}: {message}; got lower_upper {lu_shape} and perm "
                             f"{perm_shape}")
    elif validate_args:
        found.append(assert_rank(lower_upper, rank(perm) + 1, message=message))
    message = "`lower_upper` must be square."
    rows, columns = (lu_shape.dims[-2:] if lu_shape.rank is not None else (None, None))
    if None not in (rows, columns):
        if rows != columns:
            raise ValueError(f"{op_name}: {message} Got shape {lu_shape}")
    elif validate_args:
        dims = shape(lower_upper)
        found.append(assert_equal(dims[-2], dims[-1], message=message))
    if rhs is None:
        return found
    message = "Input `rhs` must have at least 2 dimensions."
    if rhs.shape.rank is not None and rhs.shape.rank < 2:
        raise ValueError(f"{op_name}: {message} Got shape {rhs.shape}")
    elif validate_args and rhs.shape.rank is None:
        found.append(assert_rank_at_least(rhs, 2, message=message))
    message = "`lower_upper.shape[-1]` must equal `rhs.shape[-2]`."
    rhs_rows = rhs.shape.dims[-2] if rhs.shape.rank is not None else None
    if None not in (columns, rhs_rows):
        if columns != rhs_rows:
            raise ValueError(f"{op_name}: {message} Got lower_upper {lu_shape} and rhs "
                             f"{rhs.shape}")
    elif validate_args:
        found.append(assert_equal(shape(lower_upper)[-1], shape(rhs)[-2], message=message))
    return found


def _guarded(graph, assertions, tensors):
    if not assertions:
        return tensors
    with graph.control_dependencies(assertions):
        return [None if t is None else identity(t) for t in tensors]


def _unit_lower(lower_upper):
    """L: the strict lower triangle of ``lower_upper`` with ones on the diagonal."""
    return matrix_set_diag(matrix_band_part(lower_upper, -1, 0),
                           ones(shape(lower_upper)[:-1], dtype=lower_upper.dtype))


def _flat_rows(rows, order):
    """``rows`` ``[..., order]`` (row indices within each matrix) as indices into the
    matrices' rows flattened to ``[-1, K]``: those of matrix ``b`` offset by ``b * order``.
    A batch of permutations so becomes one permutation of the flat rows."""
    count = reduce_prod(shape(rows)[:-1])
    offsets = arange(0, count, dtype=rows.dtype)[:, None] * cast(order, rows.dtype)
    # explicit sizes: -1 is ambiguous for zero-size matrices
    return reshape(reshape(rows, stack([count, order])) + offsets, [-1])


def _gather_flat_rows(matrices, flat_rows):
    """The rows ``flat_rows`` of ``matrices`` ``[..., order, K]`` flattened to rows."""
    dims = shape(matrices)
    flat = reshape(matrices, stack([reduce_prod(dims[:-1]), dims[-1]]))
    return reshape(gather(flat, flat_rows), dims)


def lu_reconstruct(lower_upper, perm, validate_args=False, name=None):
    """The matrices ``X`` whose ``tf.linalg.lu`` is ``(lower_upper, perm)``: ``L @ U`` with
    its rows put back, ``X[..., perm, :] == L @ U`` (TF's ``tf.linalg.lu_reconstruct``).

    Example:
        >>> gc.linalg.lu_reconstruct(*gc.linalg.lu(a))   # a
    """
    graph = graph_of(lower_upper, perm)
    with graph.as_default(), graph.name_scope(name or "lu_reconstruct"):
        lower_upper, perm, _ = _inputs("lu_reconstruct", lower_upper, perm)
        assertions = _checks("lu_reconstruct", lower_upper, perm, None, validate_args)
        lower_upper, perm = _guarded(graph, assertions, [lower_upper, perm])
        product = matmul(_unit_lower(lower_upper), matrix_band_part(lower_upper, 0, -1))
        if lower_upper.shape.rank == 2:
            return gather(product, invert_permutation(perm))
        inverse = invert_permutation(_flat_rows(perm, shape(lower_upper)[-1]))
        return _gather_flat_rows(product, inverse)


def lu_solve(lower_upper, perm, rhs, validate_args=False, name=None):
    """``X`` with ``A @ X == rhs`` for the matrices ``A`` whose ``tf.linalg.lu`` is
    ``(lower_upper, perm)``: the rows of ``rhs`` permuted, then the unit-lower and the
    upper triangular solves (TF's ``tf.linalg.lu_solve``; the batch dims of ``rhs`` and
    ``perm`` broadcast). Nothing checks that ``A`` is invertible, as in TF.

    Example:
        >>> x = gc.linalg.lu_solve(*gc.linalg.lu(a), rhs=b)   # a @ x == b
    """
    graph = graph_of(lower_upper, perm, rhs)
    with graph.as_default(), graph.name_scope(name or "lu_solve"):
        lower_upper, perm, rhs = _inputs("lu_solve", lower_upper, perm, rhs)
        assertions = _checks("lu_solve", lower_upper, perm, rhs, validate_args)
        lower_upper, perm, rhs = _guarded(graph, assertions, [lower_upper, perm, rhs])
        if rhs.shape.rank == 2 and perm.shape.rank == 1:
            permuted = gather(rhs, perm)
        else:
            rhs_dims = shape(rhs)
            batch = broadcast_dynamic_shape(rhs_dims[:-2], shape(perm)[:-1])
            rhs = broadcast_to(rhs, concat([batch, rhs_dims[-2:]], 0))
            perm = broadcast_to(perm, concat([batch, rhs_dims[-2:-1]], 0))
            permuted = _gather_flat_rows(rhs, _flat_rows(perm, rhs_dims[-2]))
            if not _same_batch(lower_upper, permuted):  # TF's solves broadcast; graphc's not
                lower_upper = broadcast_to(lower_upper,
                                           concat([batch, shape(lower_upper)[-2:]], 0))
        middle = matrix_triangular_solve(_unit_lower(lower_upper), permuted, lower=True)
        return matrix_triangular_solve(lower_upper, middle, lower=False)  # the upper only


def _same_batch(a, b) -> bool:
    dims_a, dims_b = a.shape.dims, b.shape.dims
    return dims_a is not None and dims_b is not None and None not in dims_a[:-2] and \
        list(dims_a[:-2]) == list(dims_b[:-2])


def lu_matrix_inverse(lower_upper, perm, validate_args=False, name=None):
    """The inverses of the matrices whose ``tf.linalg.lu`` is ``(lower_upper, perm)``:
    ``lu_solve`` with identity right-hand sides (TF's ``tf.linalg.lu_matrix_inverse``).

    Example:
        >>> gc.linalg.lu_matrix_inverse(*gc.linalg.lu([[2.0, 0.0], [0.0, 4.0]]))  # diag(.5, .25)
    """
    graph = graph_of(lower_upper, perm)
    with graph.as_default(), graph.name_scope(name or "lu_matrix_inverse"):
        lower_upper, perm, _ = _inputs("lu_matrix_inverse", lower_upper, perm)
        assertions = _checks("lu_matrix_inverse", lower_upper, perm, None, validate_args)
        lower_upper, perm = _guarded(graph, assertions, [lower_upper, perm])
        dims = shape(lower_upper)
        identity_matrices = eye(dims[-1], batch_shape=dims[:-2], dtype=lower_upper.dtype)
        return lu_solve(lower_upper, perm, identity_matrices, validate_args=False)


def logm(input, name=None):  # noqa: A002 - TF's argument name
    """TF's ``tf.linalg.logm`` (MatrixLogarithm) takes complex64 and complex128 matrices
    only, and graphc has no complex dtypes: every input is refused with TF's TypeError.

    Example:
        >>> gc.linalg.logm([[1.0, 0.0], [0.0, 1.0]])   # TypeError, as in TF
    """
    if isinstance(input, Tensor):
        matrix = input
    else:
        with Graph().as_default():  # a scratch graph: refusing adds nothing to the user's
            matrix = convert_to_tensor(input, name="input")
    raise TypeError(f"logm (MatrixLogarithm): Value passed to parameter 'input' has DataType "
                    f"{matrix.dtype.name} not in list of allowed values: complex64, "
                    f"complex128 (graphc has no complex dtypes; shape {matrix.shape})")
