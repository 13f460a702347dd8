"""Fast kernels of convolution over NHWC images (issue 14), chosen by
measurement at the shapes of the benchmark's CNN (tools/bench_conv.py, W7):

- a stride-1 convolution with 8, 16, 24 or 32 output channels takes the compiled direct
  kernels of graphc.ops.conv_direct (numba), forward and, but for 1x1 filters, filter
  gradient: 1.2-3.5x faster at W7's shapes than the GEMM kernels below, which are the
  reference path (and what runs without numba);
- a 1x1 convolution of stride 1 is one plain 2-D GEMM on the reshaped NHWC tensor;
- a stride-1 convolution with deep filter rows (3x3 over 16 channels, 5x5 over 8) takes
  the row-window kernels of graphc.ops.conv_rows, forward and filter gradient;
- any other convolution copies its windows into an im2col matrix (rows: output positions,
  columns: (tap, channel)) and does a GEMM with the filter as a (taps * C_in, C_out)
  matrix, piece by piece (about CHUNK_BYTES of the matrix each, so the GEMM reads it from
  cache), each piece's GEMM written straight into its rows of the output;
- the filter gradient is the transposed GEMM over the same im2col pieces, summed into the
  result; the input gradient of a stride-1 convolution with 8 or more input channels is the
  forward convolution of the output gradient with the flipped, transposed filter,
  otherwise a GEMM followed by a scatter of its columns (col2im);
- max pooling and its gradients are graphc.ops.pool_kernels', which share this module's
  batch splitting.

Every kernel takes ``out=`` (its OpDef declares ``takes_out``): the plan's arena hands it
last run's result buffer to write into, and its temporaries are buffers each thread keeps
(graphc.ops.conv_buffers), so a training step allocates no large array afresh.

Every kernel splits its batch over graphc's thread pool when the runtime's threading policy
installs one (graphc.ops.batch_split).

Results differ from the per-tap kernels they replaced only in the order of a convolution's
float sums (im2col sums over taps and channels in one dot product, and the filter gradient
sums its pieces' products in batch order): within the float-sum bound (a few ulps of the
sum of |products|), which tests/test_conv_kernels.py checks against those kernels
(tests/conv_baseline.py).
"""
from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from graphc.ops.batch_split import each_chunk, set_batch_splitter, summed_by_batch
from graphc.ops.conv_buffers import output as _output
from graphc.ops.conv_buffers import padded as _pad
from graphc.ops.conv_buffers import scratch as _scratch
from graphc.ops.conv_direct import (direct_filter_grad, direct_forward,
                                    takes_direct_filter_grad, takes_direct_forward)
from graphc.ops.conv_rows import rows_filter_grad, rows_forward, takes_rows
from graphc.ops.kernel_choice import faster_first

__all__ = ["conv_forward", "conv_input_grad", "conv_filter_grad", "window_geometry",
           "set_batch_splitter"]


def window_geometry(size, window, stride, dilation, padding):
    """``(output size, padding before, padding after)`` of one spatial dim (TF's rules)."""
    effective = (window - 1) * dilation + 1
    if padding == "VALID":
        out = max(0, math.ceil((size - effective + 1) / stride))
        return out, 0, 0
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + effective - size, 0)
    return out, total // 2, total - total // 2


# The im2col matrix is built and multiplied in pieces of about CHUNK_BYTES, so each piece is
# still in cache for its GEMM (buffers: graphc.ops.conv_buffers).
CHUNK_BYTES = 1 << 19


def _window(x, i, j, oh, ow, strides, dilations):
    """The input pixels that filter tap (i, j) meets, for every output position."""
    (sh, sw), (dh, dw) = strides, dilations
    return x[:, i * dh: i * dh + sh * (oh - 1) + 1: sh, j * dw: j * dw + sw * (ow - 1) + 1: sw, :]


