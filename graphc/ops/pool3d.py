"""TF1's 3-D pooling (NDHWC): max_pool3d and avg_pool3d, with their gradients.

As TF's CPU kernels: SAME padding never enters a window (max ignores it, the average
divides by the in-bounds count), and MaxPool3DGrad sends a window's gradient to every
element within 1e-5 of the window's maximum, not just the first one.
"""
from __future__ import annotations

import numpy as np

from graphc import registry
from graphc.graph import Tensor
from graphc.ops.common import FLOAT, apply_op, check_kind, rand, same_dtype_rule
from graphc.ops.conv3d import check_window_attrs, out_dims, window_taps
from graphc.ops.shape_ops import shape as shape_of
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape
from graphc.static_values import constant_value_as_shape

__all__ = ["max_pool3d", "avg_pool3d", "max_pool3d_grad", "max_pool3d_grad_grad",
           "avg_pool3d_grad"]

_ATTRS = {"ksize": (1, 1, 1, 1, 1), "strides": (1, 1, 1, 1, 1), "padding": "VALID",
          "data_format": "NDHWC"}
_TIE = 1e-5  # TF's MaxPool3DGrad: |x - max| < 1e-5 counts as the max


def _geometry(spatial, ksize, strides, padding):
    return window_taps(spatial, ksize[1:4], strides[1:4], (1, 1, 1), padding)


def _pad5(pads):
    return [(0, 0)] + list(pads) + [(0, 0)]


def _views(x, ksize, strides, padding, fill):
    """Each tap's strided view of ``x`` padded with ``fill``, and the output sizes."""
    taps, pads, outs = _geometry(x.shape[1:4], ksize, strides, padding)
    padded = np.pad(x, _pad5(pads), constant_values=fill)
    return [padded[key] for key in taps], outs


def _max_kernel(x, ksize, strides, padding, data_format):
    views, outs = _views(x, ksize, strides, padding, -np.inf)
    if not views or 0 in outs:
        return np.zeros([x.shape[0], *outs, x.shape[4]], x.dtype)
    return np.max(np.stack(views), axis=0).astype(x.dtype)


def _avg_kernel(x, ksize, strides, padding, data_format):
    views, outs = _views(x, ksize, strides, padding, 0)
    counts, _ = _views(np.ones((1, *x.shape[1:4], 1), x.dtype), ksize, strides, padding, 0)
    if not views or 0 in outs:
        return np.zeros([x.shape[0], *outs, x.shape[4]], x.dtype)
    return (np.sum(views, axis=0) / np.sum(counts, axis=0)).astype(x.dtype)


def _scatter(shape, ksize, strides, padding, pieces, dtype):
    """Add each tap's ``pieces[t]`` back onto the input positions it read."""
    taps, pads, _ = _geometry(shape[1:4], ksize, strides, padding)
    padded = np.zeros([n + a + b for n, (a, b) in zip(shape, _pad5(pads))], dtype)
    for key, piece in zip(taps, pieces):
        padded[key] += piece
    return padded[(slice(None),) + tuple(slice(a, a + n) for (a, _), n in
                                         zip(pads, shape[1:4]))]


def _max_grad_kernel(x, y, dy, ksize, strides, padding, data_format):
    views, _ = _views(x, ksize, strides, padding, -np.inf)
    pieces = [np.where(np.abs(v - y) < _TIE, dy, 0) for v in views]
    return _scatter(x.shape, ksize, strides, padding, pieces, dy.dtype)


def _max_grad_grad_kernel(x, y, g, ksize, strides, padding, data_format):
    """The adjoint of ``_max_grad_kernel`` in ``dy``: each output sums the ``g`` of the
    window elements tied with its maximum."""
    views, outs = _views(x, ksize, strides, padding, -np.inf)
    g_views, _ = _views(g, ksize, strides, padding, 0)
    out = np.zeros([x.shape[0], *outs, x.shape[4]], g.dtype)
    for v, gv in zip(views, g_views):
        out += np.where(np.abs(v - y) < _TIE, gv, 0)
    return out


