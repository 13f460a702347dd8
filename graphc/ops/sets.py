"""Set operations over the last dimension (TF's ``tf.sets``): ``set_operation`` (intersection,
union, a - b, b - a) of two dense or sparse operands, and ``set_size``.

Each row (an index into the leading dimensions) holds a set: a dense row's elements, or a
sparse row's values (at indices with that prefix). Results are SparseTensor parts (int64
indices ``[N, rank]``, values, int64 dense_shape): each row's result sorted ascending, the
last dimension as wide as the largest row. Integer and string elements only, as in TF; no
gradient (sets are not differentiable).

Example:
    >>> indices, values, shape = apply_op("set_operation", [a, b],
    ...                                   {"operation": "intersection"})
"""
from __future__ import annotations

import math

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.ops.sparse_ops import _check_in_bounds, _check_order
from graphc.registry import OpDef
from graphc.shapes import TensorShape

__all__ = ["SET_OPERATION", "SET_SIZE", "SET_DTYPES", "OPERATIONS"]

SET_DTYPES = (gdt.int8, gdt.int16, gdt.int32, gdt.int64, gdt.uint8, gdt.uint16, gdt.string)
# what each row's result is, from the row's two sets (sorted NumPy arrays of unique values)
OPERATIONS = {
    "intersection": lambda a, b: np.intersect1d(a, b, assume_unique=True),
    "union": lambda a, b: np.union1d(a, b),
    "a-b": lambda a, b: np.setdiff1d(a, b, assume_unique=True),
    "b-a": lambda a, b: np.setdiff1d(b, a, assume_unique=True),
}
_TESTS = "tests/test_sets.py"


def _operand_count(sparse: bool) -> int:
    return 3 if sparse else 1


def _split(inputs, attrs):
    """The two operands' input groups: a dense tensor, or (indices, values, dense_shape)."""
    cut = _operand_count(attrs["a_sparse"])
    return inputs[:cut], inputs[cut:]


def _set_dtypes(in_dtypes, attrs):
    a, b = _split(in_dtypes, attrs)
    elements = [group[1] if len(group) == 3 else group[0] for group in (a, b)]
    if elements[0] not in SET_DTYPES:
        raise TypeError(f"set_operation: 'a' has invalid dtype {elements[0].name}, not one of "
                        f"{[d.name for d in SET_DTYPES]}")
    if elements[0] is not elements[1]:
        raise TypeError(f"set_operation: types don't match, {elements[0].name} vs "
                        f"{elements[1].name}")
    for group, what in ((a, "a"), (b, "b")):
        if len(group) == 3 and (group[0] is not gdt.int64 or group[2] is not gdt.int64):
            raise TypeError(f"set_operation: the indices and dense_shape of '{what}' must be "
                            "int64")
    return [gdt.int64, elements[0], gdt.int64]


def _set_shapes(inputs, attrs):
    ranks = []
    for group, what in zip(_split(inputs, attrs), ("a", "b")):
        rank = group[2].shape.dims[0] if len(group) == 3 and group[2].shape.rank == 1 \
            else (None if len(group) == 3 else group[0].shape.rank)
        if rank is not None and rank < 2:
            raise ValueError(f"set_operation: '{what}' must have rank 2 or more (sets along "
                             f"the last dimension), got rank {rank}")
        ranks.append(rank)
    rank = ranks[0] if ranks[0] is not None else ranks[1]
    if None not in ranks and ranks[0] != ranks[1]:
        raise ValueError(f"set_operation: 'a' and 'b' have ranks {ranks[0]} and {ranks[1]}; "
                         "they must match")
    return [TensorShape([None, rank]), TensorShape([None]), TensorShape([rank])]


