"""Colour-space conversions and adjustments: rgb_to_hsv and hsv_to_rgb (TF's formulas, as
compositions of elementwise ops, so they are differentiable), YIQ and YUV (TF's matrices),
adjust_saturation, adjust_hue, adjust_gamma and their random forms."""
from __future__ import annotations

from graphc.convert import convert_to_tensor, graph_of
from graphc.image.adjust import convert_image_dtype, random_factor, working_float
from graphc.image.transforms import image_tensor
from graphc.ops.array import stack, unstack
from graphc.ops.creation import zeros_like
from graphc.ops.elementwise import (abs as abs_, add, divide, equal, floor, floormod,
                                    greater, less, maximum, minimum, multiply, pow as pow_,
                                    subtract)
from graphc.ops.linalg import tensordot
from graphc.ops.random import random_uniform
from graphc.ops.select import cast, clip_by_value, where

__all__ = ["rgb_to_hsv", "hsv_to_rgb", "adjust_saturation", "adjust_hue", "adjust_gamma",
           "random_saturation", "random_hue", "rgb_to_yiq", "yiq_to_rgb", "rgb_to_yuv",
           "yuv_to_rgb"]


def _channels(images, op_name):
    images = convert_to_tensor(images, name="images")
    if images.shape.rank is None or images.shape.dims[-1] not in (None, 3):
        raise ValueError(f"{op_name}: images must have a known rank and 3 channels in the "
                         f"last dimension, got shape {images.shape}")
    if not images.dtype.is_floating:
        raise TypeError(f"{op_name}: images must be floating point (convert_image_dtype "
                        f"first), got {images.dtype.name}")
    return images, unstack(images, axis=-1)


def rgb_to_hsv(images, name=None):
    """RGB to HSV, every channel in [0, 1] (TF1 ``tf.image.rgb_to_hsv``; float images).

    Example:
        >>> hsv = gc.image.rgb_to_hsv(rgb)
    """
    graph = graph_of(images)
    with graph.as_default(), graph.name_scope(name or "rgb_to_hsv"):
        images, (r, g, b) = _channels(images, "rgb_to_hsv")
        value = maximum(maximum(r, g), b)
        spread = subtract(value, minimum(minimum(r, g), b))
        zero = zeros_like(value)
        saturation = where(greater(value, zero), divide(spread, where(
            greater(value, zero), value, zero + 1)), zero)
        safe = where(greater(spread, zero), spread, zero + 1)
        norm = divide(zero + 1, multiply(safe, 6.0))
        hue = where(equal(r, value), multiply(norm, subtract(g, b)),
                    where(equal(g, value), add(multiply(norm, subtract(b, r)), 2.0 / 6.0),
                          add(multiply(norm, subtract(r, g)), 4.0 / 6.0)))
        hue = where(greater(spread, zero), hue, zero)
        hue = where(less(hue, zero), add(hue, 1.0), hue)
        return stack([hue, saturation, value], axis=-1)


def hsv_to_rgb(images, name=None):
    """HSV to RGB (TF1 ``tf.image.hsv_to_rgb``; float images).

    Example:
        >>> rgb = gc.image.hsv_to_rgb(hsv)
    """
    graph = graph_of(images)
    with graph.as_default(), graph.name_scope(name or "hsv_to_rgb"):
        images, (h, s, v) = _channels(images, "hsv_to_rgb")
        chroma = multiply(s, v)
        low = subtract(v, chroma)
        sixths = multiply(h, 6.0)
        sector = floor(sixths)
        x = multiply(chroma, subtract(1.0, abs_(subtract(floormod(sixths, 2.0), 1.0))))
        zero = zeros_like(chroma)
        parts = [(chroma, x, zero), (x, chroma, zero), (zero, chroma, x), (zero, x, chroma),
                 (x, zero, chroma), (chroma, zero, x)]
        channels = []
        for c in range(3):
            value = zero
            for k, part in enumerate(parts):
                value = where(equal(sector, float(k)), part[c], value)
            channels.append(add(value, low))
        return stack(channels, axis=-1)


def _in_float(image, op_name, adjust):
    """Apply ``adjust`` in TF1's float working dtype and convert back, saturating."""
    graph = graph_of(image)
    with graph.as_default(), graph.name_scope(op_name):
        image = image_tensor(image, op_name, ranks=range(3, 10))
        work = working_float(image)
        return convert_image_dtype(adjust(work), image.dtype, saturate=True)


