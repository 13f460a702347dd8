"""Flips, rotations, crops and pads of 3-D (one image) and 4-D (a batch) images: TF1's
compositions of reverse, transpose, slice and pad."""
from __future__ import annotations

import numpy as np

from graphc.convert import convert_to_tensor, graph_of
from graphc.dtypes import int32
from graphc.ops.common import static_axis
from graphc.ops.creation import range as range_
from graphc.ops.debug import Assert
from graphc.ops.control import identity
from graphc.ops.creation import ones_like
from graphc.ops.elementwise import add, greater_equal, less, mod, multiply, subtract
from graphc.ops.elementwise import round as round_
from graphc.ops.indexing import slice as slice_
from graphc.ops.indexing import gather, strided_slice
from graphc.ops.masking import reverse
from graphc.ops.padding import pad
from graphc.ops.random import random_uniform
from graphc.ops.reduce import reduce_all
from graphc.ops.select import cast, where
from graphc.ops.shape_ops import reshape, shape
from graphc.ops.shape_ops import transpose as transpose_

__all__ = ["flip_left_right", "flip_up_down", "random_flip_left_right", "random_flip_up_down",
           "rot90", "transpose_image", "transpose", "crop_to_bounding_box",
           "pad_to_bounding_box", "resize_image_with_crop_or_pad", "central_crop", "random_crop"]


def image_tensor(image, op_name, ranks=(3, 4)):
    """``image`` as a tensor of a known rank in ``ranks`` (TF1's image checks)."""
    image = convert_to_tensor(image, name="image")
    rank = image.shape.rank
    if rank is None:
        raise ValueError(f"{op_name}: 'image' needs a known rank (3 or 4 dimensions), got "
                         f"shape {image.shape}")
    if rank < 3:
        raise ValueError(f"{op_name}: 'image' (shape {image.shape}) must be at least "
                         "three-dimensional.")
    if rank not in ranks:
        raise ValueError(f"{op_name}: 'image' must have either 3 or 4 dimensions, got shape "
                         f"{image.shape}")
    return image


def _flip(image, axis, op_name, name):
    graph = graph_of(image)
    with graph.as_default(), graph.name_scope(name or op_name):
        image = image_tensor(image, op_name)
        return reverse(image, [axis + image.shape.rank - 3])


def flip_left_right(image, name=None):
    """Mirror images left to right (the width axis).

    Example:
        >>> mirrored = gc.image.flip_left_right(images)
    """
    return _flip(image, 1, "flip_left_right", name)


def flip_up_down(image, name=None):
    """Flip images upside down (the height axis).

    Example:
        >>> flipped = gc.image.flip_up_down(images)
    """
    return _flip(image, 0, "flip_up_down", name)


def _random_flip(image, axis, seed, op_name):
    graph = graph_of(image)
    with graph.as_default(), graph.name_scope(op_name):
        image = image_tensor(image, op_name)
        flipped = reverse(image, [axis + image.shape.rank - 3])
        if image.shape.rank == 3:  # one draw: flip the image with probability 1/2
            return where(less(random_uniform([], 0, 1.0, seed=seed), 0.5), flipped, image)
        batch = strided_slice(shape(image), [0], [1])
        draws = random_uniform(batch, 0, 1.0, seed=seed)  # one draw per image
        flips = cast(round_(reshape(draws, [-1, 1, 1, 1])), image.dtype)
        return add(multiply(flips, flipped), multiply(subtract(ones_like(flips), flips), image))


def random_flip_left_right(image, seed=None):
    """Flip each image left to right with probability 1/2 (seeded like the random ops).

    Example:
        >>> augmented = gc.image.random_flip_left_right(images, seed=3)
    """
    return _random_flip(image, 1, seed, "random_flip_left_right")


def random_flip_up_down(image, seed=None):
    """Flip each image upside down with probability 1/2.

    Example:
        >>> augmented = gc.image.random_flip_up_down(images, seed=3)
    """
    return _random_flip(image, 0, seed, "random_flip_up_down")


