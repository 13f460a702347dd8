"""Compiled loops of the max-pool gradients and of the row-window convolution's last sum
(numba, the optional ``fast`` extra), used by graphc.ops.conv_kernels and conv_rows where
numba is installed; the NumPy paths (graphc.ops.conv_grads' taps, conv_rows' passes) are
the reference and give bitwise the same results.

One pass over the windows: each window's taps are visited in order, and for every channel at
once (the innermost, contiguous loop of NHWC) the first tap equal to the window's maximum
takes the gradient. No tap list is kept and no second, scattered pass runs: the channel loop
only reads, compares and adds, so it stays in registers and cache.
"""
from __future__ import annotations

import importlib.util

import numpy as np

# the optional ``fast`` extra, found but not imported: importing numba costs ~0.2 s and maps
# LLVM, which only a program whose max-pool gradient runs should pay for (as runtime.fused)
HAVE_NUMBA = importlib.util.find_spec("numba") is not None

__all__ = ["HAVE_NUMBA", "first_max_loop", "tap_row_sum_loop"]

_COMPILED: dict = {}


def _first_max_source():
    import numba  # here, not at import time: see HAVE_NUMBA

    @numba.njit(cache=False, nogil=True)
    def first_max(x, y, grad, out, scatter, kh, kw, sh, sw, top, left, zero):
        """``scatter``: out (x's shape, zeros) += grad (y's shape) at each window's first
        maximum; else out (y's shape, zeros) = grad (x's shape) read there. A padding tap
        holds -inf and may be the first maximum; then the gradient falls outside the image
        (nothing is added), as in the NumPy kernel. ``zero``: 0 of grad's dtype (so the
        channel loop stays in that dtype)."""
        h, width, channels = x.shape[1], x.shape[2], x.shape[3]
        found = np.zeros(channels, dtype=np.uint8)
        # windows in reverse raster order: each input then sums its contributions in
        # increasing tap order, as the NumPy kernel does (bitwise the same sums; adding
        # +0.0 where a tap is not the maximum changes no value: out starts at +0.0, so it
        # never holds -0.0). Plain 4-D indexing and non-short-circuit tests: row views and
        # `and`/`or` branches made this loop 2.5x slower.
        for n in range(y.shape[0]):
            for r in range(y.shape[1] - 1, -1, -1):
                for c in range(y.shape[2] - 1, -1, -1):
                    found[:] = 0
                    for t in range(kh * kw):
                        rr, cc = r * sh + t // kw - top, c * sw + t % kw - left
                        if 0 <= rr < h and 0 <= cc < width:
                            for ch in range(channels):
                                hit = (x[n, rr, cc, ch] == y[n, r, c, ch]) & (found[ch] == 0)
                                found[ch] |= hit
                                if scatter:
                                    out[n, rr, cc, ch] += grad[n, r, c, ch] if hit else zero
                                else:
                                    out[n, r, c, ch] = (grad[n, rr, cc, ch] if hit
                                                        else out[n, r, c, ch])
                        else:
                            for ch in range(channels):
                                found[ch] |= y[n, r, c, ch] == -np.inf
    return first_max


def _tap_row_sum_source():
    import numba  # here, not at import time: see HAVE_NUMBA

    @numba.njit(cache=False, nogil=True)
    def tap_row_sum(products, out, images, height, width, dilation):
        """out (images * height * width, C) = the sum over filter rows i (in order) of
        products ((images, height + (rows - 1) * dilation, width) x (rows * C)) of input row
        ``r + i * dilation``, i-th block of C columns (the last step of graphc.ops.conv_rows'
        forward convolution; the same additions in the same order as its NumPy passes, so
        bitwise their result). Both C-contiguous 2-D: the loop over an output row's
        columns and channels then runs over adjacent elements (4-D indexing was 2x slower)."""
        channels = out.shape[1]
        rows = products.shape[1] // channels
        padded_height = height + (rows - 1) * dilation
        for n in range(images):
            for r in range(height):
                first = (n * height + r) * width
                source = (n * padded_height + r) * width
                for c in range(width):
                    for ch in range(channels):
                        out[first + c, ch] = products[source + c, ch]
                for i in range(1, rows):
                    source = (n * padded_height + r + i * dilation) * width
                    block = i * channels
                    for c in range(width):
                        for ch in range(channels):
                            out[first + c, ch] += products[source + c, block + ch]
    return tap_row_sum


def _compiled(name, source):
    if name not in _COMPILED:
        _COMPILED[name] = source()
    return _COMPILED[name]


def first_max_loop():
    """The compiled loop (compiled on first use); requires ``HAVE_NUMBA``."""
    return _compiled("first_max", _first_max_source)


def tap_row_sum_loop():
    """The compiled sum over filter rows (compiled on first use); requires ``HAVE_NUMBA``."""
    return _compiled("tap_row_sum", _tap_row_sum_source)