def _rows(group, op_name, what, validate):
    """``(leading shape, [row's sorted unique values, ...])`` of one operand."""
    if len(group) == 1:
        dense = np.asarray(group[0])
        if dense.ndim < 2:
            raise ValueError(f"{op_name}: '{what}' must have rank 2 or more, got shape "
                             f"{list(dense.shape)}")
        leading = dense.shape[:-1]
        flat = dense.reshape(math.prod(leading), dense.shape[-1])
        return leading, [np.unique(row) for row in flat]
    indices, values, shape = (np.asarray(g) for g in group)
    shape = tuple(int(d) for d in shape)
    if len(shape) < 2 or indices.ndim != 2 or indices.shape != (len(values), len(shape)):
        raise ValueError(f"{op_name}: '{what}' is not a SparseTensor of rank 2 or more: "
                         f"indices {list(indices.shape)}, values {list(values.shape)}, "
                         f"dense_shape {list(shape)}")
    if validate:
        _check_in_bounds(op_name, indices, shape)
        _check_order(op_name, indices, shape)
    leading = shape[:-1]
    row_of = np.ravel_multi_index(tuple(indices[:, :-1].T), leading) if len(values) else \
        np.zeros(0, np.int64)
    order = np.argsort(row_of, kind="stable")
    bounds = np.searchsorted(row_of[order], np.arange(math.prod(leading) + 1))
    return leading, [np.unique(values[order[lo:hi]]) for lo, hi in zip(bounds, bounds[1:])]


def _as_sparse(leading, results, dtype):
    width = max((len(r) for r in results), default=0)
    counts = np.array([len(r) for r in results], np.int64)
    rows = np.repeat(np.arange(len(results)), counts)
    columns = np.concatenate([np.arange(n) for n in counts]) if len(results) else \
        np.zeros(0, np.int64)
    prefix = np.stack(np.unravel_index(rows, leading), axis=1) if len(leading) else \
        np.zeros((len(rows), 0), np.int64)
    indices = np.concatenate([prefix, columns[:, None]], axis=1).astype(np.int64)
    values = np.concatenate(results).astype(dtype, copy=False) if results and counts.sum() \
        else np.zeros(0, dtype)
    return indices.reshape(-1, len(leading) + 1), values, np.array([*leading, width], np.int64)


def _set_kernel(*inputs, operation, a_sparse, b_sparse, validate_indices):
    cut = _operand_count(a_sparse)
    (a_leading, a_rows), (b_leading, b_rows) = (
        _rows(group, "set_operation", what, validate_indices)
        for group, what in ((inputs[:cut], "a"), (inputs[cut:], "b")))
    if a_leading != b_leading:
        raise ValueError(f"set_operation: 'a' and 'b' must have the same dimensions but the "
                         f"last: {list(a_leading)} vs {list(b_leading)}")
    combine = OPERATIONS[operation]
    dtype = (inputs[1] if a_sparse else inputs[0]).dtype
    return _as_sparse(a_leading, [combine(a, b) for a, b in zip(a_rows, b_rows)], dtype)


SET_OPERATION = registry.register(OpDef(
    name="set_operation", dtypes=_set_dtypes, shapes=_set_shapes, kernel=_set_kernel,
    grad=registry.NOT_DIFFERENTIABLE,
    attrs={"operation": "intersection", "a_sparse": False, "b_sparse": False,
           "validate_indices": True},
    unknown_rank_ok=True, tested_elsewhere=_TESTS,
    doc="The set intersection, union or difference of two operands' rows (last dimension), "
        "as SparseTensor parts."))


def _size_dtypes(in_dtypes, attrs):
    if in_dtypes[1] not in SET_DTYPES:
        raise TypeError(f"set_size: invalid dtype {in_dtypes[1].name}, not one of "
                        f"{[d.name for d in SET_DTYPES]}")
    return [gdt.int32]


def _size_kernel(indices, values, dense_shape, validate_indices):
    leading, rows = _rows((indices, values, dense_shape), "set_size", "a", validate_indices)
    return np.array([len(r) for r in rows], np.int32).reshape(leading)


SET_SIZE = registry.register(OpDef(
    name="set_size", dtypes=_size_dtypes, shapes=lambda ins, attrs: [TensorShape(None)],
    kernel=_size_kernel, grad=registry.NOT_DIFFERENTIABLE,
    attrs={"validate_indices": True}, unknown_rank_ok=True, tested_elsewhere=_TESTS,
    doc="How many distinct values each row (last dimension) of a SparseTensor holds."))
