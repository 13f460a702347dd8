"""Structural similarity: ``ssim`` and ``ssim_multiscale`` (MS-SSIM), TF1's compositions:
a Gaussian window over VALID positions, MATLAB's compensation of 1, and for MS-SSIM
2x2 average pooling between scales (odd sizes SYMMETRIC-padded first)."""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor, graph_of
from graphc.image.adjust import convert_image_dtype
from graphc.ops.array import stack
from graphc.ops.conv import avg_pool
from graphc.ops.conv_variants import depthwise_conv2d
from graphc.ops.elementwise import add, divide, multiply, pow as pow_, relu, square, subtract
from graphc.ops.padding import pad
from graphc.ops.reduce import reduce_mean, reduce_prod
from graphc.ops.select import cast
from graphc.ops.shape_ops import reshape

__all__ = ["ssim", "ssim_multiscale"]

MSSSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _gaussian(size, sigma):
    """TF's ``_fspecial_gauss``: a normalized ``size x size`` Gaussian (float32)."""
    coords = np.arange(size, dtype=np.float32) - np.float32(size - 1) / np.float32(2)
    g = np.square(coords) * (np.float32(-0.5) / np.square(np.float32(sigma)))
    g = (g[None, :] + g[:, None]).ravel()
    g = np.exp(g - g.max())
    return (g / g.sum()).astype(np.float32).reshape(size, size, 1, 1)


def _float_pair(img1, img2, max_val, op_name):
    """Both images and the peak value in float32, with TF1's shape checks (static image
    dims needed here)."""
    img1, img2 = convert_to_tensor(img1), convert_to_tensor(img2)
    shape = img1.shape
    if (shape.rank is None or shape.rank < 3 or not shape.is_compatible_with(img2.shape) or
            None in shape.dims[-3:]):
        raise ValueError(f"{op_name}: img1 and img2 must be images of one shape (at least 3 "
                         f"dims, static height, width and channels), got {img1.shape} and "
                         f"{img2.shape}")
    peak = convert_image_dtype(cast(max_val, img1.dtype), gdt.float32)
    return (convert_image_dtype(img1, gdt.float32), convert_image_dtype(img2, gdt.float32),
            peak)


def _ssim_per_channel(x, y, peak, filter_size, filter_sigma, k1, k2, op_name):
    """``(ssim, cs)`` per image and channel: luminance times contrast-structure, and the
    contrast-structure term alone, averaged over the window positions."""
    lead, (height, width, channels) = x.shape.dims[:-3], x.shape.dims[-3:]
    if min(height, width) < filter_size:
        raise ValueError(f"{op_name}: images of {height}x{width} are smaller than "
                         f"filter_size {filter_size} (shape {x.shape})")
    kernel = np.tile(_gaussian(filter_size, filter_sigma), [1, 1, channels, 1])

    def reducer(value):
        batch = reshape(value, [-1, height, width, channels])
        out = depthwise_conv2d(batch, kernel, strides=[1, 1, 1, 1], padding="VALID")
        size = [height - filter_size + 1, width - filter_size + 1, channels]
        return reshape(out, [-1 if d is None else d for d in lead] + size)

    c1, c2 = square(multiply(peak, k1)), square(multiply(peak, k2))
    mean0, mean1 = reducer(x), reducer(y)
    num0 = multiply(multiply(mean0, mean1), 2.0)
    den0 = add(square(mean0), square(mean1))
    luminance = divide(add(num0, c1), add(den0, c1))
    num1 = multiply(reducer(multiply(x, y)), 2.0)
    den1 = reducer(add(square(x), square(y)))
    structure = divide(add(subtract(num1, num0), c2), add(subtract(den1, den0), c2))
    return (reduce_mean(multiply(luminance, structure), axis=[-3, -2]),
            reduce_mean(structure, axis=[-3, -2]))


def ssim(img1, img2, max_val, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03):
    """Structural similarity of two images (batches), averaged over channels: TF's Gaussian
    window of ``filter_size`` and ``filter_sigma`` over VALID positions.

    Example:
        >>> score = gc.image.ssim(restored, original, max_val=1.0)   # 1.0 for equal images
    """
    graph = graph_of(img1, img2)
    with graph.as_default(), graph.name_scope("SSIM"):
        x, y, peak = _float_pair(img1, img2, max_val, "ssim")
        value, _ = _ssim_per_channel(x, y, peak, filter_size, filter_sigma, k1, k2, "ssim")
        return reduce_mean(value, axis=[-1])


def _downscale(image):
    """2x2 average pooling of each image, odd heights and widths SYMMETRIC-padded first."""
    lead, (height, width, channels) = image.shape.dims[:-3], image.shape.dims[-3:]
    flat = reshape(image, [-1, height, width, channels])
    if height % 2 or width % 2:
        flat = pad(flat, [[0, 0], [0, height % 2], [0, width % 2], [0, 0]], mode="SYMMETRIC")
    pooled = avg_pool(flat, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
    return reshape(pooled, [-1 if d is None else d for d in lead] +
                   [(height + 1) // 2, (width + 1) // 2, channels])


def ssim_multiscale(img1, img2, max_val, power_factors=MSSSIM_WEIGHTS, filter_size=11,
                    filter_sigma=1.5, k1=0.01, k2=0.03):
    """Multi-scale SSIM: the contrast-structure terms of the first scales and the SSIM of
    the last, weighted by ``power_factors`` in a geometric mean, averaged over channels.

    Example:
        >>> score = gc.image.ssim_multiscale(restored, original, 1.0)   # images >= 176 px
    """
    graph = graph_of(img1, img2)
    with graph.as_default(), graph.name_scope("MS-SSIM"):
        x, y, peak = _float_pair(img1, img2, max_val, "ssim_multiscale")
        terms = []
        for scale in range(len(power_factors)):
            if scale:
                x, y = _downscale(x), _downscale(y)
            value, structure = _ssim_per_channel(x, y, peak, filter_size, filter_sigma, k1,
                                                 k2, "ssim_multiscale")
            terms.append(relu(structure))
        terms[-1] = relu(value)  # the last scale contributes its full SSIM
        weights = np.asarray(power_factors, np.float32)
        return reduce_mean(reduce_prod(pow_(stack(terms, axis=-1), weights), axis=[-1]),
                           axis=[-1])
