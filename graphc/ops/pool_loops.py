"""Compiled loops of max pooling and its gradients over NHWC float images (numba, the
optional ``fast`` extra), used by graphc.ops.pool_kernels where numba is installed; the
NumPy passes there (and graphc.ops.conv_grads' taps) are the reference and give the same
values, NaN, infinities and ties included.

Every loop visits an output position's window taps in raster order and runs its innermost
loop over the channels, the contiguous axis of NHWC, with selects instead of branches;
nothing but the result is written (the forward pool records no argmax):

- ``max_pool``: each window's maximum by np.maximum's rule, tap after tap (NaN as soon as
  one tap is NaN; of equal values such as -0.0 and +0.0, the later tap's), over the taps
  inside the image (SAME's padding holds -inf, which never changes a maximum);
- ``max_pool_scatter``: each window's first maximum (the first tap in raster order equal to
  the window's max_pool value, padding taps included: a -inf window whose first -inf is a
  padding tap sends its gradient nowhere), then the window's gradient added there; windows
  in reverse raster order, so that each input pixel sums its contributions in increasing
  tap order, from +0.0, as the per-tap NumPy kernel does (bitwise the same sums: a window
  adds +0.0 at its other taps, which changes no value since the sums never hold -0.0);
  windows that never overlap (strides >= window: a 2x2 pool of stride 2) write each input
  once instead (``max_pool_scatter_disjoint``);
- ``max_pool_gather``: the gradient's adjoint, each window's value read at its first
  maximum.
"""
from __future__ import annotations

import importlib.util

import numpy as np

# found, not imported: importing numba costs ~0.2 s and maps LLVM (as graphc.ops.conv_loops)
HAVE_NUMBA = importlib.util.find_spec("numba") is not None

__all__ = ["HAVE_NUMBA", "pool_loop"]

_COMPILED: dict = {}