def _avg_grad_kernel(input_shape, dy, ksize, strides, padding, data_format):
    shape = [int(v) for v in input_shape]
    counts, _ = _views(np.ones((1, *shape[1:4], 1), dy.dtype), ksize, strides, padding, 0)
    share = dy / np.sum(counts, axis=0) if counts else dy
    return _scatter(shape, ksize, strides, padding, [share] * len(counts), dy.dtype)


def _pool_reference(kind):
    def reference(x, ksize, strides, padding, data_format="NDHWC", name=None):
        """Window by window, over the in-bounds elements only."""
        taps, pads, outs = _geometry(x.shape[1:4], ksize, strides, padding)
        out = np.zeros([x.shape[0], *outs, x.shape[4]])
        for index in np.ndindex(*outs):
            starts = [i * s - a for i, s, (a, _) in zip(index, strides[1:4], pads)]
            window = x[(slice(None),) + tuple(slice(max(b, 0), b + k) for b, k in
                                              zip(starts, ksize[1:4]))]
            cells = window.reshape(x.shape[0], int(np.prod(window.shape[1:4])), x.shape[4])
            out[(slice(None),) + index] = cells.max(1) if kind == "max" else cells.mean(1)
        return out
    return reference


def _pool_shapes(op_name):
    def rule(inputs, attrs):
        shape = inputs[0].shape
        check_window_attrs(op_name, attrs, ("ksize", "strides"))
        if shape.rank != 5:
            raise ValueError(f"{op_name}: input must be 5-dimensional [batch, depth, height, "
                             f"width, channels], got shape {shape}")
        return [TensorShape([shape.dims[0], *out_dims(shape.dims[1:4], attrs["ksize"][1:4],
                                                      attrs["strides"][1:4], (1, 1, 1),
                                                      attrs["padding"]), shape.dims[4]])]
    return rule


def _like_first(op_name):
    def rule(inputs, attrs):
        check_window_attrs(op_name, attrs, ("ksize", "strides"))
        return [inputs[0].shape]
    return rule


def _avg_grad_shapes(inputs, attrs):
    check_window_attrs("avg_pool3d_grad", attrs, ("ksize", "strides"))
    shape = constant_value_as_shape(inputs[0])
    return [shape if shape.rank == 5 else TensorShape([None] * 5)]


def _samples(extra=()):
    return lambda: [
        Sample((rand(2, 4, 5, 3, 2), [1, 2, 2, 2, 1], [1, 1, 1, 1, 1], "VALID")),
        Sample((rand(1, 5, 4, 6, 1), [1, 3, 2, 2, 1], [1, 2, 1, 2, 1], "SAME")),
        Sample((rand(0, 3, 3, 3, 1), [1, 2, 2, 2, 1], [1, 1, 1, 1, 1], "SAME")),
        *extra]


def _errors():
    return [ErrorSample((rand(4, 4, 4, 1), [1, 2, 2, 2, 1], [1, 1, 1, 1, 1], "VALID"),
                        match="5-dimensional"),
            ErrorSample((rand(1, 4, 4, 4, 1), [2, 2, 2, 2, 1], [1, 1, 1, 1, 1], "VALID"),
                        match="ksize")]


def _window_args(op):
    return op.attrs["ksize"], op.attrs["strides"], op.attrs["padding"]


MAX_POOL3D = registry.register(OpDef(
    name="max_pool3d", dtypes=same_dtype_rule("max_pool3d", FLOAT),
    shapes=_pool_shapes("max_pool3d"), kernel=_max_kernel, attrs=dict(_ATTRS),
    grad=lambda op, dy: [max_pool3d_grad(op.inputs[0], op.outputs[0], dy, *_window_args(op))],
    reference=_pool_reference("max"),
    samples=_samples([Sample((np.array([[[[[1.0], [np.nan]], [[np.inf], [2.0]]]]]),
                              [1, 1, 2, 2, 1], [1, 1, 1, 1, 1], "VALID"))]),
    error_samples=_errors, doc="3-D max pooling (NDHWC)."))

