"""Fast kernels of convolution and max pooling over NHWC images (issue 14), chosen by
measurement at the shapes of the benchmark's CNN (tools/bench_conv.py, W7):

- a 1x1 convolution of stride 1 is one plain 2-D GEMM on the reshaped NHWC tensor;
- any other convolution copies its windows once into an im2col matrix (rows: output
  positions, columns: (tap, channel)) and does one GEMM with the filter as a (taps * C_in,
  C_out) matrix, except where that GEMM would be narrow (C_out <= 8 with C_in >= 8): there a
  GEMM per tap on the strided window views is faster;
- the filter gradient is the transposed GEMM over the same im2col matrix (no per-tap window
  copies, no tensordot); the input gradient of a stride-1 convolution with 8 or more input
  channels is the forward convolution of the output gradient with the flipped, transposed
  filter, otherwise a GEMM followed by a scatter of its columns (col2im);
- max pooling is separable: the maximum over the window's columns, then over its rows
  ((kh - 1) + (kw - 1) passes instead of kh * kw - 1);
- the max-pool gradient finds each window's first maximum and adds the output gradient there
  in one pass, compiled by numba where it is installed (the ``fast`` extra); without numba,
  the NumPy kernel of graphc.ops.conv_grads runs (the reference path).

Every kernel splits its batch over graphc's thread pool when the runtime's threading policy
installs one (``set_batch_splitter``; graphc.runtime.threads).

Results differ from the per-tap kernels they replaced only in the order of a convolution's
float sums (im2col sums over taps and channels in one dot product): within the float-sum
bound (a few ulps of the sum of |products|), which tests/test_conv_kernels.py checks against
those kernels (tests/conv_baseline.py). Max pooling and its gradients are bitwise the old
kernels' values, NaN, infinities and ties included.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["conv_forward", "conv_input_grad", "conv_filter_grad", "max_pool_forward",
           "max_pool_scatter", "max_pool_gather", "window_geometry", "HAVE_NUMBA"]


def window_geometry(size, window, stride, dilation, padding):
    """``(output size, padding before, padding after)`` of one spatial dim (TF's rules)."""
    effective = (window - 1) * dilation + 1
    if padding == "VALID":
        out = max(0, math.ceil((size - effective + 1) / stride))
        return out, 0, 0
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + effective - size, 0)
    return out, total // 2, total - total // 2


def _pad(x, top, bottom, left, right, fill=0):
    if top or bottom or left or right:
        return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=fill)
    return x


def _window(x, i, j, oh, ow, strides, dilations):
    """The input pixels that filter tap (i, j) meets, for every output position."""
    (sh, sw), (dh, dw) = strides, dilations
    return x[:, i * dh: i * dh + sh * (oh - 1) + 1: sh, j * dw: j * dw + sw * (ow - 1) + 1: sw, :]


def _im2col(xp, kh, kw, oh, ow, strides, dilations):
    """The windows of padded ``xp`` as a (N*OH*OW, kh*kw*C) matrix, columns (tap, channel).

    One copy of a strided sliding-window view: NumPy orders that copy's loops well, 2-5x
    faster at W7's shapes than copying tap by tap into the matrix's column blocks."""
    (sh, sw), (dh, dw) = strides, dilations
    windows = sliding_window_view(xp, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(1, 2))
    windows = windows[:, 0: sh * (oh - 1) + 1: sh, 0: sw * (ow - 1) + 1: sw, :, ::dh, ::dw]
    cols = np.ascontiguousarray(windows.transpose(0, 1, 2, 4, 5, 3))
    return cols.reshape(xp.shape[0] * oh * ow, kh * kw * xp.shape[3])


def _rows(a):
    """``a`` (N, H, W, C) as a (N*H*W, C) matrix (a copy only when not C-contiguous)."""
    return a.reshape(-1, a.shape[-1])


def _is_pointwise(kh, kw, strides):
    return kh == kw == 1 and tuple(strides) == (1, 1)


