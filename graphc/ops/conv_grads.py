"""Gradient ops of convolution and pooling. Each is linear in its tensor arguments and the
adjoint of another op, so gradients of gradients stay inside this closed family:
conv2d <-> conv2d_backprop_input / conv2d_backprop_filter, max_pool_grad <-> max_pool_grad_grad,
avg_pool_grad <-> avg_pool."""
from __future__ import annotations

import itertools

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.ops.common import apply_op, rand
from graphc.ops.conv import (POOL_ATTRS, _check_padding, _geometry, _padded, _pool_attrs,
                             _spatial, avg_pool, conv2d)
from graphc.ops.conv_kernels import _window, conv_filter_grad, conv_input_grad, window_geometry
from graphc.ops.pool_kernels import (compiled_pooling, max_pool_forward, max_pool_gather,
                                     max_pool_scatter)
from graphc.ops.shape_ops import shape
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.static_values import constant_value_as_shape

__all__ = ["conv2d_backprop_input", "conv2d_backprop_filter", "max_pool_grad",
           "max_pool_grad_grad", "avg_pool_grad"]


def _sizes(op_name, tensor, rank=4):
    if tensor.shape.rank not in (None, 1) or tensor.shape.dims not in (None, (rank,), (None,)):
        raise ValueError(f"{op_name}: sizes must be a 1-D tensor of {rank} ints, got {tensor.shape}")
    return constant_value_as_shape(tensor)


def _backprop_input_shapes(inputs, attrs):
    sizes, w, dy = inputs[0], inputs[1].shape, inputs[2].shape
    if w.rank != 4 or dy.rank != 4:
        raise ValueError(f"conv2d_backprop_input: filter and out_backprop must have rank 4, got "
                         f"{w} and {dy}")
    if w.dims[3] is not None and dy.dims[3] is not None and w.dims[3] != dy.dims[3]:
        raise ValueError(f"conv2d_backprop_input: filter {w} has {w.dims[3]} output channels "
                         f"but out_backprop {dy} has {dy.dims[3]}")
    return [_sizes("conv2d_backprop_input", sizes)]


def _backprop_filter_shapes(inputs, attrs):
    x, dy = inputs[0].shape, inputs[2].shape
    if x.rank != 4 or dy.rank != 4:
        raise ValueError(f"conv2d_backprop_filter: input and out_backprop must have rank 4, got "
                         f"{x} and {dy}")
    return [_sizes("conv2d_backprop_filter", inputs[1])]


def _conv_input_reference(input_sizes, w, dy, strides, padding, dilations=1):
    strides, dilations = _spatial(strides, "", ""), _spatial(dilations, "", "")
    n, h, width, c = (int(d) for d in input_sizes)  # Python ints: unsigned sizes wrap
    kh, kw = w.shape[:2]
    _, top, _ = window_geometry(h, kh, strides[0], dilations[0], padding)
    _, left, _ = window_geometry(width, kw, strides[1], dilations[1], padding)
    dx = np.zeros((n, h, width, c))
    for b, r, col, o in itertools.product(*(range(d) for d in dy.shape)):
        for i, j, k in itertools.product(range(kh), range(kw), range(c)):
            rr = r * strides[0] + i * dilations[0] - top
            cc = col * strides[1] + j * dilations[1] - left
            if 0 <= rr < h and 0 <= cc < width:
                dx[b, rr, cc, k] += dy[b, r, col, o] * w[i, j, k, o]
    return dx


def _conv_filter_reference(x, filter_sizes, dy, strides, padding, dilations=1):
    strides, dilations = _spatial(strides, "", ""), _spatial(dilations, "", "")
    kh, kw, c_in, c_out = (int(d) for d in filter_sizes)  # Python ints: unsigned sizes wrap
    _, top, _ = window_geometry(x.shape[1], kh, strides[0], dilations[0], padding)
    _, left, _ = window_geometry(x.shape[2], kw, strides[1], dilations[1], padding)
    dw = np.zeros((kh, kw, c_in, c_out))
    for b, r, col, o in itertools.product(*(range(d) for d in dy.shape)):
        for i, j, k in itertools.product(range(kh), range(kw), range(c_in)):
            rr = r * strides[0] + i * dilations[0] - top
            cc = col * strides[1] + j * dilations[1] - left
            if 0 <= rr < x.shape[1] and 0 <= cc < x.shape[2]:
                dw[i, j, k, o] += dy[b, r, col, o] * x[b, rr, cc, k]
    return dw