AVG_POOL3D = registry.register(OpDef(
    name="avg_pool3d", dtypes=same_dtype_rule("avg_pool3d", FLOAT),
    shapes=_pool_shapes("avg_pool3d"), kernel=_avg_kernel, attrs=dict(_ATTRS),
    grad=lambda op, dy: [avg_pool3d_grad(shape_of(op.inputs[0]), dy, *_window_args(op))],
    reference=_pool_reference("avg"), samples=_samples(), error_samples=_errors,
    doc="3-D average pooling (NDHWC) over the in-bounds elements of each window."))


def _max_grad_dtypes(op_name):
    rule = same_dtype_rule(op_name, FLOAT)
    return lambda dtypes, attrs: rule(dtypes, attrs)


def _pooled_sample(x, ksize, strides, padding, scale=1.0):
    """(x, max_pool3d(x), gradient-shaped data) for the grad ops' samples."""
    y = _max_kernel(x, ksize, strides, padding, "NDHWC")
    return (x, y, rand(*y.shape) * scale, ksize, strides, padding)


def _grad_samples(second_order):
    def samples():
        cases = [_pooled_sample(rand(2, 4, 5, 3, 2), [1, 2, 2, 2, 1], [1, 1, 1, 1, 1],
                                "VALID"),
                 _pooled_sample(rand(1, 5, 4, 6, 1), [1, 3, 2, 2, 1], [1, 2, 1, 2, 1], "SAME")]
        if second_order:  # its third input is shaped like x
            cases = [(x, y, rand(*x.shape), *rest) for x, y, _, *rest in cases]
        return [Sample(case) for case in cases]
    return samples


def _max_grad_grad(op, g):
    x, y, _ = op.inputs
    return [None, None, max_pool3d_grad_grad(x, y, g, *_window_args(op))]


def _max_grad_grad_grad(op, g):
    x, y, _ = op.inputs
    return [None, None, max_pool3d_grad(x, y, g, *_window_args(op))]


MAX_POOL3D_GRAD = registry.register(OpDef(
    name="max_pool3d_grad", dtypes=_max_grad_dtypes("max_pool3d_grad"),
    shapes=_like_first("max_pool3d_grad"), kernel=_max_grad_kernel, attrs=dict(_ATTRS),
    grad=_max_grad_grad, samples=_grad_samples(False),
    reference=lambda x, y, dy, *args, **kw: _max_grad_kernel(x, y, dy, *args, "NDHWC"),
    error_samples=lambda: [ErrorSample((rand(2, 3, 3, 3, 1), rand(2, 2, 2, 2, 1),
                                        rand(2, 2, 2, 2, 1), [1, 2, 2, 2], [1] * 5, "VALID"),
                                       match="ksize")],
    doc="The gradient of max_pool3d: each window's gradient to the elements tied with its "
        "maximum (TF's MaxPool3DGrad)."))


def _grad_grad_shapes(inputs, attrs):
    check_window_attrs("max_pool3d_grad_grad", attrs, ("ksize", "strides"))
    return [inputs[1].shape]


MAX_POOL3D_GRAD_GRAD = registry.register(OpDef(
    name="max_pool3d_grad_grad", dtypes=_max_grad_dtypes("max_pool3d_grad_grad"),
    shapes=_grad_grad_shapes, kernel=_max_grad_grad_kernel, attrs=dict(_ATTRS),
    grad=_max_grad_grad_grad, samples=_grad_samples(True),
    reference=lambda x, y, g, *args, **kw: _max_grad_grad_kernel(x, y, g, *args, "NDHWC"),
    error_samples=lambda: [ErrorSample((rand(2, 3, 3, 3, 1), rand(2, 2, 2, 2, 1),
                                        rand(2, 3, 3, 3, 1), [1, 2, 2, 2], [1] * 5, "VALID"),
                                       match="ksize")],
    doc="The gradient of max_pool3d_grad in its gradient input (TF's MaxPool3DGradGrad)."))


