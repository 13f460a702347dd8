"""``tf.image.crop_and_resize``: each box of an image resampled to ``crop_size``, composed
of differentiable ops so the images and the boxes both get TF's gradients (the sample
indices are fixed, the interpolation weights follow the box corners)."""
from __future__ import annotations

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor, graph_of
from graphc.ops.array import stack
from graphc.ops.elementwise import (add, ceil, floor, greater_equal, less_equal, logical_and,
                                    multiply, subtract)
from graphc.ops.creation import fill, range as range_
from graphc.ops.scatter import gather_nd
from graphc.ops.select import cast, clip_by_value, where
from graphc.ops.shape_ops import broadcast_to, expand_dims, reshape, shape

__all__ = ["crop_and_resize"]


def _sample_points(low, high, size, extent):
    """TF's crop coordinates ``[boxes, size]`` along one axis of ``extent`` pixels, with
    whether each lies inside the image."""
    last = cast(extent - 1, gdt.float32)
    if size > 1:
        step = multiply(subtract(high, low), last / float(size - 1))
        points = add(multiply(low, last), multiply(range_(size, dtype=gdt.float32), step))
    else:
        points = multiply(multiply(add(low, high), 0.5), last)
    inside = logical_and(greater_equal(points, 0.0), less_equal(points, last))
    return points, inside


def _indices(points, extent, rounding):
    limit = cast(extent - 1, gdt.float32)
    return cast(clip_by_value(rounding(points), 0.0, limit), gdt.int32)


def crop_and_resize(image, boxes, box_ind=None, crop_size=None, method="bilinear",
                    extrapolation_value=0, name=None, box_indices=None):
    """Crops of ``image`` [batch, h, w, c] at normalized ``boxes`` [n, 4] (y1, x1, y2, x2) of
    images ``box_ind``, each resized to ``crop_size`` (float32, [n, ch, cw, c]); samples
    outside the image take ``extrapolation_value``.

    Example:
        >>> rois = gc.image.crop_and_resize(features, boxes, box_ind, [7, 7])
    """
    box_ind = box_indices if box_ind is None else box_ind
    if box_ind is None or crop_size is None:
        raise ValueError("crop_and_resize: box_ind and crop_size are required")
    if method not in ("bilinear", "nearest"):
        raise ValueError(f"crop_and_resize: method must be 'bilinear' or 'nearest', got "
                         f"{method!r}")
    crop_height, crop_width = (int(v) for v in crop_size)
    if min(crop_height, crop_width) <= 0:
        raise ValueError(f"crop_and_resize: crop_size must be positive, got {crop_size}")
    graph = graph_of(image, boxes, box_ind)
    with graph.as_default(), graph.name_scope(name or "CropAndResize"):
        image = cast(convert_to_tensor(image, name="image"), gdt.float32)
        boxes = convert_to_tensor(boxes, dtype=gdt.float32, name="boxes")
        box_ind = convert_to_tensor(box_ind, dtype=gdt.int32, name="box_ind")
        if image.shape.rank != 4 or boxes.shape.rank != 2 or boxes.shape.dims[1] not in (None, 4):
            raise ValueError(f"crop_and_resize: image must be 4-D and boxes [num_boxes, 4], "
                             f"got shapes {image.shape} and {boxes.shape}")
        dims = shape(image)
        y1, x1, y2, x2 = (expand_dims(boxes[:, k], 1) for k in range(4))
        ys, inside_y = _sample_points(y1, y2, crop_height, dims[1])
        xs, inside_x = _sample_points(x1, x2, crop_width, dims[2])
        count = shape(boxes)[0]
        grid = [count, crop_height, crop_width]

        def read(rows, cols):
            batch = broadcast_to(reshape(box_ind, [-1, 1, 1]), grid)
            rows = broadcast_to(expand_dims(rows, 2), grid)
            cols = broadcast_to(expand_dims(cols, 1), grid)
            return gather_nd(image, stack([batch, rows, cols], axis=-1))

        if method == "nearest":
            def nearest(points):
                return floor(add(points, 0.5))  # roundf on the in-image coordinates
            crops = read(_indices(ys, dims[1], nearest), _indices(xs, dims[2], nearest))
        else:
            top, bottom = _indices(ys, dims[1], floor), _indices(ys, dims[1], ceil)
            left, right = _indices(xs, dims[2], floor), _indices(xs, dims[2], ceil)
            y_lerp = expand_dims(expand_dims(subtract(ys, floor(ys)), 2), 3)
            x_lerp = expand_dims(expand_dims(subtract(xs, floor(xs)), 1), 3)
            top_left, top_right = read(top, left), read(top, right)
            bottom_left, bottom_right = read(bottom, left), read(bottom, right)
            upper = add(top_left, multiply(subtract(top_right, top_left), x_lerp))
            lower = add(bottom_left, multiply(subtract(bottom_right, bottom_left), x_lerp))
            crops = add(upper, multiply(subtract(lower, upper), y_lerp))
        inside = logical_and(expand_dims(expand_dims(inside_y, 2), 3),
                             expand_dims(expand_dims(inside_x, 1), 3))
        inside = broadcast_to(inside, shape(crops))
        return where(inside, crops, fill(shape(crops), float(extrapolation_value)))
