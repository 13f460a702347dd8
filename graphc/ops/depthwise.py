"""Depthwise convolution over NHWC images (TF1's ``DepthwiseConv2dNative``): each input
channel k convolved with its own ``channel_multiplier`` filters, output channel ``k * M +
m``. Its two gradient ops are linear in their tensors and adjoint to it and to each other,
so gradients of every order stay in this closed family, as conv2d's do in ``conv_grads``:
native <-> backprop_input / backprop_filter."""
from __future__ import annotations

import itertools

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.ops.common import FLOAT, apply_op, rand, same_dtype_rule
from graphc.ops.conv import window_geometry
from graphc.ops.shape_ops import shape
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape
from graphc.static_values import constant_value_as_shape

__all__ = ["depthwise_conv2d_native", "depthwise_conv2d_native_backprop_input",
           "depthwise_conv2d_native_backprop_filter", "spatial_pair"]

GEOMETRY = {"strides": (1, 1), "padding": "VALID", "dilations": (1, 1)}


def spatial_pair(value, what: str, op_name: str) -> tuple:
    """TF's 2-D sizes: an int, [h, w] or [1, h, w, 1] -> (h, w), each >= 1."""
    values = [int(value)] * 2 if isinstance(value, (int, np.integer)) else [int(v)
                                                                            for v in value]
    if len(values) == 4 and values[0] == values[3] == 1:
        values = values[1:3]
    if len(values) != 2 or min(values) < 1:
        raise ValueError(f"{op_name}: {what} must be an int, [h, w] or [1, h, w, 1] of values "
                         f">= 1, got {value!r}")
    return tuple(values)


def _geometry(op) -> dict:
    return {k: op.attrs[k] for k in GEOMETRY}


def _pads(size, window, stride, dilation, padding):
    out, before, after = window_geometry(size, window, stride, dilation, padding)
    return out, (before, after)


def _layout(x_shape, kh, kw, strides, dilations, padding):
    """(oh, ow, padding widths of H and W) of one geometry."""
    oh, pad_h = _pads(x_shape[1], kh, strides[0], dilations[0], padding)
    ow, pad_w = _pads(x_shape[2], kw, strides[1], dilations[1], padding)
    return oh, ow, pad_h, pad_w


def _tap(padded, i, j, oh, ow, strides, dilations):
    """The pixels filter tap (i, j) meets for every output position (a strided view)."""
    (sh, sw), (dh, dw) = strides, dilations
    return padded[:, i * dh: i * dh + sh * (oh - 1) + 1: sh,
                  j * dw: j * dw + sw * (ow - 1) + 1: sw, :]


def _check_padding(op_name, padding):
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"{op_name}: padding must be 'SAME' or 'VALID', got {padding!r}")


# -- the forward op ------------------------------------------------------------------------
def _native_shapes(inputs, attrs):
    x, w = inputs[0].shape, inputs[1].shape
    if x.rank != 4 or w.rank != 4:
        raise ValueError(f"depthwise_conv2d_native: input must be NHWC (rank 4) and filter "
                         f"[h, w, in_channels, multiplier] (rank 4), got shapes {x} and {w}")
    _check_padding("depthwise_conv2d_native", attrs["padding"])
    if None not in (x.dims[3], w.dims[2]) and x.dims[3] != w.dims[2]:
        raise ValueError(f"depthwise_conv2d_native: input has {x.dims[3]} channels but filter "
                         f"{w} expects {w.dims[2]}")
    channels = x.dims[3] if x.dims[3] is not None else w.dims[2]
    out_channels = None if None in (channels, w.dims[3]) else channels * w.dims[3]

    def out_dim(size, window, stride, dilation):
        if size is None or window is None:
            return None
        return window_geometry(size, window, stride, dilation, attrs["padding"])[0]
    (sh, sw), (dh, dw) = attrs["strides"], attrs["dilations"]
    return [TensorShape([x.dims[0], out_dim(x.dims[1], w.dims[0], sh, dh),
                         out_dim(x.dims[2], w.dims[1], sw, dw), out_channels])]