def _conv_padded(x, w, strides, dilations, pads, out_hw):
    """Correlate ``x`` padded by ``pads`` = (top, bottom, left, right) with HWIO ``w``."""
    kh, kw, c_in, c_out = w.shape
    n = x.shape[0]
    oh, ow = out_hw
    dtype = np.result_type(x, w)
    if n == 0 or oh == 0 or ow == 0 or c_out == 0:
        return np.zeros((n, oh, ow, c_out), dtype=dtype)
    if c_in == 0:
        return np.zeros((n, oh, ow, c_out), dtype=dtype)
    if _is_pointwise(kh, kw, strides) and not any(pads):
        return (_rows(x) @ w.reshape(c_in, c_out)).reshape(n, oh, ow, c_out)
    xp = _pad(x, *pads)
    if c_in >= 8 and c_out <= 8:
        # a narrow GEMM (N = c_out) over a wide im2col buffer loses to a GEMM per tap on
        # the strided views: measured 1.4x at W7's 5x5 8->8 convolution
        out = np.zeros((n, oh, ow, c_out), dtype=dtype)
        for i, j in itertools.product(range(kh), range(kw)):
            out += _window(xp, i, j, oh, ow, strides, dilations) @ w[i, j]
        return out
    cols = _im2col(xp, kh, kw, oh, ow, strides, dilations)
    return (cols @ w.reshape(kh * kw * c_in, c_out)).reshape(n, oh, ow, c_out)


def _geometry(h, width, kh, kw, strides, dilations, padding):
    oh, top, bottom = window_geometry(h, kh, strides[0], dilations[0], padding)
    ow, left, right = window_geometry(width, kw, strides[1], dilations[1], padding)
    return (oh, ow), (top, bottom, left, right)


# graphc's pool (graphc.runtime.threads) installs itself here: ``splitter(work, n, chunks)``
# runs ``work(lo, hi)`` over chunks of the batch ``range(n)`` on its threads (GEMMs, copies
# and the compiled loops release the GIL). None: every kernel runs on the calling thread.
_SPLITTER: list = [None]
# below this many elements per call, splitting costs more than it saves (each piece pays
# its own padding, im2col and GEMM setup; W7 (a)'s 64x8x8 batches stay whole)
MIN_SPLIT_ELEMENTS = 1 << 18


def set_batch_splitter(splitter) -> None:
    """Install the runtime's batch splitter (None: no splitting).

    Example:
        >>> set_batch_splitter(pool)  # graphc.runtime.threads.ensure_applied does this
    """
    _SPLITTER[0] = splitter


def _splitter(n, elements):
    """The pool's splitter when this call is worth splitting, else None."""
    splitter = _SPLITTER[0]
    return splitter if splitter is not None and n > 1 and elements >= MIN_SPLIT_ELEMENTS \
        else None


def _each_chunk(n, elements, work) -> None:
    """``work(lo, hi)`` over the batch ``range(n)``: in one call, or in chunks on the pool."""
    splitter = _splitter(n, elements)
    if splitter is None:
        work(0, n)
    else:
        splitter(work, n, splitter.threads)


def _by_batch(n, elements, compute, out_shape, dtype):
    """``compute(lo, hi)`` (the result for batch rows lo:hi) over the whole batch: in one
    call, or in chunks on the pool written into one output."""
    if _splitter(n, elements) is None:
        return compute(0, n)
    out = np.empty(out_shape, dtype=dtype)

    def work(lo, hi):
        out[lo:hi] = compute(lo, hi)
    _each_chunk(n, elements, work)
    return out


def _summed_by_batch(n, elements, compute):
    """The sum over the batch of ``compute(lo, hi)``: partial sums per chunk, added in
    batch order (so a given thread count always gives the same result)."""
    if _splitter(n, elements) is None:
        return compute(0, n)
    partials: dict = {}

    def work(lo, hi):
        partials[lo] = compute(lo, hi)
    _each_chunk(n, elements, work)
    ordered = [partials[lo] for lo in sorted(partials)]
    total = ordered[0]
    for partial in ordered[1:]:
        total += partial
    return total


def conv_forward(x, w, strides, padding, dilations):
    """conv2d of NHWC ``x`` with HWIO ``w`` (TF's SAME/VALID, strides and dilations)."""
    out_hw, pads = _geometry(x.shape[1], x.shape[2], w.shape[0], w.shape[1], strides,
                             dilations, padding)
    n, c_out = x.shape[0], w.shape[3]
    return _by_batch(n, n * out_hw[0] * out_hw[1] * c_out,
                     lambda lo, hi: _conv_padded(x[lo:hi], w, strides, dilations, pads, out_hw),
                     (n, *out_hw, c_out), np.result_type(x, w))