CONV2D_BACKPROP_INPUT = registry.register(OpDef(
    name="conv2d_backprop_input", dtypes=lambda d, a: [d[2]], shapes=_backprop_input_shapes,
    kernel=conv_input_grad, fresh_output=True, takes_out=True,
    distribution=registry.Split("rowwise", (2,), batch_shape=0),
    # sum over output channels: blocks of the filter and dy give terms of the sum
    blocks=registry.Blocks(inputs=(1, 2), axis=3, output_axis=None),
    attrs={"strides": (1, 1), "padding": "VALID", "dilations": (1, 1)},
    grad=lambda op, ddx: [None, conv2d_backprop_filter(ddx, shape(op.inputs[1]), op.inputs[2],
                                                       **_geometry(op)),
                          conv2d(ddx, op.inputs[1], **_geometry(op))],
    reference=_conv_input_reference,
    samples=lambda: [Sample((np.array([2, 5, 5, 3], np.int32), rand(3, 3, 3, 4),
                             rand(2, 3, 3, 4), 1, "VALID")),
                     Sample((np.array([1, 6, 7, 2], np.int32), rand(3, 2, 2, 3),
                             rand(1, 3, 4, 3), 2, "SAME", 1)),
                     # the fast kernels' other paths: the flipped convolution, a 1x1 GEMM
                     Sample((np.array([1, 5, 5, 8], np.int32), rand(3, 3, 8, 2),
                             rand(1, 5, 5, 2), 1, "SAME")),
                     Sample((np.array([2, 4, 4, 3], np.int32), rand(1, 1, 3, 2),
                             rand(2, 4, 4, 2), 1, "VALID")),
                     # the flipped convolution by row windows (conv_rows.takes_rows)
                     Sample((np.array([1, 8, 4, 8], np.int32), rand(2, 2, 8, 16),
                             rand(1, 8, 4, 16), 1, "SAME"))],
    error_samples=lambda: [ErrorSample((np.array([1, 5, 5, 3], np.int32), rand(3, 3, 3, 4),
                                        rand(1, 3, 3, 2), 1, "VALID"),
                                       match="output channels")],
    doc="The gradient of conv2d with respect to its input (a transposed convolution)."))
CONV2D_BACKPROP_FILTER = registry.register(OpDef(
    name="conv2d_backprop_filter", dtypes=lambda d, a: [d[2]],
    shapes=_backprop_filter_shapes, kernel=conv_filter_grad, fresh_output=True,
    takes_out=True,
    distribution=registry.Split("reduction", (0, 2), "sum"),
    blocks=registry.Blocks(inputs=(2,), axis=3, output_axis=3, sizes=1),  # by output channel
    attrs={"strides": (1, 1), "padding": "VALID", "dilations": (1, 1)},
    grad=lambda op, ddw: [conv2d_backprop_input(shape(op.inputs[0]), ddw, op.inputs[2],
                                                **_geometry(op)), None,
                          conv2d(op.inputs[0], ddw, **_geometry(op))],
    reference=_conv_filter_reference,
    samples=lambda: [Sample((rand(2, 5, 5, 3), np.array([3, 3, 3, 4], np.int32),
                             rand(2, 3, 3, 4), 1, "VALID")),
                     Sample((rand(1, 7, 7, 1), np.array([2, 2, 1, 2], np.int32),
                             rand(1, 7, 7, 2), 1, "SAME", 2)),
                     Sample((rand(2, 4, 4, 3), np.array([1, 1, 3, 2], np.int32),
                             rand(2, 4, 4, 2), 1, "SAME")),
                     # by row windows (conv_rows.takes_rows)
                     Sample((rand(1, 9, 4, 17), np.array([2, 2, 17, 2], np.int32),
                             rand(1, 8, 3, 2), 1, "VALID"))],
    error_samples=lambda: [ErrorSample((rand(5, 5, 3), np.array([3, 3, 3, 4], np.int32),
                                        rand(2, 3, 3, 4), 1, "VALID"), match="rank 4")],
    doc="The gradient of conv2d with respect to its filter."))


def _backprop_api(op_type, first, second):
    def api(a, sizes_or_filter, out_backprop, strides, padding, dilations=(1, 1, 1, 1),
            data_format="NHWC", name=None, use_cudnn_on_gpu=True):
        attrs = {"strides": _spatial(strides, "strides", op_type),
                 "padding": str(padding).upper(),
                 "dilations": _spatial(dilations, "dilations", op_type)}
        _check_padding(op_type, attrs["padding"])
        graph = graph_of(a, sizes_or_filter, out_backprop)
        with graph.as_default(), graph.atomic():
            inputs = [a, sizes_or_filter, out_backprop]
            size_index = 0 if op_type == "conv2d_backprop_input" else 1
            inputs[size_index] = convert_to_tensor(inputs[size_index], dtype_hint=gdt.int32)
            return apply_op(op_type, inputs, attrs, name=name)
    api.__name__ = op_type
    api.__doc__ = (f"TF1's ``tf.nn.{op_type}({first}, {second}, out_backprop, strides, "
                   "padding)``.")
    return api