def _native_kernel(x, w, strides, padding, dilations):
    kh, kw, channels, multiplier = w.shape
    oh, ow, pad_h, pad_w = _layout(x.shape, kh, kw, strides, dilations, padding)
    padded = np.pad(x, ((0, 0), pad_h, pad_w, (0, 0)))
    out = np.zeros((x.shape[0], oh, ow, channels, multiplier), np.result_type(x, w))
    if oh and ow:
        for i, j in itertools.product(range(kh), range(kw)):
            out += _tap(padded, i, j, oh, ow, strides, dilations)[..., None] * w[i, j]
    return out.reshape(x.shape[0], oh, ow, channels * multiplier)


def _native_reference(x, w, strides, padding, dilations=1):
    strides = spatial_pair(strides, "strides", "")
    dilations = spatial_pair(dilations, "dilations", "")
    kh, kw, channels, multiplier = w.shape
    oh, ow, (top, _), (left, _) = _layout(x.shape, kh, kw, strides, dilations, padding)
    out = np.zeros((x.shape[0], oh, ow, channels * multiplier))
    for n, r, c, k, m in itertools.product(range(x.shape[0]), range(oh), range(ow),
                                           range(channels), range(multiplier)):
        out[n, r, c, k * multiplier + m] = sum(
            x[n, rr, cc, k] * w[i, j, k, m] for i in range(kh) for j in range(kw)
            for rr, cc in [(r * strides[0] + i * dilations[0] - top,
                            c * strides[1] + j * dilations[1] - left)]
            if 0 <= rr < x.shape[1] and 0 <= cc < x.shape[2])
    return out


def _native_grad(op, dy):
    x, w = op.inputs
    return [depthwise_conv2d_native_backprop_input(shape(x), w, dy, **_geometry(op)),
            depthwise_conv2d_native_backprop_filter(x, shape(w), dy, **_geometry(op))]


NATIVE = registry.register(OpDef(
    name="depthwise_conv2d_native", dtypes=same_dtype_rule("depthwise_conv2d_native", FLOAT),
    shapes=_native_shapes, kernel=_native_kernel, attrs=dict(GEOMETRY), grad=_native_grad,
    fresh_output=True, reference=_native_reference,
    samples=lambda: [Sample((rand(2, 5, 5, 3), rand(3, 3, 3, 2), 1, "VALID")),
                     Sample((rand(1, 6, 7, 2), rand(3, 2, 2, 1), [1, 2, 2, 1], "SAME")),
                     Sample((rand(1, 7, 6, 2), rand(2, 2, 2, 3), 1, "SAME", 2)),
                     Sample((rand(1, 4, 4, 2, dtype=np.float32),
                             rand(1, 1, 2, 2, dtype=np.float32), 2, "VALID"), rtol=1e-5)],
    error_samples=lambda: [
        ErrorSample((rand(1, 5, 5, 3), rand(3, 3, 2, 1), 1, "VALID"), match="channels"),
        ErrorSample((rand(5, 5, 3), rand(3, 3, 3, 1), 1, "VALID"), match="rank 4"),
        ErrorSample((rand(1, 5, 5, 3), rand(3, 3, 3, 1), 1, "FULL"), match="padding")],
    doc="Depthwise 2-D convolution: channel k with its own multiplier filters."))


def _attrs(op_name, strides, padding, dilations):
    return {"strides": spatial_pair(strides, "strides", op_name),
            "padding": str(padding).upper(),  # checked by the shape rules
            "dilations": spatial_pair(dilations, "dilations", op_name)}


@registry.public(NATIVE)
def depthwise_conv2d_native(input, filter, strides, padding,  # noqa: A002
                            dilations=(1, 1, 1, 1), data_format="NHWC", name=None):
    """Depthwise convolution of NHWC ``input`` with a ``[h, w, in_channels,
    channel_multiplier]`` filter (TF1 ``tf.nn.depthwise_conv2d_native``).

    Example:
        >>> y = gc.nn.depthwise_conv2d_native(x, W, [1, 1, 1, 1], "SAME")   # C * M channels
    """
    if data_format != "NHWC":
        raise ValueError(f"depthwise_conv2d_native: data_format {data_format!r} is not "
                         "supported; use 'NHWC' (tf.nn.depthwise_conv2d takes NCHW)")
    return apply_op("depthwise_conv2d_native", [input, filter],
                    _attrs("depthwise_conv2d_native", strides, padding, dilations),
                    name=name or "depthwise")


