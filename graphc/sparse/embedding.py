"""Segment sums over rows picked by index (``tf.sparse.segment_sum``/``mean``/``sqrt_n``,
TF1's ``tf.sparse_segment_*``) and the embedding lookups built on them for SparseTensors of
ids (``tf.nn.embedding_lookup_sparse``, ``safe_embedding_lookup_sparse``), composed from
gather and unsorted segment sums as TF composes them, so gradients reach the embeddings.

Example:
    >>> tags = parsed["tags"]                              # a VarLenFeature: SparseTensor
    >>> bag = gc.nn.embedding_lookup_sparse(embeddings, tags, None, combiner="mean")
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor, graph_of
from graphc.nn_sampled import embedding_lookup
from graphc.ops import elementwise as ew
from graphc.ops import reduce
from graphc.ops.array import concat, stack
from graphc.ops.creation import ones_like, zeros_like
from graphc.ops.indexing import gather, unsorted_segment_sum
from graphc.ops.select import cast, where
from graphc.ops.shape_ops import reshape
from graphc.ops.shape_ops import shape as shape_of
from graphc.ops.sorting import unique
from graphc.sparse.compose import fill_empty_rows, retain
from graphc.sparse.ops import _sparse
from graphc.sparse.ops import reshape as sparse_reshape
from graphc.sparse.tensor import SparseTensor

__all__ = ["segment_sum", "segment_mean", "segment_sqrt_n", "embedding_lookup_sparse",
           "safe_embedding_lookup_sparse"]

_COMBINERS = ("sum", "mean", "sqrtn")


def _segment_count(segment_ids, num_segments):
    if num_segments is not None:
        return convert_to_tensor(num_segments, dtype_hint=segment_ids.dtype)
    # the largest id + 1 (0 without ids), as TF's sorted segment ops size their output
    padded = concat([segment_ids, -ones_like(segment_ids[:1])], axis=0)
    return reduce.reduce_max(padded) + 1


def _per_row(counts, like):
    """``counts`` [segments] shaped to divide rows of ``like`` [segments, ...]."""
    rank = like.shape.rank
    if rank is None:
        raise ValueError("sparse segment ops: data must have a known rank")
    return reshape(counts, [-1] + [1] * (rank - 1))


def _segments(data, indices, segment_ids, num_segments, normalize, what):
    with graph_of(data, indices, segment_ids).as_default():
        data = convert_to_tensor(data)
        rows = gather(data, convert_to_tensor(indices))
        segment_ids = convert_to_tensor(segment_ids)
        count = _segment_count(segment_ids, num_segments)
        sums = unsorted_segment_sum(rows, segment_ids, count)
        if normalize is None:
            return sums
        counts = unsorted_segment_sum(ones_like(segment_ids, dtype=data.dtype), segment_ids,
                                      count)
        divisor = ew.maximum(counts if normalize == "mean" else ew.sqrt(counts),
                             np.ones((), data.dtype.np))
        return sums / _per_row(divisor, sums)


def segment_sum(data, indices, segment_ids, name=None, num_segments=None):
    """``out[s] = sum of data[indices[j]] over j with segment_ids[j] == s`` (TF1
    ``tf.sparse.segment_sum`` / ``tf.sparse_segment_sum``); ``num_segments`` rows, or the
    largest segment id + 1.

    Example:
        >>> gc.sparse.segment_sum(table, [0, 2, 3], [0, 0, 1])   # rows 0+2, then row 3
    """
    return _segments(data, indices, segment_ids, num_segments, None, "segment_sum")


def segment_mean(data, indices, segment_ids, name=None, num_segments=None):
    """As ``segment_sum``, divided by each segment's count (empty segments stay 0)."""
    return _segments(data, indices, segment_ids, num_segments, "mean", "segment_mean")


def segment_sqrt_n(data, indices, segment_ids, name=None, num_segments=None):
    """As ``segment_sum``, divided by the square root of each segment's count."""
    return _segments(data, indices, segment_ids, num_segments, "sqrtn", "segment_sqrt_n")