def _im2col(xp, rows, kh, kw, ow, strides, dilations):
    """Output rows ``rows`` = (first, end) of padded ``xp``'s windows as a (N*rows*OW,
    kh*kw*C) matrix, columns (tap, channel), in a scratch buffer.

    One copy of a strided sliding-window view: NumPy orders that copy's loops well, 2-5x
    faster at W7's shapes than copying tap by tap into the matrix's column blocks."""
    (sh, sw), (dh, dw), (first, end) = strides, dilations, rows
    n, _, _, c = xp.shape
    cols = _scratch("cols", (n, end - first, ow, kh, kw, c), xp.dtype)
    s_n, s_h, s_w, s_c = xp.strides
    if dw == 1 and s_c == xp.itemsize and s_w == c * s_c:
        # a filter row's kw taps meet kw adjacent pixels: one run of kw * C contiguous
        # elements per (position, filter row), copied as such (10-15% faster than by taps)
        rows_view = as_strided(xp[:, first * sh:], (n, end - first, ow, kh, kw * c),
                               (s_n, s_h * sh, s_w * sw, s_h * dh, s_c), writeable=False)
        np.copyto(cols.reshape(n, end - first, ow, kh, kw * c), rows_view)
        return cols.reshape(-1, kh * kw * c)
    windows = sliding_window_view(xp, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(1, 2))
    windows = windows[:, first * sh: sh * (end - 1) + 1: sh, 0: sw * (ow - 1) + 1: sw, :,
                      ::dh, ::dw]
    np.copyto(cols, windows.transpose(0, 1, 2, 4, 5, 3))
    return cols.reshape(-1, kh * kw * c)


