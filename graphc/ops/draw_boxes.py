"""``draw_bounding_boxes``: one-pixel box outlines drawn on NHWC images, as TF's
DrawBoundingBoxes(V2) kernel draws them, pixel for pixel.

A box ``[y_min, x_min, y_max, x_max]`` (relative to the image, 0..1) becomes rows and
columns ``int(v * (size - 1))`` (truncated toward zero); inverted boxes and boxes wholly
outside the image are skipped; the edges inside the image are drawn, clamped to it. Box k
takes color ``k mod len(colors)`` (TF's table of ten when none is given; on one-channel
images each color's first channel is 1, so boxes are white), each channel cast to the image
dtype. No gradient (TF has none).

Example:
    >>> apply_op("draw_bounding_boxes", [images, boxes, colors])
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.convert import convert_to_tensor
from graphc.ops.common import apply_op
from graphc.registry import OpDef
from graphc.shapes import TensorShape

__all__ = ["DRAW_BOUNDING_BOXES", "DEFAULT_COLORS", "draw_bounding_boxes"]

DEFAULT_COLORS = np.array([[1, 1, 0, 1], [0, 0, 1, 1], [1, 0, 0, 1], [0, 1, 0, 1],
                           [0.5, 0, 0.5, 1], [0.5, 0.5, 0, 1], [0.5, 0, 0, 1],
                           [0, 0, 0.5, 1], [0, 1, 1, 1], [1, 0, 1, 1]], np.float32)


def _color_table(colors, depth):
    table = np.array(DEFAULT_COLORS if colors.size == 0 else colors, np.float32)
    if table.ndim != 2 or table.shape[1] < depth:
        raise ValueError(f"draw_bounding_boxes: colors must be [num_colors, >= {depth}] for "
                         f"images of {depth} channels, got shape {list(table.shape)}")
    if depth == 1:
        table[:, 0] = 1  # boxes on grey images are white
    return table


def _kernel(images, boxes, colors):
    if images.ndim != 4 or images.shape[3] not in (1, 3, 4):
        raise ValueError(f"draw_bounding_boxes: images must be [batch, height, width, 1, 3 or "
                         f"4], got shape {list(images.shape)}")
    batch, height, width, depth = images.shape
    if boxes.ndim != 3 or boxes.shape[0] != batch or boxes.shape[2] != 4:
        raise ValueError(f"draw_bounding_boxes: boxes must be [batch={batch}, num_boxes, 4], "
                         f"got shape {list(boxes.shape)}")
    table = _color_table(np.asarray(colors), depth).astype(images.dtype)[:, :depth]
    canvas = images.copy()
    corners = (boxes.astype(np.float32) *
               np.array([height - 1, width - 1, height - 1, width - 1], np.float32))
    corners = np.trunc(corners).astype(np.int64)  # TF's float -> int64 cast
    for b in range(batch):
        for k, (top, left, bottom, right) in enumerate(corners[b]):
            if top > bottom or left > right:
                continue  # inverted
            if top >= height or bottom < 0 or left >= width or right < 0:
                continue  # outside the image
            color = table[k % len(table)]
            rows = slice(max(top, 0), min(bottom, height - 1) + 1)
            columns = slice(max(left, 0), min(right, width - 1) + 1)
            if top >= 0:
                canvas[b, top, columns] = color
            if bottom < height:
                canvas[b, bottom, columns] = color
            if left >= 0:
                canvas[b, rows, left] = color
            if right < width:
                canvas[b, rows, right] = color
    return canvas


def _dtypes(in_dtypes, attrs):
    images, boxes, colors = in_dtypes
    if images not in (gdt.float32, gdt.float16):
        raise TypeError(f"draw_bounding_boxes: images must be float32 or float16, got "
                        f"{images.name}")
    if boxes is not gdt.float32 or colors is not gdt.float32:
        raise TypeError(f"draw_bounding_boxes: boxes and colors must be float32, got "
                        f"{boxes.name} and {colors.name}")
    return [images]


def _shapes(inputs, attrs):
    images, boxes, _ = inputs
    if images.shape.rank not in (None, 4) or boxes.shape.rank not in (None, 3):
        raise ValueError(f"draw_bounding_boxes: images must be 4-D and boxes 3-D, got shapes "
                         f"{images.shape} and {boxes.shape}")
    return [images.shape if images.shape.rank is not None else TensorShape(None)]


DRAW_BOUNDING_BOXES = registry.register(OpDef(
    name="draw_bounding_boxes", dtypes=_dtypes, shapes=_shapes, kernel=_kernel,
    grad=registry.NOT_DIFFERENTIABLE, tested_elsewhere="tests/test_draw_boxes.py",
    doc="Images with the outlines of boxes drawn on them (TF's DrawBoundingBoxesV2)."))


def draw_bounding_boxes(images, boxes, name=None, colors=None):
    """``images`` (float, ``[batch, height, width, 1, 3 or 4]``) with the outlines of
    ``boxes`` (``[batch, num_boxes, 4]`` of ``y_min, x_min, y_max, x_max`` in 0..1) drawn in
    ``colors`` (``[num_colors, channels]``; TF's table by default), TF's pixels (TF1's
    ``tf.image.draw_bounding_boxes``).

    Example:
        >>> marked = gc.image.draw_bounding_boxes(images, [[[0.1, 0.1, 0.5, 0.6]]])
    """
    colors = np.zeros((0, 4), np.float32) if colors is None else colors
    return apply_op("draw_bounding_boxes",
                    [convert_to_tensor(images), convert_to_tensor(boxes, dtype=gdt.float32),
                     convert_to_tensor(colors, dtype=gdt.float32)],
                    name=name or "DrawBoundingBoxes")
