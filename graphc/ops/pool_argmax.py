"""TF1's ``tf.nn.max_pool_with_argmax`` (NHWC) and its gradient, which sends each output's
gradient to the pixel its argmax names.

The argmax is a flattened index: ``(y * width + x) * channels + c``, plus
``b * height * width * channels`` with ``include_batch_in_index``. As TF's CPU kernel, each
window takes its first real (unpadded) element and then any strictly larger one, so a NaN
wins only where it comes first.
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.graph import Tensor
from graphc.ops.common import NUMERIC, apply_op, check_kind, rand, randint
from graphc.ops.conv_kernels import window_geometry
from graphc.ops.creation import range as range_
from graphc.ops.elementwise import add, multiply
from graphc.ops.indexing import gather, strided_slice
from graphc.ops.patches import check_windows
from graphc.ops.reduce import reduce_prod
from graphc.ops.select import cast
from graphc.ops.shape_ops import reshape
from graphc.ops.shape_ops import shape as shape_of
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape
from graphc.static_values import constant_value_as_shape

__all__ = ["max_pool_with_argmax", "max_pool_grad_with_argmax"]


def _check(op_name, shape, attrs):
    if shape.rank != 4:
        raise ValueError(f"{op_name}: input must be 4-dimensional [batch, height, width, "
                         f"channels], got shape {shape}")
    check_windows(op_name, attrs, ("ksize", "strides"))


def _geometry(size, attrs, axis):
    return window_geometry(size, attrs["ksize"][axis], attrs["strides"][axis], 1,
                           attrs["padding"])


def _pool_shapes(inputs, attrs):
    shape = inputs[0].shape
    _check("max_pool_with_argmax", shape, attrs)
    dims = [shape.dims[0]] + [None if shape.dims[a] is None else _geometry(shape.dims[a],
                                                                            attrs, a)[0]
                              for a in (1, 2)] + [shape.dims[3]]
    return [TensorShape(dims), TensorShape(dims)]


def _pool_dtypes(in_dtypes, attrs):
    check_kind("max_pool_with_argmax", in_dtypes[0], NUMERIC)
    argmax = gdt.as_dtype(attrs["Targmax"])
    if argmax not in (gdt.int32, gdt.int64):
        raise TypeError(f"max_pool_with_argmax: Targmax must be int32 or int64, got "
                        f"{argmax.name}")
    return [in_dtypes[0], argmax]


def _pool_kernel(x, ksize, strides, padding, Targmax, include_batch_in_index):  # noqa: N803
    batch, height, width, channels = x.shape
    attrs = {"ksize": ksize, "strides": strides, "padding": padding}
    (oh, top, _), (ow, left, _) = _geometry(height, attrs, 1), _geometry(width, attrs, 2)
    rows = np.arange(oh)[:, None] * strides[1] - top  # first row of each window
    cols = np.arange(ow)[None, :] * strides[2] - left
    best = np.zeros((batch, oh, ow, channels), x.dtype)
    where = np.full((batch, oh, ow, channels), -1, np.int64)
    for i in range(ksize[1]):
        for j in range(ksize[2]):
            row, col = rows + i, cols + j
            inside = (row >= 0) & (row < height) & (col >= 0) & (col < width)
            value = x[:, np.clip(row, 0, max(height - 1, 0)), np.clip(col, 0, max(width - 1, 0))]
            take = inside[None, :, :, None] & ((where < 0) | (best < value))
            best = np.where(take, value, best)
            flat = (row * width + col)[None, :, :, None] * channels + np.arange(channels)
            where = np.where(take, flat, where)
    if include_batch_in_index:
        where = where + (np.arange(batch) * height * width * channels)[:, None, None, None]
    return best, where.astype(gdt.as_dtype(Targmax).np)


def _pool_reference(x, ksize, strides, padding, Targmax=gdt.int64, name=None,  # noqa: N803
                    output_dtype=None, include_batch_in_index=False):
    """Window by window, element by element, as TF's loop."""
    batch, height, width, channels = x.shape
    attrs = {"ksize": ksize, "strides": strides, "padding": padding}
    (oh, top, _), (ow, left, _) = _geometry(height, attrs, 1), _geometry(width, attrs, 2)
    best = np.zeros((batch, oh, ow, channels), x.dtype)
    where = np.full((batch, oh, ow, channels), -1, np.int64)
    for b, y, xx, c in np.ndindex(batch, oh, ow, channels):
        for i, j in np.ndindex(ksize[1], ksize[2]):
            row, col = y * strides[1] - top + i, xx * strides[2] - left + j
            if 0 <= row < height and 0 <= col < width:
                value = x[b, row, col, c]
                if where[b, y, xx, c] < 0 or best[b, y, xx, c] < value:
                    best[b, y, xx, c] = value
                    flat = (row * width + col) * channels + c
                    where[b, y, xx, c] = flat + (b * height * width * channels
                                                 if include_batch_in_index else 0)
    return best, where


