"""Pixel-value adjustments with TF1's dtype rules: ``convert_image_dtype`` (integers scale
to [0, 1] floats and back), brightness, contrast, standardization and grayscale."""
from __future__ import annotations

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor, graph_of
from graphc.image.transforms import image_tensor
from graphc.ops.control import identity
from graphc.ops.elementwise import add, floordiv, maximum, multiply, rsqrt, subtract
from graphc.ops.elementwise import divide
from graphc.ops.linalg import tensordot
from graphc.ops.math_extra import reduce_std
from graphc.ops.padding import tile
from graphc.ops.random import random_uniform
from graphc.ops.reduce import reduce_mean, reduce_prod
from graphc.ops.select import cast, saturate_cast
from graphc.ops.indexing import strided_slice
from graphc.ops.shape_ops import expand_dims, shape

__all__ = ["convert_image_dtype", "adjust_brightness", "adjust_contrast", "random_brightness",
           "random_contrast", "per_image_standardization", "rgb_to_grayscale",
           "grayscale_to_rgb"]


def convert_image_dtype(image, dtype, saturate=False, name=None):
    """Convert pixel values to ``dtype``, scaling by TF1's rules: integer images span
    ``[0, dtype.max]`` and float images ``[0, 1)``; ``saturate`` clips before casting.

    Example:
        >>> floats = gc.image.convert_image_dtype(uint8_images, gc.float32)  # x / 255
    """
    dtype = gdt.as_dtype(dtype)
    if not (dtype.is_floating or dtype.is_integer):
        raise AttributeError(f"convert_image_dtype: dtype must be either floating point or "
                             f"integer, got {dtype.name}")
    graph = graph_of(image)
    with graph.as_default():
        image = convert_to_tensor(image, name="image")
        source = image.dtype
        if not (source.is_floating or source.is_integer):
            raise TypeError(f"convert_image_dtype: image must be floating point or integer, "
                            f"got {source.name}")
        if source is dtype:
            return identity(image, name=name)
        with graph.name_scope(name or "convert_image"):
            convert = saturate_cast if saturate else cast
            if source.is_integer and dtype.is_integer:
                scale_in, scale_out = int(source.max), int(dtype.max)
                if scale_in > scale_out:  # scale down first: in.max lands below out.max + 1
                    return convert(floordiv(image, (scale_in + 1) // (scale_out + 1)), dtype)
                return multiply(convert(image, dtype), (scale_out + 1) // (scale_in + 1))
            if source.is_floating and dtype.is_floating:
                return cast(image, dtype)
            if source.is_integer:
                return multiply(cast(image, dtype), 1.0 / float(source.max))
            # + 0.5 avoids rounding problems in the cast (TF1)
            return convert(multiply(image, float(dtype.max) + 0.5), dtype)


def working_float(image):
    """TF1's working dtype: float16 and float32 images stay, others become float32."""
    if image.dtype in (gdt.float16, gdt.float32):
        return image
    return convert_image_dtype(image, gdt.float32)


def adjust_brightness(image, delta):
    """Add ``delta`` to every pixel (in TF1's float working dtype, then converted back,
    saturating).

    Example:
        >>> brighter = gc.image.adjust_brightness(image, 0.2)
    """
    graph = graph_of(image, delta)
    with graph.as_default(), graph.name_scope("adjust_brightness"):
        image = convert_to_tensor(image, name="image")
        work = working_float(image)
        adjusted = add(work, cast(delta, work.dtype))
        return convert_image_dtype(adjusted, image.dtype, saturate=True)


def adjust_contrast(images, contrast_factor):
    """Per image and channel, ``(x - mean) * contrast_factor + mean`` over height and width.

    Example:
        >>> stronger = gc.image.adjust_contrast(images, 2.0)
    """
    graph = graph_of(images, contrast_factor)
    with graph.as_default(), graph.name_scope("adjust_contrast"):
        images = image_tensor(images, "adjust_contrast")
        work = working_float(images)
        mean = reduce_mean(work, axis=[-3, -2], keepdims=True)
        factor = cast(contrast_factor, work.dtype)
        adjusted = add(multiply(subtract(work, mean), factor), mean)
        return convert_image_dtype(adjusted, images.dtype, saturate=True)


def random_brightness(image, max_delta, seed=None):
    """``adjust_brightness`` by one uniform draw from ``[-max_delta, max_delta)``.

    Example:
        >>> augmented = gc.image.random_brightness(image, 0.1, seed=2)
    """
    if max_delta < 0:
        raise ValueError(f"random_brightness: max_delta must be non-negative, got {max_delta}")
    delta = random_uniform([], -max_delta, max_delta, seed=seed)
    return adjust_brightness(image, delta)


def random_contrast(image, lower, upper, seed=None):
    """``adjust_contrast`` by one uniform draw from ``[lower, upper)``.

    Example:
        >>> augmented = gc.image.random_contrast(image, 0.5, 1.5, seed=2)
    """
    return adjust_contrast(image, random_factor("random_contrast", lower, upper, seed))


def random_factor(op_name, lower, upper, seed):
    """One uniform draw from ``[lower, upper)``, TF1's checks on the range first."""
    if upper <= lower:
        raise ValueError(f"{op_name}: upper must be > lower, got {lower, upper}")
    if lower < 0:
        raise ValueError(f"{op_name}: lower must be non-negative, got {lower}")
    return random_uniform([], lower, upper, seed=seed)


def per_image_standardization(image):
    """Each image scaled to zero mean and unit variance: ``(x - mean) / max(stddev,
    1 / sqrt(num_pixels))`` (float32, as TF1's).

    Example:
        >>> normalized = gc.image.per_image_standardization(image)
    """
    graph = graph_of(image)
    with graph.as_default(), graph.name_scope("per_image_standardization"):
        image = cast(image_tensor(image, "per_image_standardization"), gdt.float32)
        axes = [-1, -2, -3]
        num_pixels = reduce_prod(strided_slice(shape(image), [-3], [image.shape.rank]))
        mean = reduce_mean(image, axis=axes, keepdims=True)
        stddev = reduce_std(image, axis=axes, keepdims=True)
        adjusted = maximum(stddev, rsqrt(cast(num_pixels, gdt.float32)))
        return divide(subtract(image, mean), adjusted)


def rgb_to_grayscale(images, name=None):
    """Weighted sum of the RGB channels (0.2989, 0.5870, 0.1140), keeping a channel axis.

    Example:
        >>> gray = gc.image.rgb_to_grayscale(rgb)   # [..., 1]
    """
    graph = graph_of(images)
    with graph.as_default(), graph.name_scope(name or "rgb_to_grayscale"):
        images = convert_to_tensor(images, name="images")
        if images.shape.rank is not None and images.shape.dims[-1] not in (None, 3):
            raise ValueError(f"rgb_to_grayscale: the last dimension of images must be 3 "
                             f"(RGB), got shape {images.shape}")
        work = convert_image_dtype(images, gdt.float32)
        gray = expand_dims(tensordot(work, [0.2989, 0.5870, 0.1140], [[-1], [-1]]), -1)
        return convert_image_dtype(gray, images.dtype)


def grayscale_to_rgb(images, name=None):
    """Repeat the single channel three times.

    Example:
        >>> rgb = gc.image.grayscale_to_rgb(gray)
    """
    graph = graph_of(images)
    with graph.as_default(), graph.name_scope(name or "grayscale_to_rgb"):
        images = convert_to_tensor(images, name="images")
        shape_ = images.shape
        if shape_.rank is None or shape_.rank < 2 or shape_.dims[-1] not in (None, 1):
            raise ValueError(f"grayscale_to_rgb: last dimension of a grayscale image should "
                             f"be size 1, and it needs at least 2 dimensions; got {shape_}")
        return tile(images, [1] * (shape_.rank - 1) + [3])
