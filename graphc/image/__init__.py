"""``gc.image``: TF1's ``tf.image`` (``tf.compat.v1.image``) for 3-D ``[height, width,
channels]`` and batched 4-D ``[batch, height, width, channels]`` images.

Example:
    >>> small = gc.image.resize_images(images, [32, 32], method=gc.image.ResizeMethod.AREA)
    >>> flipped = gc.image.random_flip_left_right(image, seed=1)
"""
from graphc.image.adjust import (adjust_brightness, adjust_contrast, convert_image_dtype,  # noqa
                                 grayscale_to_rgb, per_image_standardization,
                                 random_brightness, random_contrast, rgb_to_grayscale)
from graphc.image.metrics import image_gradients, psnr, sobel_edges, total_variation  # noqa
from graphc.image.similarity import ssim, ssim_multiscale  # noqa: F401
from graphc.image.color import (adjust_gamma, adjust_hue, adjust_saturation, hsv_to_rgb,  # noqa
                               random_hue, random_saturation, rgb_to_hsv, rgb_to_yiq,
                               rgb_to_yuv, yiq_to_rgb, yuv_to_rgb)
from graphc.ops.patches import extract_image_patches  # noqa: F401
from graphc.ops.nms import non_max_suppression, non_max_suppression_with_scores  # noqa: F401
from graphc.ops.draw_boxes import draw_bounding_boxes  # noqa: F401
from graphc.image.crop_resize import crop_and_resize  # noqa: F401
from graphc.ops.distorted_box import sample_distorted_bounding_box  # noqa: F401
from graphc.image.resizing import (ResizeMethod, resize, resize_area, resize_bicubic,  # noqa
                                   resize_bilinear, resize_image_with_pad, resize_images,
                                   resize_nearest_neighbor)
from graphc.image.transforms import (central_crop, crop_to_bounding_box,  # noqa: F401
                                     flip_left_right, flip_up_down, pad_to_bounding_box,
                                     random_flip_left_right, random_flip_up_down,
                                     resize_image_with_crop_or_pad, rot90, transpose,
                                     transpose_image)
from graphc.image.transforms import random_crop  # noqa: F401,E402
from graphc.ops.image_codec_ops import *  # noqa: F401,F403,E402 - PNG/JPEG/GIF/BMP files
from graphc.image.jpeg_quality import adjust_jpeg_quality, random_jpeg_quality  # noqa

# TF2's names that tf.compat.v1.image has too
resize_with_crop_or_pad = resize_image_with_crop_or_pad


def extract_patches(images, sizes, strides, rates, padding, name=None):
    """TF2's name of ``extract_image_patches`` (``sizes`` for ``ksizes``).

    Example:
        >>> p = gc.image.extract_patches(x, [1, 3, 3, 1], [1, 1, 1, 1], [1, 1, 1, 1], "SAME")
    """
    return extract_image_patches(images, sizes, strides, rates, padding, name=name)