_POOL_ATTRS = {"ksize": (1, 1, 1, 1), "strides": (1, 1, 1, 1), "padding": "VALID",
               "Targmax": gdt.int64, "include_batch_in_index": False}


def _pool_grad(op, dy, d_argmax):
    return [max_pool_grad_with_argmax(shape_of(op.inputs[0]), dy, op.outputs[1],
                                      op.attrs["include_batch_in_index"])]


MAX_POOL_WITH_ARGMAX = registry.register(OpDef(
    name="max_pool_with_argmax", dtypes=_pool_dtypes, shapes=_pool_shapes,
    kernel=_pool_kernel, attrs=dict(_POOL_ATTRS), grad=_pool_grad,
    reference=_pool_reference,
    samples=lambda: [
        Sample((rand(2, 4, 5, 3), [1, 2, 2, 1], [1, 2, 2, 1], "VALID")),
        Sample((rand(1, 5, 6, 2), [1, 3, 2, 1], [1, 2, 3, 1], "SAME")),
        Sample((rand(2, 3, 3, 2), [1, 2, 2, 1], [1, 1, 1, 1], "SAME"),
               {"include_batch_in_index": True, "Targmax": gdt.int32}),
        Sample((randint(1, 3, 4, 1), [1, 2, 2, 1], [1, 1, 1, 1], "VALID")),
        Sample((rand(0, 3, 3, 2), [1, 2, 2, 1], [1, 1, 1, 1], "SAME")),
        Sample((np.array([[[[np.nan], [1.0], [-np.inf]], [[2.0], [2.5], [-np.inf]],
                           [[np.nan], [np.nan], [-np.inf]]]]), [1, 2, 2, 1], [1, 1, 1, 1],
                "SAME"))],
    error_samples=lambda: [
        ErrorSample((rand(3, 4, 2), [1, 2, 2, 1], [1, 1, 1, 1], "VALID"),
                    match="4-dimensional"),
        ErrorSample((rand(1, 3, 4, 2), [1, 2, 2, 2], [1, 1, 1, 1], "VALID"), match="ksize"),
        ErrorSample((rand(1, 3, 4, 2), [1, 2, 2, 1], [1, 1, 1, 1], "VALID"),
                    {"Targmax": gdt.float32}, error=TypeError, match="Targmax")],
    doc="Max pooling that also returns the flattened index of each maximum."))


@registry.public(MAX_POOL_WITH_ARGMAX)
def max_pool_with_argmax(input, ksize, strides, padding, data_format="NHWC",  # noqa
                         Targmax=None, name=None, output_dtype=None,  # noqa: N803
                         include_batch_in_index=False):
    """``(output, argmax)``: max pooling, and where each maximum was (flattened index).

    Example:
        >>> pooled, where = gc.nn.max_pool_with_argmax(x, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
    """
    if data_format != "NHWC":
        raise ValueError(f"max_pool_with_argmax: only data_format 'NHWC' is supported, got "
                         f"{data_format!r}")
    argmax = Targmax if Targmax is not None else output_dtype
    attrs = {"ksize": tuple(int(v) for v in ksize), "strides": tuple(int(v) for v in strides),
             "padding": str(padding).upper(),
             "Targmax": gdt.as_dtype(argmax if argmax is not None else gdt.int64),
             "include_batch_in_index": bool(include_batch_in_index)}
    return apply_op("max_pool_with_argmax", [input], attrs, name=name or "MaxPoolWithArgmax")


def _grad_shapes(inputs, attrs):
    shape, grads, argmax = constant_value_as_shape(inputs[0]), inputs[1].shape, inputs[2].shape
    if not grads.is_compatible_with(argmax):
        raise ValueError(f"max_pool_grad_with_argmax: grads {grads} and argmax {argmax} must "
                         "have one shape")
    return [shape if shape.rank == 4 else TensorShape([None] * 4)]


