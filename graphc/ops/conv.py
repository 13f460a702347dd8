"""Convolution and pooling over NHWC images: conv2d (strides, dilations, SAME/VALID),
max_pool and avg_pool (SAME averages count only real, unpadded elements, as TF1)."""
from __future__ import annotations

import itertools

import numpy as np

from graphc import registry
from graphc.ops.common import FLOAT, NUMERIC, apply_op, rand, same_dtype_rule
from graphc.ops.conv_kernels import _window, conv_forward, window_geometry
from graphc.ops.pool_kernels import max_pool_forward
from graphc.ops.shape_ops import shape
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape

__all__ = ["conv2d", "max_pool", "avg_pool", "window_geometry"]


# The gradient ops live in conv_grads, which builds on this module (the gradients of those
# adjoint ops are the ops here). The rules below create them by their registered names, from
# the already normalized attributes of the op being differentiated.
def _geometry(op) -> dict:
    return {k: op.attrs[k] for k in ("strides", "padding", "dilations")}


def _pool_attrs(op) -> dict:
    return {k: op.attrs[k] for k in ("ksize", "strides", "padding")}


def _conv2d_grad(op, dy):
    x, w = op.inputs
    return [apply_op("conv2d_backprop_input", [shape(x), w, dy], _geometry(op)),
            apply_op("conv2d_backprop_filter", [x, shape(w), dy], _geometry(op))]


def _max_pool_grad(op, dy):
    return [apply_op("max_pool_grad", [op.inputs[0], op.outputs[0], dy], _pool_attrs(op))]


def _avg_pool_grad(op, dy):
    return [apply_op("avg_pool_grad", [shape(op.inputs[0]), dy], _pool_attrs(op))]


def _spatial(value, name: str, op_name: str) -> tuple:
    """TF accepts an int, [h, w] or [1, h, w, 1]; return (h, w)."""
    if isinstance(value, int):
        return (value, value)
    value = [int(v) for v in value]
    if len(value) == 2:
        return tuple(value)
    if len(value) == 4 and value[0] == value[3] == 1:
        return (value[1], value[2])
    raise ValueError(f"{op_name}: {name} must be an int, [h, w] or [1, h, w, 1], got {value}")


def _check_padding(op_name, padding):
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"{op_name}: padding must be 'SAME' or 'VALID', got {padding!r}")


def _out_dim(size, window, stride, dilation, padding):
    return None if size is None else window_geometry(size, window, stride, dilation, padding)[0]


def _conv_shapes(inputs, attrs):
    x, w = inputs[0].shape, inputs[1].shape
    if x.rank != 4 or w.rank != 4:
        raise ValueError(f"conv2d: input must be NHWC (rank 4) and filter HWIO (rank 4), got "
                         f"shapes {x} and {w}")
    _check_padding("conv2d", attrs["padding"])
    if x.dims[3] is not None and w.dims[2] is not None and x.dims[3] != w.dims[2]:
        raise ValueError(f"conv2d: input has {x.dims[3]} channels but filter {w} expects "
                         f"{w.dims[2]}")
    (sh, sw), (dh, dw) = attrs["strides"], attrs["dilations"]
    if w.dims[0] is None or w.dims[1] is None:
        return [TensorShape([x.dims[0], None, None, w.dims[3]])]
    return [TensorShape([x.dims[0], _out_dim(x.dims[1], w.dims[0], sh, dh, attrs["padding"]),
                         _out_dim(x.dims[2], w.dims[1], sw, dw, attrs["padding"]), w.dims[3]])]


def _padded(x, kh, kw, strides, dilations, padding, fill):
    (sh, sw), (dh, dw) = strides, dilations
    oh, top, bottom = window_geometry(x.shape[1], kh, sh, dh, padding)
    ow, left, right = window_geometry(x.shape[2], kw, sw, dw, padding)
    if top or bottom or left or right:
        x = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=fill)
    return x, oh, ow


def _conv_reference(x, w, strides, padding, dilations=1):
    strides, dilations = _spatial(strides, "", ""), _spatial(dilations, "", "")
    kh, kw, c_in, c_out = w.shape
    xp, oh, ow = _padded(x, kh, kw, strides, dilations, padding, 0)
    out = np.zeros((x.shape[0], oh, ow, c_out))
    for n, r, c, o in itertools.product(*(range(d) for d in out.shape)):
        out[n, r, c, o] = sum(
            xp[n, r * strides[0] + i * dilations[0], c * strides[1] + j * dilations[1], k]
            * w[i, j, k, o] for i in range(kh) for j in range(kw) for k in range(c_in))
    return out