conv2d_backprop_input = registry.public(CONV2D_BACKPROP_INPUT)(
    _backprop_api("conv2d_backprop_input", "input_sizes", "filter"))
conv2d_backprop_filter = registry.public(CONV2D_BACKPROP_FILTER)(
    _backprop_api("conv2d_backprop_filter", "input", "filter_sizes"))


def _argmax_taps(x, y, ksize, strides, padding):
    """Yield (tap window view of padded dx, mask) giving each window's first maximum."""
    lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    padded, oh, ow = _padded(x, *ksize, strides, (1, 1), padding, lowest)
    taken = np.zeros(y.shape, dtype=bool)
    for i, j in itertools.product(range(ksize[0]), range(ksize[1])):
        hit = (_window(padded, i, j, oh, ow, strides, (1, 1)) == y) & ~taken
        taken |= hit
        yield i, j, hit, padded.shape, oh, ow


def _written(out, value):
    """``value`` stored into ``out`` where the caller's buffer fits it, else ``value``."""
    if out is not None and out.shape == value.shape and out.dtype == value.dtype:
        np.copyto(out, value)
        return out
    return value


def _max_pool_grad_kernel(x, y, dy, ksize, strides, padding, out=None):
    """The compiled one-pass loop where it applies (conv_kernels), else ``_max_pool_grad_numpy``."""
    if compiled_pooling(x, y, dy):
        return max_pool_scatter(x, y, dy, ksize, strides, padding, out=out)
    return _written(out, _max_pool_grad_numpy(x, y, dy, ksize, strides, padding))


def _max_pool_grad_numpy(x, y, dy, ksize, strides, padding):
    hits = ((i, j, hit) for i, j, hit, *_ in _argmax_taps(x, y, ksize, strides, padding))
    return scatter_at_taps(hits, dy, x.shape, ksize, strides, padding)


def scatter_at_taps(hits, dy, x_shape, ksize, strides, padding):
    """max_pool_grad by NumPy, tap by tap: ``hits`` gives ``(i, j, mask)`` for each tap in
    raster order, ``mask`` (dy's shape) the windows whose first maximum is that tap; each
    window's gradient is added at its tap, in that order, from +0.0."""
    padded, oh, ow = _padded(np.zeros(x_shape, dy.dtype), *ksize, strides, (1, 1), padding, 0)
    for i, j, hit in hits:
        _window(padded, i, j, oh, ow, strides, (1, 1))[...] += np.where(hit, dy, 0)
    _, top, _ = window_geometry(x_shape[1], ksize[0], strides[0], 1, padding)
    _, left, _ = window_geometry(x_shape[2], ksize[1], strides[1], 1, padding)
    return padded[:, top:top + x_shape[1], left:left + x_shape[2], :]


def _max_pool_grad_grad_kernel(x, y, ddx, ksize, strides, padding, out=None):
    """The compiled one-pass loop where it applies (conv_kernels), else the NumPy taps."""
    if compiled_pooling(x, y, ddx):
        return max_pool_gather(x, y, ddx, ksize, strides, padding, out=out)
    return _written(out, _max_pool_grad_grad_numpy(x, y, ddx, ksize, strides, padding))


def _max_pool_grad_grad_numpy(x, y, ddx, ksize, strides, padding):
    padded_ddx = _padded(ddx, *ksize, strides, (1, 1), padding, 0)[0]
    out = np.zeros(y.shape, dtype=ddx.dtype)
    for i, j, hit, _, oh, ow in _argmax_taps(x, y, ksize, strides, padding):
        out += np.where(hit, _window(padded_ddx, i, j, oh, ow, strides, (1, 1)), 0)
    return out


def _pool_windows(x_shape, ksize, strides, padding):
    """For the references: each output position's list of input (row, col), first to last."""
    ksize, strides = _spatial(ksize, "", ""), _spatial(strides, "", "")
    oh, top, _ = window_geometry(x_shape[1], ksize[0], strides[0], 1, padding)
    ow, left, _ = window_geometry(x_shape[2], ksize[1], strides[1], 1, padding)
    for r, c in itertools.product(range(oh), range(ow)):
        yield r, c, [(rr, cc)
                     for rr in range(r * strides[0] - top, r * strides[0] - top + ksize[0])
                     for cc in range(c * strides[1] - left, c * strides[1] - left + ksize[1])
                     if 0 <= rr < x_shape[1] and 0 <= cc < x_shape[2]]


