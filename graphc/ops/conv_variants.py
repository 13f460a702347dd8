"""TF1's convolution and pooling variants, composed of conv2d, max_pool, avg_pool,
conv2d_backprop_input and depthwise_conv2d_native as TF1's Python code composes them, so
every gradient comes from those ops: conv1d and the 1-D pools (a height-1 image),
conv2d_transpose (the input gradient of conv2d with the roles swapped), atrous_conv2d (a
dilated conv2d), depthwise_conv2d (on ``depthwise_conv2d_native``), separable_conv2d
(depthwise, then 1x1) and ``tf.nn.pool``. NCHW / NCW inputs are transposed to channels-last and back."""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor, graph_of
from graphc.ops.conv import avg_pool, conv2d, max_pool
from graphc.ops.conv_grads import conv2d_backprop_input
from graphc.ops.depthwise import depthwise_conv2d_native, spatial_pair
from graphc.ops.indexing import gather
from graphc.ops.shape_ops import expand_dims, squeeze, transpose
from graphc.static_values import constant_value_as_shape

__all__ = ["conv1d", "conv2d_transpose", "atrous_conv2d", "depthwise_conv2d",
           "separable_conv2d", "max_pool1d", "avg_pool1d", "pool"]

_TO_LAST = {"NCHW": (0, 2, 3, 1), "NCW": (0, 2, 1)}  # channels-first -> channels-last
_TO_FIRST = {"NCHW": (0, 3, 1, 2), "NCW": (0, 2, 1)}


def _formats(op_name, data_format, allowed):
    data_format = allowed[0] if data_format is None else data_format
    if data_format not in allowed:
        raise ValueError(f"{op_name}: data_format must be one of {list(allowed)}, got "
                         f"{data_format!r}")
    return data_format


def _channels_last(x, data_format):
    return transpose(x, _TO_LAST[data_format]) if data_format in _TO_LAST else x


def _channels_back(y, data_format):
    return transpose(y, _TO_FIRST[data_format]) if data_format in _TO_FIRST else y


def _one_dim(value, what: str, op_name: str) -> int:
    """TF's 1-D sizes: an int, [w] or [1, w, 1]."""
    if isinstance(value, (int, np.integer)):
        return int(value)
    values = [int(v) for v in value]
    if len(values) == 1:
        return values[0]
    if len(values) == 3 and values[0] == values[2] == 1:
        return values[1]
    raise ValueError(f"{op_name}: {what} must be an int, [w] or [1, w, 1], got {value}")


def _rate(rate, op_name: str) -> tuple:
    return (1, 1) if rate is None else spatial_pair(rate, "rate", op_name)


def conv1d(value=None, filters=None, stride=None, padding=None, use_cudnn_on_gpu=None,
           data_format=None, name=None, input=None, dilations=None):  # noqa: A002
    """1-D convolution of a ``[batch, width, in_channels]`` tensor with a ``[width,
    in_channels, out_channels]`` filter (TF1 ``tf.nn.conv1d``: a conv2d of height 1).

    Example:
        >>> y = gc.nn.conv1d(signal, kernel, stride=1, padding="SAME")
    """
    value = input if value is None else value
    if value is None or filters is None or stride is None or padding is None:
        raise ValueError("conv1d: value (or input), filters, stride and padding are required")
    data_format = _formats("conv1d", data_format, ("NWC", "NCW"))
    stride = _one_dim(stride, "stride", "conv1d")
    dilation = 1 if dilations is None else _one_dim(dilations, "dilations", "conv1d")
    graph = graph_of(value, filters)
    with graph.as_default(), graph.atomic(), graph.name_scope(name or "conv1d") as scope:
        x = expand_dims(_channels_last(convert_to_tensor(value, name="value"), data_format), 1)
        w = expand_dims(convert_to_tensor(filters, name="filters"), 0)
        y = conv2d(x, w, strides=[1, stride], padding=padding, dilations=[1, dilation])
        return _channels_back(squeeze(y, [1], name=None if data_format == "NCW" else scope),
                              data_format)


