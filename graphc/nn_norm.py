"""TF1's normalization functions, composed of registry ops as TF1's Python code composes
them (so their gradients, of any order, come from those ops): ``moments``,
``weighted_moments``, ``batch_normalization``, ``fused_batch_norm``, ``l2_normalize`` and
``local_response_normalization`` (``lrn``)."""
from __future__ import annotations

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor, graph_of
from graphc.ops.common import normalize_axes, static_axis
from graphc.ops.control import stop_gradient
from graphc.ops.creation import zeros, zeros_like
from graphc.ops.elementwise import (add, divide, maximum, multiply, pow, reciprocal, rsqrt,
                                    square, squared_difference)
from graphc.ops.normalization import depth_window_sum
from graphc.ops.reduce import reduce_mean, reduce_sum
from graphc.ops.select import cast
from graphc.ops.shape_ops import reshape, shape, size, squeeze

__all__ = ["moments", "weighted_moments", "batch_normalization", "fused_batch_norm", "l2_normalize",
           "local_response_normalization", "lrn"]

# TF's fused kernels refuse smaller epsilons (cuDNN's CUDNN_BN_MIN_EPSILON) and raise them
FUSED_MIN_EPSILON = 1.001e-5


def _axes(x, axes, op_name: str) -> list:
    found = static_axis(axes, op_name)
    found = [found] if isinstance(found, int) else list(found)
    return list(normalize_axes(found, x.shape.rank, op_name))


def moments(x, axes, shift=None, name=None, keep_dims=None, keepdims=None):
    """Mean and variance of ``x`` over ``axes`` (TF1 ``tf.nn.moments``); ``shift`` is ignored
    as in TF1, float16 is computed in float32.

    Args:
        x: a floating tensor.
        axes: the axes to reduce (ints, negative from the end).
        keep_dims / keepdims: keep the reduced axes as size 1.

    Returns:
        ``(mean, variance)``, the variance biased (divided by the count).

    Example:
        >>> mean, variance = gc.nn.moments(images, axes=[0, 1, 2])   # per channel
    """
    keep = bool(keepdims if keepdims is not None else keep_dims)
    graph = graph_of(x)
    with graph.as_default(), graph.atomic(), graph.name_scope(name or "moments"):
        x = convert_to_tensor(x, name="x")
        axes = _axes(x, axes, "moments")
        wide = cast(x, gdt.float32) if x.dtype == gdt.float16 else x
        mean = reduce_mean(wide, axes, keepdims=True, name="mean")
        # the mean's gradient path adds nothing: sum(x - mean) is 0, so TF1 stops it here
        variance = reduce_mean(squared_difference(wide, stop_gradient(mean)), axes,
                               keepdims=True, name="variance")
        if not keep:
            mean, variance = squeeze(mean, axes), squeeze(variance, axes)
        if x.dtype == gdt.float16:
            return cast(mean, gdt.float16), cast(variance, gdt.float16)
        return mean, variance


def weighted_moments(x, axes, frequency_weights, name=None, keep_dims=None, keepdims=None):
    """Mean and variance of ``x`` over ``axes`` with each element counted
    ``frequency_weights`` times (broadcast against ``x``; TF1 ``tf.nn.weighted_moments``).

    Example:
        >>> mean, variance = gc.nn.weighted_moments(x, [0], frequency_weights=counts)
    """
    keep = bool(keepdims if keepdims is not None else keep_dims)
    graph = graph_of(x, frequency_weights)
    with graph.as_default(), graph.atomic(), graph.name_scope(name or "weighted_moments"):
        x = convert_to_tensor(x, name="x")
        axes = _axes(x, axes, "weighted_moments")
        wide = cast(x, gdt.float32) if x.dtype == gdt.float16 else x
        weights = convert_to_tensor(frequency_weights, name="frequency_weights",
                                    dtype_hint=wide.dtype)
        weights = cast(weights, wide.dtype) if weights.dtype != wide.dtype else weights
        broadcast_weights = weights + zeros_like(wide)
        divisor = reciprocal(reduce_sum(broadcast_weights, axes, keepdims=True))
        mean = reduce_sum(weights * wide, axes, keepdims=True) * divisor
        variance = reduce_sum(broadcast_weights * squared_difference(wide, stop_gradient(mean)),
                              axes, keepdims=True) * divisor
        if not keep:
            mean, variance = squeeze(mean, axes), squeeze(variance, axes)
        if x.dtype == gdt.float16:
            return cast(mean, gdt.float16), cast(variance, gdt.float16)
        return mean, variance


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """``scale * (x - mean) / sqrt(variance + variance_epsilon) + offset`` (TF1
    ``tf.nn.batch_normalization``); ``offset`` and ``scale`` may be None.

    Example:
        >>> mean, var = gc.nn.moments(h, [0])
        >>> h = gc.nn.batch_normalization(h, mean, var, beta, gamma, 1e-3)
    """
    graph = graph_of(x, mean, variance, offset, scale)
    with graph.as_default(), graph.atomic(), graph.name_scope(name or "batchnorm"):
        x = convert_to_tensor(x, name="x")
        mean, variance, offset, scale = (
            None if v is None else convert_to_tensor(v, name=label, dtype_hint=x.dtype)
            for v, label in [(mean, "mean"), (variance, "variance"), (offset, "offset"),
                             (scale, "scale")])
        inv = rsqrt(add(variance, variance_epsilon))
        if scale is not None:
            inv = multiply(inv, scale)
        shifted = -mean * inv if offset is None else offset - mean * inv
        return add(multiply(x, cast(inv, x.dtype)), cast(shifted, x.dtype))