def _argmax_cells(x, ksize, strides, padding):
    """For the references: ``(b, r, c, ch, rr, cc)``, each window's first maximum."""
    for r, c, cells in _pool_windows(x.shape, ksize, strides, padding):
        for b, ch in itertools.product(range(x.shape[0]), range(x.shape[3])):
            values = [x[b, rr, cc, ch] for rr, cc in cells]
            yield (b, r, c, ch) + cells[values.index(max(values))]


def _max_pool_grad_reference(x, y, dy, ksize, strides, padding):
    dx = np.zeros(x.shape)
    for b, r, c, ch, rr, cc in _argmax_cells(x, ksize, strides, padding):
        dx[b, rr, cc, ch] += dy[b, r, c, ch]
    return dx


def _max_pool_grad_grad_reference(x, y, ddx, ksize, strides, padding):
    out = np.zeros(y.shape)
    for b, r, c, ch, rr, cc in _argmax_cells(x, ksize, strides, padding):
        out[b, r, c, ch] = ddx[b, rr, cc, ch]
    return out


def _pool_grad_shapes(op_name):
    def shapes(inputs, attrs):
        x = inputs[0].shape
        if x.rank != 4:
            raise ValueError(f"{op_name}: the input must be NHWC (rank 4), got shape {x}")
        return [x if op_name == "max_pool_grad" else inputs[1].shape]
    return shapes


def _max_pool_example(seed_shape=(1, 5, 6, 2), ksize=2, strides=2, padding="VALID"):
    x = rand(*seed_shape)
    y = max_pool_forward(x, _spatial(ksize, "", ""), _spatial(strides, "", ""), padding)
    return x, y


def _max_pool_grad_samples():
    x, y = _max_pool_example()
    x2, y2 = _max_pool_example((2, 5, 5, 1), [1, 3, 3, 1], [1, 2, 2, 1], "SAME")
    return [Sample((x, y, rand(*y.shape), 2, 2, "VALID")),
            Sample((x2, y2, rand(*y2.shape), [1, 3, 3, 1], [1, 2, 2, 1], "SAME"))]


def _max_pool_grad_grad_samples():
    x, y = _max_pool_example()
    x2, y2 = _max_pool_example((2, 5, 5, 1), [1, 3, 3, 1], [1, 2, 2, 1], "SAME")
    return [Sample((x, y, rand(*x.shape), 2, 2, "VALID")),
            Sample((x2, y2, rand(*x2.shape), [1, 3, 3, 1], [1, 2, 2, 1], "SAME"))]


MAX_POOL_GRAD = registry.register(OpDef(
    name="max_pool_grad", dtypes=lambda d, a: [d[2]], shapes=_pool_grad_shapes("max_pool_grad"),
    kernel=_max_pool_grad_kernel, attrs=dict(POOL_ATTRS),
    fresh_output=True, takes_out=True,
    distribution=registry.Split("rowwise", (0, 1, 2)),
    grad=lambda op, ddx: [None, None, max_pool_grad_grad(op.inputs[0], op.inputs[1], ddx,
                                                         **_pool_attrs(op))],
    reference=_max_pool_grad_reference, samples=_max_pool_grad_samples,
    error_samples=lambda: [ErrorSample((rand(5, 6, 2), rand(2, 3, 2), rand(2, 3, 2), 2, 2,
                                        "VALID"), match="rank 4")],
    doc="Routes each window's gradient to its first maximum (ties: the first in row order)."))
MAX_POOL_GRAD_GRAD = registry.register(OpDef(
    name="max_pool_grad_grad", dtypes=lambda d, a: [d[2]],
    shapes=_pool_grad_shapes("max_pool_grad_grad"), kernel=_max_pool_grad_grad_kernel,
    fresh_output=True, takes_out=True,
    attrs=dict(POOL_ATTRS),
    grad=lambda op, dy: [None, None, max_pool_grad(op.inputs[0], op.inputs[1], dy,
                                                   **_pool_attrs(op))],
    reference=_max_pool_grad_grad_reference, samples=_max_pool_grad_grad_samples,
    error_samples=lambda: [ErrorSample((rand(5, 6, 2), rand(2, 3, 2), rand(5, 6, 2), 2, 2,
                                        "VALID"), match="rank 4")],
    doc="Picks, for each window, the value at its first maximum (max_pool_grad's adjoint)."))


