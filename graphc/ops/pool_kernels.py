"""Kernels of max pooling and its gradients over NHWC images (issue 14).

Where numba is installed and the values are float32/float64, one compiled pass each
(graphc.ops.pool_loops): the forward pool writes only its result (5-10x faster at W7's
shapes than NumPy's passes over strided views, which pay their inner-loop setup for every
run of a few channels), the gradient finds each window's first maximum per channel, then
sums at each input pixel the gradients of the windows whose first maximum it is. Elsewhere
(integers, no numba) the NumPy kernels run: the forward pool separable (the maximum over each window's rows, then over its columns), the
gradients the per-tap kernels of graphc.ops.conv_grads.

Every kernel takes ``out=`` (the plan's arena hands it last run's buffer) and splits its
batch over graphc's thread pool where one is installed (graphc.ops.conv_kernels). Results
are the per-tap kernels' values (tests/conv_baseline.py), NaN, infinities and ties
included: a window's maximum is NaN if one of its taps is; the gradient goes to the first
tap in raster order equal to that maximum (none for NaN), and each input pixel sums its
gradients in increasing tap order from +0.0.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from graphc.ops.conv_buffers import output as _output
from graphc.ops.conv_buffers import padded as _pad
from graphc.ops.conv_buffers import scratch as _scratch
from graphc.ops.batch_split import each_chunk
from graphc.ops.conv_kernels import CHUNK_BYTES, window_geometry
from graphc.ops.pool_loops import HAVE_NUMBA, pool_loop

__all__ = ["max_pool_forward", "max_pool_scatter", "max_pool_gather", "compiled_pooling",
           "pool_geometry", "zero_outside_windows", "HAVE_NUMBA"]

_FLOATS = (np.float32, np.float64)


def pool_geometry(x_shape, ksize, strides, padding):
    """``((OH, OW), (top, bottom, left, right))`` of a pool over NHWC ``x_shape``."""
    oh, top, bottom = window_geometry(x_shape[1], ksize[0], strides[0], 1, padding)
    ow, left, right = window_geometry(x_shape[2], ksize[1], strides[1], 1, padding)
    return (oh, ow), (top, bottom, left, right)


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def compiled_pooling(x, y, grad=None):
    """Whether the compiled loops take these arrays (numba installed; float32/float64
    values of one dtype, as the loops compare them exactly; a float gradient)."""
    return (HAVE_NUMBA and x.dtype == y.dtype and x.dtype in _FLOATS
            and (grad is None or grad.dtype in _FLOATS))


def max_pool_forward(x, ksize, strides, padding, out=None):
    """max_pool of NHWC ``x``: one compiled pass (floats, numba), else separable NumPy
    passes.

    Example:
        >>> max_pool_forward(np.ones((1, 4, 4, 2), np.float32), (2, 2), (2, 2), "VALID").shape
        (1, 2, 2, 2)
    """
    out_hw, pads = pool_geometry(x.shape, ksize, strides, padding)
    out = _output(out, (x.shape[0], *out_hw, x.shape[3]), x.dtype)
    if x.size == 0 or min(out_hw) == 0:
        out.fill(_lowest(x.dtype))
        return out
    if compiled_pooling(x, out):
        loop, (kh, kw), (sh, sw) = pool_loop("max_pool"), ksize, strides
        x = np.ascontiguousarray(x)  # the loop reads it as one flat array
        each_chunk(x.shape[0], x.size, lambda lo, hi: loop(
            x[lo:hi], out[lo:hi], kh, kw, sh, sw, pads[0], pads[2]))
        return out
    each_chunk(x.shape[0], x.size, lambda lo, hi: _max_pool(x[lo:hi], ksize, strides, pads,
                                                            out[lo:hi]))
    return out


# the NumPy passes run over blocks of images of about this many bytes (see _max_pool)
BLOCK_BYTES = CHUNK_BYTES // 2


def _max_pool(x, ksize, strides, pads, out):
    """Blocks of images small enough that the padded copy and the column maxima of one
    block stay in cache for all of the block's (kh - 1) + (kw - 1) passes (1.4-1.8x
    faster at W7 (b)'s shapes than whole-batch passes)."""
    step = max(1, BLOCK_BYTES // max(1, x[:1].nbytes))
    for lo in range(0, x.shape[0], step):
        _max_pool_block(x[lo:lo + step], ksize, strides, pads, out[lo:lo + step])
    return out


def _max_pool_block(x, ksize, strides, pads, out):
    """The maximum over each window's rows first (whole padded rows at a time, and a
    strided pool's output has a stride's fraction of them), then over its columns; each
    pass starts from the maximum of its first two taps (no copy): 2 passes for a 2x2 pool
    (2.3x fewer than columns first from a copy), 4 for a 3x3 one."""
    (kh, kw), (sh, sw), (_, oh, ow, _) = ksize, strides, out.shape
    xp = _pad(x, *pads, fill=_lowest(x.dtype))
    rows = _max_of_taps(xp, 1, kh, sh, oh, out if (kw, sw) == (1, 1) else None)
    _max_of_taps(rows, 2, kw, sw, ow, out)
    return out


def _max_of_taps(a, axis, taps, stride, size, into):
    """The maximum over ``taps`` windows of ``a`` along ``axis`` (``size`` outputs apart by
    ``stride``), in ``into`` (None: a scratch buffer; ``a`` itself for one tap, stride 1)."""
    def tap(t):
        index = [slice(None)] * 4
        index[axis] = slice(t, t + stride * (size - 1) + 1, stride)
        return a[tuple(index)]
    if taps == 1 and stride == 1 and (into is None or into is a):
        return a
    if into is None:
        into = _scratch("pool_rows", tap(0).shape, a.dtype)
    if taps == 1:
        np.copyto(into, tap(0))
    else:
        np.maximum(tap(0), tap(1), out=into)
    for t in range(2, taps):
        np.maximum(into, tap(t), out=into)
    return into


def _first_max_pass(name, x, y, grad, out, ksize, strides, padding):
    """Run the compiled loop ``name`` over the batch: the overlapping scatter and the
    gather write every element of ``out`` themselves, the disjoint scatter all but the
    pixels outside every window (zeroed here)."""
    (kh, kw), (sh, sw) = ksize, strides
    (oh, ow), (top, _, left, _) = pool_geometry(x.shape, ksize, strides, padding)
    if name == "max_pool_scatter" and y.size and (sh < kh or sw < kw):
        return _overlapping_scatter(x, y, grad, out, ksize, strides, top, left)
    if name == "max_pool_scatter" and y.size:
        name = "max_pool_scatter_disjoint"
        zero_outside_windows(out, ksize, strides, (oh, ow), top, left)
    elif not y.size:
        out.fill(0)
    if y.size:
        loop, zero = pool_loop(name), grad.dtype.type(0)
        x, y = np.ascontiguousarray(x), np.ascontiguousarray(y)  # read as flat arrays
        if name == "max_pool_scatter_disjoint":
            gradient = _gradient_rows  # its rows, in place where they can be (a broadcast)
        else:
            grad = np.ascontiguousarray(grad)
            gradient = lambda rows: (rows,)  # noqa: E731 - one flat array
        each_chunk(x.shape[0], x.size, lambda lo, hi: loop(
            x[lo:hi], y[lo:hi], *gradient(grad[lo:hi]), out[lo:hi], kh, kw, sh, sw, top,
            left, zero))
    return out


def zero_outside_windows(out, ksize, strides, out_hw, top, left) -> None:
    """Zero the pixels of ``out`` (the pool input's shape) that no window covers, for a
    disjoint scatter (strides >= window), which writes every pixel inside a window."""
    (kh, kw), (sh, sw), (oh, ow) = ksize, strides, out_hw
    if (sh, sw) == (kh, kw):  # windows tile the image but for a last band (VALID)
        out[:, max(0, oh * kh - top):] = 0
        out[:, :, max(0, ow * kw - left):] = 0
    else:
        out.fill(0)  # gaps between the windows


def _gradient_rows(grad):
    """``(rows, steps)``: NHWC ``grad`` as one flat array of its C-element rows, and how many
    rows apart its images, rows and columns are, without a copy where its channels are
    contiguous and its other strides whole rows (a broadcast's are 0: the gradient of a
    mean, which a C-contiguous copy took 0.4 ms to make at W7 (b)'s 32x16x16x56), else of
    a C-contiguous copy."""
    row_bytes = grad.shape[3] * grad.itemsize
    if grad.strides[3] != grad.itemsize or any(s % row_bytes or s < 0
                                                  for s in grad.strides[:3]):
        grad = np.ascontiguousarray(grad)
    steps = tuple(s // row_bytes if d > 1 else 0 for s, d in zip(grad.strides[:3],
                                                                  grad.shape[:3]))
    rows = 1 + sum((d - 1) * step for d, step in zip(grad.shape[:3], steps))
    flat = as_strided(grad, (rows * grad.shape[3],), (grad.itemsize,), writeable=False)
    return flat, steps