def embedding_lookup_sparse(params, sp_ids, sp_weights, partition_strategy="mod", name=None,
                            combiner=None, max_norm=None, allow_fast_lookup=False):
    """Per row of the 2-D SparseTensor ``sp_ids``, the combination of the embeddings of its
    ids, weighted by ``sp_weights`` (a SparseTensor like ``sp_ids``, or None for 1) (TF1
    ``tf.nn.embedding_lookup_sparse``): ``combiner`` ``"sum"``, ``"mean"`` (the default: the
    weighted sum over the weights' sum) or ``"sqrtn"`` (over the root of the squared weights'
    sum). The result has a row up to the last row holding an id; rows without ids are 0.

    Example:
        >>> bag = gc.nn.embedding_lookup_sparse(embeddings, word_ids, None, combiner="sum")
    """
    combiner = "mean" if combiner is None else combiner
    if combiner not in _COMBINERS:
        raise ValueError(f"embedding_lookup_sparse: combiner must be one of {_COMBINERS}, "
                         f"got {combiner!r}")
    ids = _sparse(sp_ids, "embedding_lookup_sparse")
    first = params[0] if isinstance(params, (list, tuple)) else params
    with graph_of(first, ids.values).as_default():
        segment_ids = cast(ids.indices[:, 0], gdt.int32)
        unique_ids, position = unique(ids.values)
        found = embedding_lookup(params, unique_ids, partition_strategy, max_norm=max_norm)
        if sp_weights is None:
            normalize = {"sum": None, "mean": "mean", "sqrtn": "sqrtn"}[combiner]
            return _segments(found, position, segment_ids, None, normalize,
                             "embedding_lookup_sparse")
        weights = _sparse(sp_weights, "embedding_lookup_sparse").values
        rows = gather(found, position)
        weighted = rows * _per_row(cast(weights, rows.dtype), rows)
        count = _segment_count(segment_ids, None)
        sums = unsorted_segment_sum(weighted, segment_ids, count)
        if combiner == "sum":
            return sums
        scale = weights if combiner == "mean" else weights * weights
        totals = unsorted_segment_sum(cast(scale, rows.dtype), segment_ids, count)
        totals = totals if combiner == "mean" else ew.sqrt(totals)
        # TF's div_no_nan: a row whose weights sum to 0 is 0
        safe = where(ew.not_equal(totals, zeros_like(totals)), totals, ones_like(totals))
        return sums / _per_row(safe, sums)


def safe_embedding_lookup_sparse(embedding_weights, sparse_ids, sparse_weights=None,
                                 combiner="mean", default_id=None, name=None,
                                 partition_strategy="div", max_norm=None,
                                 allow_fast_lookup=False):
    """``embedding_lookup_sparse`` made safe for every row (TF1
    ``tf.nn.safe_embedding_lookup_sparse``): ids < 0 and weights <= 0 are dropped, a row
    without ids gets ``default_id``'s embedding (zeros without one), and the result has
    ``sparse_ids.dense_shape[:-1] + [dim]``, a row for every row of the input.

    Example:
        >>> bag = gc.nn.safe_embedding_lookup_sparse(embeddings, parsed["tags"])
    """
    ids = _sparse(sparse_ids, "safe_embedding_lookup_sparse")
    if ids.indices.shape.rank != 2 or ids.indices.shape[1] is None:
        raise ValueError("safe_embedding_lookup_sparse: sparse_ids needs a known rank")
    rank = ids.indices.shape[1]
    with graph_of(ids.values).as_default():
        outer_shape = ids.dense_shape[:-1]
        rows = reduce.reduce_prod(outer_shape)
        flat_shape = stack([rows, ids.dense_shape[-1]])
        ids = sparse_reshape(ids, flat_shape) if rank != 2 else ids
        weights = None
        if sparse_weights is not None:
            weights = _sparse(sparse_weights, "safe_embedding_lookup_sparse")
            weights = sparse_reshape(weights, flat_shape) if rank != 2 else weights
        keep = ew.greater_equal(ids.values, zeros_like(ids.values))
        if weights is not None:
            keep = ew.logical_and(keep, ew.greater(weights.values, zeros_like(weights.values)))
            weights = retain(weights, keep)
        ids = retain(ids, keep)
        ids, empty = fill_empty_rows(ids, 0 if default_id is None else default_id)
        if weights is not None:
            weights, _ = fill_empty_rows(weights, 1.0)
        found = embedding_lookup_sparse(embedding_weights, ids, weights, partition_strategy,
                                        combiner=combiner, max_norm=max_norm)
        if default_id is None:  # rows that had no ids are zeros, not id 0's embedding
            found = where(empty, zeros_like(found), found)
        dims = shape_of(found, out_type=gdt.int64)[1:]
        return reshape(found, concat([outer_shape, dims], axis=0), name=name)
