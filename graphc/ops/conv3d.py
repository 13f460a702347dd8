"""TF1's 3-D convolution (NDHWC input, DHWIO filter) and its two backprops, each the
others' gradient: conv3d, conv3d_backprop_input and conv3d_backprop_filter.

The kernels gather one strided view of the padded input per filter tap (im2col) and
contract them with the filter in one matrix product.
"""
from __future__ import annotations

import numpy as np

from graphc import registry
from graphc.graph import Tensor
from graphc.ops.common import FLOAT, apply_op, rand, same_dtype_rule
from graphc.ops.conv_kernels import window_geometry
from graphc.ops.patches import check_windows
from graphc.ops.shape_ops import shape as shape_of
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape
from graphc.static_values import constant_value_as_shape

__all__ = ["conv3d", "conv3d_backprop_input", "conv3d_backprop_filter", "conv3d_transpose",
           "window_taps", "check_window_attrs"]


def check_window_attrs(op_name, attrs, keys):
    """TF's 5-entry window lists ``[1, d, h, w, 1]``, the padding and the NDHWC layout."""
    check_windows(op_name, attrs, keys, rank=5)
    if attrs.get("data_format", "NDHWC") != "NDHWC":
        raise ValueError(f"{op_name}: only data_format 'NDHWC' is supported, got "
                         f"{attrs['data_format']!r}")


def out_dims(spatial, window, strides, dilations, padding):
    """Output sizes of the three spatial dims (None where the input size is unknown)."""
    return [None if n is None or k is None else window_geometry(n, k, s, d, padding)[0]
            for n, k, s, d in zip(spatial, window, strides, dilations)]


def window_taps(spatial, window, strides, dilations, padding):
    """``(taps, pads, outs)``: for each window tap, the slices of the padded input it reads
    at every output position; the ``(before, after)`` padding and the output sizes."""
    geometry = [window_geometry(n, k, s, d, padding)
                for n, k, s, d in zip(spatial, window, strides, dilations)]
    outs = [g[0] for g in geometry]
    taps = []
    for tap in np.ndindex(*window):
        taps.append((slice(None),) + tuple(
            slice(t * d, t * d + (o - 1) * s + 1, s) if o else slice(0, 0)
            for t, d, o, s in zip(tap, dilations, outs, strides)))
    return taps, [(g[1], g[2]) for g in geometry], outs


def _pad5(pads):
    return [(0, 0)] + list(pads) + [(0, 0)]


def _columns(x, window, strides, dilations, padding):
    taps, pads, outs = window_taps(x.shape[1:4], window, strides, dilations, padding)
    padded = np.pad(x, _pad5(pads))
    cols = np.empty([x.shape[0], *outs, len(taps), x.shape[4]], x.dtype)
    for t, key in enumerate(taps):
        cols[:, :, :, :, t] = padded[key]
    return cols, outs


def _conv3d_kernel(x, w, strides, padding, dilations, data_format):
    cols, outs = _columns(x, w.shape[:3], strides[1:4], dilations[1:4], padding)
    flat = cols.reshape(-1, cols.shape[-2] * cols.shape[-1])
    out = flat @ w.reshape(-1, w.shape[4])
    return out.reshape(x.shape[0], *outs, w.shape[4]).astype(x.dtype, copy=False)


def _backprop_input_kernel(input_sizes, w, dy, strides, padding, dilations, data_format):
    shape = [int(v) for v in input_sizes]
    taps, pads, outs = window_taps(shape[1:4], w.shape[:3], strides[1:4], dilations[1:4],
                                   padding)
    dcols = (dy.reshape(-1, w.shape[4]) @ w.reshape(-1, w.shape[4]).T).reshape(
        dy.shape[:4] + (len(taps), shape[4]))
    padded = np.zeros([n + a + b for n, (a, b) in zip(shape, _pad5(pads))], dy.dtype)
    for t, key in enumerate(taps):
        padded[key] += dcols[:, :, :, :, t]
    return padded[(slice(None),) + tuple(slice(a, a + n) for (a, _), n in
                                         zip(pads, shape[1:4]))]


