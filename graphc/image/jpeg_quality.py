"""``tf.image.adjust_jpeg_quality`` and ``random_jpeg_quality``: an image passed through a
JPEG encode and decode at a given (or random) quality, as a data augmentation.

Example:
    >>> noisy = gc.image.random_jpeg_quality(image, 60, 100, seed=3)
"""
from __future__ import annotations

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor, graph_of
from graphc.image.adjust import convert_image_dtype
from graphc.ops.common import apply_op
from graphc.ops.random import random_uniform

__all__ = ["adjust_jpeg_quality", "random_jpeg_quality"]


def adjust_jpeg_quality(image, jpeg_quality, dct_method="", name=None):
    """``image`` (uint8 or float [h, w, 1 or 3]) after JPEG encoding at ``jpeg_quality``
    (0-100, a Python int or tensor) and decoding, in its own dtype (TF1
    ``tf.image.adjust_jpeg_quality``).

    Example:
        >>> blocky = gc.image.adjust_jpeg_quality(image, 20)
    """
    graph = graph_of(image, jpeg_quality)
    with graph.as_default(), graph.atomic(), graph.name_scope(name or "adjust_jpeg_quality"):
        image = convert_to_tensor(image)
        pixels = convert_image_dtype(image, gdt.uint8, saturate=True)
        quality = convert_to_tensor(jpeg_quality, dtype=gdt.int32)
        out = apply_op("encode_decode_jpeg", [pixels, quality])
        return convert_image_dtype(out, image.dtype)


def random_jpeg_quality(image, min_jpeg_quality, max_jpeg_quality, seed=None):
    """``adjust_jpeg_quality`` at a quality drawn uniformly from [min, max) on every run
    (TF1 ``tf.image.random_jpeg_quality``).

    Example:
        >>> augmented = gc.image.random_jpeg_quality(image, 75, 95)
    """
    if not 0 <= min_jpeg_quality < max_jpeg_quality <= 100:
        raise ValueError(f"random_jpeg_quality: need 0 <= min_jpeg_quality < max_jpeg_quality "
                         f"<= 100, got {min_jpeg_quality} and {max_jpeg_quality}")
    graph = graph_of(image)
    with graph.as_default(), graph.atomic():
        quality = random_uniform([], min_jpeg_quality, max_jpeg_quality, dtype=gdt.int32,
                                 seed=seed)
        return adjust_jpeg_quality(image, quality)
