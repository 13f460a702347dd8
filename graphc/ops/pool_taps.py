"""Max pooling that records each window's first-max tap, and the gradient that reads it
(made by the pool_taps pass, passes/pool_taps.py, from a ``max_pool`` and the
``max_pool_grad`` of the same input and output; no public function, as TF1 has none).

- ``max_pool_taps(x)`` -> ``(y, taps)``: ``y`` is max_pool's result, bitwise; ``taps``
  (y's shape, int8 for windows of up to 127 taps, else int32) holds each window's first
  tap in raster order (``row * kw + column`` of the window, padding taps included) equal
  to its maximum, where padding taps count as the lowest value (-inf for floats), and
  ``NO_TAP`` (-1) where the maximum is NaN: the tap max_pool_grad sends the gradient to.
- ``max_pool_grad_taps(taps, dy, input_shape)``: max_pool_grad's result, bitwise: each
  input pixel sums, from +0.0, the gradients of the windows whose recorded tap it is, in
  increasing tap order of the pixel within the window (a padding tap or NO_TAP sends its
  window's gradient nowhere).

max_pool_grad reads the pool's input and output again to find every window's first maximum
(9 compares per output for a 3x3 pool); with the taps it reads one byte per output instead
of two float arrays. At W7 (b) the two pools' gradients read about 16 MB less per step
(x and y of 4 + 4 MB and 7.3 + 1.8 MB, for 1 MB and 0.5 MB of taps).

Where numba is installed and the values are float32/float64, one compiled pass each
(graphc.ops.pool_taps_code), the batch split over graphc's pool as the other pool kernels;
elsewhere the NumPy per-tap passes of graphc.ops.conv_grads, which give the same values.

Example:
    >>> y, taps = MAX_POOL_TAPS.kernel(x, (3, 3), (1, 1), "SAME")
    >>> dx = MAX_POOL_GRAD_TAPS.kernel(taps, dy, x.shape, (3, 3), (1, 1), "SAME")
"""
from __future__ import annotations

import itertools

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.ops.batch_split import each_chunk
from graphc.ops.common import FLOAT, NUMERIC, apply_op, rand, same_dtype_rule
from graphc.ops.conv import POOL_ATTRS, _pool_shapes, pool_window_attrs
from graphc.ops.conv_buffers import output as _output
from graphc.ops.conv_grads import _argmax_taps, _sizes, scatter_at_taps
from graphc.ops.pool_kernels import (_gradient_rows, _lowest, compiled_pooling,
                                     max_pool_forward, pool_geometry, zero_outside_windows)
from graphc.ops.pool_loops import HAVE_NUMBA
from graphc.ops.shape_ops import shape
from graphc.registry import ErrorSample, OpDef, Sample

__all__ = ["max_pool_taps", "max_pool_grad_taps", "MAX_POOL_TAPS", "MAX_POOL_GRAD_TAPS",
           "NO_TAP", "taps_dtype"]

NO_TAP = -1


def taps_dtype(ksize):
    """The dtype of the taps of a ``ksize`` window: int8 up to 127 taps, else int32."""
    return np.dtype(np.int8 if ksize[0] * ksize[1] <= 127 else np.int32)


def _loops():
    from graphc.ops import pool_taps_code  # imports numba: here, not at import time
    return pool_taps_code


# -- the forward pool ----------------------------------------------------------------------
def _forward(x, ksize, strides, padding, out=None):
    """``(y, taps)`` of NHWC ``x``, into ``out`` (a pair kept by the plan's arena) where
    both fit."""
    out_hw, pads = pool_geometry(x.shape, ksize, strides, padding)
    shape = (x.shape[0], *out_hw, x.shape[3])
    y_out, taps_out = out if out is not None else (None, None)
    y, taps = _output(y_out, shape, x.dtype), _output(taps_out, shape, taps_dtype(ksize))
    if y.size == 0:
        return y, taps
    if compiled_pooling(x, y):
        loop, (kh, kw), (sh, sw) = _loops().max_pool_taps, ksize, strides
        x = np.ascontiguousarray(x)  # the loop reads it as one flat array
        each_chunk(x.shape[0], x.size, lambda lo, hi: loop(
            x[lo:hi], y[lo:hi], taps[lo:hi], kh, kw, sh, sw, pads[0], pads[2]))
        return y, taps
    max_pool_forward(x, ksize, strides, padding, out=y)
    taps.fill(NO_TAP)
    for i, j, hit, _, _, _ in _argmax_taps(x, y, ksize, strides, padding):
        taps[hit] = i * ksize[1] + j
    return y, taps


