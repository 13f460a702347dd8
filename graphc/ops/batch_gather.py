"""``gather`` with ``batch_dims`` (TF1 ``tf.gather(..., batch_dims=b)`` and
``tf.batch_gather``): for each index of the first ``b`` dimensions, shared by params and
indices, a gather of its own. Built from one plain gather on the flattened batch (an offset
per batch row), so its gradient is gather's.

Example:
    >>> # params [batch, time, depth], ids [batch, k]: each row picks its own time steps
    >>> picked = gc.gather(params, ids, axis=1, batch_dims=1)     # [batch, k, depth]
"""
from __future__ import annotations

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor
from graphc.ops.array import concat
from graphc.ops.creation import range as _range
from graphc.ops import indexing
from graphc.ops.indexing import gather
from graphc.ops.reduce import reduce_prod
from graphc.ops.select import cast
from graphc.ops.shape_ops import expand_dims, reshape, shape, transpose

__all__ = ["gather_with_batch_dims", "batch_gather"]


def gather_with_batch_dims(params, indices, axis, batch_dims, name=None):
    """The batched gather (see the module); ``axis >= batch_dims``, known ranks."""
    params, indices = convert_to_tensor(params), convert_to_tensor(indices)
    p_rank, i_rank = params.shape.rank, indices.shape.rank
    if p_rank is None or i_rank is None:
        raise ValueError("gather: batch_dims needs params and indices of known rank")
    b = batch_dims + i_rank if batch_dims < 0 else batch_dims
    axis = b if axis is None else (axis + p_rank if axis < 0 else axis)
    if not 0 <= b <= i_rank or b > p_rank:
        raise ValueError(f"gather: batch_dims {batch_dims} must be in [-{i_rank}, {i_rank}] "
                         f"and at most params' rank {p_rank}")
    if axis < b or axis >= p_rank:
        raise ValueError(f"gather: axis {axis} must be in [batch_dims={b}, {p_rank})")
    if not params.shape[:b].is_compatible_with(indices.shape[:b]):
        raise ValueError(f"gather: the batch dims of params {params.shape} and indices "
                         f"{indices.shape} differ")
    if b == 0:
        return gather(params, indices, axis=axis, name=name)
    moved = axis != b  # bring the gathered axis next to the batch dims
    if moved:
        order = list(range(b)) + [axis] + [d for d in range(b, p_rank) if d != axis]
        params = transpose(params, order)
    index_type = indices.dtype if indices.dtype in (gdt.int32, gdt.int64) else gdt.int32
    p_shape, i_shape = shape(params), shape(indices)  # int32, as reshape takes them
    batch = reduce_prod(p_shape[:b])
    length = p_shape[b]
    offsets = cast(reshape(_range(batch) * length, [-1, 1]), index_type)  # row r: r * length
    flat_indices = reshape(cast(indices, index_type), concat([
        expand_dims(batch, 0), [-1]], 0)) + offsets
    flat_params = reshape(params, concat([expand_dims(batch * length, 0), p_shape[b + 1:]], 0))
    picked = gather(flat_params, flat_indices)
    out = reshape(picked, concat([i_shape, p_shape[b + 1:]], 0), name=name)
    if moved:  # the picked dims sit after the batch: put them where the axis was
        out_rank = b + (i_rank - b) + (p_rank - b - 1)
        picked_dims = list(range(b, i_rank))
        rest = list(range(i_rank, out_rank))
        before = axis - b  # params' dims that were between the batch and the axis
        order = list(range(b)) + rest[:before] + picked_dims + rest[before:]
        out = transpose(out, order)
    return out


def batch_gather(params, indices, name=None):
    """``gather(params, indices, axis=r, batch_dims=r)`` with ``r = rank(indices) - 1``:
    each row of the leading dims picks along the next one (TF1 ``tf.batch_gather``).

    Example:
        >>> gc.batch_gather([[1, 2, 3], [4, 5, 6]], [[2, 0], [1, 1]])   # [[3, 1], [5, 5]]
    """
    indices = convert_to_tensor(indices)
    if indices.shape.rank is None:
        raise ValueError("batch_gather: indices need a known rank")
    rank = indices.shape.rank - 1
    return gather_with_batch_dims(params, indices, rank, rank, name=name)


indexing.BATCHED_GATHER[0] = gather_with_batch_dims
