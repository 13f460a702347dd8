"""TF1 functions of ``tf.nn`` and ``tf.math`` that are compositions of graphc ops (no op of
their own): pooling and convolution spellings, ``relu_layer``/``xw_plus_b``,
``zero_fraction``, ``sufficient_statistics``/``normalize_moments``, and the math helpers
``scalar_mul``, ``reduce_euclidean_norm``, ``is_non_decreasing``,
``is_strictly_increasing``, ``polyval`` and ``unsorted_segment_sqrt_n``.

Example:
    >>> h = gc.nn.relu_layer(x, W, b)                 # relu(x @ W + b)
    >>> gc.math.polyval([2.0, 0.0, 1.0], 3.0)         # 2 * 3^2 + 1 = 19
"""
from __future__ import annotations

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor
from graphc.graph import get_default_graph
from graphc.nn_norm import moments
from graphc.ops.conv import avg_pool, conv2d, max_pool
from graphc.ops.conv_variants import avg_pool1d, conv1d, max_pool1d
from graphc.ops.creation import ones_like
from graphc.ops.elementwise import equal, greater, greater_equal, relu, sqrt, square
from graphc.ops.indexing import unsorted_segment_sum
from graphc.ops.linalg import matmul
from graphc.ops.nn import bias_add
from graphc.ops.reduce import reduce_all, reduce_mean, reduce_sum
from graphc.ops.select import cast, where
from graphc.ops.shape_ops import reshape, size

__all__ = ["max_pool2d", "avg_pool2d", "max_pool_v2", "avg_pool_v2", "convolution",
           "relu_layer", "xw_plus_b", "zero_fraction", "sufficient_statistics",
           "normalize_moments", "scalar_mul", "reduce_euclidean_norm", "is_non_decreasing",
           "is_strictly_increasing", "polyval", "unsorted_segment_sqrt_n"]


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):  # noqa: A002
    """``max_pool`` of a 4-D input (TF1 ``tf.nn.max_pool2d``; ints or lists for ksize and
    strides).

    Example:
        >>> y = gc.nn.max_pool2d(x, 2, 2, "VALID")
    """
    return max_pool(input, _window(ksize, 2), _window(strides, 2), padding, data_format, name)


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):  # noqa: A002
    """``avg_pool`` of a 4-D input (TF1 ``tf.nn.avg_pool2d``).

    Example:
        >>> y = gc.nn.avg_pool2d(x, 3, 1, "SAME")
    """
    return avg_pool(input, _window(ksize, 2), _window(strides, 2), padding, data_format, name)


def _window(value, spatial: int) -> list:
    """TF2-style pooling sizes (an int, ``spatial`` ints, or the full 4-D list) as TF1's
    full list for NHWC."""
    values = [value] if isinstance(value, int) else list(value)
    if len(values) == 1:
        values = values * spatial
    if len(values) == spatial:
        return [1] + values + [1]
    return values


def _by_rank(op_name, input, two_d, one_d):  # noqa: A002
    rank = convert_to_tensor(input).shape.rank
    if rank == 4:
        return two_d
    if rank == 3:
        return one_d
    raise ValueError(f"{op_name}: graphc pools and convolves inputs of rank 3 or 4 here, got "
                     f"rank {rank}")


def max_pool_v2(input, ksize, strides, padding, data_format=None, name=None):  # noqa: A002
    """Max pooling of a rank-3 or rank-4 input (TF1 ``tf.nn.max_pool_v2``).

    Example:
        >>> y = gc.nn.max_pool_v2(x, 2, 2, "SAME")
    """
    if _by_rank("max_pool_v2", input, 2, 1) == 2:
        return max_pool2d(input, ksize, strides, padding, data_format or "NHWC", name)
    return max_pool1d(input, _window(ksize, 1), _window(strides, 1), padding,
                      data_format or "NWC", name)


def avg_pool_v2(input, ksize, strides, padding, data_format=None, name=None):  # noqa: A002
    """Average pooling of a rank-3 or rank-4 input (TF1 ``tf.nn.avg_pool_v2``).

    Example:
        >>> y = gc.nn.avg_pool_v2(x, 2, 2, "SAME")
    """
    if _by_rank("avg_pool_v2", input, 2, 1) == 2:
        return avg_pool2d(input, ksize, strides, padding, data_format or "NHWC", name)
    return avg_pool1d(input, _window(ksize, 1), _window(strides, 1), padding,
                      data_format or "NWC", name)


def convolution(input, filter, padding, strides=None, dilation_rate=None,  # noqa: A002
                name=None, data_format=None, filters=None, dilations=None):
    """The convolution of a rank-3 (``conv1d``) or rank-4 (``conv2d``) input (TF1
    ``tf.nn.convolution``; strides and dilation_rate list the spatial dims).

    Example:
        >>> y = gc.nn.convolution(x, kernel, "SAME", strides=[2, 2])
    """
    kernel = filter if filter is not None else filters
    dilation_rate = dilation_rate if dilation_rate is not None else dilations
    if _by_rank("convolution", input, 2, 1) == 2:
        return conv2d(input, kernel, _window(strides or 1, 2), padding,
                      data_format=data_format or "NHWC",
                      dilations=_window(dilation_rate or 1, 2), name=name)
    stride = (strides or [1])[0] if not isinstance(strides, int) else strides
    if dilation_rate not in (None, 1, [1], (1,)):
        raise ValueError("convolution: graphc's conv1d has no dilation; use rank 4 inputs")
    return conv1d(input, kernel, stride, padding, data_format=data_format or "NWC", name=name)


def xw_plus_b(x, weights, biases, name=None):
    """``x @ weights + biases`` (TF1 ``tf.nn.xw_plus_b``).

    Example:
        >>> logits = gc.nn.xw_plus_b(h, W, b)
    """
    return bias_add(matmul(x, weights), biases, name=name or "xw_plus_b")


