"""3-D convolution and pooling layers over NDHWC volumes (TF1 ``tf.layers.Conv3D``,
``MaxPooling3D``, ``AveragePooling3D`` and their functional forms), built as the 2-D ones.

Example:
    >>> h = gc.layers.conv3d(volumes, 8, 3, padding="same", activation=gc.nn.relu)
    >>> h = gc.layers.max_pooling3d(h, 2, 2)
"""
from __future__ import annotations

from graphc.initializers import Zeros
from graphc.layers.convolutional import Conv2D, Conv2DTranspose, _Pooling2D
from graphc.layers.core import last_dim
from graphc.ops.conv3d import conv3d as conv3d_op
from graphc.ops.conv3d import conv3d_backprop_input
from graphc.ops.pool3d import avg_pool3d, max_pool3d

__all__ = ["Conv3D", "Conv3DTranspose", "MaxPooling3D", "AveragePooling3D", "conv3d",
           "conv3d_transpose", "max_pooling3d", "average_pooling3d"]


def triple(value, what: str, layer: str) -> tuple:
    """``3`` or ``(3, 3, 3)`` -> ``(3, 3, 3)``; anything else is a clear error."""
    values = (value,) * 3 if isinstance(value, int) else tuple(value)
    if len(values) != 3 or not all(isinstance(v, int) and v >= 1 for v in values):
        raise ValueError(f"{layer}: {what} must be a positive int or a triple of them, got "
                         f"{value!r}")
    return values


class Conv3D(Conv2D):
    """``activation(conv3d(inputs, kernel) + bias)`` on NDHWC volumes.

    Variables: ``kernel`` ``[kd, kh, kw, in_channels, filters]`` and ``bias`` ``[filters]``.

    Example:
        >>> y = gc.layers.Conv3D(16, (3, 3, 3), strides=2, padding="same")(volumes)
    """

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 data_format="channels_last", dilation_rate=(1, 1, 1), **kwargs):
        super().__init__(filters, 1, padding=padding, data_format=data_format, **kwargs)
        kind = type(self).__name__
        self.kernel_size = triple(kernel_size, "kernel_size", kind)
        self.strides = triple(strides, "strides", kind)
        self.dilation_rate = triple(dilation_rate, "dilation_rate", kind)

    def build(self, input_shape):
        channels = last_dim(self, input_shape, rank=5)
        self.kernel = self.add_weight("kernel", self.kernel_shape(channels),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.add_bias()

    def convolve(self, inputs):
        return conv3d_op(inputs, self.kernel, strides=[1, *self.strides, 1],
                         padding=self.padding, dilations=[1, *self.dilation_rate, 1])


class Conv3DTranspose(Conv3D, Conv2DTranspose):
    """The transpose of a 3-D convolution (TF1 ``tf.layers.Conv3DTranspose``): Conv3D's
    volumes and layout with Conv2DTranspose's kernel shape and output sizes.

    Variables: ``kernel`` ``[kd, kh, kw, filters, in_channels]`` and ``bias`` ``[filters]``.

    Example:
        >>> up = gc.layers.Conv3DTranspose(8, 3, strides=2, padding="same")(h)   # 2x size
    """

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, **kwargs)
        if self.dilation_rate != (1, 1, 1):
            raise ValueError("Conv3DTranspose: dilation_rate other than 1 is not supported")

    def convolve(self, inputs):
        return conv3d_backprop_input(self.output_sizes(inputs), self.kernel, inputs,
                                     strides=[1, *self.strides, 1], padding=self.padding)


class _Pooling3D(_Pooling2D):
    _window = staticmethod(triple)
    _layout = "NDHWC"


class MaxPooling3D(_Pooling3D):
    """The maximum over each ``pool_size`` window (strides default to the window).

    Example:
        >>> y = gc.layers.MaxPooling3D(2)(volumes)        # halves depth, height and width
    """

    _pool = staticmethod(max_pool3d)


class AveragePooling3D(_Pooling3D):
    """The mean over each window (``same`` windows average real elements only, as TF1).

    Example:
        >>> y = gc.layers.AveragePooling3D(2, strides=1, padding="same")(volumes)
    """

    _pool = staticmethod(avg_pool3d)


def conv3d(inputs, filters, kernel_size, strides=(1, 1, 1), padding="valid",
           data_format="channels_last", dilation_rate=(1, 1, 1), activation=None,
           use_bias=True, kernel_initializer=None, bias_initializer=Zeros(),
           kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
           kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
           reuse=None):
    """A 3-D convolution layer on NDHWC ``inputs`` (variables ``conv3d/kernel``, ``/bias``).

    Example:
        >>> h = gc.layers.conv3d(volumes, 8, 3, padding="same", activation=gc.nn.relu)
    """
    layer = Conv3D(filters, kernel_size, strides=strides, padding=padding,
                   data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                   use_bias=use_bias, kernel_initializer=kernel_initializer,
                   bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                   bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                   kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                   trainable=trainable, name=name, _scope=name, _reuse=reuse)
    return layer(inputs)


def conv3d_transpose(inputs, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                     data_format="channels_last", activation=None, use_bias=True,
                     kernel_initializer=None, bias_initializer=Zeros(), kernel_regularizer=None,
                     bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                     bias_constraint=None, trainable=True, name=None, reuse=None):
    """A transposed 3-D convolution (TF1 ``tf.layers.conv3d_transpose``; variables
    ``conv3d_transpose/kernel`` ``[kd, kh, kw, filters, in]`` and ``/bias``).

    Example:
        >>> up = gc.layers.conv3d_transpose(h, 8, 3, strides=2, padding="same")
    """
    layer = Conv3DTranspose(filters, kernel_size, strides=strides, padding=padding,
                            data_format=data_format, activation=activation, use_bias=use_bias,
                            kernel_initializer=kernel_initializer,
                            bias_initializer=bias_initializer,
                            kernel_regularizer=kernel_regularizer,
                            bias_regularizer=bias_regularizer,
                            activity_regularizer=activity_regularizer,
                            kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                            trainable=trainable, name=name, _scope=name, _reuse=reuse)
    return layer(inputs)


def max_pooling3d(inputs, pool_size, strides, padding="valid", data_format="channels_last",
                  name=None):
    """3-D max pooling (TF1 ``tf.layers.max_pooling3d``). Example:
    ``gc.layers.max_pooling3d(h, 2, 2)``."""
    return MaxPooling3D(pool_size, strides, padding, data_format, name=name, _scope=name)(inputs)


def average_pooling3d(inputs, pool_size, strides, padding="valid",
                      data_format="channels_last", name=None):
    """3-D average pooling (TF1 ``tf.layers.average_pooling3d``). Example:
    ``gc.layers.average_pooling3d(h, 2, 2)``."""
    return AveragePooling3D(pool_size, strides, padding, data_format, name=name,
                            _scope=name)(inputs)
