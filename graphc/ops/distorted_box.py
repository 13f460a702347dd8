"""TF1's ``tf.image.sample_distorted_bounding_box``: a random crop of an image, of a random
aspect ratio and area, that covers enough of at least one given box (inception-style
augmentation). TF's algorithm (SampleDistortedBoundingBoxV2) with graphc's seeded streams:
the same rules and ranges, not TF's Philox numbers."""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.ops.common import FLOAT, INTEGER, apply_op, check_kind
from graphc.ops.random import get_seed
from graphc.registry import OpDef
from graphc.shapes import TensorShape

__all__ = ["sample_distorted_bounding_box"]


def _random_crop(rng, width, height, min_area, max_area, aspect):
    """TF's GenerateRandomCrop: ``(x, y, w, h)`` or None when no crop of ``aspect`` fits."""
    rint = np.rint
    crop_h = int(rint(np.sqrt(min_area / aspect)))
    max_h = int(rint(np.sqrt(max_area / aspect)))
    if rint(max_h * aspect) > width:  # the largest height whose width still fits
        max_h = int((width + 0.5 - 1e-7) / aspect)
    max_h = min(max_h, height)
    crop_h = min(crop_h, max_h)
    if crop_h < max_h:
        crop_h += int(rng.integers(0, max_h - crop_h + 1))
    crop_w = int(rint(crop_h * aspect))
    area = crop_w * crop_h
    if area < min_area:
        crop_h += 1
        crop_w = int(rint(crop_h * aspect))
        area = crop_w * crop_h
    if area > max_area:
        crop_h -= 1
        crop_w = int(rint(crop_h * aspect))
        area = crop_w * crop_h
    if (area < min_area or area > max_area or crop_w > width or crop_h > height or
            crop_w <= 0 or crop_h <= 0):
        return None
    y = int(rng.integers(0, height - crop_h)) if crop_h < height else 0
    x = int(rng.integers(0, width - crop_w)) if crop_w < width else 0
    return x, y, crop_w, crop_h


def _covers(crop, boxes, min_covered):
    """Whether the crop holds at least ``min_covered`` of some box's area."""
    x, y, w, h = crop
    for y1, x1, y2, x2 in boxes:
        area = (y2 - y1) * (x2 - x1)
        if area <= 0:
            continue
        inter = (max(0.0, min(y + h, y2) - max(y, y1)) * max(0.0, min(x + w, x2) - max(x, x1)))
        if inter / area >= min_covered:
            return True
    return False


def _kernel(ctx, image_size, bounding_boxes, min_object_covered, aspect_ratio_range,
            area_range, max_attempts, use_image_if_no_bounding_boxes, seed, seed2):
    height, width = int(image_size[0]), int(image_size[1])
    if height <= 0 or width <= 0:
        raise ValueError(f"sample_distorted_bounding_box: image height and width must be "
                         f"positive, got {list(image_size)}")
    boxes = np.asarray(bounding_boxes, np.float32).reshape(-1, 4)
    if (boxes < 0).any() or (boxes > 1).any():
        raise ValueError("sample_distorted_bounding_box: all bounding box coordinates must be "
                         "in [0.0, 1.0]")
    if not len(boxes):
        if not use_image_if_no_bounding_boxes:
            raise ValueError("sample_distorted_bounding_box: no bounding boxes given; set "
                             "use_image_if_no_bounding_boxes=True to use the whole image")
        boxes = np.array([[0, 0, 1, 1]], np.float32)
    pixels = boxes * np.array([height, width, height, width], np.float32)
    rng = ctx.rng()
    low, high = aspect_ratio_range
    image_area = float(width * height)
    crop = None
    for _ in range(max_attempts):
        aspect = np.float32(rng.random() * (high - low) + low)
        found = _random_crop(rng, width, height, area_range[0] * image_area,
                             area_range[1] * image_area, aspect)
        if found is not None and _covers(found, pixels, float(min_object_covered)):
            crop = found
            break
    x, y, w, h = crop if crop is not None else (0, 0, width, height)
    dtype = image_size.dtype
    begin = np.array([y, x, 0], dtype)
    size = np.array([h, w, -1], dtype)
    box = np.array([[[y / height, x / width, (y + h) / height, (x + w) / width]]], np.float32)
    return begin, size, box