def conv_input_grad(input_sizes, w, dy, strides, padding, dilations):
    """The gradient of conv2d with respect to its input of shape ``input_sizes``."""
    n, h, width, c = (int(v) for v in input_sizes)
    kh, kw = w.shape[:2]
    out_hw, pads = _geometry(h, width, kh, kw, strides, dilations, padding)
    if tuple(out_hw) != tuple(dy.shape[1:3]):
        raise ValueError(f"conv2d_backprop_input: out_backprop of shape {dy.shape} does not "
                         f"match input sizes {[n, h, width, c]}")
    dtype = dy.dtype  # the op's dtype rule
    if min(n, h, width, c) == 0 or min(out_hw) == 0 or w.shape[3] == 0:
        return np.zeros((n, h, width, c), dtype=dtype)
    return _by_batch(n, n * h * width * c,
                     lambda lo, hi: _input_grad((h, width, c), w, dy[lo:hi], strides,
                                                dilations, out_hw, pads),
                     (n, h, width, c), dtype).astype(dtype, copy=False)


def _input_grad(hwc, w, dy, strides, dilations, out_hw, pads):
    (h, width, c), (top, bottom, left, right) = hwc, pads
    kh, kw, _, c_out = w.shape
    n = dy.shape[0]
    if tuple(strides) == (1, 1) and c >= 8:
        # dx[q] = sum_i dy[q + top - i*d] w[i]: the correlation of dy, padded so that the
        # flipped filter's taps line up, with the flipped and transposed (HWOI) filter
        (dh, dw) = dilations
        eff_h, eff_w = (kh - 1) * dh + 1, (kw - 1) * dw + 1
        before_h, before_w = eff_h - 1 - top, eff_w - 1 - left
        flipped_pads = (before_h, h + eff_h - 1 - before_h - out_hw[0],
                        before_w, width + eff_w - 1 - before_w - out_hw[1])
        flipped = w[::-1, ::-1].transpose(0, 1, 3, 2)
        return _conv_padded(dy, flipped, (1, 1), dilations, flipped_pads, (h, width))
    # strided, or few input channels (a GEMM of N = c would be narrow): one GEMM to
    # (position, tap, channel) columns, then add each tap's block into its window (col2im)
    cols = (_rows(dy) @ w.reshape(kh * kw * c, c_out).T).reshape(n, *out_hw, kh, kw, c)
    padded = np.zeros((n, h + top + bottom, width + left + right, c),
                      dtype=np.result_type(w, dy))
    for i, j in itertools.product(range(kh), range(kw)):
        _window(padded, i, j, *out_hw, strides, dilations)[...] += cols[:, :, :, i, j, :]
    return padded[:, top:top + h, left:left + width, :]


def conv_filter_grad(x, filter_sizes, dy, strides, padding, dilations):
    """The gradient of conv2d with respect to its filter of shape ``filter_sizes``."""
    kh, kw, c_in, c_out = (int(v) for v in filter_sizes)
    out_hw, pads = _geometry(x.shape[1], x.shape[2], kh, kw, strides, dilations, padding)
    dtype = dy.dtype  # the op's dtype rule
    n = x.shape[0]
    if n == 0 or min(out_hw) == 0 or min(kh, kw, c_in, c_out) == 0:
        return np.zeros((kh, kw, c_in, c_out), dtype=dtype)

    def partial(lo, hi):
        if _is_pointwise(kh, kw, strides) and not any(pads):
            return (_rows(x[lo:hi]).T @ _rows(dy[lo:hi])).reshape(kh, kw, c_in, c_out)
        cols = _im2col(_pad(x[lo:hi], *pads), kh, kw, *out_hw, strides, dilations)
        return (cols.T @ _rows(dy[lo:hi])).reshape(kh, kw, c_in, c_out)
    return _summed_by_batch(n, n * out_hw[0] * out_hw[1] * kh * kw * c_in,
                            partial).astype(dtype, copy=False)


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def max_pool_forward(x, ksize, strides, padding):
    """max_pool, separable: the maximum over each window's columns, then over its rows."""
    out_hw, pads = _geometry(x.shape[1], x.shape[2], *ksize, strides, (1, 1), padding)
    shape = (x.shape[0], *out_hw, x.shape[3])
    if x.size == 0 or min(out_hw) == 0:
        return np.full(shape, _lowest(x.dtype), dtype=x.dtype)
    return _by_batch(x.shape[0], x.size,
                     lambda lo, hi: _max_pool(x[lo:hi], ksize, strides, out_hw, pads),
                     shape, x.dtype)


