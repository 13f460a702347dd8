"""The compiled loops of graphc.ops.pool_taps (numba), in a module of their own so that
numba's disk cache keeps their machine code (see graphc.ops.pool_loop_code, whose helpers
and input-row gradient passes they share).

- ``max_pool_taps``: graphc.ops.pool_loop_code.max_pool's pass, which also keeps, beside
  each window's running maximum, the raster index of the first tap holding it: a tap
  replaces the index only where it is strictly greater than the maximum so far, which
  starts at -inf with index 0. So a window's index is the first tap equal to its maximum,
  and a window whose maximum is -inf keeps tap 0 (padding or not: the first tap equal to
  -inf when padding taps count as -inf, as max_pool_scatter reads them); a NaN maximum
  gets NO_TAP. The running indices are int32 rows (the width of float32 lanes), stored as
  the taps array's dtype at the end of each output row.
- ``max_pool_scatter_taps``: max_pool_scatter's second pass alone, reading the first-max
  taps recorded by the forward pass instead of finding them again from x and y (the
  sums bitwise the same: same gradients added in the same order).
- ``max_pool_scatter_disjoint_taps``: max_pool_scatter_disjoint with the recorded taps.
"""
from __future__ import annotations

import numpy as np

from graphc.ops.pool_loop_code import (NO_TAP, _flat, _gradient_row, _gradient_row_3wide,
                                       jit)


@jit
def max_pool_taps(x, out, taps, kh, kw, sh, sw, top, left):
    """out (N, OH, OW, C) = max_pool of C-contiguous x (N, H, W, C), bitwise
    pool_loop_code.max_pool's; taps (out's shape) = each window's first-max tap."""
    h, width, channels = x.shape[1], x.shape[2], x.shape[3]
    oh, ow = out.shape[1], out.shape[2]
    span = ow * channels
    running = np.empty((2, span), dtype=x.dtype)
    indices = np.empty((2, span), dtype=np.int32)
    flat = x.reshape(-1)
    for n in range(out.shape[0]):
        for r in range(oh):
            first_row, end_row = max(r * sh - top, 0), min(r * sh - top + kh, h)
            first, first_index = running[0], indices[0]
            for e in range(span):
                first[_flat(e)] = -np.inf
                first_index[_flat(e)] = 0
            now = 0
            for rr in range(first_row, end_row):
                row = (n * h + rr) * width * channels
                for j in range(kw):
                    tap = np.int32((rr - (r * sh - top)) * kw + j)
                    lo = max(0, -((j - left) // sw))
                    hi = min(ow, (width - 1 + left - j) // sw + 1)
                    if lo >= hi:
                        continue
                    best_row, next_row = running[now], running[1 - now]
                    held, next_held = indices[now], indices[1 - now]
                    for e in range(lo * channels):
                        next_row[_flat(e)] = best_row[_flat(e)]
                        next_held[_flat(e)] = held[_flat(e)]
                    if sw == 1:
                        shift = row + (j - left) * channels
                        for e in range(lo * channels, hi * channels):
                            i = _flat(e)
                            best, value = best_row[i], flat[_flat(shift + e)]
                            next_row[i] = best if (best > value) | (best != best) else value
                            next_held[i] = tap if value > best else held[i]
                    else:
                        for c in range(lo, hi):
                            at = row + (c * sw - left + j) * channels
                            for ch in range(channels):
                                i = _flat(c * channels + ch)
                                best, value = best_row[i], flat[_flat(at + ch)]
                                next_row[i] = (
                                    best if (best > value) | (best != best) else value)
                                next_held[i] = tap if value > best else held[i]
                    for e in range(hi * channels, span):
                        next_row[_flat(e)] = best_row[_flat(e)]
                        next_held[_flat(e)] = held[_flat(e)]
                    now = 1 - now
            result, index, target, target_taps = running[now], indices[now], out[n, r], taps[n, r]
            for c in range(ow):
                for ch in range(channels):
                    e = _flat(c * channels + ch)
                    value = result[e]
                    target[c, ch] = value
                    target_taps[c, ch] = NO_TAP if value != value else index[e]


@jit
def max_pool_scatter_taps(three_wide, taps, grad, out, batch, h, width, channels, oh, ow,
                          kh, kw, sh, sw, top, left, zero):
    """out (flat NHWC, the pool input's shape) = grad (flat, taps' shape) summed at each
    window's recorded first-max tap, input row by input row (windows overlapping)."""
    row = ow * channels
    for n in range(batch):
        y_image, x_image = n * oh * row, n * h * width * channels
        rows = taps[y_image:y_image + oh * row].reshape((oh, row))
        for pr in range(h):
            start = x_image + pr * width * channels
            if three_wide:
                _gradient_row_3wide(grad, rows, out, y_image, start, pr, width, channels, oh,
                                    ow, kh, kw, sh, sw, top, left, zero)
            else:
                _gradient_row(grad, rows, out, y_image, start, pr, width, channels, oh, ow,
                              kh, kw, sh, sw, top, left, zero)


@jit
def max_pool_scatter_disjoint_taps(taps, grad, grad_steps, out, h, width, kh, kw, sh, sw,
                                   top, left, zero):
    """out (N, H, W, C) = 0 + grad at each window's recorded first-max tap, 0 at its other
    taps inside the image (windows never overlap; the caller zeroes the pixels outside
    every window); grad and grad_steps as pool_loop_code.max_pool_scatter_disjoint's."""
    channels = taps.shape[3]
    step_image, step_row, step_column = grad_steps
    oh, ow = taps.shape[1], taps.shape[2]
    span = ow * channels
    ts, gs, outs = taps.reshape(-1), grad.reshape(-1), out.reshape(-1)
    for n in range(taps.shape[0]):
        for r in range(oh):
            base = (n * oh + r) * span
            grad_base = n * step_image + r * step_row
            for i in range(kh):
                rr = r * sh + i - top
                if not 0 <= rr < h:
                    continue
                for j in range(kw):
                    tap = np.int32(i * kw + j)
                    for c in range(ow):
                        cc = c * sw + j - left
                        if not 0 <= cc < width:
                            continue
                        pixel = ((n * h + rr) * width + cc) * channels
                        g = (grad_base + c * step_column) * channels
                        at = base + c * channels
                        for ch in range(channels):
                            hit = ts[_flat(at + ch)] == tap
                            outs[_flat(pixel + ch)] = zero + gs[_flat(g + ch)] if hit else zero
