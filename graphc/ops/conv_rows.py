"""Row-window convolution kernels (issue 14): stride-1 convolutions whose filter rows are
deep (``kw * C_in`` of at least ROWS_MIN_DEPTH), the 3x3 and 5x5 convolutions of W7 and
their input gradients, chosen by measurement at W7 (b)'s shapes over the im2col kernel of
graphc.ops.conv_kernels (1.2-1.8x faster, one BLAS thread).

In NHWC, a filter row's kw taps at output column c meet kw adjacent pixels of one input
row: ``kw * C_in`` contiguous elements. So the kernels copy only those runs, one per
(input row, output column): ``rows[n, r, c] = padded[n, r, c:c + kw, :]`` (kw times the
input, where im2col copies kh * kw times it), and

- the forward convolution is one GEMM of ``rows`` with all filter rows side by side
  (``(kw * C_in) x (kh * C_out)``: a wider GEMM than im2col's ``C_out`` columns, which
  BLAS runs 1.5-2.5x faster), followed by the sum over filter rows i of the products of
  input row ``r + i * dilation`` (compiled by numba where it is installed, else kh NumPy
  passes; bitwise the same);
- the filter gradient of filter row i is one GEMM of the ``rows`` shifted down by i
  (a view: rows of length ``kw * C_in`` follow each other) with the output gradient,
  padded with zero rows to the input's height so both run over the same rows.

Blocks of about ROWS_BLOCK_BYTES of images are done at a time, so each block's rows and
products are still in cache for the next pass. Results differ from the im2col kernels only
in the order of the float sums (by filter row, then over each row's taps and channels):
within the float-sum bound that tests/test_conv_kernels.py checks.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from graphc.ops.conv_buffers import padded, scratch
from graphc.ops.conv_loops import HAVE_NUMBA, tap_row_sum_loop

__all__ = ["takes_rows", "rows_forward", "rows_filter_grad", "ROWS_MIN_DEPTH"]

# below this many elements per filter row (kw * C_in), im2col's deeper GEMM wins
# (measured: conv1's 3x3 over 3 channels, 9 per row, is 1.3x faster by im2col)
ROWS_MIN_DEPTH = 32
# the GEMM also runs over the (kh - 1) * dilation padding rows below each image's output
# rows; above this fraction of extra rows im2col wins (measured: W7 (a)'s 3x3 over 8x8
# images, 25% extra, is 1.4x slower by rows; at 32x32, 6% and 12%, rows win)
ROWS_MAX_EXTRA = 1 / 8
ROWS_BLOCK_BYTES = 3 << 19


def takes_rows(w_shape, strides, dilations, out_height) -> bool:
    """Whether the row-window kernels take this convolution (stride 1, no column dilation,
    filter rows of at least ROWS_MIN_DEPTH elements, few padding rows per output row)."""
    kh, kw, c_in, _ = w_shape
    return (tuple(strides) == (1, 1) and dilations[1] == 1 and kh * kw > 1
            and kw * c_in >= ROWS_MIN_DEPTH
            and (kh - 1) * dilations[0] <= ROWS_MAX_EXTRA * out_height)


def _row_windows(x, pads, kw, ow):
    """``(n, padded height, ow, kw * C)``: each output column's run of kw pixels of each
    padded input row (a scratch buffer)."""
    xp = padded(x, *pads)
    if xp.strides[3] != xp.itemsize or xp.strides[2] != xp.shape[3] * xp.itemsize:
        xp = scratch("pad", xp.shape, xp.dtype)  # a strided view: its runs are not runs
        np.copyto(xp, x)
    n, hp, _, c = xp.shape
    rows = scratch("rows", (n, hp, ow, kw * c), xp.dtype)
    np.copyto(rows, as_strided(xp, rows.shape, xp.strides, writeable=False))
    return rows


def _images_per_block(hp, ow, row_elements, itemsize):
    return max(1, ROWS_BLOCK_BYTES // max(1, hp * ow * row_elements * itemsize))


def _sum_filter_rows(products, out, dilation):
    """out[n, r, c] = sum over i of products[n, r + i * dilation, c, i-th channel block]."""
    (n, oh, ow, channels), hp = out.shape, products.shape[1]
    if (HAVE_NUMBA and products.dtype == out.dtype and out.dtype in (np.float32, np.float64)
            and out.flags.c_contiguous and products.flags.c_contiguous):
        tap_row_sum_loop()(products.reshape(n * hp * ow, -1), out.reshape(n * oh * ow, -1),
                           n, oh, ow, dilation)
        return
    np.copyto(out, products[:, :oh, :, :channels])
    for i in range(1, products.shape[3] // channels):
        np.add(out, products[:, i * dilation: i * dilation + oh, :,
                             i * channels: (i + 1) * channels], out=out)


def rows_forward(x, w, dilation, pads, out, finish):
    """Correlate NHWC ``x`` padded by ``pads`` with HWIO ``w`` (stride 1, row dilation
    ``dilation``) into ``out``, ``finish(block)`` after each block of images."""
    kh, kw, c_in, c_out = w.shape
    n, oh, ow, _ = out.shape
    hp = oh + (kh - 1) * dilation
    # columns (filter row, output channel): every filter row's products in one GEMM
    filt = np.ascontiguousarray(w.transpose(1, 2, 0, 3)).reshape(kw * c_in, kh * c_out)
    step = _images_per_block(hp, ow, kw * c_in + kh * c_out, out.itemsize)
    for lo in range(0, n, step):
        block = out[lo:lo + step]
        rows = _row_windows(x[lo:lo + step], pads, kw, ow)
        products = scratch("row_products", (len(block), hp, ow, kh * c_out), out.dtype)
        np.matmul(rows.reshape(-1, kw * c_in), filt, out=products.reshape(-1, kh * c_out))
        _sum_filter_rows(products, block, dilation)
        finish(block)
    return out


def rows_filter_grad(x, dy, dilation, pads, total):
    """The filter gradient (``total``, HWIO, C-contiguous) of the convolution of NHWC ``x``
    padded by ``pads`` (stride 1, row dilation ``dilation``) with output gradient ``dy``."""
    kh, kw, c_in, c_out = total.shape
    n, oh, ow, _ = dy.shape
    hp = oh + (kh - 1) * dilation
    step = _images_per_block(hp, ow, kw * c_in + c_out, x.itemsize)
    for lo in range(0, n, step):
        rows = _row_windows(x[lo:lo + step], pads, kw, ow).reshape(-1, kw * c_in)
        grad = scratch("row_grad", (len(dy[lo:lo + step]), hp, ow, c_out), dy.dtype)
        grad[:, oh:] = 0  # the rows below the output: products of these are zero
        grad[:, :oh] = dy[lo:lo + step]
        grad = grad.reshape(-1, c_out)
        # filter row i meets input row r + i * dilation: the rows shifted down by i;
        # the last (kh - 1) * dilation rows of grad are zero rows, left out
        count = len(grad) - (kh - 1) * dilation * ow
        for i in range(kh):
            shifted = rows[i * dilation * ow: i * dilation * ow + count].T
            into = total[i].reshape(kw * c_in, c_out)
            if lo == 0:
                np.matmul(shifted, grad[:count], out=into)
            else:
                into += np.matmul(shifted, grad[:count],
                                  out=scratch("row_grad_step", into.shape, into.dtype))
    return total