CONV2D = registry.register(OpDef(
    name="conv2d", dtypes=same_dtype_rule("conv2d", FLOAT), shapes=_conv_shapes,
    kernel=conv_forward, attrs={"strides": (1, 1), "padding": "VALID", "dilations": (1, 1)},
    fresh_output=True, takes_out=True, epilogue=True,
    distribution=registry.ROWWISE,
    blocks=registry.Blocks(inputs=(1,), axis=3, output_axis=3),  # filters by output channel
    grad=_conv2d_grad,
    reference=_conv_reference,
    samples=lambda: [Sample((rand(2, 5, 5, 3), rand(3, 3, 3, 4), 1, "VALID")),
                     Sample((rand(1, 6, 7, 2), rand(3, 2, 2, 3), [1, 2, 2, 1], "SAME")),
                     Sample((rand(1, 7, 7, 1), rand(2, 2, 1, 2), 1, "SAME"), {"dilations": 2}),
                     Sample((rand(1, 5, 4, 2, dtype=np.float32), rand(1, 1, 2, 2,
                                                                      dtype=np.float32),
                             2, "VALID"), rtol=1e-5),
                     # the fast kernels' other paths: a 1x1 GEMM, a GEMM per tap (C_in >= 8)
                     Sample((rand(2, 4, 4, 3), rand(1, 1, 3, 2), 1, "SAME")),
                     Sample((rand(1, 5, 5, 8), rand(3, 3, 8, 2), 1, "SAME"))],
    error_samples=lambda: [
        ErrorSample((rand(1, 5, 5, 3), rand(3, 3, 2, 4), 1, "VALID"), match="channels"),
        ErrorSample((rand(5, 5, 3), rand(3, 3, 3, 4), 1, "VALID"), match="rank 4"),
        ErrorSample((rand(1, 5, 5, 3), rand(3, 3, 3, 4), 1, "FULL"), match="padding")],
    doc="2-D convolution (cross-correlation) of NHWC input with an HWIO filter."))


@registry.public(CONV2D)
def conv2d(input, filter=None, strides=None, padding=None, use_cudnn_on_gpu=True,  # noqa: A002
           data_format="NHWC", dilations=(1, 1, 1, 1), name=None, filters=None):
    """2-D convolution of an NHWC ``input`` with an HWIO ``filter`` (TF1 ``tf.nn.conv2d``).

    Example:
        >>> y = gc.nn.conv2d(images, kernel, strides=[1, 1, 1, 1], padding="SAME")
    """
    if data_format != "NHWC":
        raise ValueError(f"conv2d: data_format {data_format!r} is not supported; use 'NHWC'")
    filter = filters if filter is None else filter
    if filter is None or strides is None or padding is None:
        raise ValueError("conv2d: filter, strides and padding are required")
    attrs = {"strides": _spatial(strides, "strides", "conv2d"), "padding": str(padding).upper(),
             "dilations": _spatial(dilations, "dilations", "conv2d")}
    if min(attrs["strides"] + attrs["dilations"]) < 1:
        raise ValueError(f"conv2d: strides and dilations must be >= 1, got {attrs}")
    return apply_op("conv2d", [input, filter], attrs, name=name or "Conv2D")


def _pool_shapes(op_name):
    def shapes(inputs, attrs):
        x = inputs[0].shape
        if x.rank != 4:
            raise ValueError(f"{op_name}: input must be NHWC (rank 4), got shape {x}")
        _check_padding(op_name, attrs["padding"])
        (kh, kw), (sh, sw) = attrs["ksize"], attrs["strides"]
        return [TensorShape([x.dims[0], _out_dim(x.dims[1], kh, sh, 1, attrs["padding"]),
                             _out_dim(x.dims[2], kw, sw, 1, attrs["padding"]), x.dims[3]])]
    return shapes


def _avg_pool_kernel(x, ksize, strides, padding):
    xp, oh, ow = _padded(x, *ksize, strides, (1, 1), padding, 0)
    ones, _, _ = _padded(np.ones((1,) + x.shape[1:3] + (1,), dtype=x.dtype), *ksize, strides,
                         (1, 1), padding, 0)
    total = np.zeros((x.shape[0], oh, ow, x.shape[3]), dtype=x.dtype)
    count = np.zeros((1, oh, ow, 1), dtype=x.dtype)
    for i, j in itertools.product(range(ksize[0]), range(ksize[1])):
        total += _window(xp, i, j, oh, ow, strides, (1, 1))
        count += _window(ones, i, j, oh, ow, strides, (1, 1))
    return total / count