def _grad_dtypes(in_dtypes, attrs):
    check_kind("max_pool_grad_with_argmax", in_dtypes[1], NUMERIC, "grads")
    check_kind("max_pool_grad_with_argmax", in_dtypes[2], "integer", "argmax")
    return [in_dtypes[1]]


def _grad_kernel(input_shape, grads, argmax, include_batch_in_index):
    shape = tuple(int(d) for d in input_shape)
    per_image = int(np.prod(shape[1:]))
    index = argmax.reshape(shape[0], int(np.prod(argmax.shape[1:]))).astype(np.int64)
    if not include_batch_in_index:
        index = index + (np.arange(shape[0]) * per_image)[:, None]
    out = np.zeros(int(np.prod(shape)), grads.dtype)
    np.add.at(out, index.ravel(), grads.ravel())
    return out.reshape(shape)


def _grad_reference(input_shape, grads, argmax, include_batch_in_index=False, name=None):
    out = np.zeros(input_shape, grads.dtype)
    flat = out.reshape(len(out), -1) if out.size else out.reshape(input_shape[0], 0)
    for b in range(grads.shape[0]):
        for g, a in zip(grads[b].ravel(), argmax[b].ravel()):
            flat[b, a - (b * flat.shape[1] if include_batch_in_index else 0)] += g
    return flat.reshape(input_shape)


def _pooled_argmax(x, include_batch_in_index):
    """Test helper: the argmax of a 2x2/stride-1 VALID pool over ``x`` (an int64 array)."""
    attrs = dict(_POOL_ATTRS, ksize=(1, 2, 2, 1), include_batch_in_index=include_batch_in_index)
    return _pool_kernel(x, **attrs)[1]


MAX_POOL_GRAD_WITH_ARGMAX = registry.register(OpDef(
    name="max_pool_grad_with_argmax", dtypes=_grad_dtypes, shapes=_grad_shapes,
    kernel=_grad_kernel, attrs={"include_batch_in_index": False},
    grad=lambda op, dy: [None, _gather_at(dy, op.inputs[2], op.attrs), None],
    raises_on_values=True, reference=_grad_reference,
    samples=lambda: [
        Sample(([2, 3, 3, 2], rand(2, 2, 2, 2), _pooled_argmax(rand(2, 3, 3, 2), False))),
        Sample(([2, 3, 3, 2], rand(2, 2, 2, 2), _pooled_argmax(rand(2, 3, 3, 2), True)),
               {"include_batch_in_index": True}),
        Sample(([0, 3, 3, 1], rand(0, 2, 2, 1), np.zeros((0, 2, 2, 1), np.int64)))],
    error_samples=lambda: [ErrorSample(([1, 3, 3, 1], rand(1, 2, 2, 1),
                                        np.zeros((1, 2, 3, 1), np.int64)), match="one shape")],
    doc="Each gradient added to the input pixel its argmax names."))


def _gather_at(dy, argmax, attrs):
    """The gradient's own gradient: ``dy`` read at each argmax (a gather)."""
    flat = reshape(dy, [-1])
    if attrs["include_batch_in_index"]:
        return gather(flat, argmax)
    dims = shape_of(dy, out_type=argmax.dtype)
    per_image = reduce_prod(strided_slice(dims, [1], [4]))
    offsets = multiply(range_(cast(dims[0], argmax.dtype), dtype=argmax.dtype), per_image)
    return gather(flat, add(argmax, reshape(offsets, [-1, 1, 1, 1])))


@registry.public(MAX_POOL_GRAD_WITH_ARGMAX)
def max_pool_grad_with_argmax(input_shape, grads, argmax, include_batch_in_index=False,
                              name=None) -> Tensor:
    """The gradient of ``max_pool_with_argmax`` for an input of ``input_shape``.

    Example:
        >>> d_x = max_pool_grad_with_argmax(gc.shape(x), d_pooled, argmax)
    """
    return apply_op("max_pool_grad_with_argmax", [input_shape, grads, argmax],
                    {"include_batch_in_index": bool(include_batch_in_index)},
                    name=name or "MaxPoolGradWithArgmax")