def _pool1d(op_name, pool_2d, input, ksize, strides, padding, data_format, name):  # noqa: A002
    data_format = _formats(op_name, data_format, ("NWC", "NCW"))
    ksize, strides = _one_dim(ksize, "ksize", op_name), _one_dim(strides, "strides", op_name)
    graph = graph_of(input)
    with graph.as_default(), graph.atomic(), graph.name_scope(name or op_name):
        x = expand_dims(_channels_last(convert_to_tensor(input, name="input"), data_format), 1)
        y = pool_2d(x, ksize=[1, ksize], strides=[1, strides], padding=padding)
        return _channels_back(squeeze(y, [1]), data_format)


def max_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):  # noqa: A002
    """Max pooling over the width of ``[batch, width, channels]`` (``tf.nn.max_pool1d``).

    Example:
        >>> p = gc.nn.max_pool1d(signal, ksize=2, strides=2, padding="VALID")
    """
    return _pool1d("max_pool1d", max_pool, input, ksize, strides, padding, data_format, name)


def avg_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):  # noqa: A002
    """Average pooling over the width of ``[batch, width, channels]``; SAME windows average
    their real elements (``tf.nn.avg_pool1d``).

    Example:
        >>> p = gc.nn.avg_pool1d(signal, ksize=3, strides=1, padding="SAME")
    """
    return _pool1d("avg_pool1d", avg_pool, input, ksize, strides, padding, data_format, name)


def conv2d_transpose(value=None, filter=None, output_shape=None, strides=None,  # noqa: A002
                     padding="SAME", data_format="NHWC", name=None, input=None, filters=None,
                     dilations=None):
    """The transpose (adjoint) of conv2d: ``value`` of conv2d's output shape back to
    ``output_shape``, with a ``[height, width, output_channels, in_channels]`` filter (TF1
    ``tf.nn.conv2d_transpose``; the same op as conv2d's input gradient).

    Example:
        >>> up = gc.nn.conv2d_transpose(h, W, [batch, 14, 14, 32], [1, 2, 2, 1], "SAME")
    """
    value = input if value is None else value
    filter = filters if filter is None else filter
    if value is None or filter is None or output_shape is None or strides is None:
        raise ValueError("conv2d_transpose: value, filter, output_shape and strides are "
                         "required")
    data_format = _formats("conv2d_transpose", data_format, ("NHWC", "NCHW"))
    graph = graph_of(value, filter, output_shape)
    with graph.as_default(), graph.atomic(), \
            graph.name_scope(name or "conv2d_transpose") as scope:
        value = _channels_last(convert_to_tensor(value, name="value"), data_format)
        filter = convert_to_tensor(filter, name="filter")
        sizes = convert_to_tensor(output_shape, name="output_shape", dtype_hint=gdt.int32)
        if data_format == "NCHW":  # output_shape is NCHW too
            sizes = gather(sizes, list(_TO_LAST["NCHW"]))
        known = constant_value_as_shape(sizes)
        if (known.rank == 4 and known.dims[3] is not None and filter.shape.rank == 4
                and filter.shape.dims[2] is not None and known.dims[3] != filter.shape.dims[2]):
            raise ValueError(f"conv2d_transpose: output_shape {known} has {known.dims[3]} "
                             f"channels but filter {filter.shape} makes {filter.shape.dims[2]} "
                             f"(its third dimension)")
        y = conv2d_backprop_input(sizes, filter, value, strides, padding,
                                  dilations=(1, 1, 1, 1) if dilations is None else dilations,
                                  name=None if data_format == "NCHW" else scope)
        return _channels_back(y, data_format)


def atrous_conv2d(value, filters, rate, padding, name=None):
    """Dilated ("atrous") 2-D convolution, stride 1 (TF1 ``tf.nn.atrous_conv2d``).

    Example:
        >>> y = gc.nn.atrous_conv2d(x, W, rate=2, padding="SAME")
    """
    rate = _rate(rate, "atrous_conv2d")
    return conv2d(value, filters, strides=[1, 1], padding=padding, dilations=rate,
                  name=name or "atrous_conv2d")


def _strides_for_rate(strides, rate, op_name):
    """(h, w) strides, refused above 1 together with a rate above 1 (TF1's rule)."""
    spatial = spatial_pair(strides, "strides", op_name)
    if max(rate) > 1 and max(spatial) > 1:
        raise ValueError(f"{op_name}: strides {list(spatial)} > 1 cannot be combined with "
                         f"rate {list(rate)} > 1 (TF1)")
    return spatial


