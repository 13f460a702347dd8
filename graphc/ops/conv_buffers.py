"""The buffers of the conv and pool kernels (graphc.ops.conv_kernels, conv_rows): each
thread's scratch buffers, kept from call to call, and the caller's output buffer.

A fresh multi-megabyte temporary per call costs a page fault per 4 KB page (a third of a
convolution's time at W7 (b)'s shapes), so padded inputs, im2col matrices and GEMM products
live in buffers of each thread's own (``scratch``), valid until that thread's next call.
"""
from __future__ import annotations

import math
import threading

import numpy as np

__all__ = ["scratch", "padded", "output"]

_SCRATCH = threading.local()
# a thread keeps buffers up to this size; larger temporaries are allocated per call (a
# process that once pooled a huge batch does not hold that memory for good)
SCRATCH_KEEP_BYTES = 1 << 26


def scratch(name, shape, dtype):
    """This thread's buffer ``name`` as an array of ``shape`` (grown when too small).

    Example:
        >>> scratch("cols", (4, 9), np.float32).shape
        (4, 9)
    """
    buffers = _SCRATCH.__dict__
    key, size = (name, np.dtype(dtype)), math.prod(shape)
    if size * key[1].itemsize > SCRATCH_KEEP_BYTES:
        return np.empty(shape, dtype=dtype)
    buffer = buffers.get(key)
    if buffer is None or buffer.size < size:
        buffer = buffers[key] = np.empty(size, dtype=dtype)
    return buffer[:size].reshape(shape)


def padded(x, top, bottom, left, right, fill=0, name="pad"):
    """NHWC ``x`` padded with ``fill`` (a scratch buffer, valid until the next call; ``x``
    itself when there is no padding)."""
    if not (top or bottom or left or right):
        return x
    n, h, width, c = x.shape
    xp = scratch(name, (n, h + top + bottom, width + left + right, c), x.dtype)
    xp[:, :top], xp[:, top + h:] = fill, fill
    xp[:, top:top + h, :left], xp[:, top:top + h, left + width:] = fill, fill
    xp[:, top:top + h, left:left + width] = x
    return xp


def output(out, shape, dtype):
    """``out`` when the caller's buffer fits (the plan's arena), else a new array."""
    if (out is not None and out.shape == tuple(shape) and out.dtype == dtype
            and out.flags.c_contiguous):
        return out
    return np.empty(shape, dtype=dtype)
