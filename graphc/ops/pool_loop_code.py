"""The compiled loops of graphc.ops.pool_loops (numba), in a module of their own so that
numba's disk cache keeps their machine code (``cache=True`` needs module-level functions:
compiled in a closure, the loops took 3-9 s of CPU to compile in every process that pooled).
Imported on first use by ``pool_loops.pool_loop``; see that module for what each loop does.
"""
from __future__ import annotations

import numba
import numpy as np

jit = numba.njit(cache=True, nogil=True, error_model="numpy")
# max_pool_scatter's first-max tap of a window with none (NaN, or a padding tap first)
NO_TAP = np.int32(-1)


@jit
def max_pool(x, out, kh, kw, sh, sw, top, left):
    """out (N, OH, OW, C) = the maximum of each window of C-contiguous x (N, H, W, C), over
    the taps inside the image (a padding tap holds -inf, which never changes a maximum).

    An output row at a time: each tap (window row, window column), in raster order,
    updates every window of the row in one pass over its (column, channel) elements,
    contiguous where the column stride is 1, from a row of running maxima that starts at
    -inf (np.maximum(-inf, v) is v, bitwise). So each window still takes its taps in
    raster order, as np.maximum(best, tap) would, but the vector loop runs the row's
    OW * C elements instead of one window's C (W7 (b)'s 3x3 stride-1 pool over 32 channels,
    one thread: 3.7 -> 1.8 ms a call, Zen 4)."""
    h, width, channels = x.shape[1], x.shape[2], x.shape[3]
    oh, ow = out.shape[1], out.shape[2]
    span = ow * channels
    # the running maxima alternate between two rows: a select stored back into the row it
    # read becomes a masked store, which Zen runs 3-4x slower than the loop
    running = np.empty((2, span), dtype=x.dtype)
    flat = x.reshape(-1)
    for n in range(out.shape[0]):
        for r in range(oh):
            first_row, end_row = max(r * sh - top, 0), min(r * sh - top + kh, h)
            first = running[0]
            for e in range(span):
                first[_flat(e)] = -np.inf
            now = 0
            for rr in range(first_row, end_row):
                row = (n * h + rr) * width * channels
                for j in range(kw):
                    # the output columns whose tap j falls inside the image
                    lo = max(0, -((j - left) // sw))
                    hi = min(ow, (width - 1 + left - j) // sw + 1)
                    if lo >= hi:
                        continue
                    best_row, next_row = running[now], running[1 - now]
                    for e in range(lo * channels):
                        next_row[_flat(e)] = best_row[_flat(e)]
                    if sw == 1:
                        shift = row + (j - left) * channels  # tap of element e: shift + e
                        for e in range(lo * channels, hi * channels):
                            i = _flat(e)
                            best, value = best_row[i], flat[_flat(shift + e)]
                            next_row[i] = best if (best > value) | (best != best) else value
                    else:
                        for c in range(lo, hi):
                            tap = row + (c * sw - left + j) * channels
                            for ch in range(channels):
                                i = _flat(c * channels + ch)
                                best, value = best_row[i], flat[_flat(tap + ch)]
                                next_row[i] = (
                                    best if (best > value) | (best != best) else value)
                    for e in range(hi * channels, span):
                        next_row[_flat(e)] = best_row[_flat(e)]
                    now = 1 - now
            result, target = running[now], out[n, r]
            for c in range(ow):
                for ch in range(channels):
                    target[c, ch] = result[_flat(c * channels + ch)]


@jit
def _flat(index):
    # flat indices as unsigned: numba wraps a negative signed index with a select per
    # element, which keeps LLVM from vectorizing a loop over an offset it cannot prove
    # non-negative (measured 15x slower)
    return np.uint64(index)


@jit
def _span(size, out_size, stride, pad, tap):
    """The output positions [lo, hi) whose tap ``tap`` lies inside the input
    (0 <= position * stride + tap - pad < size)."""
    lo = max(0, -((tap - pad) // stride))
    return lo, max(lo, min(out_size, (size - 1 + pad - tap) // stride + 1))


@jit
def _first_max_row(x, y, first, cur, nxt, padded, held, x_image, y_row, r, h, width,
                   channels, ow, kh, kw, sh, sw, top, left):
    """first (OW*C) = the first-max tap of each window of output row r (NO_TAP: none):
    taps in reverse raster order, the tap replacing the index wherever it equals y,
    so the first matching tap is the one left (a padding tap matches where y is
    -inf); cur and nxt alternate, like max_pool's running maximum."""
    row = ow * channels
    for k in range(row):
        cur[_flat(k)] = NO_TAP
    for i in range(kh - 1, -1, -1):
        rr = r * sh + i - top
        for j in range(kw - 1, -1, -1):
            tap = np.int32(i * kw + j)
            lo, hi = _span(width, ow, sw, left, j)
            if not 0 <= rr < h:
                lo, hi = 0, 0
            for k in range(lo * channels):
                seen = cur[_flat(k)]
                nxt[_flat(k)] = tap if y[_flat(y_row + k)] == -np.inf else seen
            for k in range(hi * channels, row):
                seen = cur[_flat(k)]
                nxt[_flat(k)] = tap if y[_flat(y_row + k)] == -np.inf else seen
            x0 = x_image + (rr * width + lo * sw + j - left) * channels
            # stride 1: the inside windows read one run of x (a long vector loop)
            runs, run, x_step = (1, (hi - lo) * channels, 0) if sw == 1 else (
                hi - lo, channels, sw * channels)
            for q in range(runs):
                b0, xq = (lo + q) * channels, x0 + q * x_step
                for k in range(run):
                    seen = cur[_flat(b0 + k)]
                    nxt[_flat(b0 + k)] = (
                        tap if x[_flat(xq + k)] == y[_flat(y_row + b0 + k)] else seen)
            cur, nxt = nxt, cur
    for k in range(row):
        first[_flat(k)] = cur[_flat(k)]


@jit
def _gradient_row(grad, ring, out, y_image, out_row, pr, width, channels, oh, ow,
                  kh, kw, sh, sw, top, left, zero):
    """out's input row pr = +0.0, then + grad[w] for each window w containing the pixel
    whose first maximum it is, in increasing tap order of the pixel within w; ``ring``
    holds output row r's first-max taps at ``r % len(ring)`` (a ring of kh rows, or
    every row of the image: graphc.ops.pool_taps_code)."""
    row = ow * channels
    for k in range(width * channels):
        out[_flat(out_row + k)] = zero
    for i in range(kh):
        rs = pr + top - i
        if rs < 0:
            break
        r = rs // sh
        if r * sh != rs or r >= oh:
            continue
        first, g0 = ring[r % ring.shape[0]], y_image + r * row
        for j in range(kw):
            tap = np.int32(i * kw + j)
            lo, hi = _span(width, ow, sw, left, j)
            runs, run = (1, (hi - lo) * channels) if sw == 1 else (hi - lo, channels)
            for q in range(runs):
                b0 = (lo + q) * channels
                p0 = out_row + ((lo + q) * sw + j - left) * channels
                for k in range(run):
                    g = grad[_flat(g0 + b0 + k)]  # read always: no masked load
                    out[_flat(p0 + k)] += g if first[_flat(b0 + k)] == tap else zero


@jit
def _first_max_row_3wide(x, y, first, cur, nxt, padded, held, x_image, y_row, r, h,
                         width, channels, ow, kh, kw, sh, sw, top, left):
    """_first_max_row for windows 3 wide at column stride 1 (W7's pools): a window
    row's three taps in one pass of selects (this pass 2.3x faster at W7 (a) than tap
    by tap), over input rows padded with -inf (a ring of kh rows, ``held`` naming the
    input row each slot holds), so the edge columns need no tests."""
    row = ow * channels
    for k in range(row):
        cur[_flat(k)] = NO_TAP
    for i in range(kh - 1, -1, -1):
        rr = r * sh + i - top
        first_tap = np.int32(i * 3)
        if not 0 <= rr < h:  # three padding taps: the row's first one, where y is -inf
            for k in range(row):
                seen = cur[_flat(k)]
                nxt[_flat(k)] = first_tap if y[_flat(y_row + k)] == -np.inf else seen
            cur, nxt = nxt, cur
            continue
        x_row, line = x_image + rr * width * channels, padded[rr % kh]
        if held[rr % kh] != x_row:  # padded column q holds input column q - left
            held[rr % kh] = x_row
            for k in range(line.size):
                line[_flat(k)] = -np.inf
            for k in range(width * channels):
                line[_flat(left * channels + k)] = x[_flat(x_row + k)]
        second, third = np.int32(first_tap + 1), np.int32(first_tap + 2)
        for k in range(row):  # output column c's tap j: padded column c + j
            value, best = y[_flat(y_row + k)], cur[_flat(k)]
            best = third if line[_flat(k + 2 * channels)] == value else best
            best = second if line[_flat(k + channels)] == value else best
            nxt[_flat(k)] = first_tap if line[_flat(k)] == value else best
        cur, nxt = nxt, cur
    for k in range(row):
        first[_flat(k)] = cur[_flat(k)]


@jit
def _gradient_row_3wide(grad, ring, out, y_image, out_row, pr, width, channels, oh, ow,
                        kh, kw, sh, sw, top, left, zero):
    """_gradient_row for windows 3 wide at column stride 1: a pixel's three taps of a
    window row in one pass, but for the edge pixels (those outside some window)."""
    row = ow * channels
    # the pixels in all three windows of a row: 0 <= pc + left - j < ow for j in 0..2
    inner_lo = min(width, max(0, 2 - left))
    inner_hi = max(inner_lo, min(width, ow - left))
    for k in range(width * channels):
        out[_flat(out_row + k)] = zero
    for i in range(kh):
        rs = pr + top - i
        if rs < 0:
            break
        r = rs // sh
        if r * sh != rs or r >= oh:
            continue
        first, g0 = ring[r % ring.shape[0]], y_image + r * row
        for pc in range(width):  # edge pixels, window by window (a few columns)
            if inner_lo <= pc < inner_hi:
                continue
            for j in range(3):
                c, tap = pc + left - j, np.int32(i * 3 + j)
                if not 0 <= c < ow:
                    continue
                for k in range(channels):
                    g = grad[_flat(g0 + c * channels + k)]
                    out[_flat(out_row + pc * channels + k)] += (
                        g if first[_flat(c * channels + k)] == tap else zero)
        # pixel pc's window of tap j is c = pc + left - j: flat offset (left - j) * C
        tap, second, third = np.int32(i * 3), np.int32(i * 3 + 1), np.int32(i * 3 + 2)
        for k in range(inner_lo * channels, inner_hi * channels):
            k0 = k + left * channels
            k1, k2 = k0 - channels, k0 - 2 * channels
            total = out[_flat(out_row + k)]
            g = grad[_flat(g0 + k0)]
            total += g if first[_flat(k0)] == tap else zero
            g = grad[_flat(g0 + k1)]
            total += g if first[_flat(k1)] == second else zero
            g = grad[_flat(g0 + k2)]
            total += g if first[_flat(k2)] == third else zero
            out[_flat(out_row + k)] = total


@jit
def _scatter_by_rows(three_wide, x, y, grad, out, rows, padded, batch,
                     h, width, channels, oh, ow, kh, kw, sh, sw, top, left, zero):
    """out (flat NHWC, x's shape) = grad (flat, y's shape) summed at each window's first
    maximum, by the row passes given; rows: (kh + 2, OW*C) int32 scratch, a ring of kh
    rows of first-max taps and two working rows; padded: (kh, (OW + 2)*C) scratch of
    x's dtype (the 3-wide passes'). Each input row is written once its last window row
    is known, so x, y, grad and out stream through the cache row by row."""
    ring, cur, nxt = rows[:kh], rows[kh], rows[kh + 1]
    row = ow * channels
    held = np.full(kh, -1, dtype=np.int64)  # the padded rows: none yet
    for n in range(batch):
        x_image, y_image, pr = n * h * width * channels, n * oh * row, 0
        for r in range(oh):
            # the row passes by a flag, not passed in as functions: numba caches no
            # function that takes others as values
            if three_wide:
                _first_max_row_3wide(x, y, ring[r % kh], cur, nxt, padded, held, x_image,
                                     y_image + r * row, r, h, width, channels, ow, kh, kw,
                                     sh, sw, top, left)
            else:
                _first_max_row(x, y, ring[r % kh], cur, nxt, padded, held, x_image,
                               y_image + r * row, r, h, width, channels, ow, kh, kw, sh, sw,
                               top, left)
            # input row pr's windows end at row (pr + top) // sh (all rows: the last)
            while pr < h and (r == oh - 1 or (pr + top) // sh <= r):
                start = x_image + pr * width * channels
                if three_wide:
                    _gradient_row_3wide(grad, ring, out, y_image, start, pr, width, channels,
                                        oh, ow, kh, kw, sh, sw, top, left, zero)
                else:
                    _gradient_row(grad, ring, out, y_image, start, pr, width, channels, oh,
                                  ow, kh, kw, sh, sw, top, left, zero)
                pr += 1


# two entry points for the two kinds of windows (both compile both row passes once per
# machine: numba's disk cache keeps them)
@jit
def max_pool_scatter(x, y, grad, out, rows, padded, batch, h, width, channels, oh, ow,
                     kh, kw, sh, sw, top, left, zero):
    """The overlapping scatter, any window and strides (see _scatter_by_rows)."""
    _scatter_by_rows(False, x, y, grad, out, rows, padded,
                     batch, h, width, channels, oh, ow, kh, kw, sh, sw, top, left, zero)


@jit
def max_pool_scatter_3wide(x, y, grad, out, rows, padded, batch, h, width, channels, oh,
                           ow, kh, kw, sh, sw, top, left, zero):
    """The overlapping scatter for windows 3 wide at column stride 1."""
    _scatter_by_rows(True, x, y, grad, out, rows,
                     padded, batch, h, width, channels, oh, ow, kh, kw, sh, sw, top,
                     left, zero)


@jit
def max_pool_scatter_disjoint(x, y, grad, grad_steps, out, kh, kw, sh, sw, top, left, zero):
    """max_pool_scatter where windows do not overlap (strides >= window): each input
    of a window is written once, 0 + grad at the first maximum, else 0 (3x faster: no
    read of ``out``, whose pixels outside every window the caller zeroes).

    An output row at a time, as ``max_pool``: each tap in raster order tests every window
    of the row in one pass over its (column, channel) elements, on flat C-ordered arrays
    with unsigned offsets, so the loop over a window's channels vectorizes (W7 (a)'s 2x2
    stride-2 pool gradient over 56 channels, one thread: 0.135 -> 0.099 ms a call, Zen 4;
    at (b), 32x32 images, it stays ~1.5 ms, the time to stream its 18 MB).

    ``grad`` is flat rows of ``channels`` elements, and ``grad_steps`` how many rows apart
    its images, rows and columns are: (OH * OW, OW, 1) when C-contiguous, (1, 0, 0) for
    the broadcast of one row per image (the gradient of a mean, read without a copy)."""
    h, width, channels = x.shape[1], x.shape[2], x.shape[3]
    step_image, step_row, step_column = grad_steps
    oh, ow = y.shape[1], y.shape[2]
    span = ow * channels
    # found flags alternate between two rows, like max_pool's running maximum
    found = np.zeros((2, span), dtype=np.bool_)
    xs, ys, gs, outs = x.reshape(-1), y.reshape(-1), grad.reshape(-1), out.reshape(-1)
    for n in range(y.shape[0]):
        for r in range(oh):
            first = found[0]
            for e in range(span):
                first[_flat(e)] = False
            now = 0
            base = (n * oh + r) * span  # the output row's first element
            grad_base = n * step_image + r * step_row  # its gradient's first row
            for i in range(kh):
                rr = r * sh + i - top
                for j in range(kw):
                    seen_row, next_row = found[now], found[1 - now]
                    for c in range(ow):
                        cc = c * sw + j - left
                        at = c * channels
                        if 0 <= rr < h and 0 <= cc < width:
                            pixel = ((n * h + rr) * width + cc) * channels
                            g = (grad_base + c * step_column) * channels
                            for ch in range(channels):
                                e, o = _flat(at + ch), _flat(base + at + ch)
                                seen = seen_row[e]
                                hit = (xs[_flat(pixel + ch)] == ys[o]) & ~seen
                                outs[_flat(pixel + ch)] = zero + gs[_flat(g + ch)] if hit else zero
                                next_row[e] = seen | hit
                        else:
                            for ch in range(channels):
                                e, o = _flat(at + ch), _flat(base + at + ch)
                                next_row[e] = seen_row[e] | (ys[o] == -np.inf)
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