def _pieces(n, oh, row_bytes):
    """``(first image, end image, ((first row, end row), ...))``: the pieces of an output of
    ``n`` images of ``oh`` rows whose im2col matrices take about CHUNK_BYTES (whole images
    where they fit, else bands of an image's output rows)."""
    per_image = max(1, oh * row_bytes)
    if per_image <= CHUNK_BYTES:
        step = CHUNK_BYTES // per_image
        return [(lo, min(n, lo + step), ((0, oh),)) for lo in range(0, n, step)]
    rows = max(1, CHUNK_BYTES // max(1, row_bytes))
    bands = tuple((r, min(oh, r + rows)) for r in range(0, oh, rows))
    return [(image, image + 1, bands) for image in range(n)]


def _rows(a):
    """``a`` (N, H, W, C) as a (N*H*W, C) matrix (a copy only when not C-contiguous)."""
    return a.reshape(-1, a.shape[-1])


def _is_pointwise(kh, kw, strides):
    return kh == kw == 1 and tuple(strides) == (1, 1)


def _conv_padded(x, w, strides, dilations, pads, out, epilogue=None):
    """Correlate ``x`` padded by ``pads`` = (top, bottom, left, right) with HWIO ``w`` into
    ``out`` (N, OH, OW, C_out), C-contiguous: one GEMM per piece of the im2col matrix,
    written straight into the output's rows; ``epilogue(block)`` then transforms each
    finished block of whole images while it is in cache (see OpDef.epilogue)."""
    finish = epilogue or (lambda block: None)
    if out.size == 0:
        return out
    if w.shape[2] == 0:
        out.fill(0)
        finish(out)
    elif (takes_direct_forward(w.shape, strides, dilations, x, w, out)
          and _direct_forward_faster(x, w, strides, dilations, pads, out)):
        direct_forward(x, w, dilations[0], pads, out, finish)
    else:
        _gemm_forward(x, w, strides, dilations, pads, out, epilogue)
    return out


def _direct_forward_faster(x, w, strides, dilations, pads, out) -> bool:
    """Whether the direct loop ran faster here than the GEMM kernel (``faster_first``)."""
    def candidates():
        scratch = np.empty_like(out)
        return (lambda: direct_forward(x, w, dilations[0], pads, scratch, lambda block: None),
                lambda: _gemm_forward(x, w, strides, dilations, pads, scratch, None))
    key = ("conv2d", x.shape, w.shape, x.dtype, tuple(strides), tuple(dilations), tuple(pads))
    return faster_first(key, candidates)


def _gemm_forward(x, w, strides, dilations, pads, out, epilogue):
    """``_conv_padded`` by GEMMs: the pointwise, row-window or im2col kernel."""
    kh, kw, c_in, c_out = w.shape
    n, oh, ow, _ = out.shape
    finish = epilogue or (lambda block: None)
    if _is_pointwise(kh, kw, strides) and not any(pads):
        filt = w.reshape(c_in, c_out)
        # one GEMM, or one per block of images when an epilogue follows each block
        step = n if epilogue is None else max(1, CHUNK_BYTES // (out[0].nbytes or 1))
        for lo in range(0, n, step):
            np.matmul(_rows(x[lo:lo + step]), filt, out=_rows(out[lo:lo + step]))
            finish(out[lo:lo + step])
    elif takes_rows(w.shape, strides, dilations, oh):
        rows_forward(x, w, dilations[0], pads, out, finish)
    else:
        filt = w.reshape(kh * kw * c_in, c_out)
        for lo, hi, bands in _pieces(n, oh, ow * kh * kw * c_in * x.itemsize):
            xp = _pad(x[lo:hi], *pads)
            for first, end in bands:
                np.matmul(_im2col(xp, (first, end), kh, kw, ow, strides, dilations), filt,
                          out=_rows(out[lo:hi, first:end]))
            finish(out[lo:hi])
    return out


def _geometry(h, width, kh, kw, strides, dilations, padding):
    oh, top, bottom = window_geometry(h, kh, strides[0], dilations[0], padding)
    ow, left, right = window_geometry(width, kw, strides[1], dilations[1], padding)
    return (oh, ow), (top, bottom, left, right)


def conv_forward(x, w, strides, padding, dilations, out=None, epilogue=None):
    """conv2d of NHWC ``x`` with HWIO ``w`` (TF's SAME/VALID, strides and dilations),
    written into ``out`` where that fits (see ``_output``), each finished block of images
    then transformed in place by ``epilogue(block)`` (see OpDef.epilogue)."""
    out_hw, pads = _geometry(x.shape[1], x.shape[2], w.shape[0], w.shape[1], strides,
                             dilations, padding)
    n, c_out = x.shape[0], w.shape[3]
    out = _output(out, (n, *out_hw, c_out), np.result_type(x, w))
    each_chunk(n, out.size, lambda lo, hi: _conv_padded(x[lo:hi], w, strides, dilations,
                                                        pads, out[lo:hi], epilogue))
    return out


def conv_input_grad(input_sizes, w, dy, strides, padding, dilations, out=None):
    """The gradient of conv2d with respect to its input of shape ``input_sizes``."""
    n, h, width, c = (int(v) for v in input_sizes)
    kh, kw = w.shape[:2]
    out_hw, pads = _geometry(h, width, kh, kw, strides, dilations, padding)
    if tuple(out_hw) != tuple(dy.shape[1:3]):
        raise ValueError(f"conv2d_backprop_input: out_backprop of shape {dy.shape} does not "
                         f"match input sizes {[n, h, width, c]}")
    out = _output(out, (n, h, width, c), dy.dtype)  # the op's dtype rule
    if min(n, h, width, c) == 0 or min(out_hw) == 0 or w.shape[3] == 0:
        out.fill(0)
        return out
    each_chunk(n, out.size, lambda lo, hi: _input_grad(w, dy[lo:hi], strides, dilations, pads,
                                                       out[lo:hi]))
    return out


def _input_grad(w, dy, strides, dilations, pads, out):
    (n, h, width, c), (top, bottom, left, right) = out.shape, pads
    kh, kw, _, c_out = w.shape
    out_hw = dy.shape[1:3]
    if tuple(strides) == (1, 1) and c >= 8:
        # dx[q] = sum_i dy[q + top - i*d] w[i]: the correlation of dy, padded so that the
        # flipped filter's taps line up, with the flipped and transposed (HWOI) filter
        (dh, dw) = dilations
        eff_h, eff_w = (kh - 1) * dh + 1, (kw - 1) * dw + 1
        before_h, before_w = eff_h - 1 - top, eff_w - 1 - left
        flipped_pads = (before_h, h + eff_h - 1 - before_h - out_hw[0],
                        before_w, width + eff_w - 1 - before_w - out_hw[1])
        flipped = w[::-1, ::-1].transpose(0, 1, 3, 2)
        return _conv_padded(dy, flipped, (1, 1), dilations, flipped_pads, out)
    # strided, or few input channels (a GEMM of N = c would be narrow): one GEMM to
    # (position, tap, channel) columns, then add each tap's block into its window (col2im)
    cols = (_rows(dy) @ w.reshape(kh * kw * c, c_out).T).reshape(n, *out_hw, kh, kw, c)
    padded = np.zeros((n, h + top + bottom, width + left + right, c),
                      dtype=np.result_type(w, dy))
    for i, j in itertools.product(range(kh), range(kw)):
        _window(padded, i, j, *out_hw, strides, dilations)[...] += cols[:, :, :, i, j, :]
    out[...] = padded[:, top:top + h, left:left + width, :]
    return out


def conv_filter_grad(x, filter_sizes, dy, strides, padding, dilations, out=None):
    """The gradient of conv2d with respect to its filter of shape ``filter_sizes``."""
    kh, kw, c_in, c_out = (int(v) for v in filter_sizes)
    out_hw, pads = _geometry(x.shape[1], x.shape[2], kh, kw, strides, dilations, padding)
    out = _output(out, (kh, kw, c_in, c_out), dy.dtype)  # the op's dtype rule
    n = x.shape[0]
    if n == 0 or min(out_hw) == 0 or min(kh, kw, c_in, c_out) == 0:
        out.fill(0)
        return out

    def partial(lo, hi, into):
        """The filter gradient of batch rows lo:hi, written into ``into``: by the direct
        loop where it takes these arrays and ran faster here (``faster_first``)."""
        if takes_direct_filter_grad((kh, kw, c_in, c_out), strides, dilations, x, dy, into):
            def direct(target=into):
                return direct_filter_grad(x[lo:hi], dy[lo:hi], dilations[0], pads, target)

            def candidates():
                scratch = np.empty_like(into)
                return lambda: direct(scratch), lambda: gemm_partial(lo, hi, scratch)
            key = ("conv2d_backprop_filter", x[lo:hi].shape, dy.shape[1:], into.shape,
                   x.dtype, tuple(strides), tuple(dilations), tuple(pads))
            if faster_first(key, candidates):
                return direct()
        return gemm_partial(lo, hi, into)

    def gemm_partial(lo, hi, into):
        total = into.reshape(kh * kw * c_in, c_out)
        if _is_pointwise(kh, kw, strides) and not any(pads):
            np.matmul(_rows(x[lo:hi]).T, _rows(dy[lo:hi]), out=total)
            return into
        if takes_rows((kh, kw, c_in, c_out), strides, dilations, out_hw[0]):
            return rows_filter_grad(x[lo:hi], dy[lo:hi], dilations[0], pads, into)
        step = None  # each piece's GEMM after the first (a scratch buffer), added to total
        for first_image, end_image, bands in _pieces(hi - lo, out_hw[0],
                                                     out_hw[1] * kh * kw * c_in * x.itemsize):
            xp = _pad(x[lo + first_image:lo + end_image], *pads)
            for first, end in bands:
                cols = _im2col(xp, (first, end), kh, kw, out_hw[1], strides, dilations)
                grad_rows = _rows(dy[lo + first_image:lo + end_image, first:end])
                if step is None:
                    np.matmul(cols.T, grad_rows, out=total)
                    step = _scratch("filter_step", total.shape, total.dtype)
                else:
                    total += np.matmul(cols.T, grad_rows, out=step)
        return into
    # split by the size of its operands, as the other kernels: at W7 (a)'s 64x8x8x8-24
    # ones (by work, 0.6-0.8M elements) the two halves ran 1.3-2x slower than the whole
    # on another core's cache, and slowed the kernels after them
    return summed_by_batch(n, max(x.size, dy.size), partial, out)