def rot90(image, k=1, name=None):
    """Rotate images counter-clockwise by ``k`` (a Python int) quarter turns.

    Example:
        >>> turned = gc.image.rot90(images, k=3)
    """
    graph = graph_of(image)
    with graph.as_default(), graph.name_scope(name or "rot90"):
        image = image_tensor(image, "rot90")
        lead = image.shape.rank - 3
        h, w = lead, lead + 1
        swap = list(range(lead)) + [w, h, lead + 2]
        turns = int(k) % 4
        if turns == 0:
            return identity(image)
        if turns == 1:
            return transpose_(reverse(image, [w]), swap)
        if turns == 2:
            return reverse(image, [h, w])
        return reverse(transpose_(image, swap), [w])


def transpose_image(image, name=None):
    """Swap the height and width axes.

    Example:
        >>> swapped = gc.image.transpose_image(images)
    """
    graph = graph_of(image)
    with graph.as_default(), graph.name_scope(name or "transpose"):
        image = image_tensor(image, "transpose_image")
        return transpose_(image, [1, 0, 2] if image.shape.rank == 3 else [0, 2, 1, 3])


transpose = transpose_image


def _static_hw(image, op_name):
    height, width = image.shape.dims[-3:-1]
    if height is None or width is None:
        raise ValueError(f"{op_name}: needs the static height and width of 'image', got "
                         f"shape {image.shape}")
    return height, width


def _ints(op_name, **values):
    out = []
    for key, value in values.items():
        if not isinstance(value, int) and not hasattr(value, "__index__"):
            raise ValueError(f"{op_name}: {key} must be a Python int, got {value!r}")
        out.append(int(value))
    return out


def _box_args(op_name, image, *box):
    """The image tensor, the box as ints and the image's static height and width."""
    names = ("offset_height", "offset_width", "target_height", "target_width")
    box = _ints(op_name, **dict(zip(names, box)))
    image = image_tensor(image, op_name)
    return image, box, _static_hw(image, op_name)


def _require(op_name, image, box, checks):
    """Raise TF1's message for the first failed ``(ok, message)`` check of a box."""
    for ok, message in checks:
        if not ok:
            raise ValueError(f"{op_name}: {message} (image shape {image.shape}, offsets "
                             f"{box[:2]}, target {box[2:]})")


def crop_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """The ``target_height x target_width`` window of images at the given offset.

    Example:
        >>> patch = gc.image.crop_to_bounding_box(image, 4, 4, 24, 24)
    """
    op_name = "crop_to_bounding_box"
    graph = graph_of(image)
    with graph.as_default(), graph.name_scope(op_name):
        image, (top, left, th, tw), (height, width) = _box_args(
            op_name, image, offset_height, offset_width, target_height, target_width)
        _require(op_name, image, (top, left, th, tw), (
            (left >= 0, "offset_width must be >= 0."), (top >= 0, "offset_height must be >= 0."),
            (tw > 0, "target_width must be > 0."), (th > 0, "target_height must be > 0."),
            (width >= tw + left, "width must be >= target + offset."),
            (height >= th + top, "height must be >= target + offset.")))
        lead = image.shape.rank - 3
        return slice_(image, [0] * lead + [top, left, 0], [-1] * lead + [th, tw, -1])


def pad_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """Zero-pad images to ``target_height x target_width``, placing them at the offset.

    Example:
        >>> framed = gc.image.pad_to_bounding_box(image, 2, 2, 32, 32)
    """
    op_name = "pad_to_bounding_box"
    graph = graph_of(image)
    with graph.as_default(), graph.name_scope(op_name):
        image, (top, left, th, tw), (height, width) = _box_args(
            op_name, image, offset_height, offset_width, target_height, target_width)
        bottom, right = th - top - height, tw - left - width
        _require(op_name, image, (top, left, th, tw), (
            (top >= 0, "offset_height must be >= 0"), (left >= 0, "offset_width must be >= 0"),
            (bottom >= 0, "height must be <= target - offset"),
            (right >= 0, "width must be <= target - offset")))
        lead = image.shape.rank - 3
        return pad(image, [[0, 0]] * lead + [[top, bottom], [left, right], [0, 0]])


