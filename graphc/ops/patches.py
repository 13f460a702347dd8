"""TF1's extract_image_patches over NHWC images, and its adjoint (the gradient)."""
from __future__ import annotations

import numpy as np

from graphc import registry
from graphc.graph import Tensor
from graphc.ops.common import apply_op, rand, randint
from graphc.ops.conv_kernels import window_geometry
from graphc.ops.shape_ops import shape as shape_of
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape
from graphc.static_values import constant_value_as_shape

__all__ = ["extract_image_patches", "extract_image_patches_grad", "check_windows"]


def _four(value):
    """A window list (TF: ``[1, rows, cols, 1]``) as a tuple of ints, checked later."""
    return tuple(int(v) for v in (value if isinstance(value, (list, tuple, np.ndarray))
                                  else [value]))


def _pairs(attrs):
    """``(ksizes, strides, rates)`` as ``(rows, cols)`` pairs."""
    return [attrs[key][1:3] for key in ("ksizes", "strides", "rates")]


def _geometry(shape, attrs):
    """Per spatial dim ``(out, pad_before, pad_after)``; None where the size is unknown."""
    return [None if size is None else window_geometry(size, k, s, r, attrs["padding"])
            for size, k, s, r in zip(shape[1:3], *_pairs(attrs))]


_WINDOW_FORMS = {4: "[1, rows, cols, 1]", 5: "[1, depth, rows, cols, 1]"}


def check_windows(op_name, attrs, keys, rank=4):
    """TF's window lists (``ksize``, ``strides``...): ``rank`` positive entries, 1 for the
    batch and channel dims; and the padding, SAME or VALID."""
    for key in keys:
        value = list(attrs[key])
        if len(value) != rank or value[0] != 1 or value[-1] != 1 or min(value) < 1:
            raise ValueError(f"{op_name}: {key} must be {_WINDOW_FORMS[rank]} with positive "
                             f"entries (no windows over batch or channels), got {value}")
    if attrs["padding"] not in ("SAME", "VALID"):
        raise ValueError(f"{op_name}: padding must be 'SAME' or 'VALID', got "
                         f"{attrs['padding']!r}")


def _check(op_name, shape, attrs):
    if shape.rank != 4:
        raise ValueError(f"{op_name}: input must be 4-dimensional [batch, rows, cols, "
                         f"depth], got shape {shape}")
    check_windows(op_name, attrs, ("ksizes", "strides", "rates"))


def _patches_shape(op_name, shape, attrs):
    _check(op_name, shape, attrs)
    rows, cols = (None if g is None else g[0] for g in _geometry(shape.dims, attrs))
    depth = shape.dims[3]
    taps = attrs["ksizes"][1] * attrs["ksizes"][2]
    return TensorShape([shape.dims[0], rows, cols, None if depth is None else depth * taps])


def _windows(shape, attrs):
    """For each tap ``(i, j)`` of the window: the slices of the padded image it reads."""
    (oh, top, bottom), (ow, left, right) = _geometry(shape, attrs)
    (kr, kc), (sr, sc), (rr, rc) = _pairs(attrs)
    taps = [(slice(i * rr, i * rr + (oh - 1) * sr + 1, sr) if oh else slice(0, 0),
             slice(j * rc, j * rc + (ow - 1) * sc + 1, sc) if ow else slice(0, 0))
            for i in range(kr) for j in range(kc)]
    return taps, ((0, 0), (top, bottom), (left, right), (0, 0)), (oh, ow)


def _patches_kernel(images, ksizes, strides, rates, padding):
    attrs = {"ksizes": ksizes, "strides": strides, "rates": rates, "padding": padding}
    taps, pads, (oh, ow) = _windows(images.shape, attrs)
    padded = np.pad(images, pads)
    out = np.empty((images.shape[0], oh, ow, len(taps), images.shape[3]), images.dtype)
    for t, (rows, cols) in enumerate(taps):
        out[:, :, :, t] = padded[:, rows, cols]
    return out.reshape(images.shape[0], oh, ow, len(taps) * images.shape[3])


def _patches_grad_kernel(grads, input_shape, ksizes, strides, rates, padding):
    attrs = {"ksizes": ksizes, "strides": strides, "rates": rates, "padding": padding}
    shape = tuple(int(d) for d in input_shape)
    taps, pads, (oh, ow) = _windows(shape, attrs)
    padded = np.zeros([n + a + b for n, (a, b) in zip(shape, pads)], grads.dtype)
    split = grads.reshape(shape[0], oh, ow, len(taps), shape[3])
    for t, (rows, cols) in enumerate(taps):
        padded[:, rows, cols] += split[:, :, :, t]
    return padded[:, pads[1][0]:pads[1][0] + shape[1], pads[2][0]:pads[2][0] + shape[2]]


def _patches_reference(images, ksizes, strides, rates, padding, name=None):
    attrs = {"ksizes": ksizes, "strides": strides, "rates": rates, "padding": padding}
    (kr, kc), (sr, sc), (rr, rc) = _pairs(attrs)
    (oh, top, _), (ow, left, _) = _geometry(images.shape, attrs)
    out = np.zeros((images.shape[0], oh, ow, kr, kc, images.shape[3]), images.dtype)
    for y, x, i, j in np.ndindex(oh, ow, kr, kc):
        row, col = y * sr + i * rr - top, x * sc + j * rc - left
        if 0 <= row < images.shape[1] and 0 <= col < images.shape[2]:
            out[:, y, x, i, j] = images[:, row, col]
    return out.reshape(images.shape[0], oh, ow, kr * kc * images.shape[3])


