"""``tf.compat.v1.image.resize_images`` (also ``resize``) and the resize methods."""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor, graph_of
from graphc.image.transforms import image_tensor, pad_to_bounding_box
from graphc.ops.image_resize import (resize_area, resize_bicubic, resize_bilinear,  # noqa
                                     resize_nearest_neighbor)
from graphc.ops.shape_ops import expand_dims, squeeze
from graphc.static_values import constant_value

__all__ = ["ResizeMethod", "resize_images", "resize", "resize_area", "resize_bicubic",
           "resize_bilinear", "resize_nearest_neighbor", "resize_image_with_pad"]


class ResizeMethod:
    """TF1's ``tf.image.ResizeMethod`` (``ResizeMethodV1``): the methods as ints."""

    BILINEAR = 0
    NEAREST_NEIGHBOR = 1
    BICUBIC = 2
    AREA = 3


# TF2's names for the same methods, which TF1's resize_images accepts too
_METHODS = {0: resize_bilinear, 1: resize_nearest_neighbor, 2: resize_bicubic, 3: resize_area,
            "bilinear": resize_bilinear, "nearest": resize_nearest_neighbor,
            "bicubic": resize_bicubic, "area": resize_area}


def _static_size(size):
    value = constant_value(convert_to_tensor(size, dtype_hint=gdt.int32))
    if value is None:
        return None
    return [int(v) for v in value.ravel()]


def resize_images(images, size, method=ResizeMethod.BILINEAR, align_corners=False,
                  preserve_aspect_ratio=False, name=None):
    """Resize 3-D or 4-D ``images`` to ``size = [new_height, new_width]`` (TF1 rules: the
    bilinear, bicubic and area methods give float32; when the static size already equals
    the images' the images come back unchanged, in their own dtype).

    Example:
        >>> big = gc.image.resize_images(images, [224, 224], align_corners=True)
    """
    graph = graph_of(images, size)
    with graph.as_default(), graph.name_scope(name or "resize"):
        images = convert_to_tensor(images)
        rank = images.shape.rank
        if rank is None:
            raise ValueError("resize_images: 'images' contains no shape (its rank is unknown)")
        if rank not in (3, 4):
            raise ValueError(f"resize_images: 'images' must have either 3 or 4 dimensions, "
                             f"got shape {images.shape}")
        if method not in _METHODS:
            raise ValueError(f"resize_images: resize method {method!r} is not implemented")
        batch = images if rank == 4 else expand_dims(images, 0)
        height, width = batch.shape.dims[1:3]
        known = _static_size(size)
        if known is not None and len(known) != 2:
            raise ValueError(f"resize_images: 'size' must be a 1-D Tensor of 2 elements: "
                             f"new_height, new_width; got {known}")
        if preserve_aspect_ratio:
            if known is None or None in (height, width):
                raise ValueError("resize_images: preserve_aspect_ratio needs static sizes of "
                                 f"the images ({images.shape}) and of 'size'")
            factor = min(np.float32(known[0]) / np.float32(height),
                         np.float32(known[1]) / np.float32(width))
            known = [int(round(float(factor * np.float32(height)))),
                     int(round(float(factor * np.float32(width))))]
            size = known
        if known is not None and [height, width] == known:
            return images  # TF1 skips the resize, keeping the dtype
        resized = _METHODS[method](batch, size, align_corners=align_corners)
        return resized if rank == 4 else squeeze(resized, [0])


resize = resize_images


def resize_image_with_pad(image, target_height, target_width, method=ResizeMethod.BILINEAR,
                          align_corners=False):
    """Resize to fit ``target_height x target_width`` keeping the aspect ratio, then
    zero-pad the rest evenly (TF1's float32 arithmetic; static sizes).

    Example:
        >>> boxed = gc.image.resize_image_with_pad(image, 224, 224)
    """
    graph = graph_of(image)
    with graph.as_default(), graph.name_scope("resize_image_with_pad"):
        image = image_tensor(image, "resize_image_with_pad")
        height, width = image.shape.dims[-3:-1]
        if None in (height, width) or min(target_height, target_width) <= 0:
            raise ValueError(f"resize_image_with_pad: needs the static height and width of "
                             f"'image' and positive targets, got shape {image.shape} and "
                             f"{target_height, target_width}")
        f32 = np.float32
        ratio = max(f32(width) / f32(target_width), f32(height) / f32(target_height))
        new_height, new_width = f32(height) / ratio, f32(width) / ratio
        top = max(0, int(np.floor((f32(target_height) - new_height) / f32(2))))
        left = max(0, int(np.floor((f32(target_width) - new_width) / f32(2))))
        resized = resize_images(image, [int(np.floor(new_height)), int(np.floor(new_width))],
                                method, align_corners=align_corners)
        return pad_to_bounding_box(resized, top, left, target_height, target_width)
