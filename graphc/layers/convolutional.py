"""Convolution and pooling layers over NHWC images (``channels_last``, TF1's default).

Example:
    >>> h = gc.layers.Conv2D(16, 3, padding="same", activation="relu")(images)
    >>> h = gc.layers.MaxPooling2D(2)(h)
    >>> features = gc.layers.GlobalAveragePooling2D()(h)     # [batch, 16]
"""
from __future__ import annotations

from graphc.initializers import Zeros
from graphc.layers.base import Layer
from graphc.layers.core import finish, get_activation, initializer, last_dim, regularizer
from graphc.ops.array import stack
from graphc.ops.conv import avg_pool, conv2d, max_pool
from graphc.ops.conv_grads import conv2d_backprop_input
from graphc.ops.conv_variants import separable_conv2d
from graphc.ops.nn import bias_add
from graphc.ops.reduce import reduce_mean
from graphc.ops.shape_ops import shape

__all__ = ["Conv2D", "Conv2DTranspose", "SeparableConv2D", "MaxPooling2D",
           "AveragePooling2D", "GlobalAveragePooling2D", "pair", "padding_of"]


def pair(value, what: str, layer: str) -> tuple:
    """``3`` or ``(3, 3)`` -> ``(3, 3)``; anything else is a clear error."""
    values = (value, value) if isinstance(value, int) else tuple(value)
    if len(values) != 2 or not all(isinstance(v, int) and v >= 1 for v in values):
        raise ValueError(f"{layer}: {what} must be a positive int or a pair of them, got "
                         f"{value!r}")
    return values


def padding_of(padding: str, layer: str) -> str:
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"{layer}: padding must be 'valid' or 'same', got {padding!r}")
    return padding.upper()


def channels_last(data_format, layer: str) -> None:
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{layer}: data_format {data_format!r} is not supported; graphc's "
                         "convolutions take channels_last (NHWC) images")


class Conv2D(Layer):
    """``activation(conv2d(inputs, kernel) + bias)`` (TF1 ``tf.layers.Conv2D``).

    Variables: ``kernel`` ``[kh, kw, in_channels, filters]`` and ``bias`` ``[filters]``.

    Example:
        >>> y = gc.layers.Conv2D(32, (3, 3), strides=2, padding="same")(x)
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 data_format="channels_last", dilation_rate=(1, 1), activation=None,
                 use_bias=True, kernel_initializer=None, bias_initializer=Zeros(),
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
                 **kwargs):
        super().__init__(trainable=trainable, name=name, **kwargs)
        kind = type(self).__name__
        channels_last(data_format, kind)
        if not isinstance(filters, int) or filters < 1:
            raise ValueError(f"{kind}: filters must be a positive integer, got {filters!r}")
        self.filters = filters
        self.kernel_size = pair(kernel_size, "kernel_size", kind)
        self.strides = pair(strides, "strides", kind)
        self.dilation_rate = pair(dilation_rate, "dilation_rate", kind)
        self.padding = padding_of(padding, kind)
        self.activation, self.use_bias = get_activation(activation), use_bias
        self.kernel_initializer = initializer(kernel_initializer)
        self.bias_initializer = initializer(bias_initializer)
        self.kernel_regularizer = regularizer(kernel_regularizer)
        self.bias_regularizer = regularizer(bias_regularizer)
        self.activity_regularizer = regularizer(activity_regularizer)
        self.kernel_constraint, self.bias_constraint = kernel_constraint, bias_constraint

    def kernel_shape(self, channels: int) -> list:
        return [*self.kernel_size, channels, self.filters]

    def build(self, input_shape):
        channels = last_dim(self, input_shape, rank=4)
        self.kernel = self.add_weight("kernel", self.kernel_shape(channels),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.add_bias()

    def add_bias(self) -> None:
        """The ``bias`` variable ``[filters]`` (None without ``use_bias``)."""
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", [self.filters], initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    def convolve(self, inputs):
        return conv2d(inputs, self.kernel, strides=[1, *self.strides, 1], padding=self.padding,
                      dilations=[1, *self.dilation_rate, 1])

    def call(self, inputs):
        outputs = self.convolve(inputs)
        if self.bias is not None:
            outputs = bias_add(outputs, self.bias)
        return finish(self, outputs)


class Conv2DTranspose(Conv2D):
    """The transpose of a convolution (TF1 ``tf.layers.Conv2DTranspose``): upsamples by
    ``strides``; ``same`` padding gives ``size * stride``, ``valid`` ``(size - 1) * stride +
    kernel``. Computed as ``tf.nn.conv2d_transpose`` is: conv2d's input gradient.

    Variables: ``kernel`` ``[kh, kw, filters, in_channels]`` and ``bias`` ``[filters]``.

    Example:
        >>> up = gc.layers.Conv2DTranspose(16, 3, strides=2, padding="same")(h)   # 2x size
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, **kwargs)
        if self.dilation_rate != (1, 1):
            raise ValueError("Conv2DTranspose: dilation_rate other than 1 is not supported")

    def kernel_shape(self, channels: int) -> list:
        return [*self.kernel_size, self.filters, channels]

    def output_sizes(self, inputs):
        """The output shape as a tensor: each spatial size grown by its stride."""
        dims = inputs.shape.as_list()
        sizes = [shape(inputs)[0]]
        for axis, (kernel, stride) in enumerate(zip(self.kernel_size, self.strides), start=1):
            size = dims[axis] if dims[axis] is not None else shape(inputs)[axis]
            grown = size * stride
            sizes.append(grown if self.padding == "SAME" else grown + max(kernel - stride, 0))
        return stack(sizes + [self.filters])

    def convolve(self, inputs):
        return conv2d_backprop_input(self.output_sizes(inputs), self.kernel, inputs,
                                     strides=[1, *self.strides, 1], padding=self.padding)