_WINDOW_ATTRS = {"ksizes": (1, 1, 1, 1), "strides": (1, 1, 1, 1), "rates": (1, 1, 1, 1),
                 "padding": "VALID"}


def _patches_shapes(inputs, attrs):
    return [_patches_shape("extract_image_patches", inputs[0].shape, attrs)]


def _patches_grad_shapes(inputs, attrs):
    _check("extract_image_patches_grad", inputs[0].shape, attrs)
    shape = constant_value_as_shape(inputs[1])
    return [shape if shape.rank == 4 else TensorShape([None] * 4)]


EXTRACT_IMAGE_PATCHES = registry.register(OpDef(
    name="extract_image_patches", dtypes=lambda d, a: [d[0]], shapes=_patches_shapes,
    kernel=_patches_kernel, attrs=dict(_WINDOW_ATTRS),
    grad=lambda op, dy: [_patches_grad(dy, shape_of(op.inputs[0]), op.attrs)],
    finite_outputs=registry.finite_if_inputs_finite, reference=_patches_reference,
    samples=lambda: [
        Sample((rand(2, 4, 5, 3), [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "VALID")),
        Sample((rand(1, 5, 6, 2), [1, 3, 2, 1], [1, 2, 3, 1], [1, 1, 2, 1], "SAME")),
        Sample((rand(1, 6, 6, 1), [1, 2, 3, 1], [1, 3, 1, 1], [1, 2, 1, 1], "VALID")),
        Sample((randint(1, 3, 3, 2), [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "SAME")),
        Sample((rand(0, 3, 3, 2), [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "SAME")),
        Sample((rand(1, 2, 2, 1), [1, 3, 3, 1], [1, 1, 1, 1], [1, 1, 1, 1], "VALID"))],
    error_samples=lambda: [
        ErrorSample((rand(3, 4, 2), [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "VALID"),
                    match="4-dimensional"),
        ErrorSample((rand(1, 3, 4, 2), [2, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "VALID"),
                    match="ksizes"),
        ErrorSample((rand(1, 3, 4, 2), [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "FULL"),
                    match="padding")],
    doc="Every ksizes window (dilated by rates, every strides) flattened into depth."))

EXTRACT_IMAGE_PATCHES_GRAD = registry.register(OpDef(
    name="extract_image_patches_grad", dtypes=lambda d, a: [d[0]],
    shapes=_patches_grad_shapes, kernel=_patches_grad_kernel, attrs=dict(_WINDOW_ATTRS),
    grad=lambda op, dy: [extract_image_patches(dy, *_tf_lists(op.attrs)), None],
    reference=lambda grads, input_shape, *windows, name=None: _patches_grad_kernel(
        grads, input_shape, **_attrs_of(*windows, "extract_image_patches_grad")),
    samples=lambda: [
        Sample((rand(2, 3, 4, 12), [2, 4, 5, 3], [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1],
                "VALID")),
        Sample((rand(1, 3, 2, 12), [1, 5, 6, 2], [1, 3, 2, 1], [1, 2, 3, 1], [1, 1, 2, 1],
                "SAME")),
        Sample((rand(0, 3, 3, 8), [0, 3, 3, 2], [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1],
                "SAME"))],
    error_samples=lambda: [ErrorSample((rand(2, 3, 4), [2, 4, 5, 3], [1, 2, 2, 1],
                                        [1, 1, 1, 1], [1, 1, 1, 1], "VALID"),
                                       match="4-dimensional")],
    doc="The adjoint of extract_image_patches: each patch entry added back to its pixel."))


def _tf_lists(attrs):
    return attrs["ksizes"], attrs["strides"], attrs["rates"], attrs["padding"]


def _attrs_of(ksizes, strides, rates, padding, op_name):
    if ksizes is None or strides is None or rates is None or padding is None:
        raise ValueError(f"{op_name}: ksizes, strides, rates and padding are required")
    return {"ksizes": _four(ksizes), "strides": _four(strides), "rates": _four(rates),
            "padding": str(padding).upper()}


def _patches_grad(grads, input_shape, attrs):
    return apply_op("extract_image_patches_grad", [grads, input_shape], dict(attrs),
                    name="ExtractImagePatchesGrad")


@registry.public(EXTRACT_IMAGE_PATCHES_GRAD)
def extract_image_patches_grad(grads, input_shape, ksizes, strides, rates, padding,
                               name=None) -> Tensor:
    """The gradient of ``extract_image_patches`` for images of ``input_shape``.

    Example:
        >>> d_images = extract_image_patches_grad(d_patches, [1, 8, 8, 3], k, s, r, "SAME")
    """
    attrs = _attrs_of(ksizes, strides, rates, padding, "extract_image_patches_grad")
    return apply_op("extract_image_patches_grad", [grads, input_shape], attrs,
                    name=name or "ExtractImagePatchesGrad")


@registry.public(EXTRACT_IMAGE_PATCHES)
def extract_image_patches(images, ksizes=None, strides=None, rates=None, padding=None,
                          name=None, sizes=None) -> Tensor:
    """Patches of ``images`` (NHWC), each flattened (row, col, depth) into the depth dim.

    Example:
        >>> p = gc.extract_image_patches(x, [1, 3, 3, 1], [1, 1, 1, 1], [1, 1, 1, 1], "SAME")
    """
    attrs = _attrs_of(sizes if ksizes is None else ksizes, strides, rates, padding,
                      "extract_image_patches")
    return apply_op("extract_image_patches", [images], attrs,
                    name=name or "ExtractImagePatches")
