"""TF1's functional layers (``tf.layers.dense(inputs, units, ...)``): each makes a layer
object of the class and calls it once.

As in TF1, ``name`` is the exact variable scope (a second ``dense(x, 3, name="fc")`` fails
because ``fc/kernel`` exists, unless ``reuse=True`` or ``gc.AUTO_REUSE``), while a call
without a name takes the next free default (``dense``, ``dense_1``...).

Example:
    >>> h = gc.layers.dense(x, 64, activation=gc.nn.relu, name="fc1")
    >>> h = gc.layers.dropout(h, rate=0.3, training=is_training)
    >>> logits = gc.layers.dense(h, 10, name="logits")
    >>> logits_b = gc.layers.dense(h_b, 10, name="logits", reuse=True)   # shared
"""
from __future__ import annotations

from graphc.initializers import Ones, Zeros
from graphc.layers.convolutional import (AveragePooling2D, Conv2D, Conv2DTranspose,
                                         MaxPooling2D, SeparableConv2D)
from graphc.layers.core import Dense, Dropout, Flatten
from graphc.layers.normalization import BatchNormalization

__all__ = ["dense", "conv2d", "conv2d_transpose", "separable_conv2d", "max_pooling2d",
           "average_pooling2d", "batch_normalization", "dropout", "flatten"]


def dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None,
          bias_initializer=Zeros(), kernel_regularizer=None, bias_regularizer=None,
          activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
          trainable=True, name=None, reuse=None):
    """A fully connected layer on ``inputs`` (variables ``<name>/kernel``, ``<name>/bias``).

    Example:
        >>> logits = gc.layers.dense(h, 10, name="logits")
    """
    layer = Dense(units, activation=activation, use_bias=use_bias,
                  kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                  kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                  activity_regularizer=activity_regularizer,
                  kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                  trainable=trainable, name=name, _scope=name, _reuse=reuse)
    return layer(inputs)


def conv2d(inputs, filters, kernel_size, strides=(1, 1), padding="valid",
           data_format="channels_last", dilation_rate=(1, 1), activation=None, use_bias=True,
           kernel_initializer=None, bias_initializer=Zeros(), kernel_regularizer=None,
           bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
           bias_constraint=None, trainable=True, name=None, reuse=None):
    """A 2-D convolution layer on NHWC ``inputs`` (variables ``conv2d/kernel``, ``/bias``).

    Example:
        >>> h = gc.layers.conv2d(images, 32, 3, padding="same", activation=gc.nn.relu)
    """
    layer = Conv2D(filters, kernel_size, strides=strides, padding=padding,
                   data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                   use_bias=use_bias, kernel_initializer=kernel_initializer,
                   bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                   bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                   kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                   trainable=trainable, name=name, _scope=name, _reuse=reuse)
    return layer(inputs)


def conv2d_transpose(inputs, filters, kernel_size, strides=(1, 1), padding="valid",
                     data_format="channels_last", activation=None, use_bias=True,
                     kernel_initializer=None, bias_initializer=Zeros(), kernel_regularizer=None,
                     bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                     bias_constraint=None, trainable=True, name=None, reuse=None):
    """A transposed convolution (TF1 ``tf.layers.conv2d_transpose``, DCGAN's upsampling;
    variables ``conv2d_transpose/kernel`` ``[kh, kw, filters, in]`` and ``/bias``).

    Example:
        >>> up = gc.layers.conv2d_transpose(h, 64, 5, strides=2, padding="same")
    """
    layer = Conv2DTranspose(filters, kernel_size, strides=strides, padding=padding,
                            data_format=data_format, activation=activation, use_bias=use_bias,
                            kernel_initializer=kernel_initializer,
                            bias_initializer=bias_initializer,
                            kernel_regularizer=kernel_regularizer,
                            bias_regularizer=bias_regularizer,
                            activity_regularizer=activity_regularizer,
                            kernel_constraint=kernel_constraint,
                            bias_constraint=bias_constraint, trainable=trainable, name=name,
                            _scope=name, _reuse=reuse)
    return layer(inputs)