def relu_layer(x, weights, biases, name=None):
    """``relu(x @ weights + biases)`` (TF1 ``tf.nn.relu_layer``).

    Example:
        >>> h = gc.nn.relu_layer(x, W, b)
    """
    return relu(xw_plus_b(x, weights, biases), name=name or "relu_layer")


def zero_fraction(value, name=None):
    """The fraction of zeros in ``value`` (TF1 ``tf.nn.zero_fraction``, for activation
    sparsity summaries).

    Example:
        >>> gc.summary.scalar("sparsity", gc.nn.zero_fraction(h))
    """
    value = convert_to_tensor(value)
    zero = cast(0, value.dtype)
    return reduce_mean(cast(equal(value, zero), gdt.float32), name=name or "zero_fraction")


def sufficient_statistics(x, axes, shift=None, keep_dims=None, name=None, keepdims=None):
    """``(count, mean_ss, var_ss, shift)``: the element count over ``axes``, the sums of
    ``x - shift`` and of its squares (TF1 ``tf.nn.sufficient_statistics``).

    Example:
        >>> count, s, ss, _ = gc.nn.sufficient_statistics(x, [0])
    """
    keep = bool(keepdims if keepdims is not None else keep_dims)
    x = convert_to_tensor(x)
    with get_default_graph().name_scope(name or "sufficient_statistics"):
        count = cast(size(x), x.dtype) / cast(size(reduce_sum(x, axes, keepdims=True)),
                                             x.dtype)
        shifted = x if shift is None else x - shift
        return (count, reduce_sum(shifted, axes, keepdims=keep),
                reduce_sum(square(shifted), axes, keepdims=keep), shift)


def normalize_moments(counts, mean_ss, variance_ss, shift, name=None):
    """``(mean, variance)`` from ``sufficient_statistics``' sums (TF1
    ``tf.nn.normalize_moments``).

    Example:
        >>> mean, variance = gc.nn.normalize_moments(*gc.nn.sufficient_statistics(x, [0]))
    """
    with get_default_graph().name_scope(name or "normalize"):
        divisor = 1.0 / counts
        shifted_mean = mean_ss * divisor
        mean = shifted_mean if shift is None else shifted_mean + shift
        return mean, variance_ss * divisor - square(shifted_mean)


def scalar_mul(scalar, x, name=None):
    """``scalar * x`` for a scalar (TF1 ``tf.math.scalar_mul``).

    Example:
        >>> y = gc.math.scalar_mul(2.0, x)
    """
    scalar = convert_to_tensor(scalar)
    if scalar.shape.rank not in (None, 0):
        raise ValueError(f"scalar_mul: scalar must be a 0-D tensor, got shape {scalar.shape}")
    x = convert_to_tensor(x)
    return cast(scalar, x.dtype) * x


def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None):
    """``sqrt(sum(x^2))`` over ``axis`` (TF1 ``tf.math.reduce_euclidean_norm``).

    Example:
        >>> norms = gc.math.reduce_euclidean_norm(rows, axis=1)
    """
    return sqrt(reduce_sum(square(input_tensor), axis, keepdims=keepdims),
                name=name or "reduce_euclidean_norm")


def _ordered(x, strict: bool, name):
    x = reshape(convert_to_tensor(x), [-1])
    compare = greater if strict else greater_equal
    return reduce_all(compare(x[1:], x[:-1]), name=name)


def is_non_decreasing(x, name=None):
    """Whether the elements of ``x`` (flattened) never decrease; True when it has fewer
    than two (TF1 ``tf.math.is_non_decreasing``).

    Example:
        >>> gc.math.is_non_decreasing([1, 1, 2])   # True
    """
    return _ordered(x, False, name or "is_non_decreasing")


def is_strictly_increasing(x, name=None):
    """Whether the elements of ``x`` (flattened) strictly increase (TF1
    ``tf.math.is_strictly_increasing``).

    Example:
        >>> gc.math.is_strictly_increasing([1, 1, 2])   # False
    """
    return _ordered(x, True, name or "is_strictly_increasing")


def polyval(coeffs, x, name=None):
    """The polynomial ``coeffs[0] x^(n-1) + ... + coeffs[n-1]`` by Horner's rule (TF1
    ``tf.math.polyval``; ``coeffs`` a list of tensors or numbers).

    Example:
        >>> gc.math.polyval([2.0, 0.0, 1.0], 3.0)   # 19
    """
    x = convert_to_tensor(x)
    if not isinstance(coeffs, (list, tuple)):
        raise ValueError(f"polyval: coeffs must be a list, got {type(coeffs).__name__}")
    result = x * 0.0
    for coefficient in coeffs:
        result = result * x + coefficient
    return result


def unsorted_segment_sqrt_n(data, segment_ids, num_segments, name=None):
    """The sum of each segment divided by the square root of its size (0 for an empty
    segment) (TF1 ``tf.math.unsorted_segment_sqrt_n``).

    Example:
        >>> pooled = gc.math.unsorted_segment_sqrt_n(embeddings, ids, 10)
    """
    data = convert_to_tensor(data)
    totals = unsorted_segment_sum(data, segment_ids, num_segments)
    ids = convert_to_tensor(segment_ids)
    counts = unsorted_segment_sum(ones_like(ids, dtype=data.dtype), ids, num_segments)
    scale = where(greater(counts, 0.0), 1.0 / sqrt(counts + cast(equal(counts, 0.0),
                                                                  data.dtype)),
                  counts * 0.0)
    rank = data.shape.rank - ids.shape.rank if data.shape.rank is not None else None
    if rank:
        scale = reshape(scale, [-1] + [1] * rank)
    return totals * scale
