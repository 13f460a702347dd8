"""Compiled loops of the max-pool gradients (numba, the optional ``fast`` extra), used by
graphc.ops.conv_kernels where numba is installed; the NumPy taps of graphc.ops.conv_grads
are the reference path and give bitwise the same results.

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

__all__ = ["HAVE_NUMBA", "first_max_loop"]

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


def first_max_loop():
    """The compiled loop (compiled on first use); requires ``HAVE_NUMBA``."""
    if not _COMPILED:
        _COMPILED["first_max"] = _first_max_source()
    return _COMPILED["first_max"]
