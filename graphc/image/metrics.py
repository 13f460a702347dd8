"""Image differences and quality measures: ``image_gradients``, ``total_variation``,
``psnr`` and ``sobel_edges`` (TF1's compositions; SSIM is in graphc.image.similarity)."""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor, graph_of
from graphc.image.adjust import convert_image_dtype
from graphc.image.transforms import image_tensor
from graphc.ops.array import concat
from graphc.ops.creation import zeros_like
from graphc.ops.elementwise import abs as abs_
from graphc.ops.conv_variants import depthwise_conv2d
from graphc.ops.padding import pad
from graphc.ops.elementwise import add, log, multiply, squared_difference, subtract
from graphc.ops.reduce import reduce_mean, reduce_sum
from graphc.ops.select import cast
from graphc.ops.shape_ops import reshape

__all__ = ["image_gradients", "total_variation", "psnr", "sobel_edges"]


def image_gradients(image):
    """``(dy, dx)``: forward differences along height and width of a 4-D batch, zero in the
    last row (column).

    Example:
        >>> dy, dx = gc.image.image_gradients(images)
    """
    graph = graph_of(image)
    with graph.as_default(), graph.name_scope("image_gradients"):
        image = convert_to_tensor(image)
        if image.shape.rank != 4:
            raise ValueError(f"image_gradients expects a 4D tensor [batch_size, h, w, d], not "
                             f"{image.shape}.")
        dy = subtract(image[:, 1:], image[:, :-1])
        dx = subtract(image[:, :, 1:], image[:, :, :-1])
        return (concat([dy, zeros_like(image[:, :1])], 1),
                concat([dx, zeros_like(image[:, :, :1])], 2))


def total_variation(images, name=None):
    """The sum of absolute differences of neighbouring pixels (one value per image of a
    batch, a scalar for one image).

    Example:
        >>> loss = gc.reduce_sum(gc.image.total_variation(images))
    """
    graph = graph_of(images)
    with graph.as_default(), graph.name_scope(name or "total_variation"):
        images = image_tensor(images, "total_variation")
        if images.shape.rank == 3:
            rows = subtract(images[1:], images[:-1])
            cols = subtract(images[:, 1:], images[:, :-1])
            axis = None
        else:
            rows = subtract(images[:, 1:], images[:, :-1])
            cols = subtract(images[:, :, 1:], images[:, :, :-1])
            axis = [1, 2, 3]
        return add(reduce_sum(abs_(rows), axis=axis), reduce_sum(abs_(cols), axis=axis))


def psnr(a, b, max_val, name=None):
    """Peak signal-to-noise ratio of images ``a`` and ``b`` in dB, per image (float32).

    Example:
        >>> quality = gc.image.psnr(restored, original, max_val=1.0)
    """
    graph = graph_of(a, b)
    with graph.as_default(), graph.name_scope(name or "PSNR"):
        a, b = convert_to_tensor(a), convert_to_tensor(b)
        if a.dtype is not b.dtype:
            raise TypeError(f"psnr: a and b must have one dtype, got {a.dtype.name} and "
                            f"{b.dtype.name}")
        peak = convert_image_dtype(cast(max_val, a.dtype), gdt.float32)
        a, b = convert_image_dtype(a, gdt.float32), convert_image_dtype(b, gdt.float32)
        mse = reduce_mean(squared_difference(a, b), axis=[-3, -2, -1])
        return subtract(multiply(log(peak), 20 / np.log(10.0)),
                        multiply(log(mse), np.float32(10 / np.log(10))))


def sobel_edges(image):
    """Sobel derivatives ``[..., channels, 2]`` (dy, dx) of a 4-D batch, REFLECT-padded.

    Example:
        >>> edges = gc.image.sobel_edges(images)   # [b, h, w, c, 2]
    """
    graph = graph_of(image)
    with graph.as_default(), graph.name_scope("sobel_edges"):
        image = convert_to_tensor(image)
        if image.shape.rank != 4 or image.shape.dims[3] is None:
            raise ValueError(f"sobel_edges: image must be 4-D [batch, h, w, d] with a known "
                             f"depth, got shape {image.shape}")
        kernels = np.array([[[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
                            [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]], np.float64)
        kernels = np.tile(np.transpose(kernels, (1, 2, 0))[:, :, None, :],
                          [1, 1, image.shape.dims[3], 1])
        padded = pad(image, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")
        edges = depthwise_conv2d(padded, kernels.astype(image.dtype.np), [1, 1, 1, 1], "VALID")
        return reshape(edges, [-1 if d is None else d for d in image.shape.dims] + [2])
