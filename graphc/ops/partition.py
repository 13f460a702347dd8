"""``dynamic_partition`` and its inverse ``dynamic_stitch``: ops whose output sizes come from
values (TF1 semantics; indices out of range fail the run naming them).

Example:
    >>> parts = gc.dynamic_partition([10, 20, 30, 40], [0, 1, 0, 1], num_partitions=2)
    >>> gc.dynamic_stitch([[0, 2], [1, 3]], parts)   # [10, 20, 30, 40]
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.ops.array import concat
from graphc.ops.common import apply_op, rand
from graphc.ops.creation import ones, zeros_like
from graphc.ops.creation import range as _range
from graphc.ops.elementwise import equal
from graphc.ops.indexing import gather
from graphc.ops.select import cast
from graphc.ops.shape_ops import reshape, shape, size
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape

__all__ = ["dynamic_partition", "dynamic_stitch"]


def _int32_indices(op_name, dtype, what="partitions"):
    if dtype is not gdt.int32:
        raise TypeError(f"{op_name}: {what} must be int32, got {dtype.name}")


# -- dynamic_partition -------------------------------------------------------------------
def _partition_dtypes(in_dtypes, attrs):
    _int32_indices("dynamic_partition", in_dtypes[1])
    return [in_dtypes[0]] * attrs["num_partitions"]


def _partition_shapes(inputs, attrs):
    data, partitions = inputs[0].shape, inputs[1].shape
    if attrs["num_partitions"] < 1:
        raise ValueError(f"dynamic_partition: num_partitions must be at least 1, got "
                         f"{attrs['num_partitions']}")
    if data.rank is None or partitions.rank is None:
        return [TensorShape(None)] * attrs["num_partitions"]
    if partitions.rank > data.rank or not TensorShape(data.dims[:partitions.rank]) \
            .is_compatible_with(partitions):
        raise ValueError(f"dynamic_partition: partitions of shape {partitions} must be a "
                         f"prefix of data's shape {data}")
    return [TensorShape([None] + list(data.dims[partitions.rank:]))] * attrs["num_partitions"]


def _partition_kernel(data, partitions, num_partitions):
    if partitions.size and (partitions.min() < 0 or partitions.max() >= num_partitions):
        bad = partitions[(partitions < 0) | (partitions >= num_partitions)].ravel()[0]
        raise IndexError(f"dynamic_partition: partitions holds {bad}, not in [0, "
                         f"{num_partitions})")
    if partitions.shape != data.shape[:partitions.ndim]:
        raise ValueError(f"dynamic_partition: partitions of shape {partitions.shape} must be "
                         f"a prefix of data's shape {data.shape}")
    rows = data.reshape((partitions.size,) + data.shape[partitions.ndim:])
    flat = partitions.reshape(-1)
    return tuple(rows[flat == i] for i in range(num_partitions))


def _partition_grad(op, *dys):
    data, partitions = op.inputs
    dys = [dy if dy is not None else zeros_like(out) for dy, out in zip(dys, op.outputs)]
    positions = reshape(_arange(size(partitions)), shape(partitions))
    placed = dynamic_partition(positions, partitions, op.attrs["num_partitions"])
    return [reshape(dynamic_stitch(placed, dys), shape(data)), None]


def _arange(n):
    return _range(n)


DYNAMIC_PARTITION = registry.register(OpDef(
    name="dynamic_partition", dtypes=_partition_dtypes, shapes=_partition_shapes,
    kernel=_partition_kernel, grad=_partition_grad, attrs={"num_partitions": None},
    raises_on_values=True, unknown_rank_ok=True,
    reference=lambda data, partitions, num_partitions: [
        np.array([d for d, p in zip(data.reshape((partitions.size,) + data.shape[
            partitions.ndim:]), partitions.ravel()) if p == i]).reshape(
            (-1,) + data.shape[partitions.ndim:]) for i in range(num_partitions)],
    samples=lambda: [Sample((rand(6, 2), np.array([0, 2, 1, 0, 2, 2], np.int32), 3)),
                     Sample((rand(2, 3), np.array([[1, 0, 1], [0, 0, 1]], np.int32), 2)),
                     Sample((rand(0, 2), np.zeros(0, np.int32), 2))],
    error_samples=lambda: [ErrorSample((rand(3, 2), np.zeros(2, np.int32), 2),
                                       match="must be a prefix")],
    doc="The rows of data sorted into num_partitions outputs by partitions."))


@registry.public(DYNAMIC_PARTITION)
def dynamic_partition(data, partitions, num_partitions, name=None):
    """``data``'s slices split into ``num_partitions`` tensors by ``partitions`` (int32, a
    prefix of data's shape, values in [0, num_partitions)), each in its original order
    (TF1 ``tf.dynamic_partition``).

    Example:
        >>> evens, odds = gc.dynamic_partition(x, gc.mod(ids, 2), 2)
    """
    outputs = apply_op("dynamic_partition", [data, partitions],
                       {"num_partitions": int(num_partitions)}, name=name or "DynamicPartition")
    return list(outputs) if isinstance(outputs, tuple) else [outputs]


# -- dynamic_stitch ----------------------------------------------------------------------
def _stitch_dtypes(in_dtypes, attrs):
    half = len(in_dtypes) // 2
    for dtype in in_dtypes[:half]:
        _int32_indices("dynamic_stitch", dtype, "indices")
    if len(set(in_dtypes[half:])) != 1:
        raise TypeError(f"dynamic_stitch: data must have one dtype, got "
                        f"{', '.join(d.name for d in in_dtypes[half:])}")
    return [in_dtypes[half]]


def _stitch_shapes(inputs, attrs):
    half = len(inputs) // 2
    rest = None
    for index, data in zip(inputs[:half], inputs[half:]):
        i, d = index.shape, data.shape
        if i.rank is None or d.rank is None:
            continue
        if not TensorShape(d.dims[:i.rank]).is_compatible_with(i):
            raise ValueError(f"dynamic_stitch: data of shape {d} does not start with its "
                             f"indices' shape {i}")
        tail = TensorShape(d.dims[i.rank:])
        rest = tail if rest is None else rest.merge_with(tail)
    return [TensorShape(None) if rest is None else TensorShape([None] + list(rest.dims))]


def _stitch_kernel(*arrays):
    half = len(arrays) // 2
    indices, data = arrays[:half], arrays[half:]
    if any(i.size and i.min() < 0 for i in indices):
        raise IndexError("dynamic_stitch: indices must be non-negative")
    length = max((int(i.max()) + 1 for i in indices if i.size), default=0)
    tail = data[0].shape[indices[0].ndim:]
    out = np.zeros((length,) + tail, data[0].dtype)
    for index, values in zip(indices, data):
        out[index.reshape(-1)] = values.reshape((index.size,) + tail)  # later lists win
    return out


def _stitch_grad(op, dy):
    half = len(op.inputs) // 2
    indices = op.inputs[:half]
    # an element overwritten by a later list (a repeated index) did not reach the output
    counts = [size(i) for i in indices]
    ids, start = [], 0
    for index, count in zip(indices, counts):
        ids.append(reshape(_arange(count) + start, shape(index)))
        start = start + count
    winners = dynamic_stitch(list(indices), ids)
    grads = []
    for index, own in zip(indices, ids):
        reached = cast(equal(gather(winners, index), own), dy.dtype)
        picked = gather(dy, index)
        grads.append(picked * reshape(reached, _mask_shape(index, picked)))
    return [None] * half + grads


def _mask_shape(index, picked):
    extra = picked.shape.rank - index.shape.rank if picked.shape.rank is not None else None
    if extra is None:
        raise ValueError("dynamic_stitch gradient: data of unknown rank")
    return concat([shape(index), cast(ones([extra]), gdt.int32)], 0)


DYNAMIC_STITCH = registry.register(OpDef(
    name="dynamic_stitch", dtypes=_stitch_dtypes, shapes=_stitch_shapes, kernel=_stitch_kernel,
    grad=_stitch_grad, raises_on_values=True, unknown_rank_ok=True,
    reference=lambda indices, data: _stitch_kernel(*indices, *data),
    samples=lambda: [Sample(([np.array([0, 2], np.int32), np.array([1, 3], np.int32)],
                             [rand(2, 3), rand(2, 3)])),
                     Sample(([np.array([[3], [0]], np.int32), np.array([1, 2, 0], np.int32)],
                             [rand(2, 1, 2), rand(3, 2)])),
                     Sample(([np.array(1, np.int32)], [rand(2)]))],
    error_samples=lambda: [ErrorSample(([np.array([0, 1], np.int32)], [rand(3, 2)]),
                                       match="does not start with")],
    doc="Interleave data lists into one tensor at the given indices (later lists win)."))


@registry.public(DYNAMIC_STITCH)
def dynamic_stitch(indices, data, name=None):
    """One tensor ``merged`` with ``merged[indices[m][i]] = data[m][i]``, its first
    dimension the largest index plus one; where indices repeat, the later list wins (TF1
    ``tf.dynamic_stitch``; positions no index names are 0).

    Example:
        >>> gc.dynamic_stitch([[0, 2], [1, 3]], [[10, 30], [20, 40]])   # [10, 20, 30, 40]
    """
    indices, data = list(indices), list(data)
    if not indices or len(indices) != len(data):
        raise ValueError(f"dynamic_stitch: indices and data must be non-empty lists of one "
                         f"length, got {len(indices)} and {len(data)}")
    return apply_op("dynamic_stitch", indices + data, name=name or "DynamicStitch")