def _overlapping_scatter(x, y, grad, out, ksize, strides, top, left):
    """max_pool_grad where windows overlap, by pool_loops' two passes per output row
    (each window's first-max tap, then each input pixel's sum of the gradients whose
    first maximum it is): flat C-ordered arrays, and a scratch ring of first-max rows
    per thread (1.5-2.3x faster at W7's 3x3 stride-1 pools than adding into ``out`` tap
    by tap, window by window)."""
    (kh, kw), (sh, sw) = ksize, strides
    loop = pool_loop("max_pool_scatter_3wide" if (kw, sw) == (3, 1) else "max_pool_scatter")
    x, y, grad = (np.ascontiguousarray(a) for a in (x, y, grad))
    _, h, width, channels = x.shape
    oh, ow, zero = y.shape[1], y.shape[2], grad.dtype.type(0)

    def work(lo, hi):
        rows = _scratch("pool_first_max", (kh + 2, ow * channels), np.int32)
        # input rows padded with -inf for windows 3 wide at column stride 1 (else unused)
        padded = _scratch("pool_padded_rows", (kh, (ow + 2) * channels), x.dtype)
        loop(x[lo:hi].reshape(-1), y[lo:hi].reshape(-1), grad[lo:hi].reshape(-1),
             out[lo:hi].reshape(-1), rows, padded, hi - lo, h, width, channels, oh, ow,
             kh, kw, sh, sw, top, left, zero)
    each_chunk(x.shape[0], x.size, work)
    return out


def max_pool_scatter(x, y, dy, ksize, strides, padding, out=None):
    """max_pool_grad by the compiled loop (see ``compiled_pooling``): dy added at each
    window's first maximum.

    Example:
        >>> dx = max_pool_scatter(x, y, np.ones_like(y), (2, 2), (2, 2), "VALID")
    """
    return _first_max_pass("max_pool_scatter", x, y, dy, _output(out, x.shape, dy.dtype),
                           ksize, strides, padding)


def max_pool_gather(x, y, ddx, ksize, strides, padding, out=None):
    """max_pool_grad_grad by the compiled loop (see ``compiled_pooling``): ddx read at each
    window's first maximum.

    Example:
        >>> ddy = max_pool_gather(x, y, np.ones_like(x), (2, 2), (2, 2), "VALID")
    """
    return _first_max_pass("max_pool_gather", x, y, ddx, _output(out, y.shape, ddx.dtype),
                           ksize, strides, padding)