def _forward_reference(x, ksize, strides, padding):
    """Window by window: the maximum of the real taps, and the first tap in raster order
    (padding taps holding the lowest value) equal to it."""
    (kh, kw), (sh, sw) = ksize, strides
    (oh, ow), (top, _, left, _) = pool_geometry(x.shape, ksize, strides, padding)
    y = np.empty((x.shape[0], oh, ow, x.shape[3]), x.dtype)
    taps = np.full(y.shape, NO_TAP, taps_dtype(ksize))
    for n, r, c, ch in itertools.product(*(range(d) for d in y.shape)):
        cells = [(i, j, r * sh + i - top, c * sw + j - left)
                 for i, j in itertools.product(range(kh), range(kw))]
        values = [x[n, rr, cc, ch] if 0 <= rr < x.shape[1] and 0 <= cc < x.shape[2]
                  else _lowest(x.dtype) for _, _, rr, cc in cells]
        real = [x[n, rr, cc, ch] for _, _, rr, cc in cells
                if 0 <= rr < x.shape[1] and 0 <= cc < x.shape[2]]
        best = np.nan if any(v != v for v in real) else max(real)
        y[n, r, c, ch] = best
        for (i, j, _, _), value in zip(cells, values):
            if value == best:
                taps[n, r, c, ch] = i * kw + j
                break
    return y, taps


def _forward_dtypes(in_dtypes, attrs):
    dtype = same_dtype_rule("max_pool_taps", NUMERIC)(in_dtypes, attrs)[0]
    return [dtype, gdt.as_dtype(taps_dtype(attrs["ksize"]))]


def _forward_shapes(inputs, attrs):
    y = _pool_shapes("max_pool_taps")(inputs, attrs)[0]
    return [y, y]


def _forward_grad(op, dy, _taps_grad):
    if dy is None:
        return [None]
    return [apply_op(MAX_POOL_GRAD_TAPS.name, [op.outputs[1], dy, shape(op.inputs[0])],
                     dict(op.attrs))]



def _forward_samples():
    # ties, NaN and infinities: tests/test_pool_taps.py (finite differences need distinct
    # values)
    return [Sample((rand(2, 6, 6, 3), (2, 2), (2, 2), "VALID")),
            Sample((rand(1, 5, 7, 2), (3, 3), (2, 2), "SAME")),
            Sample((rand(2, 4, 5, 3, dtype=np.float32), (3, 3), (1, 1), "SAME")),
            Sample((np.arange(24, dtype=np.int32).reshape(1, 4, 3, 2) % 5, (2, 3), (1, 1),
                    "SAME"))]


MAX_POOL_TAPS = registry.register(OpDef(
    name="max_pool_taps", dtypes=_forward_dtypes, shapes=_forward_shapes, kernel=_forward,
    attrs=dict(POOL_ATTRS), fresh_output=True, takes_out=True, grad=_forward_grad,
    distribution=registry.ROWWISE,
    reference=_forward_reference, samples=_forward_samples,
    error_samples=lambda: [ErrorSample((rand(6, 6, 3), (2, 2), (2, 2), "VALID"),
                                       match="rank 4")],
    doc="max_pool, and each window's first-max tap (made by the pool_taps pass)."))


# -- the gradient --------------------------------------------------------------------------
def _grad_kernel(taps, dy, input_shape, ksize, strides, padding, out=None):
    """max_pool_grad of the pool whose taps are ``taps``, into ``out`` where it fits."""
    x_shape = tuple(int(d) for d in input_shape)
    out = _output(out, x_shape, dy.dtype)
    (kh, kw), (sh, sw) = ksize, strides
    (oh, ow), (top, _, left, _) = pool_geometry(x_shape, ksize, strides, padding)
    if taps.shape != dy.shape or taps.shape != (x_shape[0], oh, ow, x_shape[3]):
        raise ValueError(f"max_pool_grad_taps: taps {taps.shape} and gradient {dy.shape} "
                         f"must both be the pool's output shape for input {x_shape}, "
                         f"{(x_shape[0], oh, ow, x_shape[3])}")
    if out.size == 0 or taps.size == 0:
        out.fill(0)
        return out
    if not (HAVE_NUMBA and dy.dtype.type in (np.float32, np.float64)):
        np.copyto(out, _grad_numpy(taps, dy, x_shape, ksize, strides, padding))
        return out
    zero, taps = dy.dtype.type(0), np.ascontiguousarray(taps)
    if sh >= kh and sw >= kw:  # windows never overlap: each pixel written once
        zero_outside_windows(out, ksize, strides, (oh, ow), top, left)
        loop = _loops().max_pool_scatter_disjoint_taps
        each_chunk(x_shape[0], out.size, lambda lo, hi: loop(
            taps[lo:hi], *_gradient_rows(dy[lo:hi]), out[lo:hi], x_shape[1], x_shape[2],
            kh, kw, sh, sw, top, left, zero))
        return out
    loop, dy = _loops().max_pool_scatter_taps, np.ascontiguousarray(dy)
    _, h, width, channels = x_shape
    each_chunk(x_shape[0], out.size, lambda lo, hi: loop(
        (kw, sw) == (3, 1), taps[lo:hi].reshape(-1), dy[lo:hi].reshape(-1),
        out[lo:hi].reshape(-1), hi - lo, h, width, channels, oh, ow, kh, kw, sh, sw, top,
        left, zero))
    return out