def _max_pool(x, ksize, strides, out_hw, pads):
    (kh, kw), (sh, sw), (oh, ow) = ksize, strides, out_hw
    xp = _pad(x, *pads, fill=_lowest(x.dtype))
    cols = xp[:, :, 0: sw * (ow - 1) + 1: sw, :].copy()
    for j in range(1, kw):
        np.maximum(cols, xp[:, :, j: j + sw * (ow - 1) + 1: sw, :], out=cols)
    out = cols[:, 0: sh * (oh - 1) + 1: sh].copy()
    for i in range(1, kh):
        np.maximum(out, cols[:, i: i + sh * (oh - 1) + 1: sh], out=out)
    return out


try:  # the optional ``fast`` extra
    import numba
    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised where numba is not installed
    numba = None
    HAVE_NUMBA = False

_COMPILED: dict = {}


def _first_max_loops():
    """Compiled loops over the windows: ``scatter`` adds dy at each window's first tap equal
    to y (the NumPy kernel's rule: padding taps hold -inf and may match, and then the gradient
    falls outside the image, as there), ``gather`` reads ddx there. The channel loop is
    innermost (contiguous in NHWC), with a flag per channel for "maximum found"."""
    if not _COMPILED:
        @numba.njit(cache=False, nogil=True)
        def first_max(x, y, grad, out, scatter, kh, kw, sh, sw, top, left):
            h, width, channels = x.shape[1], x.shape[2], x.shape[3]
            taps = np.empty(channels, dtype=np.int32)  # each channel's first maximum tap
            # windows in reverse raster order: each input then sums its contributions in
            # increasing tap order, as the NumPy kernel does (bitwise the same sums)
            for n in range(y.shape[0]):
                for r in range(y.shape[1] - 1, -1, -1):
                    for c in range(y.shape[2] - 1, -1, -1):
                        target = y[n, r, c]
                        taps[:] = kh * kw
                        for t in range(kh * kw - 1, -1, -1):  # the last store is the first
                            rr, cc = r * sh + t // kw - top, c * sw + t % kw - left
                            if 0 <= rr < h and 0 <= cc < width:
                                row = x[n, rr, cc]
                                for ch in range(channels):
                                    if row[ch] == target[ch]:
                                        taps[ch] = t
                            else:  # a padding tap holds -inf
                                for ch in range(channels):
                                    if target[ch] == -np.inf:
                                        taps[ch] = t
                        for ch in range(channels):
                            t = taps[ch]
                            rr, cc = r * sh + t // kw - top, c * sw + t % kw - left
                            if t < kh * kw and 0 <= rr < h and 0 <= cc < width:
                                if scatter:
                                    out[n, rr, cc, ch] += grad[n, r, c, ch]
                                else:
                                    out[n, r, c, ch] = grad[n, rr, cc, ch]
        _COMPILED["first_max"] = first_max
    return _COMPILED["first_max"]


def compiled_pooling(x, y, grad):
    """Whether the compiled max-pool gradient loops take these arrays (numba installed;
    float32/float64 values of one dtype, as the loops compare them exactly)."""
    return (HAVE_NUMBA and x.dtype == y.dtype and x.dtype in (np.float32, np.float64)
            and grad.dtype in (np.float32, np.float64))


def _first_max_pass(x, y, grad, out, scatter, ksize, strides, padding):
    (kh, kw), (sh, sw) = ksize, strides
    _, (top, _, left, _) = _geometry(x.shape[1], x.shape[2], kh, kw, strides, (1, 1), padding)
    if y.size:
        loop = _first_max_loops()
        _each_chunk(x.shape[0], x.size, lambda lo, hi: loop(
            x[lo:hi], y[lo:hi], grad[lo:hi], out[lo:hi], scatter, kh, kw, sh, sw, top, left))
    return out


def max_pool_scatter(x, y, dy, ksize, strides, padding):
    """max_pool_grad by the compiled loop (see ``compiled_pooling``): dy added at each
    window's first maximum."""
    return _first_max_pass(x, y, dy, np.zeros(x.shape, dtype=dy.dtype), True, ksize, strides,
                           padding)


def max_pool_gather(x, y, ddx, ksize, strides, padding):
    """max_pool_grad_grad by the compiled loop (see ``compiled_pooling``): ddx read at each
    window's first maximum."""
    return _first_max_pass(x, y, ddx, np.zeros(y.shape, dtype=ddx.dtype), False, ksize,
                           strides, padding)