def adjust_saturation(image, saturation_factor, name=None):
    """Scale the HSV saturation by ``saturation_factor`` (clipped to [0, 1]).

    Example:
        >>> muted = gc.image.adjust_saturation(image, 0.5)
    """
    def adjust(work):
        h, s, v = unstack(rgb_to_hsv(work), axis=-1)
        s = clip_by_value(multiply(s, cast(saturation_factor, work.dtype)), 0.0, 1.0)
        return hsv_to_rgb(stack([h, s, v], axis=-1))
    return _in_float(image, name or "adjust_saturation", adjust)


def adjust_hue(image, delta, name=None):
    """Rotate the hue by ``delta`` (in [-1, 1], a fraction of the colour circle).

    Example:
        >>> shifted = gc.image.adjust_hue(image, 0.1)
    """
    def adjust(work):
        h, s, v = unstack(rgb_to_hsv(work), axis=-1)
        h = floormod(add(h, cast(delta, work.dtype)), 1.0)
        return hsv_to_rgb(stack([h, s, v], axis=-1))
    return _in_float(image, name or "adjust_hue", adjust)


def adjust_gamma(image, gamma=1, gain=1):
    """Gamma correction ``gain * image ** gamma`` (in float, converted back).

    Example:
        >>> darker = gc.image.adjust_gamma(image, gamma=2.2)
    """
    if isinstance(gamma, (int, float)) and gamma < 0:
        raise ValueError(f"adjust_gamma: Gamma should be a non-negative real number, got "
                         f"{gamma}")
    return _in_float(image, "adjust_gamma", lambda work: multiply(
        cast(gain, work.dtype), pow_(work, cast(gamma, work.dtype))))


def random_saturation(image, lower, upper, seed=None):
    """``adjust_saturation`` by one uniform draw from ``[lower, upper)``.

    Example:
        >>> augmented = gc.image.random_saturation(image, 0.5, 1.5, seed=2)
    """
    return adjust_saturation(image, random_factor("random_saturation", lower, upper, seed))


def random_hue(image, max_delta, seed=None):
    """``adjust_hue`` by one uniform draw from ``[-max_delta, max_delta)``, max_delta <= 0.5.

    Example:
        >>> augmented = gc.image.random_hue(image, 0.08, seed=2)
    """
    if max_delta > 0.5:
        raise ValueError(f"random_hue: max_delta must be <= 0.5, got {max_delta}")
    if max_delta < 0:
        raise ValueError(f"random_hue: max_delta must be non-negative, got {max_delta}")
    return adjust_hue(image, random_uniform([], -max_delta, max_delta, seed=seed))




# TF's colour-space matrices (rows: input channels, columns: output channels)
_RGB_TO_YIQ = [[0.299, 0.59590059, 0.2115], [0.587, -0.27455667, -0.52273617],
               [0.114, -0.32134392, 0.31119955]]
_YIQ_TO_RGB = [[1, 1, 1], [0.95598634, -0.27201283, -1.10674021],
               [0.6208248, -0.64720424, 1.70423049]]
_RGB_TO_YUV = [[0.299, -0.14714119, 0.61497538], [0.587, -0.28886916, -0.51496512],
               [0.114, 0.43601035, -0.10001026]]
_YUV_TO_RGB = [[1, 1, 1], [0, -0.394642334, 2.03206185], [1.13988303, -0.58062185, 0]]


def _linear_colour(images, matrix, op_name):
    graph = graph_of(images)
    with graph.as_default(), graph.name_scope(op_name):
        images, _ = _channels(images, op_name)
        kernel = convert_to_tensor(matrix, dtype=images.dtype, name="kernel")
        return tensordot(images, kernel, [[images.shape.rank - 1], [0]])


def rgb_to_yiq(images):
    """RGB to YIQ (TF's matrix).

    Example:
        >>> yiq = gc.image.rgb_to_yiq(rgb)
    """
    return _linear_colour(images, _RGB_TO_YIQ, "rgb_to_yiq")


def yiq_to_rgb(images):
    """YIQ to RGB (TF's matrix).

    Example:
        >>> rgb = gc.image.yiq_to_rgb(yiq)
    """
    return _linear_colour(images, _YIQ_TO_RGB, "yiq_to_rgb")


def rgb_to_yuv(images):
    """RGB to YUV (TF's matrix).

    Example:
        >>> yuv = gc.image.rgb_to_yuv(rgb)
    """
    return _linear_colour(images, _RGB_TO_YUV, "rgb_to_yuv")


def yuv_to_rgb(images):
    """YUV to RGB (TF's matrix).

    Example:
        >>> rgb = gc.image.yuv_to_rgb(yuv)
    """
    return _linear_colour(images, _YUV_TO_RGB, "yuv_to_rgb")
