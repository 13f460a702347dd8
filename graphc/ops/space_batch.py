"""space_to_batch_nd / batch_to_space_nd (and TF1's 4-D space_to_batch, batch_to_space),
each the other's gradient, and roll."""
from __future__ import annotations

import numpy as np

from graphc import registry
from graphc.graph import Tensor
from graphc.ops.common import apply_op, normalize_axis, rand, randint, static_axis
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape

__all__ = ["space_to_batch_nd", "batch_to_space_nd", "space_to_batch", "batch_to_space",
           "roll"]


def _check_blocks(op_name, shape, block_shape, pairs, what):
    m = len(block_shape)
    if m < 1 or min(block_shape) < 1:
        raise ValueError(f"{op_name}: block_shape {list(block_shape)} must be positive ints")
    if len(pairs) != m or any(len(p) != 2 or min(p) < 0 for p in pairs):
        raise ValueError(f"{op_name}: {what} {[list(p) for p in pairs]} must be {m} "
                         f"non-negative [start, end] pairs for block_shape {list(block_shape)}")
    if shape.rank is not None and shape.rank < m + 1:
        raise ValueError(f"{op_name}: input rank should be >= {m + 1} for block_shape "
                         f"{list(block_shape)}, got shape {shape}")


def _space_to_batch_shapes(inputs, attrs):
    shape, blocks, pads = inputs[0].shape, attrs["block_shape"], attrs["paddings"]
    _check_blocks("space_to_batch_nd", shape, blocks, pads, "paddings")
    dims = list(shape.dims)
    batch = dims[0]
    for i, (block, (before, after)) in enumerate(zip(blocks, pads)):
        size = dims[i + 1]
        if size is None:
            continue
        if (size + before + after) % block:
            raise ValueError(f"space_to_batch_nd: padded_shape[{i}]={size + before + after} "
                             f"is not divisible by block_shape[{i}]={block} (input shape "
                             f"{shape})")
        dims[i + 1] = (size + before + after) // block
    dims[0] = None if batch is None else batch * int(np.prod(blocks))
    return [TensorShape(dims)]


def _batch_to_space_shapes(inputs, attrs):
    shape, blocks, crops = inputs[0].shape, attrs["block_shape"], attrs["crops"]
    _check_blocks("batch_to_space_nd", shape, blocks, crops, "crops")
    dims = list(shape.dims)
    total = int(np.prod(blocks))
    if dims[0] is not None and dims[0] % total:
        raise ValueError(f"batch_to_space_nd: input batch dimension ({dims[0]}) is not "
                         f"divisible by product of block sizes ({total}), shape {shape}")
    dims[0] = None if dims[0] is None else dims[0] // total
    for i, (block, (start, end)) in enumerate(zip(blocks, crops)):
        if dims[i + 1] is not None:
            size = dims[i + 1] * block - start - end
            if size < 0:
                raise ValueError(f"batch_to_space_nd: crops {list(crops[i])} are larger than "
                                 f"dimension {i + 1} of size {dims[i + 1] * block} (input "
                                 f"shape {shape}, block_shape {list(blocks)})")
            dims[i + 1] = size
    return [TensorShape(dims)]