def _avg_grad_dtypes(dtypes, attrs):
    check_kind("avg_pool3d_grad", dtypes[0], "integer", "orig_input_shape")
    check_kind("avg_pool3d_grad", dtypes[1], FLOAT, "grad")
    return [dtypes[1]]


AVG_POOL3D_GRAD = registry.register(OpDef(
    name="avg_pool3d_grad", dtypes=_avg_grad_dtypes, shapes=_avg_grad_shapes,
    kernel=_avg_grad_kernel, attrs=dict(_ATTRS),
    grad=lambda op, g: [None, avg_pool3d(g, *_window_args(op))],
    reference=lambda sizes, dy, *args, **kw: _avg_grad_kernel(sizes, dy, *args, "NDHWC"),
    samples=lambda: [Sample(([2, 4, 5, 3, 2], rand(2, 3, 4, 2, 2), [1, 2, 2, 2, 1],
                             [1, 1, 1, 1, 1], "VALID")),
                     Sample(([1, 5, 4, 6, 1], rand(1, 3, 4, 3, 1), [1, 3, 2, 2, 1],
                             [1, 2, 1, 2, 1], "SAME"))],
    error_samples=lambda: [ErrorSample(([1, 3, 3, 3, 1], rand(1, 2, 2, 2, 1), [1, 2, 2, 2],
                                        [1] * 5, "VALID"), match="ksize")],
    doc="The gradient of avg_pool3d: each window's gradient shared by its elements."))


def _attrs(ksize, strides, padding, data_format="NDHWC"):
    return {"ksize": tuple(int(k) for k in ksize), "strides": tuple(int(s) for s in strides),
            "padding": str(padding).upper(), "data_format": data_format}


@registry.public(MAX_POOL3D)
def max_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None) -> Tensor:  # noqa
    """3-D max pooling of NDHWC ``input`` (``ksize``/``strides`` as ``[1, d, h, w, 1]``).

    Example:
        >>> y = gc.nn.max_pool3d(volumes, [1, 2, 2, 2, 1], [1, 2, 2, 2, 1], "SAME")
    """
    return apply_op("max_pool3d", [input], _attrs(ksize, strides, padding, data_format),
                    name=name or "MaxPool3D")


@registry.public(AVG_POOL3D)
def avg_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None) -> Tensor:  # noqa
    """3-D average pooling of NDHWC ``input``.

    Example:
        >>> y = gc.nn.avg_pool3d(volumes, [1, 2, 2, 2, 1], [1, 2, 2, 2, 1], "VALID")
    """
    return apply_op("avg_pool3d", [input], _attrs(ksize, strides, padding, data_format),
                    name=name or "AvgPool3D")


@registry.public(MAX_POOL3D_GRAD)
def max_pool3d_grad(orig_input, orig_output, grad, ksize, strides, padding,
                    data_format="NDHWC", name=None) -> Tensor:
    """The gradient of ``max_pool3d`` (TF ``MaxPool3DGrad``)."""
    return apply_op("max_pool3d_grad", [orig_input, orig_output, grad],
                    _attrs(ksize, strides, padding, data_format), name=name or "MaxPool3DGrad")


@registry.public(MAX_POOL3D_GRAD_GRAD)
def max_pool3d_grad_grad(orig_input, orig_output, grad, ksize, strides, padding,
                         data_format="NDHWC", name=None) -> Tensor:
    """The gradient of ``max_pool3d_grad`` (TF ``MaxPool3DGradGrad``)."""
    return apply_op("max_pool3d_grad_grad", [orig_input, orig_output, grad],
                    _attrs(ksize, strides, padding, data_format),
                    name=name or "MaxPool3DGradGrad")


@registry.public(AVG_POOL3D_GRAD)
def avg_pool3d_grad(orig_input_shape, grad, ksize, strides, padding, data_format="NDHWC",
                    name=None) -> Tensor:
    """The gradient of ``avg_pool3d`` (TF ``AvgPool3DGrad``)."""
    return apply_op("avg_pool3d_grad", [orig_input_shape, grad],
                    _attrs(ksize, strides, padding, data_format), name=name or "AvgPool3DGrad")