def _backprop_filter_kernel(x, filter_sizes, dy, strides, padding, dilations, data_format):
    sizes = [int(v) for v in filter_sizes]
    cols, _ = _columns(x, sizes[:3], strides[1:4], dilations[1:4], padding)
    flat = cols.reshape(-1, cols.shape[-2] * cols.shape[-1])
    return (flat.T @ dy.reshape(-1, sizes[4])).reshape(sizes).astype(x.dtype, copy=False)


def _reference(x, w, strides, padding, dilations=(1, 1, 1, 1, 1), name=None,
               data_format="NDHWC"):
    """Output element by element: the sum over taps of the dilated window times w."""
    taps, pads, outs = window_taps(x.shape[1:4], w.shape[:3], strides[1:4], dilations[1:4],
                                   padding)
    padded = np.pad(x, _pad5(pads))
    out = np.zeros([x.shape[0], *outs, w.shape[4]])
    for t, tap in enumerate(np.ndindex(*w.shape[:3])):
        out += np.einsum("bdhwc,co->bdhwo", padded[taps[t]], w[tap])
    return out


_ATTRS = {"strides": (1, 1, 1, 1, 1), "padding": "VALID", "dilations": (1, 1, 1, 1, 1),
          "data_format": "NDHWC"}


def _check_input(op_name, shape, what="input"):
    if shape.rank not in (None, 5):
        raise ValueError(f"{op_name}: {what} must be 5-dimensional [batch, depth, height, "
                         f"width, channels], got shape {shape}")


def _conv3d_shapes(inputs, attrs):
    x, w = inputs[0].shape, inputs[1].shape
    check_window_attrs("conv3d", attrs, ("strides", "dilations"))
    _check_input("conv3d", x)
    _check_input("conv3d", w, "filter")
    if x.dims[4] is not None and w.dims[3] is not None and x.dims[4] != w.dims[3]:
        raise ValueError(f"conv3d: input depth {x.dims[4]} must equal filter in_channels "
                         f"{w.dims[3]} (input {x}, filter {w})")
    return [TensorShape([x.dims[0], *out_dims(x.dims[1:4], w.dims[:3], attrs["strides"][1:4],
                                              attrs["dilations"][1:4], attrs["padding"]),
                         w.dims[4]])]


def _sized_shapes(op_name, position):
    def rule(inputs, attrs):
        check_window_attrs(op_name, attrs, ("strides", "dilations"))
        _check_input(op_name, inputs[2].shape, "out_backprop")
        shape = constant_value_as_shape(inputs[position])
        return [shape if shape.rank == 5 else TensorShape([None] * 5)]
    return rule


def _float_rule(op_name, positions):
    rule = same_dtype_rule(op_name, FLOAT)
    return lambda dtypes, attrs: rule([dtypes[p] for p in positions], attrs)


def _conv3d_grad(op, dy):
    x, w = op.inputs
    args = (op.attrs["strides"], op.attrs["padding"], "NDHWC", op.attrs["dilations"])
    return [conv3d_backprop_input(shape_of(x), w, dy, *args),
            conv3d_backprop_filter(x, shape_of(w), dy, *args)]


def _backprop_input_grad(op, g):
    _, w, dy = op.inputs
    args = (op.attrs["strides"], op.attrs["padding"], "NDHWC", op.attrs["dilations"])
    return [None, conv3d_backprop_filter(g, shape_of(w), dy, *args), conv3d(g, w, *args)]


def _backprop_filter_grad(op, g):
    x, _, dy = op.inputs
    args = (op.attrs["strides"], op.attrs["padding"], "NDHWC", op.attrs["dilations"])
    return [conv3d_backprop_input(shape_of(x), g, dy, *args), None, conv3d(x, g, *args)]