def _pool_reference(reduce):
    def reference(x, ksize, strides, padding):
        ksize, strides = _spatial(ksize, "", ""), _spatial(strides, "", "")
        oh, top, _ = window_geometry(x.shape[1], ksize[0], strides[0], 1, padding)
        ow, left, _ = window_geometry(x.shape[2], ksize[1], strides[1], 1, padding)
        out = np.zeros((x.shape[0], oh, ow, x.shape[3]))
        for n, r, c, ch in itertools.product(*(range(d) for d in out.shape)):
            values = [x[n, rr, cc, ch]
                      for rr in range(r * strides[0] - top, r * strides[0] - top + ksize[0])
                      for cc in range(c * strides[1] - left, c * strides[1] - left + ksize[1])
                      if 0 <= rr < x.shape[1] and 0 <= cc < x.shape[2]]
            out[n, r, c, ch] = reduce(values)
        return out
    return reference


def _pool_samples():
    return [Sample((rand(2, 6, 6, 3), 2, 2, "VALID")),
            Sample((rand(1, 5, 7, 2), [1, 3, 3, 1], [1, 2, 2, 1], "SAME")),
            Sample((rand(1, 4, 4, 1), [2, 3], [1, 1], "SAME"))]


def _pool_errors():
    return [ErrorSample((rand(6, 6, 3), 2, 2, "VALID"), match="rank 4"),
            ErrorSample((rand(1, 6, 6, 3), 2, 2, "FULL"), match="padding")]


# a pool's attributes and their defaults (its OpDef's, and its gradients')
POOL_ATTRS = {"ksize": (1, 1), "strides": (1, 1), "padding": "VALID"}

MAX_POOL = registry.register(OpDef(
    name="max_pool", dtypes=same_dtype_rule("max_pool", NUMERIC), shapes=_pool_shapes("max_pool"),
    kernel=max_pool_forward, attrs=dict(POOL_ATTRS),
    fresh_output=True, takes_out=True,
    distribution=registry.ROWWISE,
    grad=_max_pool_grad,
    reference=_pool_reference(max), samples=_pool_samples, error_samples=_pool_errors,
    doc="Maximum over each window; SAME padding never wins the max."))
AVG_POOL = registry.register(OpDef(
    name="avg_pool", dtypes=same_dtype_rule("avg_pool", FLOAT), shapes=_pool_shapes("avg_pool"),
    kernel=_avg_pool_kernel, attrs=dict(POOL_ATTRS),
    distribution=registry.ROWWISE,
    grad=_avg_pool_grad,
    reference=_pool_reference(lambda v: sum(v) / len(v)), samples=_pool_samples,
    error_samples=_pool_errors,
    doc="Mean over each window; with SAME padding, only real elements are counted (TF1)."))


def pool_window_attrs(ksize, strides, padding, op_type) -> dict:
    """A pool op's ``ksize``, ``strides`` and ``padding`` attributes from TF1's arguments
    (an int, [h, w] or [1, h, w, 1]; a padding name in any case)."""
    return {"ksize": _spatial(ksize, "ksize", op_type),
            "strides": _spatial(strides, "strides", op_type), "padding": str(padding).upper()}


def _pool_api(op_type):
    def api(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):  # noqa
        if data_format != "NHWC":
            raise ValueError(f"{op_type}: data_format {data_format!r} is not supported; use NHWC")
        value = input if value is None else value
        attrs = pool_window_attrs(ksize, strides, padding, op_type)
        return apply_op(op_type, [value], attrs, name=name)
    return api


max_pool = registry.public(MAX_POOL)(_pool_api("max_pool"))
max_pool.__doc__ = """Max pooling over NHWC ``value`` with window ``ksize`` and ``strides``.

    Example:
        >>> p = gc.nn.max_pool(x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="VALID")
    """
avg_pool = registry.public(AVG_POOL)(_pool_api("avg_pool"))
avg_pool.__doc__ = """Average pooling over NHWC ``value``; SAME windows average real elements.

    Example:
        >>> p = gc.nn.avg_pool(x, ksize=3, strides=1, padding="SAME")
    """