def _space_to_batch_kernel(x, block_shape, paddings):
    m = len(block_shape)
    padded = np.pad(x, [(0, 0)] + [tuple(p) for p in paddings] + [(0, 0)] * (x.ndim - m - 1))
    split = [padded.shape[0]]
    for i, block in enumerate(block_shape):
        split += [padded.shape[i + 1] // block, block]
    split += list(padded.shape[m + 1:])
    order = [2 + 2 * i for i in range(m)] + [0] + [1 + 2 * i for i in range(m)] + \
        list(range(2 * m + 1, len(split)))
    out_shape = [x.shape[0] * int(np.prod(block_shape))] + split[1:2 * m:2] + split[2 * m + 1:]
    return padded.reshape(split).transpose(order).reshape(out_shape)


def _batch_to_space_kernel(x, block_shape, crops):
    m = len(block_shape)
    batch = x.shape[0] // int(np.prod(block_shape))
    split = list(block_shape) + [batch] + list(x.shape[1:])
    order = [m]
    for i in range(m):
        order += [m + 1 + i, i]
    order += list(range(2 * m + 1, len(split)))
    merged = [batch] + [x.shape[i + 1] * b for i, b in enumerate(block_shape)] + \
        list(x.shape[m + 1:])
    out = x.reshape(split).transpose(order).reshape(merged)
    key = (slice(None),) + tuple(slice(s, n - e) for (s, e), n in zip(crops, merged[1:m + 1]))
    return out[key]


def _space_to_batch_reference(x, block_shape, paddings, name=None):
    """TF's definition, element by element: output batch ``(offsets) * B + b``."""
    m = len(block_shape)
    padded = np.pad(x, [(0, 0)] + [tuple(p) for p in paddings] + [(0, 0)] * (x.ndim - m - 1))
    reduced = [padded.shape[i + 1] // b for i, b in enumerate(block_shape)]
    out = np.zeros([x.shape[0] * int(np.prod(block_shape))] + reduced +
                   list(x.shape[m + 1:]), x.dtype)
    for offsets in np.ndindex(*block_shape):
        group = int(np.ravel_multi_index(offsets, block_shape)) * x.shape[0]
        key = (slice(None),) + tuple(slice(o, None, b) for o, b in zip(offsets, block_shape))
        out[group:group + x.shape[0]] = padded[key]
    return out


REGISTERED = {}
REGISTERED["space_to_batch_nd"] = registry.register(OpDef(
    name="space_to_batch_nd", dtypes=lambda d, a: [d[0]], shapes=_space_to_batch_shapes,
    kernel=_space_to_batch_kernel, attrs={"block_shape": (), "paddings": ()},
    grad=lambda op, dy: [batch_to_space_nd(dy, op.attrs["block_shape"], op.attrs["paddings"])],
    reference=_space_to_batch_reference,
    samples=lambda: [Sample((rand(2, 4, 6, 3), [2, 3], [[0, 0], [0, 0]])),
                     Sample((rand(1, 3, 5, 1), [2, 2], [[1, 0], [2, 1]])),
                     Sample((rand(2, 4, 3), [2], [[1, 1]])),
                     Sample((randint(1, 2, 2, 1), [2, 1], [[0, 0], [0, 0]])),
                     Sample((rand(0, 2, 2, 2), [2, 2], [[0, 0], [0, 0]]))],
    error_samples=lambda: [ErrorSample((rand(1, 3, 4, 1), [2, 2], [[0, 0], [0, 0]]),
                                       match="not divisible"),
                           ErrorSample((rand(1, 4, 4, 1), [2, 2], [[0, -1], [0, 0]]),
                                       match="non-negative")],
    doc="Zero-pad the spatial dims, then move blocks of them into the batch dim."))


def _batch_to_space_reference(x, block_shape, crops, name=None):
    m = len(block_shape)
    out = np.zeros([x.shape[0] // int(np.prod(block_shape))] +
                   [n * b for n, b in zip(x.shape[1:], block_shape)] + list(x.shape[m + 1:]),
                   x.dtype)
    batch = out.shape[0]
    for offsets in np.ndindex(*block_shape):
        group = int(np.ravel_multi_index(offsets, block_shape)) * batch
        key = (slice(None),) + tuple(slice(o, None, b) for o, b in zip(offsets, block_shape))
        out[key] = x[group:group + batch]
    key = (slice(None),) + tuple(slice(s, n - e) for (s, e), n in zip(crops, out.shape[1:]))
    return out[key]


REGISTERED["batch_to_space_nd"] = registry.register(OpDef(
    name="batch_to_space_nd", dtypes=lambda d, a: [d[0]], shapes=_batch_to_space_shapes,
    kernel=_batch_to_space_kernel, attrs={"block_shape": (), "crops": ()},
    grad=lambda op, dy: [space_to_batch_nd(dy, op.attrs["block_shape"], op.attrs["crops"])],
    reference=_batch_to_space_reference,
    samples=lambda: [Sample((rand(12, 2, 2, 3), [2, 3], [[0, 0], [0, 0]])),
                     Sample((rand(4, 2, 2, 1), [2, 2], [[1, 0], [2, 1]])),
                     Sample((rand(4, 3, 3), [2], [[1, 1]])),
                     Sample((rand(0, 2, 2, 2), [2, 2], [[0, 0], [0, 0]]))],
    error_samples=lambda: [ErrorSample((rand(3, 2, 2, 1), [2, 2], [[0, 0], [0, 0]]),
                                       match="not divisible"),
                           ErrorSample((rand(4, 1, 1, 1), [2, 2], [[2, 1], [0, 0]]),
                                       match="larger")],
    doc="Move blocks of the batch dim back into the spatial dims, then crop."))


def _pairs(value, op_name):
    return tuple(tuple(int(v) for v in p) for p in static_axis(value, op_name))


@registry.public(REGISTERED["space_to_batch_nd"])
def space_to_batch_nd(input, block_shape, paddings, name=None) -> Tensor:  # noqa: A002
    """Zero-pad spatial dims by ``paddings`` and move ``block_shape`` blocks into batch.

    Example:
        >>> y = gc.space_to_batch_nd(x, [2, 2], [[0, 0], [0, 0]])  # [1,4,4,1] -> [4,2,2,1]
    """
    attrs = {"block_shape": tuple(int(b) for b in static_axis(block_shape, "space_to_batch_nd")),
             "paddings": _pairs(paddings, "space_to_batch_nd")}
    return apply_op("space_to_batch_nd", [input], attrs, name=name or "SpaceToBatchND")


@registry.public(REGISTERED["batch_to_space_nd"])
def batch_to_space_nd(input, block_shape, crops, name=None) -> Tensor:  # noqa: A002
    """The inverse of ``space_to_batch_nd``: blocks of batch back into space, then crop.

    Example:
        >>> x = gc.batch_to_space_nd(y, [2, 2], [[0, 0], [0, 0]])
    """
    attrs = {"block_shape": tuple(int(b) for b in static_axis(block_shape, "batch_to_space_nd")),
             "crops": _pairs(crops, "batch_to_space_nd")}
    return apply_op("batch_to_space_nd", [input], attrs, name=name or "BatchToSpaceND")


def _square_block(block_size, block_shape, op_name):
    if block_size is None and block_shape is None:
        raise ValueError(f"{op_name}: block_size (or block_shape) is required")
    return [int(block_size)] * 2 if block_shape is None else block_shape


def space_to_batch(input, paddings, block_size=None, name=None,  # noqa: A002
                   block_shape=None) -> Tensor:
    """TF1's 4-D ``space_to_batch``: ``space_to_batch_nd`` with a square block.

    Example:
        >>> y = gc.space_to_batch(x, [[0, 0], [0, 0]], block_size=2)
    """
    blocks = _square_block(block_size, block_shape, "space_to_batch")
    return space_to_batch_nd(input, blocks, paddings, name=name or "SpaceToBatch")


def batch_to_space(input, crops, block_size, name=None, block_shape=None) -> Tensor:  # noqa
    """TF1's 4-D ``batch_to_space``: ``batch_to_space_nd`` with a square block.

    Example:
        >>> x = gc.batch_to_space(y, [[0, 0], [0, 0]], block_size=2)
    """
    blocks = _square_block(block_size, block_shape, "batch_to_space")
    return batch_to_space_nd(input, blocks, crops, name=name or "BatchToSpace")


def _roll_shapes(inputs, attrs):
    shape = inputs[0].shape
    if len(attrs["shift"]) != len(attrs["axis"]):
        raise ValueError(f"roll: shift {list(attrs['shift'])} and axis {list(attrs['axis'])} "
                         "must have the same size")
    for axis in attrs["axis"]:
        normalize_axis(axis, shape.rank, "roll")
    return [shape]


REGISTERED["roll"] = registry.register(OpDef(
    name="roll", dtypes=lambda d, a: [d[0]], shapes=_roll_shapes,
    kernel=lambda x, shift, axis: np.roll(x, shift, axis) if axis else x.copy(),
    attrs={"shift": (), "axis": ()},
    grad=lambda op, dy: [roll(dy, [-s for s in op.attrs["shift"]], op.attrs["axis"])],
    finite_outputs=registry.finite_if_inputs_finite,
    reference=lambda x, shift, axis, name=None: _roll_reference(x, shift, axis),
    samples=lambda: [Sample((rand(3, 5), 2, 1)), Sample((rand(2, 3, 4), [1, -7], [0, 2])),
                     Sample((rand(4, 3), [1, 2], [0, 0])), Sample((randint(6), -1, 0)),
                     Sample((rand(0, 3), 1, 1)), Sample((np.array([np.nan, 1.0, np.inf]), 1, 0))],
    error_samples=lambda: [ErrorSample((rand(3, 4), [1, 2], [0]), match="same size"),
                           ErrorSample((rand(3, 4), 1, 2), match="out of range")],
    doc="Rotate elements along axes by shift positions (shifts on one axis add up)."))


def _roll_reference(x, shift, axis):
    shifts, axes = np.atleast_1d(shift).tolist(), np.atleast_1d(axis).tolist()
    out = x
    for s, a in zip(shifts, axes):
        n = out.shape[a]
        index = [(i - s) % n for i in range(n)] if n else []
        out = out.take(index, axis=a)
    return out


@registry.public(REGISTERED["roll"])
def roll(input, shift, axis, name=None) -> Tensor:  # noqa: A002
    """Rotate ``input`` by ``shift`` positions along ``axis`` (Python ints or lists).

    Example:
        >>> gc.roll([0, 1, 2, 3, 4], shift=2, axis=0)   # [3, 4, 0, 1, 2]
    """
    shifts = np.atleast_1d(static_axis(shift, "roll")).tolist()
    axes = np.atleast_1d(static_axis(axis, "roll")).tolist()
    attrs = {"shift": tuple(int(s) for s in shifts), "axis": tuple(int(a) for a in axes)}
    return apply_op("roll", [input], attrs, name=name or "Roll")