CONV3D = registry.register(OpDef(
    name="conv3d", dtypes=same_dtype_rule("conv3d", FLOAT), shapes=_conv3d_shapes,
    kernel=_conv3d_kernel, grad=_conv3d_grad, attrs=dict(_ATTRS), reference=_reference,
    samples=lambda: [
        Sample((rand(2, 4, 5, 3, 2), rand(2, 3, 2, 2, 3), [1, 1, 1, 1, 1], "VALID")),
        Sample((rand(1, 5, 4, 6, 1), rand(3, 2, 3, 1, 2), [1, 2, 1, 2, 1], "SAME")),
        Sample((rand(1, 5, 5, 5, 2), rand(2, 2, 2, 2, 1), [1, 1, 2, 1, 1], "SAME"),
               {"dilations": [1, 2, 1, 2, 1]}),
        Sample((rand(0, 3, 3, 3, 1), rand(2, 2, 2, 1, 2), [1, 1, 1, 1, 1], "SAME")),
        Sample((rand(1, 2, 2, 2, 1, dtype=np.float32), rand(1, 1, 1, 1, 1, dtype=np.float32),
                [1, 1, 1, 1, 1], "VALID"), rtol=1e-5)],
    error_samples=lambda: [
        ErrorSample((rand(1, 4, 4, 4, 2), rand(2, 2, 2, 3, 1), [1, 1, 1, 1, 1], "VALID"),
                    match="in_channels"),
        ErrorSample((rand(1, 4, 4, 4, 1), rand(2, 2, 2, 1, 1), [1, 1, 1, 1], "VALID"),
                    match="strides"),
        ErrorSample((rand(4, 4, 4, 1), rand(2, 2, 2, 1, 1), [1, 1, 1, 1, 1], "VALID"),
                    match="5-dimensional")],
    doc="3-D convolution (NDHWC) with strides, dilations and SAME/VALID padding."))

CONV3D_BACKPROP_INPUT = registry.register(OpDef(
    name="conv3d_backprop_input", dtypes=_float_rule("conv3d_backprop_input", (1, 2)),
    shapes=_sized_shapes("conv3d_backprop_input", 0), kernel=_backprop_input_kernel,
    grad=_backprop_input_grad, attrs=dict(_ATTRS),
    reference=lambda sizes, w, dy, strides, padding, *_, dilations=(1,) * 5, **__: (
        _backprop_input_kernel(sizes, w, dy, strides, padding, dilations, "NDHWC")),
    samples=lambda: [
        Sample(([2, 4, 5, 3, 2], rand(2, 3, 2, 2, 3), rand(2, 3, 3, 2, 3), [1, 1, 1, 1, 1],
                "VALID")),
        Sample(([1, 5, 4, 6, 1], rand(3, 2, 3, 1, 2), rand(1, 3, 4, 3, 2), [1, 2, 1, 2, 1],
                "SAME"))],
    error_samples=lambda: [ErrorSample(([1, 4, 4, 4, 1], rand(2, 2, 2, 1, 1),
                                        rand(1, 3, 3, 3), [1, 1, 1, 1, 1], "VALID"),
                                       match="5-dimensional")],
    doc="The gradient of conv3d with respect to its input."))

CONV3D_BACKPROP_FILTER = registry.register(OpDef(
    name="conv3d_backprop_filter", dtypes=_float_rule("conv3d_backprop_filter", (0, 2)),
    shapes=_sized_shapes("conv3d_backprop_filter", 1), kernel=_backprop_filter_kernel,
    grad=_backprop_filter_grad, attrs=dict(_ATTRS),
    reference=lambda x, sizes, dy, strides, padding, *_, dilations=(1,) * 5, **__: (
        _backprop_filter_kernel(x, sizes, dy, strides, padding, dilations, "NDHWC")),
    samples=lambda: [
        Sample((rand(2, 4, 5, 3, 2), [2, 3, 2, 2, 3], rand(2, 3, 3, 2, 3), [1, 1, 1, 1, 1],
                "VALID")),
        Sample((rand(1, 5, 4, 6, 1), [3, 2, 3, 1, 2], rand(1, 3, 4, 3, 2), [1, 2, 1, 2, 1],
                "SAME"))],
    error_samples=lambda: [ErrorSample((rand(1, 4, 4, 4, 1), [2, 2, 2, 1, 1],
                                        rand(1, 3, 3, 3), [1, 1, 1, 1, 1], "VALID"),
                                       match="5-dimensional")],
    doc="The gradient of conv3d with respect to its filter."))


