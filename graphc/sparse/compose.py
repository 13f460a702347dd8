"""``tf.sparse`` functions that TF itself composes from other ops: each is a few graph ops
on the three parts (gather, concat, boolean_mask, unique, segment sums...), so gradients
reach the values wherever those ops have them. They need the rank (``indices.shape[1]``)
known when the graph is built.

Example:
    >>> gc.sparse.transpose(st)                   # [n, m] -> [m, n], in row-major order
    >>> gc.sparse.add(st, st)                     # a SparseTensor, duplicates summed
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor, graph_of
from graphc.ops import elementwise as ew
from graphc.ops import reduce
from graphc.ops.array import concat, stack
from graphc.ops.creation import range as arange
from graphc.ops.creation import ones_like, zeros
from graphc.ops.cumulative import cumprod
from graphc.ops.indexing import gather, unsorted_segment_sum
from graphc.ops.masking import boolean_mask
from graphc.ops.scatter import scatter_nd
from graphc.ops.search_repeat import unravel_index
from graphc.ops.select import cast
from graphc.ops.shape_ops import shape as shape_of
from graphc.ops.shape_ops import transpose as dense_transpose
from graphc.ops.sorting import unique
from graphc.sparse.ops import _int64, _sparse, reorder
from graphc.sparse.tensor import SparseTensor

__all__ = ["transpose", "expand_dims", "reset_shape", "retain", "to_indicator", "add",
           "slice", "concat_sparse", "eye", "fill_empty_rows"]


def _rank(sp: SparseTensor, what: str) -> int:
    rank = sp.indices.shape[1] if sp.indices.shape.rank == 2 else None
    if rank is None:
        raise ValueError(f"{what}: the SparseTensor's rank (indices.shape[1]) must be known "
                         "when the graph is built")
    return rank


def transpose(sp_input, perm=None, name=None) -> SparseTensor:
    """The SparseTensor with its dims permuted by ``perm`` (reversed by default), entries in
    row-major order (TF1 ``tf.sparse.transpose``).

    Example:
        >>> gc.sparse.transpose(gc.SparseTensor([[0, 2]], [1.0], [2, 3]))   # [[2, 0]], [3, 2]
    """
    sp = _sparse(sp_input, "sparse.transpose")
    rank = _rank(sp, "sparse.transpose")
    perm = list(range(rank))[::-1] if perm is None else [int(p) for p in perm]
    if sorted(perm) != list(range(rank)):
        raise ValueError(f"sparse.transpose: perm {perm} is not a permutation of {rank} dims")
    return reorder(SparseTensor(gather(sp.indices, perm, axis=1), sp.values,
                                gather(sp.dense_shape, perm)), name=name)


def expand_dims(sp_input, axis=None, name=None) -> SparseTensor:
    """The SparseTensor with a dim of size 1 inserted at ``axis`` (TF1
    ``tf.sparse.expand_dims``; -1 appends).

    Example:
        >>> gc.sparse.expand_dims(st, 0)              # [n, m] -> [1, n, m]
    """
    sp = _sparse(sp_input, "sparse.expand_dims")
    rank = _rank(sp, "sparse.expand_dims")
    axis = -1 if axis is None else int(axis)
    if not -rank - 1 <= axis <= rank:
        raise ValueError(f"sparse.expand_dims: axis {axis} is out of range for rank {rank}")
    axis = axis % (rank + 1)
    column = zeros(stack([shape_of(sp.indices, out_type=gdt.int64)[0], 1]), gdt.int64)
    indices = concat([sp.indices[:, :axis], column, sp.indices[:, axis:]], axis=1)
    dense_shape = concat([sp.dense_shape[:axis], np.ones(1, np.int64),
                          sp.dense_shape[axis:]], axis=0)
    return SparseTensor(indices, sp.values, dense_shape)


def reset_shape(sp_input, new_shape=None) -> SparseTensor:
    """The SparseTensor with dense shape ``new_shape``, or the tightest one holding its
    indices (each dim's largest index + 1) (TF1 ``tf.sparse.reset_shape``).

    Example:
        >>> gc.sparse.reset_shape(gc.SparseTensor([[1, 2]], [1.0], [5, 5]))   # shape [2, 3]
    """
    sp = _sparse(sp_input, "sparse.reset_shape")
    if new_shape is None:
        _rank(sp, "sparse.reset_shape")
        return SparseTensor(sp.indices, sp.values, reduce.reduce_max(sp.indices, axis=0) + 1)
    return SparseTensor(sp.indices, sp.values, _int64(new_shape))


def retain(sp_input, to_retain) -> SparseTensor:
    """The entries of ``sp_input`` where the bool vector ``to_retain`` is True (TF1
    ``tf.sparse.retain``).

    Example:
        >>> positive = gc.sparse.retain(st, st.values > 0)
    """
    sp = _sparse(sp_input, "sparse.retain")
    with graph_of(sp.values, to_retain).as_default():
        keep = convert_to_tensor(to_retain, dtype=gdt.bool)
        return SparseTensor(boolean_mask(sp.indices, keep), boolean_mask(sp.values, keep),
                            sp.dense_shape)


def to_indicator(sp_input, vocab_size, name=None):
    """A dense bool tensor ``[..., vocab_size]``: True at the positions the int values of
    ``sp_input`` (ids along its last dim) name (TF1 ``tf.sparse.to_indicator``).

    Example:
        >>> multi_hot = gc.sparse.to_indicator(parsed["tags"], vocab_size=1000)
    """
    sp = _sparse(sp_input, "sparse.to_indicator")
    rank = _rank(sp, "sparse.to_indicator")
    ids = cast(sp.values, gdt.int64)
    indices = concat([sp.indices[:, :rank - 1], stack([ids], axis=1)], axis=1)
    shape = concat([sp.dense_shape[:rank - 1], _int64([vocab_size])], axis=0)
    hits = scatter_nd(indices, ones_like(ids, dtype=gdt.int32), shape)
    return ew.greater(hits, 0, name=name)


def add(a, b, threshold=None, thresh=0):
    """``a + b`` (TF1 ``tf.sparse.add``): a dense tensor when one operand is dense, else a
    SparseTensor whose entries at the same index are summed, those with ``|sum| <
    threshold`` dropped.

    Example:
        >>> total = gc.sparse.add(st_a, st_b)
    """
    threshold = thresh if threshold is None else threshold
    a_sparse = isinstance(a, SparseTensor) or hasattr(a, "dense_shape")
    b_sparse = isinstance(b, SparseTensor) or hasattr(b, "dense_shape")
    if a_sparse != b_sparse:
        sp, dense = (_sparse(a, "sparse.add"), b) if a_sparse else (_sparse(b, "sparse.add"), a)
        return scatter_nd(sp.indices, sp.values, sp.dense_shape) + dense
    if not a_sparse:
        raise TypeError("sparse.add: at least one operand must be a SparseTensor")
    a, b = _sparse(a, "sparse.add"), _sparse(b, "sparse.add")
    _rank(a, "sparse.add")
    indices = concat([a.indices, b.indices], axis=0)
    values = concat([a.values, b.values], axis=0)
    strides = cumprod(a.dense_shape, exclusive=True, reverse=True)
    linear = reduce.reduce_sum(indices * strides, axis=1)
    positions, segment = unique(linear, out_idx=gdt.int64)
    summed = unsorted_segment_sum(values, segment, shape_of(positions, out_type=gdt.int64)[0])
    merged = SparseTensor(dense_transpose(unravel_index(positions, a.dense_shape)), summed,
                          a.dense_shape)
    if threshold:
        merged = retain(merged, ew.greater_equal(ew.abs(summed), threshold))
    return reorder(merged)


def slice(sp_input, start, size, name=None) -> SparseTensor:  # noqa: A001 - TF1's name
    """The entries of ``sp_input`` inside the box ``[start, start + size)``, re-based to it
    (TF1 ``tf.sparse.slice``); the dense shape is the box clipped to the input's.

    Example:
        >>> first_rows = gc.sparse.slice(st, [0, 0], [2, 10])
    """
    sp = _sparse(sp_input, "sparse.slice")
    _rank(sp, "sparse.slice")
    start, size = _int64(start), _int64(size)
    end = ew.minimum(start + size, sp.dense_shape)
    inside = reduce.reduce_all(ew.logical_and(ew.greater_equal(sp.indices, start),
                                              ew.less(sp.indices, end)), axis=1)
    kept = retain(sp, inside)
    return SparseTensor(kept.indices - start, kept.values, ew.maximum(end - start, 0))


def concat_sparse(axis, sp_inputs, name=None, expand_nonconcat_dim=False,
                  concat_dim=None, expand_nonconcat_dims=None) -> SparseTensor:
    """The SparseTensors ``sp_inputs`` joined along ``axis`` (TF1 ``tf.sparse.concat``;
    the other dims must agree, or with ``expand_nonconcat_dim`` take the largest).

    Example:
        >>> both = gc.sparse.concat(1, [st_a, st_b])
    """
    parts = [_sparse(sp, "sparse.concat") for sp in sp_inputs]
    axis = int(concat_dim if concat_dim is not None else axis)
    rank = _rank(parts[0], "sparse.concat")
    axis %= rank
    offset = np.eye(rank, dtype=np.int64)[axis]
    indices, shift = [], None
    for sp in parts:
        indices.append(sp.indices if shift is None else sp.indices + shift * offset)
        size = sp.dense_shape[axis]
        shift = size if shift is None else shift + size
    others = reduce.reduce_max(stack([sp.dense_shape for sp in parts]), axis=0) \
        if expand_nonconcat_dim or expand_nonconcat_dims else parts[0].dense_shape
    dense_shape = others * (1 - offset) + shift * offset
    return reorder(SparseTensor(concat(indices, axis=0),
                                concat([sp.values for sp in parts], axis=0), dense_shape),
                   name=name)


def eye(num_rows, num_columns=None, dtype=gdt.float32, name=None) -> SparseTensor:
    """A sparse identity matrix ``[num_rows, num_columns]`` (TF1 ``tf.sparse.eye``).

    Example:
        >>> gc.sparse.eye(3)                          # indices [[0, 0], [1, 1], [2, 2]]
    """
    rows = _int64(num_rows)
    columns = rows if num_columns is None else _int64(num_columns)
    diagonal = arange(ew.minimum(rows, columns), dtype=gdt.int64)
    return SparseTensor(stack([diagonal, diagonal], axis=1),
                        ones_like(diagonal, dtype=gdt.as_dtype(dtype)),
                        stack([rows, columns]))


def fill_empty_rows(sp_input, default_value, name=None):
    """``(sp, empty_row_indicator)``: ``sp_input`` with ``default_value`` at ``[row, 0, ...]``
    of every row (dim 0) that has no entry, and the bool vector of those rows (TF1
    ``tf.sparse.fill_empty_rows``; embedding lookups use it).

    Example:
        >>> filled, was_empty = gc.sparse.fill_empty_rows(ids, 0)
    """
    sp = _sparse(sp_input, "sparse.fill_empty_rows")
    rank = _rank(sp, "sparse.fill_empty_rows")
    rows = sp.dense_shape[0]
    counts = unsorted_segment_sum(ones_like(sp.indices[:, 0]), sp.indices[:, 0], rows)
    empty = ew.equal(counts, 0)
    empty_rows = boolean_mask(arange(rows, dtype=gdt.int64), empty)
    new_indices = concat([stack([empty_rows], axis=1),
                          zeros(stack([shape_of(empty_rows, out_type=gdt.int64)[0],
                                       rank - 1]), gdt.int64)], axis=1)
    fill = ones_like(empty_rows, dtype=sp.dtype) * convert_to_tensor(default_value,
                                                                    dtype=sp.dtype)
    filled = SparseTensor(concat([sp.indices, new_indices], axis=0),
                          concat([sp.values, fill], axis=0), sp.dense_shape)
    return reorder(filled, name=name), empty