def _grad_numpy(taps, dy, x_shape, ksize, strides, padding):
    """The per-tap kernel of max_pool_grad (graphc.ops.conv_grads) with the recorded taps
    for its masks."""
    hits = ((i, j, taps == i * ksize[1] + j)
            for i, j in itertools.product(range(ksize[0]), range(ksize[1])))
    return scatter_at_taps(hits, dy, x_shape, ksize, strides, padding)


def _grad_reference(taps, dy, input_shape, ksize, strides, padding):
    """Each window's gradient added at the pixel its tap names, window by window."""
    x_shape = tuple(int(d) for d in input_shape)
    (kh, kw), (sh, sw) = ksize, strides
    (_, _), (top, _, left, _) = pool_geometry(x_shape, ksize, strides, padding)
    dx = np.zeros(x_shape)
    for n, r, c, ch in itertools.product(*(range(d) for d in taps.shape)):
        tap = int(taps[n, r, c, ch])
        rr, cc = r * sh + tap // kw - top, c * sw + tap % kw - left
        if tap >= 0 and 0 <= rr < x_shape[1] and 0 <= cc < x_shape[2]:
            dx[n, rr, cc, ch] += dy[n, r, c, ch]
    return dx


def _grad_shapes(inputs, attrs):
    taps, dy = inputs[0].shape, inputs[1].shape
    if taps.rank not in (None, 4) or dy.rank not in (None, 4):
        raise ValueError(f"max_pool_grad_taps: taps and gradient must be NHWC (rank 4), got "
                         f"{taps} and {dy}")
    if not taps.is_compatible_with(dy):
        raise ValueError(f"max_pool_grad_taps: taps {taps} and gradient {dy} must have the "
                         "same shape (the pool's output)")
    return [_sizes("max_pool_grad_taps", inputs[2])]


def _grad_dtypes(in_dtypes, attrs):
    taps, dy, sizes = in_dtypes
    if not taps.is_integer or not sizes.is_integer:
        raise TypeError(f"max_pool_grad_taps: taps and input_shape must be integers, got "
                        f"{taps.name} and {sizes.name}")
    return same_dtype_rule("max_pool_grad_taps", FLOAT)([dy], attrs)


def _grad_samples():
    samples = []
    for x, ksize, strides, padding in [(rand(2, 6, 6, 3), (2, 2), (2, 2), "VALID"),
                                       (rand(1, 5, 7, 2), (3, 3), (2, 2), "SAME"),
                                       (rand(2, 5, 5, 2), (3, 3), (1, 1), "SAME"),
                                       (rand(1, 5, 5, 2), (2, 2), (3, 3), "SAME")]:
        taps = _forward_reference(x, ksize, strides, padding)[1]
        samples.append(Sample((taps, rand(*taps.shape), np.array(x.shape, np.int32), ksize,
                               strides, padding)))
    return samples


MAX_POOL_GRAD_TAPS = registry.register(OpDef(
    name="max_pool_grad_taps", dtypes=_grad_dtypes, shapes=_grad_shapes, kernel=_grad_kernel,
    attrs=dict(POOL_ATTRS), fresh_output=True, takes_out=True,
    distribution=registry.Split("rowwise", (0, 1), batch_shape=2),
    # the pass makes it after differentiation, from a max_pool_grad of an unoptimized graph
    grad=registry.NOT_DIFFERENTIABLE,
    reference=_grad_reference, samples=_grad_samples,
    error_samples=lambda: [ErrorSample((np.zeros((1, 2, 2, 1), np.int8), rand(1, 3, 3, 1),
                                        np.array([1, 4, 4, 1], np.int32), (2, 2), (2, 2),
                                        "VALID"), match="same shape")],
    doc="max_pool_grad from the taps max_pool_taps recorded (made by the pool_taps pass)."))


@registry.public(MAX_POOL_TAPS)
def max_pool_taps(value, ksize, strides, padding, name=None):
    """``(max_pool(value), taps)``: each window's maximum and its first-max tap.

    Example:
        >>> y, taps = max_pool_taps(x, 3, 1, "SAME")
    """
    return apply_op(MAX_POOL_TAPS.name, [value], pool_window_attrs(
        ksize, strides, padding, MAX_POOL_TAPS.name), name=name)


@registry.public(MAX_POOL_GRAD_TAPS)
def max_pool_grad_taps(taps, grad, input_shape, ksize, strides, padding, name=None):
    """max_pool_grad of the pool of input shape ``input_shape`` whose taps are ``taps``.

    Example:
        >>> dx = max_pool_grad_taps(taps, dy, gc.shape(x), 3, 1, "SAME")
    """
    return apply_op(MAX_POOL_GRAD_TAPS.name, [taps, grad, input_shape],
                    pool_window_attrs(ksize, strides, padding, MAX_POOL_GRAD_TAPS.name),
                    name=name)
