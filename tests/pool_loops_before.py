"""graphc.ops.pool_loops' ``max_pool_scatter`` as it was before its two-pass rewrite (one
pass over the windows in reverse raster order, a scalar read-modify-write add per tap),
kept unchanged as the "old loop" of tests/test_pool_scatter.py's differential tests and of
the A/B timings. Needs numba; ``old_max_pool_scatter`` zeroes ``out`` as its caller did."""
from __future__ import annotations

import numpy as np

_COMPILED: list = []


def _compiled():
    if not _COMPILED:
        import numba

        @numba.njit(cache=False, nogil=True, error_model="numpy")
        def max_pool_scatter(x, y, grad, out, kh, kw, sh, sw, top, left, zero):
            h, width, channels = x.shape[1], x.shape[2], x.shape[3]
            found = np.zeros(channels, dtype=np.uint8)
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
        _COMPILED.append(max_pool_scatter)
    return _COMPILED[0]


def old_max_pool_scatter(x, y, grad, out, ksize, strides, top, left):
    """``out`` = the old loop's max_pool_grad (zeroed first, as _first_max_pass did)."""
    out.fill(0)
    if y.size:
        _compiled()(x, y, grad, out, *ksize, *strides, top, left, grad.dtype.type(0))
    return out