class SeparableConv2D(Conv2D):
    """A depthwise convolution (each input channel with its own ``depth_multiplier``
    filters) followed by a 1x1 convolution mixing channels (TF1
    ``tf.layers.SeparableConv2D``, computed by ``tf.nn.separable_conv2d``).

    Variables: ``depthwise_kernel`` ``[kh, kw, in, depth_multiplier]``,
    ``pointwise_kernel`` ``[1, 1, in * depth_multiplier, filters]`` and ``bias``.

    Example:
        >>> y = gc.layers.SeparableConv2D(32, 3, padding="same", activation="relu")(x)
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 depth_multiplier=1, depthwise_initializer=None, pointwise_initializer=None,
                 depthwise_regularizer=None, pointwise_regularizer=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, **kwargs)
        if not isinstance(depth_multiplier, int) or depth_multiplier < 1:
            raise ValueError(f"SeparableConv2D: depth_multiplier must be a positive integer, "
                             f"got {depth_multiplier!r}")
        self.depth_multiplier = depth_multiplier
        self.depthwise_initializer = initializer(depthwise_initializer)
        self.pointwise_initializer = initializer(pointwise_initializer)
        self.depthwise_regularizer = regularizer(depthwise_regularizer)
        self.pointwise_regularizer = regularizer(pointwise_regularizer)

    def build(self, input_shape):
        channels = last_dim(self, input_shape, rank=4)
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", [*self.kernel_size, channels, self.depth_multiplier],
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", [1, 1, channels * self.depth_multiplier, self.filters],
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer)
        self.add_bias()

    def convolve(self, inputs):
        return separable_conv2d(inputs, self.depthwise_kernel, self.pointwise_kernel,
                                strides=[1, *self.strides, 1], padding=self.padding,
                                rate=self.dilation_rate)


class _Pooling2D(Layer):
    _pool = None
    _window = staticmethod(pair)  # int or tuple -> one entry per spatial dim
    _layout = "NHWC"

    def __init__(self, pool_size, strides=None, padding="valid", data_format="channels_last",
                 name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        kind = type(self).__name__
        channels_last(data_format, kind)
        window = type(self)._window
        self.pool_size = window(pool_size, "pool_size", kind)
        self.strides = self.pool_size if strides is None else window(strides, "strides", kind)
        self.padding = padding_of(padding, kind)

    def call(self, inputs):
        rank = len(self._layout)
        if inputs.shape.rank not in (rank, None):
            raise ValueError(f"{type(self).__name__} '{self.name}': inputs need rank {rank} "
                             f"({self._layout}), got shape {inputs.shape} of '{inputs.name}'")
        return type(self)._pool(inputs, [1, *self.pool_size, 1], [1, *self.strides, 1],
                                self.padding)


class MaxPooling2D(_Pooling2D):
    """The maximum over each ``pool_size`` window (strides default to the window).

    Example:
        >>> y = gc.layers.MaxPooling2D(2)(x)            # halves height and width
    """

    _pool = staticmethod(max_pool)


class AveragePooling2D(_Pooling2D):
    """The mean over each window (``same`` windows average real elements only, as TF1).

    Example:
        >>> y = gc.layers.AveragePooling2D(3, strides=1, padding="same")(x)
    """

    _pool = staticmethod(avg_pool)


class GlobalAveragePooling2D(Layer):
    """The mean over height and width: ``[batch, h, w, c] -> [batch, c]``.

    Example:
        >>> features = gc.layers.GlobalAveragePooling2D()(h)
    """

    def __init__(self, data_format="channels_last", name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        channels_last(data_format, type(self).__name__)

    def call(self, inputs):
        if inputs.shape.rank not in (4, None):
            raise ValueError(f"GlobalAveragePooling2D '{self.name}': inputs need rank 4, got "
                             f"shape {inputs.shape} of '{inputs.name}'")
        return reduce_mean(inputs, axis=[1, 2])