def _sources():
    import numba  # here, not at import time: see HAVE_NUMBA

    jit = numba.njit(cache=False, nogil=True, error_model="numpy")

    @jit
    def max_pool(x, out, kh, kw, sh, sw, top, left):
        """out (N, OH, OW, C) = the maximum of each window of x (N, H, W, C), over the
        taps inside the image (a padding tap holds -inf, which never changes a maximum)."""
        h, width, channels = x.shape[1], x.shape[2], x.shape[3]
        # the running maximum alternates between two rows: a select stored back into the
        # row it read becomes a masked store, which Zen runs 3-4x slower than the loop
        running = np.empty((2, channels), dtype=x.dtype)
        for n in range(out.shape[0]):
            for r in range(out.shape[1]):
                first_row, end_row = max(r * sh - top, 0), min(r * sh - top + kh, h)
                for c in range(out.shape[2]):
                    first_col = max(c * sw - left, 0)
                    end_col = min(c * sw - left + kw, width)
                    if first_row >= end_row or first_col >= end_col:
                        for ch in range(channels):  # a window of padding only
                            out[n, r, c, ch] = -np.inf
                        continue
                    for ch in range(channels):
                        running[0, ch] = x[n, first_row, first_col, ch]
                    now, tap = 0, 0
                    for rr in range(first_row, end_row):
                        for cc in range(first_col, end_col):
                            if tap:
                                for ch in range(channels):
                                    best, value = running[now, ch], x[n, rr, cc, ch]
                                    # np.maximum(best, value): NaN propagates, and a tie
                                    # (-0.0 and +0.0) gives the second, the later tap
                                    running[1 - now, ch] = (
                                        best if (best > value) | (best != best) else value)
                                now = 1 - now
                            tap += 1
                    for ch in range(channels):
                        out[n, r, c, ch] = running[now, ch]

    @jit
    def max_pool_scatter(x, y, grad, out, kh, kw, sh, sw, top, left, zero):
        """out (x's shape, zeros) += grad (y's shape) at each window's first maximum."""
        h, width, channels = x.shape[1], x.shape[2], x.shape[3]
        found = np.zeros(channels, dtype=np.uint8)
        # plain 4-D indexing and non-short-circuit tests: row views and `and`/`or`
        # branches made this loop 2.5x slower (a first-max index per channel, a scalar
        # early exit per channel, and a local accumulator were measured no faster)
        for n in range(y.shape[0]):
            for r in range(y.shape[1] - 1, -1, -1):
                for c in range(y.shape[2] - 1, -1, -1):
                    found[:] = 0
                    for i in range(kh):
                        rr = r * sh + i - top
                        for j in range(kw):
                            cc = c * sw + j - left
                            if 0 <= rr < h and 0 <= cc < width:
                                for ch in range(channels):
                                    hit = (x[n, rr, cc, ch] == y[n, r, c, ch]) & (found[ch] == 0)
                                    found[ch] |= hit
                                    out[n, rr, cc, ch] += grad[n, r, c, ch] if hit else zero
                            else:
                                for ch in range(channels):
                                    found[ch] |= y[n, r, c, ch] == -np.inf

    @jit
    def max_pool_scatter_disjoint(x, y, grad, out, kh, kw, sh, sw, top, left, zero):
        """max_pool_scatter where windows do not overlap (strides >= window): each input
        of a window is written once, 0 + grad at the first maximum, else 0 (3x faster: no
        read of ``out``, whose pixels outside every window the caller zeroes)."""
        h, width, channels = x.shape[1], x.shape[2], x.shape[3]
        # found flags alternate between two rows, like max_pool's running maximum
        found = np.zeros((2, channels), dtype=np.bool_)
        for n in range(y.shape[0]):
            for r in range(y.shape[1]):
                for c in range(y.shape[2]):
                    for ch in range(channels):
                        found[0, ch] = False
                    now = 0
                    for i in range(kh):
                        rr = r * sh + i - top
                        for j in range(kw):
                            cc = c * sw + j - left
                            if 0 <= rr < h and 0 <= cc < width:
                                for ch in range(channels):
                                    seen = found[now, ch]
                                    hit = (x[n, rr, cc, ch] == y[n, r, c, ch]) & ~seen
                                    out[n, rr, cc, ch] = zero + grad[n, r, c, ch] if hit \
                                        else zero
                                    found[1 - now, ch] = seen | hit
                            else:
                                for ch in range(channels):
                                    found[1 - now, ch] = found[now, ch] | (
                                        y[n, r, c, ch] == -np.inf)
                            now = 1 - now

    @jit
    def max_pool_gather(x, y, grad, out, kh, kw, sh, sw, top, left, zero):
        """out (y's shape) = 0 + grad (x's shape) at each window's first maximum, 0 where
        the first maximum is a padding tap or there is none (0 + value: the per-tap
        kernel's sum, so -0.0 gives +0.0)."""
        h, width, channels = x.shape[1], x.shape[2], x.shape[3]
        found = np.zeros(channels, dtype=np.uint8)
        for n in range(y.shape[0]):
            for r in range(y.shape[1]):
                for c in range(y.shape[2]):
                    found[:] = 0
                    for ch in range(channels):
                        out[n, r, c, ch] = zero
                    for i in range(kh):
                        rr = r * sh + i - top
                        for j in range(kw):
                            cc = c * sw + j - left
                            if 0 <= rr < h and 0 <= cc < width:
                                for ch in range(channels):
                                    hit = (x[n, rr, cc, ch] == y[n, r, c, ch]) & (found[ch] == 0)
                                    found[ch] |= hit
                                    out[n, r, c, ch] = (zero + grad[n, rr, cc, ch] if hit
                                                        else out[n, r, c, ch])
                            else:
                                for ch in range(channels):
                                    found[ch] |= y[n, r, c, ch] == -np.inf
    return {"max_pool": max_pool, "max_pool_scatter": max_pool_scatter,
            "max_pool_scatter_disjoint": max_pool_scatter_disjoint,
            "max_pool_gather": max_pool_gather}


def pool_loop(name: str):
    """The compiled loop ``name`` ("max_pool", "max_pool_scatter",
    "max_pool_scatter_disjoint", "max_pool_gather"), compiled on first use; requires
    ``HAVE_NUMBA``.

    Example:
        >>> pool_loop("max_pool")(x, out, 3, 3, 1, 1, 1, 1)
    """
    if not _COMPILED:
        _COMPILED.update(_sources())
    return _COMPILED[name]