def _attrs(strides, padding, dilations, data_format="NDHWC"):
    return {"strides": tuple(int(s) for s in strides), "padding": str(padding).upper(),
            "dilations": tuple(int(d) for d in (dilations or (1, 1, 1, 1, 1))),
            "data_format": data_format}


@registry.public(CONV3D)
def conv3d(input, filter=None, strides=None, padding=None, data_format="NDHWC",  # noqa: A002
           dilations=(1, 1, 1, 1, 1), name=None, filters=None) -> Tensor:
    """3-D convolution of NDHWC ``input`` with a ``[d, h, w, in, out]`` filter.

    Example:
        >>> y = gc.nn.conv3d(volumes, kernel, strides=[1, 1, 1, 1, 1], padding="SAME")
    """
    filter = filters if filter is None else filter  # noqa: A001
    if filter is None or strides is None or padding is None:
        raise ValueError("conv3d: filter, strides and padding are required")
    return apply_op("conv3d", [input, filter], _attrs(strides, padding, dilations, data_format),
                    name=name or "Conv3D")


@registry.public(CONV3D_BACKPROP_INPUT)
def conv3d_backprop_input(input_sizes, filter, out_backprop, strides, padding,  # noqa: A002
                          data_format="NDHWC", dilations=(1, 1, 1, 1, 1),
                          name=None) -> Tensor:
    """The gradient of ``conv3d`` for its input (TF ``Conv3DBackpropInputV2``).

    Example:
        >>> dx = gc.nn.conv3d_backprop_input_v2(gc.shape(x), w, dy, [1] * 5, "SAME")
    """
    return apply_op("conv3d_backprop_input", [input_sizes, filter, out_backprop],
                    _attrs(strides, padding, dilations, data_format),
                    name=name or "Conv3DBackpropInputV2")


@registry.public(CONV3D_BACKPROP_FILTER)
def conv3d_backprop_filter(input, filter_sizes, out_backprop, strides, padding,  # noqa: A002
                           data_format="NDHWC", dilations=(1, 1, 1, 1, 1),
                           name=None) -> Tensor:
    """The gradient of ``conv3d`` for its filter (TF ``Conv3DBackpropFilterV2``).

    Example:
        >>> dw = gc.nn.conv3d_backprop_filter_v2(x, gc.shape(w), dy, [1] * 5, "SAME")
    """
    return apply_op("conv3d_backprop_filter", [input, filter_sizes, out_backprop],
                    _attrs(strides, padding, dilations, data_format),
                    name=name or "Conv3DBackpropFilterV2")


def conv3d_transpose(value=None, filter=None, output_shape=None, strides=None,  # noqa: A002
                     padding="SAME", data_format="NDHWC", name=None, input=None,  # noqa: A002
                     filters=None, dilations=None) -> Tensor:
    """The transpose of ``conv3d`` (its input gradient): ``value`` [b, d, h, w, in] to
    ``output_shape`` with a ``[kd, kh, kw, out, in]`` filter (TF1 ``tf.nn.conv3d_transpose``).

    Example:
        >>> up = gc.nn.conv3d_transpose(h, w, [2, 8, 8, 8, 16], [1, 2, 2, 2, 1], "SAME")
    """
    value = input if value is None else value
    filter = filters if filter is None else filter  # noqa: A001
    if value is None or filter is None or output_shape is None or strides is None:
        raise ValueError("conv3d_transpose: value, filter, output_shape and strides are "
                         "required")
    return conv3d_backprop_input(output_shape, filter, value, strides, padding, data_format,
                                 dilations or (1, 1, 1, 1, 1), name=name or "conv3d_transpose")