def depthwise_conv2d(input, filter, strides, padding, rate=None, name=None,  # noqa: A002
                     data_format=None, dilations=None):
    """Each input channel convolved with its own ``channel_multiplier`` filters (TF1
    ``tf.nn.depthwise_conv2d``): filter ``[h, w, in_channels, channel_multiplier]``, output
    channel ``k * channel_multiplier + m`` from input channel ``k``.

    Example:
        >>> y = gc.nn.depthwise_conv2d(x, W_dw, strides=[1, 1, 1, 1], padding="SAME")
    """
    data_format = _formats("depthwise_conv2d", data_format, ("NHWC", "NCHW"))
    rate = _rate(rate if rate is not None else dilations, "depthwise_conv2d")
    strides = _strides_for_rate(strides, rate, "depthwise_conv2d")
    graph = graph_of(input, filter)
    with graph.as_default(), graph.atomic():
        x = _channels_last(convert_to_tensor(input, name="input"), data_format)
        y = depthwise_conv2d_native(x, filter, strides, padding, dilations=rate,
                                    name=name or "depthwise")
        return _channels_back(y, data_format)


def separable_conv2d(input, depthwise_filter, pointwise_filter, strides, padding,  # noqa: A002
                     rate=None, name=None, data_format=None, dilations=None):
    """A depthwise convolution followed by a 1x1 convolution mixing channels (TF1
    ``tf.nn.separable_conv2d``): ``pointwise_filter`` is ``[1, 1, in_channels *
    channel_multiplier, out_channels]``.

    Example:
        >>> y = gc.nn.separable_conv2d(x, W_dw, W_pw, [1, 1, 1, 1], "SAME")
    """
    graph = graph_of(input, depthwise_filter, pointwise_filter)
    with graph.as_default(), graph.atomic(), graph.name_scope(name or "separable_conv2d"):
        pointwise_filter = convert_to_tensor(pointwise_filter, name="pointwise_filter")
        if pointwise_filter.shape.rank is not None and (
                pointwise_filter.shape.rank != 4 or pointwise_filter.shape.dims[:2] != (1, 1)):
            raise ValueError(f"separable_conv2d: pointwise_filter must be [1, 1, in, out], got "
                             f"shape {pointwise_filter.shape}")
        data_format = _formats("separable_conv2d", data_format, ("NHWC", "NCHW"))
        x = _channels_last(convert_to_tensor(input, name="input"), data_format)
        depthwise = depthwise_conv2d(x, depthwise_filter, strides, padding, rate=rate,
                                     dilations=dilations)
        return _channels_back(conv2d(depthwise, pointwise_filter, strides=[1, 1],
                                     padding="VALID"), data_format)


def pool(input, window_shape, pooling_type, padding, dilation_rate=None, strides=None,  # noqa
         name=None, data_format=None):
    """TF1's ``tf.nn.pool`` over 1 or 2 spatial dims: ``pooling_type`` "MAX" or "AVG".

    Example:
        >>> p = gc.nn.pool(x, window_shape=[2, 2], pooling_type="MAX", padding="VALID",
        ...                strides=[2, 2])
    """
    window = [int(w) for w in window_shape]
    steps = [1] * len(window) if strides is None else [int(s) for s in strides]
    if len(window) not in (1, 2) or len(steps) != len(window):
        raise ValueError(f"pool: window_shape {window_shape} and strides {strides} must both "
                         "have 1 or 2 spatial dims")
    if dilation_rate is not None and any(int(d) != 1 for d in dilation_rate):
        raise ValueError(f"pool: dilation_rate {list(dilation_rate)} is not supported; only 1")
    kinds = {"MAX": (max_pool1d, max_pool), "AVG": (avg_pool1d, avg_pool)}
    if pooling_type not in kinds:
        raise ValueError(f"pool: pooling_type must be 'MAX' or 'AVG', got {pooling_type!r}")
    if len(window) == 1:
        return kinds[pooling_type][0](input, window[0], steps[0], padding,
                                      data_format=data_format or "NWC", name=name)
    data_format = _formats("pool", data_format, ("NHWC", "NCHW"))
    graph = graph_of(input)
    with graph.as_default(), graph.atomic(), graph.name_scope(name or pooling_type.lower()):
        x = _channels_last(convert_to_tensor(input, name="input"), data_format)
        return _channels_back(kinds[pooling_type][1](x, window, steps, padding), data_format)