def resize_image_with_crop_or_pad(image, target_height, target_width):
    """Center-crop and/or zero-pad images to ``target_height x target_width``.

    Example:
        >>> fixed = gc.image.resize_image_with_crop_or_pad(image, 28, 28)
    """
    op_name = "resize_image_with_crop_or_pad"
    th, tw = _ints(op_name, target_height=target_height, target_width=target_width)
    graph = graph_of(image)
    with graph.as_default(), graph.name_scope(op_name):
        image = image_tensor(image, op_name)
        if th <= 0 or tw <= 0:
            raise ValueError(f"{op_name}: target_height and target_width must be > 0, got "
                             f"{th, tw}")
        height, width = _static_hw(image, op_name)
        cropped = crop_to_bounding_box(image, max(-(th - height) // 2, 0),
                                       max(-(tw - width) // 2, 0), min(th, height),
                                       min(tw, width))
        return pad_to_bounding_box(cropped, max((th - height) // 2, 0),
                                   max((tw - width) // 2, 0), th, tw)


def central_crop(image, central_fraction):
    """The central ``central_fraction`` (in (0, 1]) of each image's height and width.

    Example:
        >>> center = gc.image.central_crop(image, 0.5)
    """
    op_name = "central_crop"
    fraction = float(central_fraction)
    if fraction <= 0.0 or fraction > 1.0:
        raise ValueError(f"{op_name}: central_fraction must be within (0, 1], got {fraction}")
    graph = graph_of(image)
    with graph.as_default(), graph.name_scope(op_name):
        image = image_tensor(image, op_name)
        if fraction == 1.0:
            return image
        height, width = _static_hw(image, op_name)
        top = int((height - height * fraction) / 2)
        left = int((width - width * fraction) / 2)
        return crop_to_bounding_box(image, top, left, height - 2 * top, width - 2 * left)


def random_crop(value, size, seed=None, name=None):
    """A ``size`` window of ``value`` at a uniformly drawn offset (TF1 ``tf.random_crop``;
    ``size`` static, one entry per dim of ``value``).

    Example:
        >>> patch = gc.random_crop(image, [24, 24, 3], seed=5)
    """
    graph = graph_of(value, size)
    with graph.as_default(), graph.name_scope(name or "random_crop"):
        value = convert_to_tensor(value, name="value")
        sizes = [int(s) for s in np.ravel(static_axis(size, "random_crop"))]
        dims = value.shape.dims
        if value.shape.rank is not None and len(sizes) != value.shape.rank:
            raise ValueError(f"random_crop: size {sizes} needs one entry per dim of value "
                             f"(shape {value.shape})")
        if dims is not None and any(d is not None and d < s for d, s in zip(dims, sizes)):
            raise ValueError(f"random_crop: Need value.shape >= size, got {value.shape} and "
                             f"{sizes}")
        dims_now = shape(value)
        checks = []
        if dims is None or None in dims:
            checks = [Assert(reduce_all(greater_equal(dims_now, sizes)),
                             ["Need value.shape >= size, got ", dims_now, sizes],
                             summarize=1000)]
        with graph.control_dependencies(checks):
            limit = add(subtract(dims_now, sizes), 1)
        draws = random_uniform([len(sizes)], maxval=np.iinfo(np.int32).max, dtype=int32,
                               seed=seed)
        offset = mod(draws, limit)
        out = value
        for axis, extent in enumerate(sizes):
            out = gather(out, add(offset[axis], range_(extent)), axis=axis)
        return out
