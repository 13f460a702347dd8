"""``tf.sparse`` functions over the present values only, per output position (TF's
semantics: implicit zeros take no part): ``reduce_max`` (empty positions give 0),
``reduce_max_sparse`` / ``reduce_sum_sparse`` (only the positions that have values),
``softmax`` over the last dim, the elementwise ``maximum`` / ``minimum`` of two
SparseTensors (there implicit zeros do count, as in TF), and ``split``. Composed from
segment reductions, so they need the rank known when the graph is built.

Example:
    >>> probs = gc.sparse.softmax(scores)          # each row's present values sum to 1
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc.ops import elementwise as ew
from graphc.ops import reduce
from graphc.ops.array import concat, stack
from graphc.ops.creation import ones_like, zeros_like
from graphc.ops.cumulative import cumprod
from graphc.ops.indexing import gather, unsorted_segment_sum
from graphc.ops.search_repeat import unravel_index
from graphc.ops.segment import unsorted_segment_max, unsorted_segment_min
from graphc.ops.select import cast, where
from graphc.ops.shape_ops import reshape
from graphc.ops.shape_ops import shape as shape_of
from graphc.ops.shape_ops import transpose as dense_transpose
from graphc.ops.sorting import unique
from graphc.sparse.compose import _rank
from graphc.sparse.compose import slice as sparse_slice
from graphc.sparse.ops import _sparse, reorder
from graphc.sparse.tensor import SparseTensor

__all__ = ["reduce_max", "reduce_max_sparse", "reduce_sum_sparse", "softmax", "maximum",
           "minimum", "split"]


def _linear(indices, shape):
    """Row-major positions of ``indices`` [N, R] in a dense tensor of ``shape`` [R]."""
    strides = cumprod(shape, exclusive=True, reverse=True)
    return reduce.reduce_sum(indices * strides, axis=1)


def _by_position(sp, axis, what):
    """``(positions, count of positions, the output's shape, kept dims, rank)`` for
    reducing ``sp`` over ``axis`` (None: all dims)."""
    rank = _rank(sp, what)
    axes = set(range(rank)) if axis is None else {
        int(a) % rank for a in np.atleast_1d(axis)}
    kept = [d for d in range(rank) if d not in axes]
    if not kept:
        positions = zeros_like(sp.indices[:, 0])
        return positions, np.int64(1), np.zeros(0, np.int64), kept, axes
    out_shape = gather(sp.dense_shape, kept)
    positions = _linear(gather(sp.indices, kept, axis=1), out_shape)
    return positions, reduce.reduce_prod(out_shape), out_shape, kept, axes


def _keep_shape(sp, axes, rank):
    return gather(concat([sp.dense_shape, np.ones(1, np.int64)], axis=0),
                  [rank if d in axes else d for d in range(rank)])


def _reduced(sp, axis, what, combine):
    positions, count, out_shape, kept, axes = _by_position(sp, axis, what)
    values = combine(sp.values, positions, count)
    present = unsorted_segment_sum(ones_like(positions), positions, count)
    return values, present, out_shape, kept, axes


def reduce_max(sp_input, axis=None, keepdims=None, reduction_axes=None, keep_dims=None,
               name=None):
    """The largest present value over ``axis`` as a dense tensor, 0 where no value is
    present (TF1 ``tf.sparse.reduce_max`` / ``tf.sparse_reduce_max``).

    Example:
        >>> gc.sparse.reduce_max(gc.SparseTensor([[0, 0], [1, 1]], [-7.0, 3.0], [3, 2]), 1)
        ...                                                         # [-7., 3., 0.]
    """
    sp = _sparse(sp_input, "sparse.reduce_max")
    axis = reduction_axes if axis is None else axis
    keep = keep_dims if keepdims is None else keepdims
    values, present, out_shape, kept, axes = _reduced(sp, axis, "sparse.reduce_max",
                                                      unsorted_segment_max)
    dense = where(ew.greater(present, 0), values, zeros_like(values))
    target = _keep_shape(sp, axes, len(kept) + len(axes)) if keep else out_shape
    return reshape(dense, target, name=name)


def _reduce_sparse(sp_input, axis, keepdims, what, combine) -> SparseTensor:
    sp = _sparse(sp_input, what)
    values, present, out_shape, kept, axes = _reduced(sp, axis, what, combine)
    rank = len(kept) + len(axes)
    shape = _keep_shape(sp, axes, rank) if keepdims else out_shape
    where_present = cast(reshape(where(ew.greater(present, 0)), [-1]), gdt.int64)
    if kept:
        indices = dense_transpose(unravel_index(where_present, shape))
    else:
        indices = reshape(where_present, [-1, 0]) if not keepdims else \
            zeros_like(reshape(where_present, [-1, 1])) * np.ones((1, rank), np.int64)
    return SparseTensor(indices, gather(values, where_present), shape)


def reduce_max_sparse(sp_input, axis=None, keepdims=None, reduction_axes=None,
                      keep_dims=None):
    """``reduce_max`` as a SparseTensor of the positions that have values (TF1
    ``tf.sparse.reduce_max_sparse``)."""
    return _reduce_sparse(sp_input, reduction_axes if axis is None else axis,
                          keep_dims if keepdims is None else keepdims,
                          "sparse.reduce_max_sparse", unsorted_segment_max)


def reduce_sum_sparse(sp_input, axis=None, keepdims=None, reduction_axes=None,
                      keep_dims=None):
    """``sparse.reduce_sum`` as a SparseTensor of the positions that have values (TF1
    ``tf.sparse.reduce_sum_sparse``)."""
    return _reduce_sparse(sp_input, reduction_axes if axis is None else axis,
                          keep_dims if keepdims is None else keepdims,
                          "sparse.reduce_sum_sparse", unsorted_segment_sum)


def softmax(sp_input, name=None) -> SparseTensor:
    """The softmax of each row's present values along the last dim, the other entries
    staying implicit (TF1 ``tf.sparse.softmax``; indices in row-major order).

    Example:
        >>> attention = gc.sparse.softmax(scores)      # a [batch, keys] SparseTensor
    """
    sp = _sparse(sp_input, "sparse.softmax")
    rank = _rank(sp, "sparse.softmax")
    positions, count, _, _, _ = _by_position(sp, rank - 1, "sparse.softmax")
    largest = gather(unsorted_segment_max(sp.values, positions, count), positions)
    exps = ew.exp(sp.values - largest)  # shifted by the row's largest: no overflow
    totals = gather(unsorted_segment_sum(exps, positions, count), positions)
    return SparseTensor(sp.indices, exps / totals, sp.dense_shape)


def _elementwise(sp_a, sp_b, segment_op, pick, what) -> SparseTensor:
    a, b = _sparse(sp_a, what), _sparse(sp_b, what)
    _rank(a, what)
    indices = concat([a.indices, b.indices], axis=0)
    positions, segment = unique(_linear(indices, a.dense_shape), out_idx=gdt.int64)
    count = shape_of(positions, out_type=gdt.int64)[0]
    values = segment_op(concat([a.values, b.values], axis=0), segment, count)
    # where only one operand has a value, the other's is an implicit zero
    both = ew.equal(unsorted_segment_sum(ones_like(segment), segment, count), 2)
    values = where(both, values, pick(values, zeros_like(values)))
    return reorder(SparseTensor(dense_transpose(unravel_index(positions, a.dense_shape)),
                                values, a.dense_shape))


def maximum(sp_a, sp_b, name=None) -> SparseTensor:
    """The elementwise maximum of two SparseTensors of one shape, implicit zeros included
    (TF1 ``tf.sparse.maximum``; each operand's indices must be unique)."""
    return _elementwise(sp_a, sp_b, unsorted_segment_max, ew.maximum, "sparse.maximum")


def minimum(sp_a, sp_b, name=None) -> SparseTensor:
    """The elementwise minimum of two SparseTensors of one shape (TF1 ``tf.sparse.minimum``)."""
    return _elementwise(sp_a, sp_b, unsorted_segment_min, ew.minimum, "sparse.minimum")


def split(keyword_required=None, sp_input=None, num_split=None, axis=None, name=None,
          split_dim=None) -> list:
    """``num_split`` SparseTensors cut from ``sp_input`` along ``axis``; the first
    ``size % num_split`` get one more (TF1 ``tf.sparse.split``, keyword arguments).

    Example:
        >>> left, right = gc.sparse.split(sp_input=st, num_split=2, axis=1)
    """
    axis = split_dim if axis is None else axis
    if keyword_required is not None or sp_input is None or num_split is None or axis is None:
        raise ValueError("sparse.split takes keyword arguments: sp_input=, num_split=, axis=")
    sp = _sparse(sp_input, "sparse.split")
    rank = _rank(sp, "sparse.split")
    axis, count = int(axis) % rank, int(num_split)
    size = sp.dense_shape[axis]
    pieces, start = [], np.zeros((), np.int64)
    for index in range(count):
        length = size // count + cast(ew.less(np.int64(index), size % count), gdt.int64)
        box_start = stack([start if d == axis else np.int64(0) for d in range(rank)])
        box_size = stack([length if d == axis else sp.dense_shape[d] for d in range(rank)])
        pieces.append(sparse_slice(sp, box_start, box_size))
        start = start + length
    return pieces