def fused_batch_norm(x, scale, offset=None, mean=None, variance=None, epsilon=0.001,
                     data_format="NHWC", is_training=True, name=None,
                     exponential_avg_factor=1.0):
    """Batch normalization of a 4-D ``x`` over all but its channel axis (TF1
    ``tf.nn.fused_batch_norm``).

    In training the batch's statistics normalize ``x`` and the variance returned is
    Bessel-corrected (``n / (n - 1)``, what TF1's kernel hands its moving averages); in
    inference the given ``mean`` and ``variance`` are used and returned. ``epsilon`` is
    raised to 1.001e-5 as TF's kernel does; float16 ``x`` is computed in float32.

    Returns:
        ``(y, batch_mean, batch_variance)``.

    Example:
        >>> y, mean, var = gc.nn.fused_batch_norm(x, gamma, beta, is_training=True)
    """
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError(f"fused_batch_norm: data_format must be 'NHWC' or 'NCHW', got "
                         f"{data_format!r}")
    if not is_training and (mean is None or variance is None):
        raise ValueError("fused_batch_norm: mean and variance are required for inference "
                         "(is_training=False)")
    if exponential_avg_factor != 1.0:
        raise ValueError("fused_batch_norm: exponential_avg_factor other than 1.0 is not "
                         "supported; keep moving averages with tf.train."
                         "ExponentialMovingAverage")
    graph = graph_of(x, scale, offset, mean, variance)
    with graph.as_default(), graph.atomic(), graph.name_scope(name or "FusedBatchNorm"):
        x = convert_to_tensor(x, name="x")
        if x.shape.rank not in (None, 4):
            raise ValueError(f"fused_batch_norm: x must be 4-D ({data_format}), got shape "
                             f"{x.shape} for '{x.name}'")
        wide = cast(x, gdt.float32) if x.dtype == gdt.float16 else x
        scale = convert_to_tensor(scale, name="scale", dtype_hint=wide.dtype)
        offset = (zeros(shape(scale), wide.dtype) if offset is None else
                  convert_to_tensor(offset, name="offset", dtype_hint=wide.dtype))
        axes = [0, 1, 2] if data_format == "NHWC" else [0, 2, 3]
        if is_training:
            mean, variance = moments(wide, axes)
        else:
            mean = convert_to_tensor(mean, name="mean", dtype_hint=wide.dtype)
            variance = convert_to_tensor(variance, name="variance", dtype_hint=wide.dtype)

        def per_channel(v):  # [C] against NCHW's channel axis
            return v if data_format == "NHWC" else reshape(v, [-1, 1, 1])
        y = batch_normalization(wide, per_channel(mean), per_channel(variance),
                                per_channel(offset), per_channel(scale),
                                max(float(epsilon), FUSED_MIN_EPSILON))
        y = cast(y, x.dtype) if x.dtype != wide.dtype else y
        if is_training:
            channels = shape(wide)[3 if data_format == "NHWC" else 1]
            count = cast(size(wide) // channels, wide.dtype)  # values per channel
            variance = variance * (count / maximum(count - 1.0, 1.0))
        return y, mean, variance


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """``x / sqrt(max(sum(x ** 2, axis), epsilon))`` (TF1 ``tf.nn.l2_normalize``); ``dim``
    is TF1's older name of ``axis``; None normalizes over every axis.

    Example:
        >>> unit = gc.nn.l2_normalize(embeddings, axis=1)
    """
    axis = dim if axis is None else axis
    graph = graph_of(x)
    with graph.as_default(), graph.atomic(), graph.name_scope(name or "l2_normalize") as scope:
        x = convert_to_tensor(x, name="x")
        square_sum = reduce_sum(square(x), None if axis is None else _axes(x, axis,
                                                                          "l2_normalize"),
                                keepdims=True)
        inv_norm = rsqrt(maximum(square_sum, epsilon))
        return multiply(x, inv_norm, name=scope)


def local_response_normalization(input, depth_radius=5, bias=1.0, alpha=1.0,  # noqa: A002
                                 beta=0.5, name=None):
    """``input / (bias + alpha * sqr_sum) ** beta`` with ``sqr_sum`` the sum of squares
    over the ``2 * depth_radius + 1`` channels around each (TF1 ``tf.nn.lrn``; 4-D NHWC).

    Example:
        >>> norm1 = gc.nn.lrn(pool1, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75)
    """
    graph = graph_of(input)
    with graph.as_default(), graph.atomic(), graph.name_scope(name or "LRN") as scope:
        x = convert_to_tensor(input, name="input")
        if x.shape.rank not in (None, 4):
            raise ValueError(f"local_response_normalization: input must be 4-D (NHWC), got "
                             f"shape {x.shape} for '{x.name}'")
        sqr_sum = depth_window_sum(square(x), int(depth_radius))
        return divide(x, pow(bias + alpha * sqr_sum, beta), name=scope)


lrn = local_response_normalization