def _dtypes(in_dtypes, attrs):
    check_kind("sample_distorted_bounding_box", in_dtypes[0], INTEGER, "image_size")
    check_kind("sample_distorted_bounding_box", in_dtypes[1], FLOAT, "bounding_boxes")
    return [in_dtypes[0], in_dtypes[0], gdt.float32]


def _shapes(inputs, attrs):
    size, boxes = inputs[0].shape, inputs[1].shape
    if not size.is_compatible_with([3]):
        raise ValueError(f"sample_distorted_bounding_box: image_size must be [height, width, "
                         f"channels], got shape {size}")
    if boxes.rank not in (None, 3) or (boxes.rank == 3 and boxes.dims[2] not in (None, 4)):
        raise ValueError(f"sample_distorted_bounding_box: bounding_boxes must be [batch, N, "
                         f"4], got shape {boxes}")
    low, high = attrs["area_range"]
    if not 0 < low <= high <= 1:
        raise ValueError(f"sample_distorted_bounding_box: area_range must be in (0, 1], got "
                         f"{[low, high]}")
    if attrs["aspect_ratio_range"][0] <= 0 or attrs["max_attempts"] <= 0:
        raise ValueError("sample_distorted_bounding_box: aspect_ratio_range and max_attempts "
                         "must be positive")
    return [TensorShape([3]), TensorShape([3]), TensorShape([1, 1, 4])]


SAMPLE_DISTORTED_BOUNDING_BOX = registry.register(OpDef(
    name="sample_distorted_bounding_box", dtypes=_dtypes, shapes=_shapes, kernel=_kernel,
    grad=registry.NOT_DIFFERENTIABLE, random=True, foldable=False, needs_context=True,
    raises_on_values=True,
    attrs={"min_object_covered": 0.1, "aspect_ratio_range": (0.75, 1.33),
           "area_range": (0.05, 1.0), "max_attempts": 100,
           "use_image_if_no_bounding_boxes": False, "seed": None, "seed2": None},
    tested_elsewhere="tests/test_image.py (random: ranges, coverage and seeds)",
    doc="A random crop window covering enough of a box: begin, size and the box."))


def sample_distorted_bounding_box(image_size, bounding_boxes, seed=None, seed2=None,
                                  min_object_covered=0.1, aspect_ratio_range=None,
                                  area_range=None, max_attempts=None,
                                  use_image_if_no_bounding_boxes=None, name=None):
    """``(begin, size, bboxes)`` of a random crop for ``tf.slice(image, begin, size)``, with
    an aspect ratio in ``aspect_ratio_range``, an area fraction in ``area_range``, covering
    at least ``min_object_covered`` of one of ``bounding_boxes`` ([batch, N, 4], normalized
    y1, x1, y2, x2); the whole image when ``max_attempts`` draws find none.

    Example:
        >>> begin, size, box = gc.image.sample_distorted_bounding_box(
        ...     gc.shape(image), boxes, min_object_covered=0.1, seed=1)
    """
    graph_seed, op_seed = get_seed(seed)
    attrs = {"min_object_covered": float(min_object_covered),
             "aspect_ratio_range": tuple(float(v) for v in (aspect_ratio_range or
                                                            (0.75, 1.33))),
             "area_range": tuple(float(v) for v in (area_range or (0.05, 1.0))),
             "max_attempts": int(max_attempts or 100),
             "use_image_if_no_bounding_boxes": bool(use_image_if_no_bounding_boxes),
             "seed": graph_seed, "seed2": op_seed if seed2 is None else int(seed2)}
    return apply_op("sample_distorted_bounding_box", [image_size, bounding_boxes], attrs,
                    name=name or "SampleDistortedBoundingBoxV2")
