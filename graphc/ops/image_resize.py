"""TF1's image resize ops (NHWC): resize_bilinear, resize_bicubic, resize_area and
resize_nearest_neighbor, with their gradients (the adjoint resizes, ``*_grad``).

Every method is separable: each output row (column) reads a few input rows (columns),
its taps, with weights (graphc.ops.resize_taps: TF 1.15's coordinates exactly). Only
the taps are read, so a NaN spreads to the outputs that read it, as in TF, not to the
whole row. Bilinear, bicubic and area resizes return float32 for every input dtype, as
TF's kernels do (the ops' ``dtype`` attribute, float32 unless a caller asks for float64);
nearest keeps the dtype.
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.graph import Tensor
from graphc.ops.common import NUMERIC, apply_op, check_kind, rand
from graphc.ops.indexing import strided_slice
from graphc.ops.resize_taps import apply_taps, apply_taps_adjoint, taps
from graphc.ops.shape_ops import shape as shape_of
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape
from graphc.static_values import constant_value_as_shape

__all__ = ["resize_bilinear", "resize_bicubic", "resize_area", "resize_nearest_neighbor",
           "resize_grad"]


def _resize_kernel(method):
    def kernel(images, size, align_corners, half_pixel_centers, dtype):
        size = _checked_size(_OP_NAMES[method], size)
        out_dtype = gdt.as_dtype(dtype).np
        if method == "nearest":
            rows = taps(method, images.shape[1], size[0], align_corners, half_pixel_centers)
            cols = taps(method, images.shape[2], size[1], align_corners, half_pixel_centers)
            return images[:, rows[0][:, 0]][:, :, cols[0][:, 0]]
        work = images.astype(np.float64 if out_dtype == np.float64 else np.float32)
        for axis, (n, m) in ((1, (images.shape[1], size[0])), (2, (images.shape[2], size[1]))):
            work = apply_taps(work, axis, taps(method, n, m, align_corners, half_pixel_centers))
        return work.astype(out_dtype)
    return kernel


def _grad_kernel(method):
    def kernel(grads, size, align_corners, half_pixel_centers, dtype):
        size = _checked_size(_OP_NAMES[method] + "_grad", size)
        work = grads.astype(np.float64 if gdt.as_dtype(dtype) == gdt.float64 else np.float32)
        for axis, (n, m) in ((1, (size[0], grads.shape[1])), (2, (size[1], grads.shape[2]))):
            work = apply_taps_adjoint(work, axis, taps(method, n, m, align_corners,
                                                    half_pixel_centers), n)
        return work.astype(gdt.as_dtype(dtype).np)
    return kernel


def _check_4d(op_name, shape, what="input"):
    if shape.rank != 4:
        raise ValueError(f"{op_name}: {what} must be 4-dimensional [batch, height, width, "
                         f"channels], got shape {shape}")


def _checked_size(op_name, size):
    """``size`` as two Python ints, both positive (TF: "output dimensions must be
    positive"); a size fed at run time is checked here too."""
    size = [int(v) for v in np.ravel(size)]
    if len(size) != 2 or min(size) <= 0:
        raise ValueError(f"{op_name}: size must be 2 positive ints [new_height, new_width] "
                         f"(output dimensions must be positive), got {size}")
    return size


def _size_shape(op_name, size):
    """The static [height, width] the size tensor gives (None where unknown)."""
    if size.shape.rank not in (None, 1) or not size.shape.is_compatible_with([2]):
        raise ValueError(f"{op_name}: size must be a 1-D tensor of 2 elements [new_height, "
                         f"new_width], got shape {size.shape}")
    dims = constant_value_as_shape(size)
    dims = dims.dims if dims.rank == 2 else [None, None]
    if None not in dims:
        _checked_size(op_name, dims)
    return dims


def _check_attrs(op_name, attrs):
    if attrs["align_corners"] and attrs["half_pixel_centers"]:
        raise ValueError(f"{op_name}: if half_pixel_centers is True, align_corners must be "
                         "False")


def _resize_shapes(op_name):
    def rule(inputs, attrs):
        shape = inputs[0].shape
        _check_4d(op_name, shape, "images")
        _check_attrs(op_name, attrs)
        if 0 in shape.dims[1:3]:
            raise ValueError(f"{op_name}: input image must be of non-zero size, got shape "
                             f"{shape}")
        return [TensorShape([shape.dims[0], *_size_shape(op_name, inputs[1]), shape.dims[3]])]
    return rule


def _grad_shapes(op_name):
    def rule(inputs, attrs):
        shape = inputs[0].shape
        _check_4d(op_name, shape, "grads")
        _check_attrs(op_name, attrs)
        return [TensorShape([shape.dims[0], *_size_shape(op_name, inputs[1]), shape.dims[3]])]
    return rule


def _resize_dtypes(op_name, keeps_dtype):
    def rule(in_dtypes, attrs):
        check_kind(op_name, in_dtypes[0], NUMERIC, "images")
        check_kind(op_name, in_dtypes[1], "integer", "size")
        out = in_dtypes[0] if keeps_dtype else gdt.as_dtype(attrs["dtype"])
        if not keeps_dtype and out not in (gdt.float32, gdt.float64):
            raise TypeError(f"{op_name}: the result dtype must be float32 (or float64), got "
                            f"{out.name}")
        return [out]
    return rule


def _grad_dtypes(op_name):
    def rule(in_dtypes, attrs):
        check_kind(op_name, in_dtypes[0], "floating", "grads")
        check_kind(op_name, in_dtypes[1], "integer", "size")
        return [gdt.as_dtype(attrs["dtype"])]
    return rule


_ATTRS = {"align_corners": False, "half_pixel_centers": False, "dtype": gdt.float32}


def _height_width(tensor):
    return strided_slice(shape_of(tensor), [1], [3])


def _resize_grad_rule(method):
    def grad(op, dy):
        x = op.inputs[0]
        if not x.dtype.is_floating:
            return [None, None]  # TF: integer images get no gradient
        return [resize_grad(method, dy, _height_width(x), op.attrs["align_corners"],
                            op.attrs["half_pixel_centers"], x.dtype), None]
    return grad


def _grad_grad_rule(method):
    def grad(op, dy):
        return [_resize(method, dy, _height_width(op.inputs[0]), op.attrs["align_corners"],
                        op.attrs["half_pixel_centers"], op.inputs[0].dtype), None]
    return grad


_OP_NAMES = {"bilinear": "resize_bilinear", "bicubic": "resize_bicubic", "area": "resize_area",
             "nearest": "resize_nearest_neighbor"}
_TF_NAMES = {"bilinear": "ResizeBilinear", "bicubic": "ResizeBicubic", "area": "ResizeArea",
             "nearest": "ResizeNearestNeighbor"}


def _reference(method):
    """An independent loop over output pixels, each the weighted sum of its row taps by
    its column taps (so a NaN reaches exactly the pixels that read it)."""
    def reference(images, size, align_corners=False, half_pixel_centers=False, name=None,
                  dtype=gdt.float32):
        rows, cols = (taps(method, n, m, align_corners, half_pixel_centers)
                      for n, m in zip(images.shape[1:3], size))
        out = np.zeros((images.shape[0], size[0], size[1], images.shape[3]))
        for i, j in np.ndindex(*size):
            for s, t in np.ndindex(rows[0].shape[1], cols[0].shape[1]):
                if rows[2][i, s] and cols[2][j, t]:
                    out[:, i, j] += (float(rows[1][i, s]) * float(cols[1][j, t]) *
                                     images[:, rows[0][i, s], cols[0][j, t]].astype(float))
        return out.astype(images.dtype if method == "nearest" else gdt.as_dtype(dtype).np)
    return reference


def _grad_reference(method):
    """The transpose of the dense resize matrices, applied to ``grads``."""
    def reference(_, grads, size, align_corners=False, half_pixel_centers=False,
                  dtype=gdt.float32, name=None):
        dense = []
        for n, m in zip(size, grads.shape[1:3]):
            index, weight, valid = taps(method, n, m, align_corners, half_pixel_centers)
            matrix = np.zeros((m, n))
            np.add.at(matrix, (np.arange(m)[:, None].repeat(index.shape[1], 1), index),
                      np.where(valid, weight, 0))
            dense.append(matrix)
        out = np.einsum("ji,bjkc,kl->bilc", dense[0], grads.astype(float), dense[1])
        return out.astype(gdt.as_dtype(dtype).np)
    return reference


def _samples(method):
    float64 = {"dtype": gdt.float64}
    return lambda: [
        Sample((rand(2, 3, 4, 2), [5, 7]), float64),
        Sample((rand(1, 5, 6, 1), [3, 2]), float64),
        Sample((rand(1, 4, 5, 3), [7, 3]), {"align_corners": True, **float64}),
        Sample((rand(1, 3, 4, 1), [6, 3]), {"half_pixel_centers": True, **float64}),
        Sample((rand(0, 3, 4, 2), [2, 2]), float64),
        Sample((rand(2, 3, 3, 0), [4, 1]), float64),
        Sample((np.array([[[[1.0], [np.nan], [3.0], [4.0]]]]), [1, 7]), float64),
        Sample((np.arange(12, dtype=np.uint8).reshape(1, 3, 4, 1), [5, 3]))]


def _error_samples(method):
    return lambda: [ErrorSample((rand(3, 4, 2), [5, 5]), match="4-dimensional"),
                    ErrorSample((rand(1, 3, 4, 1), [0, 5]), match="positive"),
                    ErrorSample((rand(1, 3, 4, 1), [2, 5]),
                                {"align_corners": True, "half_pixel_centers": True},
                                match="half_pixel_centers"),
                    ErrorSample((np.array([[[[True]]]]), [2, 2]), error=TypeError,
                                match="numeric")]


def _register(method):
    name = _OP_NAMES[method]
    forward = registry.register(OpDef(
        name=name, dtypes=_resize_dtypes(name, method == "nearest"),
        shapes=_resize_shapes(name), kernel=_resize_kernel(method),
        grad=_resize_grad_rule(method), attrs=dict(_ATTRS), fresh_output=True,
        raises_on_values=True,
        reference=_reference(method), samples=_samples(method),
        error_samples=_error_samples(method), doc=f"TF1's {_TF_NAMES[method]} (NHWC)."))
    backward = registry.register(OpDef(
        name=name + "_grad", dtypes=_grad_dtypes(name + "_grad"),
        shapes=_grad_shapes(name + "_grad"), kernel=_grad_kernel(method),
        grad=_grad_grad_rule(method), attrs=dict(_ATTRS), fresh_output=True,
        raises_on_values=True,
        reference=_grad_reference(method), samples=lambda: [
            Sample((method, rand(2, 5, 7, 2), (3, 4)), {"dtype": gdt.float64}),
            Sample((method, rand(1, 3, 2, 1), (5, 6)),
                   {"align_corners": True, "dtype": gdt.float64}),
            Sample((method, rand(1, 6, 3, 1), (3, 4)),
                   {"half_pixel_centers": True, "dtype": gdt.float64}),
            Sample((method, rand(0, 2, 2, 3), (3, 4)), {"dtype": gdt.float64})],
        error_samples=lambda: [ErrorSample((method, rand(5, 7, 2), (3, 4)),
                                           match="4-dimensional")],
        doc=f"The gradient of {name}: its adjoint, from the output's size back to size."))
    return forward, backward


RESIZES = {method: _register(method) for method in _OP_NAMES}


def _int32(size):
    """A Python or NumPy size as an int32 array (a tensor stays as it is)."""
    return size if isinstance(size, Tensor) or hasattr(size, "_as_graph_element") \
        else np.asarray(size, np.int32)


def _resize(method, images, size, align_corners, half_pixel_centers, dtype, name=None):
    attrs = {"align_corners": bool(align_corners),
             "half_pixel_centers": bool(half_pixel_centers), "dtype": gdt.as_dtype(dtype)}
    return apply_op(_OP_NAMES[method], [images, _int32(size)], attrs,
                    name=name or _TF_NAMES[method])


@registry.public(RESIZES["bilinear"][0])
def resize_bilinear(images, size, align_corners=False, name=None, half_pixel_centers=False,
                    dtype=gdt.float32) -> Tensor:
    """Bilinear resize of NHWC ``images`` to ``size = [height, width]`` (float32 result;
    ``dtype=float64`` is a graphc extension keeping double precision).

    Example:
        >>> big = gc.image.resize_bilinear(images, [64, 64], align_corners=True)
    """
    return _resize("bilinear", images, size, align_corners, half_pixel_centers, dtype, name)


@registry.public(RESIZES["bicubic"][0])
def resize_bicubic(images, size, align_corners=False, name=None, half_pixel_centers=False,
                   dtype=gdt.float32) -> Tensor:
    """Bicubic resize (TF1's a = -0.75 kernel; Keys' -0.5 with ``half_pixel_centers``).

    Example:
        >>> big = gc.image.resize_bicubic(images, [64, 64])
    """
    return _resize("bicubic", images, size, align_corners, half_pixel_centers, dtype, name)


@registry.public(RESIZES["area"][0])
def resize_area(images, size, align_corners=False, name=None, half_pixel_centers=False,
                dtype=gdt.float32) -> Tensor:
    """Area-averaging resize (TF1 ``ResizeArea``; ``half_pixel_centers`` is not read).

    Example:
        >>> small = gc.image.resize_area(images, [16, 16])
    """
    return _resize("area", images, size, align_corners, half_pixel_centers, dtype, name)


@registry.public(RESIZES["nearest"][0])
def resize_nearest_neighbor(images, size, align_corners=False, name=None,
                            half_pixel_centers=False, dtype=None) -> Tensor:
    """Nearest-neighbour resize; the result keeps the images' dtype.

    Example:
        >>> big = gc.image.resize_nearest_neighbor(labels, [64, 64])
    """
    return _resize("nearest", images, size, align_corners, half_pixel_centers,
                   dtype or gdt.float32, name)


def resize_grad(method, grads, size, align_corners=False, half_pixel_centers=False,
                dtype=gdt.float32, name=None) -> Tensor:
    """The gradient of a ``method`` resize from ``size`` (TF1 ``ResizeBilinearGrad`` ...):
    ``grads`` of the resized images summed back onto the pixels they were read from.

    Example:
        >>> d_images = resize_grad("bilinear", d_big, (32, 32))
    """
    attrs = {"align_corners": bool(align_corners),
             "half_pixel_centers": bool(half_pixel_centers), "dtype": gdt.as_dtype(dtype)}
    return apply_op(_OP_NAMES[method] + "_grad", [grads, _int32(size)], attrs,
                    name=name or _TF_NAMES[method] + "Grad")


for _method, (_, _backward) in RESIZES.items():
    registry.public(_backward)(resize_grad)