def separable_conv2d(inputs, filters, kernel_size, strides=(1, 1), padding="valid",
                     data_format="channels_last", dilation_rate=(1, 1), depth_multiplier=1,
                     activation=None, use_bias=True, depthwise_initializer=None,
                     pointwise_initializer=None, bias_initializer=Zeros(),
                     depthwise_regularizer=None, pointwise_regularizer=None,
                     bias_regularizer=None, activity_regularizer=None, trainable=True,
                     name=None, reuse=None):
    """A depthwise-separable convolution (TF1 ``tf.layers.separable_conv2d``; variables
    ``separable_conv2d/depthwise_kernel``, ``/pointwise_kernel``, ``/bias``).

    Example:
        >>> h = gc.layers.separable_conv2d(x, 64, 3, padding="same", depth_multiplier=2)
    """
    layer = SeparableConv2D(filters, kernel_size, strides=strides, padding=padding,
                            depth_multiplier=depth_multiplier, data_format=data_format,
                            dilation_rate=dilation_rate, activation=activation,
                            use_bias=use_bias, depthwise_initializer=depthwise_initializer,
                            pointwise_initializer=pointwise_initializer,
                            bias_initializer=bias_initializer,
                            depthwise_regularizer=depthwise_regularizer,
                            pointwise_regularizer=pointwise_regularizer,
                            bias_regularizer=bias_regularizer,
                            activity_regularizer=activity_regularizer, trainable=trainable,
                            name=name, _scope=name, _reuse=reuse)
    return layer(inputs)


def max_pooling2d(inputs, pool_size, strides, padding="valid", data_format="channels_last",
                  name=None):
    """Max pooling (TF1 ``tf.layers.max_pooling2d``). Example:
    ``gc.layers.max_pooling2d(h, 2, 2)``."""
    return MaxPooling2D(pool_size, strides, padding, data_format, name=name, _scope=name)(inputs)


def average_pooling2d(inputs, pool_size, strides, padding="valid",
                      data_format="channels_last", name=None):
    """Average pooling (TF1 ``tf.layers.average_pooling2d``). Example:
    ``gc.layers.average_pooling2d(h, 2, 2)``."""
    return AveragePooling2D(pool_size, strides, padding, data_format, name=name,
                            _scope=name)(inputs)


def batch_normalization(inputs, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                        beta_initializer=Zeros(), gamma_initializer=Ones(),
                        moving_mean_initializer=Zeros(), moving_variance_initializer=Ones(),
                        beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                        gamma_constraint=None, training=False, trainable=True, name=None,
                        reuse=None, renorm=False, renorm_clipping=None, renorm_momentum=0.99,
                        fused=None, virtual_batch_size=None, adjustment=None):
    """Batch normalization (TF1 ``tf.layers.batch_normalization``; ``training=False`` by
    default, as TF1). Its moving-average updates go to ``UPDATE_OPS``. Renormalization,
    virtual batches and ``adjustment`` are not supported; ``fused`` is accepted and ignored.

    Example:
        >>> h = gc.layers.batch_normalization(h, training=is_training)
    """
    if renorm or virtual_batch_size is not None or adjustment is not None:
        raise ValueError("batch_normalization: renorm, virtual_batch_size and adjustment are "
                         "not supported")
    layer = BatchNormalization(axis=axis, momentum=momentum, epsilon=epsilon, center=center,
                               scale=scale, beta_initializer=beta_initializer,
                               gamma_initializer=gamma_initializer,
                               moving_mean_initializer=moving_mean_initializer,
                               moving_variance_initializer=moving_variance_initializer,
                               beta_regularizer=beta_regularizer,
                               gamma_regularizer=gamma_regularizer, trainable=trainable,
                               name=name, _scope=name, _reuse=reuse)
    return layer(inputs, training=training)


def dropout(inputs, rate=0.5, noise_shape=None, seed=None, training=False, name=None):
    """Dropout, only when ``training`` (TF1's default False). Example:
    ``gc.layers.dropout(h, 0.5, training=is_training)``."""
    return Dropout(rate, noise_shape, seed, name=name, _scope=name)(inputs, training=training)


def flatten(inputs, name=None, data_format="channels_last"):
    """``[batch, ...] -> [batch, n]``. Example: ``gc.layers.flatten(h)``."""
    if data_format != "channels_last":
        raise ValueError(f"flatten: data_format {data_format!r} is not supported")
    return Flatten(name=name, _scope=name)(inputs)