# -- the gradient ops ----------------------------------------------------------------------
def _sizes(op_name, tensor, padding):
    _check_padding(op_name, padding)
    if tensor.shape.rank not in (None, 1) or tensor.shape.dims not in (None, (4,), (None,)):
        raise ValueError(f"{op_name}: sizes must be a 1-D tensor of 4 ints, got "
                         f"{tensor.shape}")
    return constant_value_as_shape(tensor)


def _grad_shapes(op_name, sizes_index, tensor_role):
    """The gradient ops' shape rule: the sizes input read as the output's shape."""
    def shapes(inputs, attrs):
        tensor, dy = inputs[1 - sizes_index].shape, inputs[2].shape
        if tensor.rank != 4 or dy.rank != 4:
            raise ValueError(f"{op_name}: {tensor_role} and out_backprop must have rank 4, "
                             f"got {tensor} and {dy}")
        return [_sizes(op_name, inputs[sizes_index], attrs["padding"])]
    return shapes


def _input_grad_kernel(input_sizes, w, dy, strides, padding, dilations):
    n, h, width, channels = (int(v) for v in input_sizes)
    kh, kw, _, multiplier = w.shape
    oh, ow, pad_h, pad_w = _layout((n, h, width), kh, kw, strides, dilations, padding)
    if dy.shape != (n, oh, ow, channels * multiplier):
        raise ValueError(f"depthwise_conv2d_native_backprop_input: out_backprop of shape "
                         f"{dy.shape} does not match input sizes {[n, h, width, channels]} "
                         f"and filter {w.shape}")
    per_channel = dy.reshape(n, oh, ow, channels, multiplier)
    padded = np.zeros((n, h + sum(pad_h), width + sum(pad_w), channels), dy.dtype)
    for i, j in itertools.product(range(kh), range(kw)):
        _tap(padded, i, j, oh, ow, strides, dilations)[...] += np.einsum(
            "nhwcm,cm->nhwc", per_channel, w[i, j])
    return padded[:, pad_h[0]:pad_h[0] + h, pad_w[0]:pad_w[0] + width, :]


def _filter_grad_kernel(x, filter_sizes, dy, strides, padding, dilations):
    kh, kw, channels, multiplier = (int(v) for v in filter_sizes)
    oh, ow, pad_h, pad_w = _layout(x.shape, kh, kw, strides, dilations, padding)
    padded = np.pad(x, ((0, 0), pad_h, pad_w, (0, 0)))
    per_channel = dy.reshape(x.shape[0], oh, ow, channels, multiplier)
    grad = np.zeros((kh, kw, channels, multiplier), dy.dtype)
    for i, j in itertools.product(range(kh), range(kw)):
        grad[i, j] = np.einsum("nhwc,nhwcm->cm", _tap(padded, i, j, oh, ow, strides, dilations),
                               per_channel)
    return grad


def _adjoint_reference(kind):
    """Gradient-op references from the forward reference: the forward op is linear in each
    argument, so its adjoint's entries are forward values on unit tensors (slow, exact)."""
    def reference(a, sizes, dy, strides, padding, dilations=1):
        sizes = tuple(int(v) for v in sizes)
        out = np.zeros(sizes)
        for index in np.ndindex(*sizes):
            unit = np.zeros(sizes)
            unit[index] = 1.0
            forward = (_native_reference(unit, a, strides, padding, dilations)
                       if kind == "input" else
                       _native_reference(a, unit, strides, padding, dilations))
            out[index] = np.sum(forward * dy)
        return out
    if kind == "input":
        return lambda sizes, w, dy, *rest: reference(w, sizes, dy, *rest)
    return reference


