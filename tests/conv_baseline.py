"""The conv and max-pool kernels as they were before issue 14 (one batched GEMM or maximum
per filter tap on strided views), kept unchanged as the reference of the differential tests
of the fast kernels (tests/test_conv_kernels.py) and of the W7 micro-suite's "before" rows."""
from __future__ import annotations

import itertools
import math

import numpy as np

def window_geometry(size, window, stride, dilation, padding):
    """``(output size, padding before, padding after)`` of one spatial dim (TF's rules)."""
    effective = (window - 1) * dilation + 1
    if padding == "VALID":
        out = max(0, math.ceil((size - effective + 1) / stride))
        return out, 0, 0
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + effective - size, 0)
    return out, total // 2, total - total // 2


def pad_input(x, kh, kw, strides, dilations, padding, fill):
    (sh, sw), (dh, dw) = strides, dilations
    oh, top, bottom = window_geometry(x.shape[1], kh, sh, dh, padding)
    ow, left, right = window_geometry(x.shape[2], kw, sw, dw, padding)
    if top or bottom or left or right:
        x = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=fill)
    return x, oh, ow


def tap_window(x, i, j, oh, ow, strides, dilations):
    """The input pixels that filter tap (i, j) meets, for every output position."""
    (sh, sw), (dh, dw) = strides, dilations
    return x[:, i * dh: i * dh + sh * (oh - 1) + 1: sh, j * dw: j * dw + sw * (ow - 1) + 1: sw, :]


def conv_kernel(x, w, strides, padding, dilations):
    kh, kw, _, c_out = w.shape
    x, oh, ow = pad_input(x, kh, kw, strides, dilations, padding, 0)
    out = np.zeros((x.shape[0], oh, ow, c_out), dtype=np.result_type(x, w))
    if oh == 0 or ow == 0:
        return out
    for i, j in itertools.product(range(kh), range(kw)):
        out += tap_window(x, i, j, oh, ow, strides, dilations) @ w[i, j]
    return out


def max_pool_kernel(x, ksize, strides, padding):
    lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    xp, oh, ow = pad_input(x, *ksize, strides, (1, 1), padding, lowest)
    out = np.full((x.shape[0], oh, ow, x.shape[3]), lowest, dtype=x.dtype)
    for i, j in itertools.product(range(ksize[0]), range(ksize[1])):
        np.maximum(out, tap_window(xp, i, j, oh, ow, strides, (1, 1)), out=out)
    return out


def backprop_input_kernel(input_sizes, w, dy, strides, padding, dilations):
    n, h, width, c = (int(v) for v in input_sizes)
    kh, kw = w.shape[:2]
    (sh, sw), (dh, dw) = strides, dilations
    oh, top, bottom = window_geometry(h, kh, sh, dh, padding)
    ow, left, right = window_geometry(width, kw, sw, dw, padding)
    if (oh, ow) != dy.shape[1:3]:
        raise ValueError(f"conv2d_backprop_input: out_backprop of shape {dy.shape} does not "
                         f"match input sizes {[n, h, width, c]}")
    padded = np.zeros((n, h + top + bottom, width + left + right, c), dtype=dy.dtype)
    for i, j in itertools.product(range(kh), range(kw)):
        tap_window(padded, i, j, oh, ow, strides, dilations)[...] += dy @ w[i, j].T
    return padded[:, top:top + h, left:left + width, :]


def backprop_filter_kernel(x, filter_sizes, dy, strides, padding, dilations):
    kh, kw, c_in, c_out = (int(v) for v in filter_sizes)
    padded, oh, ow = pad_input(x, kh, kw, strides, dilations, padding, 0)
    grad = np.zeros((kh, kw, c_in, c_out), dtype=dy.dtype)
    for i, j in itertools.product(range(kh), range(kw)):
        window = tap_window(padded, i, j, oh, ow, strides, dilations)
        grad[i, j] = np.tensordot(window, dy, axes=([0, 1, 2], [0, 1, 2]))
    return grad


def argmax_taps(x, y, ksize, strides, padding):
    """Yield (tap window view of padded dx, mask) giving each window's first maximum."""
    lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    padded, oh, ow = pad_input(x, *ksize, strides, (1, 1), padding, lowest)
    taken = np.zeros(y.shape, dtype=bool)
    for i, j in itertools.product(range(ksize[0]), range(ksize[1])):
        hit = (tap_window(padded, i, j, oh, ow, strides, (1, 1)) == y) & ~taken
        taken |= hit
        yield i, j, hit, padded.shape, oh, ow


def max_pool_grad_kernel(x, y, dy, ksize, strides, padding):
    out = None
    for i, j, hit, padded_shape, oh, ow in argmax_taps(x, y, ksize, strides, padding):
        if out is None:
            out = np.zeros(padded_shape, dtype=dy.dtype)
        tap_window(out, i, j, oh, ow, strides, (1, 1))[...] += np.where(hit, dy, 0)
    _, top, _ = window_geometry(x.shape[1], ksize[0], strides[0], 1, padding)
    _, left, _ = window_geometry(x.shape[2], ksize[1], strides[1], 1, padding)
    return out[:, top:top + x.shape[1], left:left + x.shape[2], :]


def max_pool_grad_grad_kernel(x, y, ddx, ksize, strides, padding):
    padded_ddx = pad_input(ddx, *ksize, strides, (1, 1), padding, 0)[0]
    out = np.zeros(y.shape, dtype=ddx.dtype)
    for i, j, hit, _, oh, ow in argmax_taps(x, y, ksize, strides, padding):
        out += np.where(hit, tap_window(padded_ddx, i, j, oh, ow, strides, (1, 1)), 0)
    return out