def _avg_pool_grad_kernel(input_sizes, dy, ksize, strides, padding):
    n, h, width, c = (int(v) for v in input_sizes)
    ones, oh, ow = _padded(np.ones((1, h, width, 1), dtype=dy.dtype), *ksize, strides, (1, 1),
                           padding, 0)
    count = np.zeros((1, oh, ow, 1), dtype=dy.dtype)
    for i, j in itertools.product(range(ksize[0]), range(ksize[1])):
        count += _window(ones, i, j, oh, ow, strides, (1, 1))
    share = dy / count
    padded = np.zeros((n,) + ones.shape[1:3] + (c,), dtype=dy.dtype)
    for i, j in itertools.product(range(ksize[0]), range(ksize[1])):
        _window(padded, i, j, oh, ow, strides, (1, 1))[...] += share
    _, top, _ = window_geometry(h, ksize[0], strides[0], 1, padding)
    _, left, _ = window_geometry(width, ksize[1], strides[1], 1, padding)
    return padded[:, top:top + h, left:left + width, :]


def _avg_pool_grad_reference(input_sizes, dy, ksize, strides, padding):
    input_sizes = tuple(int(v) for v in input_sizes)  # Python ints: window bounds go negative
    dx = np.zeros(input_sizes)
    for r, c, cells in _pool_windows(input_sizes, ksize, strides, padding):
        for rr, cc in cells:
            dx[:, rr, cc, :] += dy[:, r, c, :] / len(cells)
    return dx


AVG_POOL_GRAD = registry.register(OpDef(
    name="avg_pool_grad", dtypes=lambda d, a: [d[1]],
    shapes=lambda ins, a: [_sizes("avg_pool_grad", ins[0])], kernel=_avg_pool_grad_kernel,
    distribution=registry.Split("rowwise", (1,), batch_shape=0),
    attrs=dict(POOL_ATTRS),
    grad=lambda op, ddx: [None, avg_pool(ddx, **_pool_attrs(op))],
    reference=_avg_pool_grad_reference,
    samples=lambda: [Sample((np.array([2, 6, 6, 3], np.int32), rand(2, 3, 3, 3), 2, 2, "VALID")),
                     Sample((np.array([1, 5, 7, 2], np.int32), rand(1, 3, 4, 2), [1, 3, 3, 1],
                             [1, 2, 2, 1], "SAME"))],
    error_samples=lambda: [ErrorSample((np.array([2, 6, 6], np.int32), rand(2, 3, 3, 3), 2, 2,
                                        "VALID"), match="sizes must be")],
    doc="Spreads each window's gradient evenly over its real elements (avg_pool's adjoint)."))


def _pool_grad_api(op_type, size_first):
    def api(a, b, c, ksize, strides, padding, data_format="NHWC", name=None):
        attrs = {"ksize": _spatial(ksize, "ksize", op_type),
                 "strides": _spatial(strides, "strides", op_type),
                 "padding": str(padding).upper()}
        inputs = [a, b] if c is None else [a, b, c]
        graph = graph_of(*inputs)
        with graph.as_default(), graph.atomic():
            if size_first:
                inputs[0] = convert_to_tensor(inputs[0], dtype_hint=gdt.int32)
            return apply_op(op_type, inputs, attrs, name=name)
    return api


def max_pool_grad(orig_input, orig_output, grad, ksize, strides, padding, data_format="NHWC",
                  name=None):
    """Gradient of max_pool: ``grad`` routed to each window's first maximum."""
    return _pool_grad_api("max_pool_grad", False)(orig_input, orig_output, grad, ksize,
                                                  strides, padding, data_format, name)


def max_pool_grad_grad(orig_input, orig_output, grad, ksize, strides, padding,
                       data_format="NHWC", name=None):
    """The adjoint of max_pool_grad: ``grad`` read at each window's first maximum."""
    return _pool_grad_api("max_pool_grad_grad", False)(orig_input, orig_output, grad, ksize,
                                                       strides, padding, data_format, name)


def avg_pool_grad(orig_input_shape, grad, ksize, strides, padding, data_format="NHWC",
                  name=None):
    """Gradient of avg_pool: each window's ``grad`` spread over its real elements."""
    return _pool_grad_api("avg_pool_grad", True)(orig_input_shape, grad, None, ksize, strides,
                                                 padding, data_format, name)


registry.public(MAX_POOL_GRAD)(max_pool_grad)
registry.public(MAX_POOL_GRAD_GRAD)(max_pool_grad_grad)
registry.public(AVG_POOL_GRAD)(avg_pool_grad)