INPUT_GRAD = registry.register(OpDef(
    name="depthwise_conv2d_native_backprop_input", dtypes=lambda d, a: [d[2]],
    shapes=_grad_shapes("depthwise_conv2d_native_backprop_input", 0, "filter"),
    kernel=_input_grad_kernel, attrs=dict(GEOMETRY),
    grad=lambda op, ddx: [None, depthwise_conv2d_native_backprop_filter(
        ddx, shape(op.inputs[1]), op.inputs[2], **_geometry(op)),
        depthwise_conv2d_native(ddx, op.inputs[1], **_geometry(op))],
    fresh_output=True, reference=_adjoint_reference("input"),
    samples=lambda: [Sample((np.array([2, 5, 5, 3], np.int32), rand(3, 3, 3, 2),
                             rand(2, 3, 3, 6), 1, "VALID")),
                     Sample((np.array([1, 6, 7, 2], np.int32), rand(3, 2, 2, 1),
                             rand(1, 3, 4, 2), 2, "SAME", 1)),
                     Sample((np.array([1, 5, 4, 1], np.int32), rand(2, 2, 1, 2),
                             rand(1, 5, 4, 2), 1, "SAME", 2))],
    error_samples=lambda: [ErrorSample((np.array([1, 5, 5, 3], np.int32), rand(3, 3, 3),
                                        rand(1, 3, 3, 3), 1, "VALID"), match="rank 4")],
    doc="The gradient of depthwise_conv2d_native with respect to its input."))
FILTER_GRAD = registry.register(OpDef(
    name="depthwise_conv2d_native_backprop_filter", dtypes=lambda d, a: [d[2]],
    shapes=_grad_shapes("depthwise_conv2d_native_backprop_filter", 1, "input"),
    kernel=_filter_grad_kernel, attrs=dict(GEOMETRY),
    grad=lambda op, ddw: [depthwise_conv2d_native_backprop_input(
        shape(op.inputs[0]), ddw, op.inputs[2], **_geometry(op)), None,
        depthwise_conv2d_native(op.inputs[0], ddw, **_geometry(op))],
    fresh_output=True, reference=_adjoint_reference("filter"),
    samples=lambda: [Sample((rand(2, 5, 5, 3), np.array([3, 3, 3, 2], np.int32),
                             rand(2, 3, 3, 6), 1, "VALID")),
                     Sample((rand(1, 7, 6, 2), np.array([2, 2, 2, 1], np.int32),
                             rand(1, 7, 6, 2), 1, "SAME", 2))],
    error_samples=lambda: [ErrorSample((rand(5, 5, 3), np.array([3, 3, 3, 1], np.int32),
                                        rand(1, 3, 3, 3), 1, "VALID"), match="rank 4")],
    doc="The gradient of depthwise_conv2d_native with respect to its filter."))


def _backprop_api(op_type, size_index):
    def api(a, sizes_or_filter, out_backprop, strides, padding, dilations=(1, 1, 1, 1),
            data_format="NHWC", name=None):
        if data_format != "NHWC":
            raise ValueError(f"{op_type}: data_format {data_format!r} is not supported; use "
                             "'NHWC'")
        graph = graph_of(a, sizes_or_filter, out_backprop)
        with graph.as_default(), graph.atomic():
            inputs = [a, sizes_or_filter, out_backprop]
            inputs[size_index] = convert_to_tensor(inputs[size_index], dtype_hint=gdt.int32)
            return apply_op(op_type, inputs, _attrs(op_type, strides, padding, dilations),
                            name=name)
    api.__name__ = api.__qualname__ = op_type
    sizes = "input_sizes, filter" if size_index == 0 else "input, filter_sizes"
    api.__doc__ = (f"TF1's ``tf.nn.{op_type}({sizes}, out_backprop, strides, padding)``.\n\n"
                   f"    Example:\n        >>> g = gc.nn.{op_type}({sizes}, dy, [1, 1, 1, 1], 'SAME')\n")
    return api


depthwise_conv2d_native_backprop_input = registry.public(INPUT_GRAD)(
    _backprop_api("depthwise_conv2d_native_backprop_input", 0))
depthwise_conv2d_native_backprop_filter = registry.public(FILTER_GRAD)(
    _backprop_api("depthwise_conv2d_native_backprop_filter", 1))
