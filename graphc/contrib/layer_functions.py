"""``tf.contrib.layers.fully_connected``, ``conv2d`` and ``flatten``: the contrib layer
functions TF1 tutorials call, with contrib's defaults (ReLU, Xavier weights, zero biases) and
variable names (``fully_connected/weights``, ``Conv/biases``, ...).

Example:
    >>> hidden = gc.contrib.layers.fully_connected(x, 256)
    >>> logits = gc.contrib.layers.fully_connected(hidden, 10, activation_fn=None)
"""
from __future__ import annotations

from graphc.initializers import zeros_initializer
from graphc.ops.conv import conv2d as conv2d_op
from graphc.ops.elementwise import relu
from graphc.ops.linalg import matmul
from graphc.ops.nn import bias_add
from graphc.ops.shape_ops import reshape, shape
from graphc.ops.array import stack
from graphc.variable_scope import get_variable, variable_scope
from graphc.contrib.layers import xavier_initializer

__all__ = ["fully_connected", "conv2d", "flatten"]

_DEFAULT = object()


def _dense_part(inputs, weights, activation_fn, normalizer_fn, normalizer_params,
                biases_initializer, biases_regularizer, trainable, out, dtype):
    if normalizer_fn is not None:
        out = normalizer_fn(out, **(normalizer_params or {}))
    elif biases_initializer is not None:
        biases = get_variable("biases", [int(weights.shape[-1])], dtype=dtype,
                              initializer=biases_initializer, regularizer=biases_regularizer,
                              trainable=trainable)
        out = bias_add(out, biases)
    return activation_fn(out) if activation_fn is not None else out


def fully_connected(inputs, num_outputs, activation_fn=_DEFAULT, normalizer_fn=None,
                    normalizer_params=None, weights_initializer=None, weights_regularizer=None,
                    biases_initializer=_DEFAULT, biases_regularizer=None, reuse=None,
                    variables_collections=None, outputs_collections=None, trainable=True,
                    scope=None):
    """``activation_fn(inputs @ weights + biases)`` (TF1 contrib; ReLU by default)."""
    activation_fn = relu if activation_fn is _DEFAULT else activation_fn
    biases_initializer = zeros_initializer() if biases_initializer is _DEFAULT else \
        biases_initializer
    with variable_scope(scope, default_name="fully_connected", values=[inputs], reuse=reuse):
        depth = int(inputs.shape[-1])
        weights = get_variable("weights", [depth, int(num_outputs)], dtype=inputs.dtype,
                               initializer=weights_initializer or xavier_initializer(),
                               regularizer=weights_regularizer, trainable=trainable)
        return _dense_part(inputs, weights, activation_fn, normalizer_fn, normalizer_params,
                           biases_initializer, biases_regularizer, trainable,
                           matmul(inputs, weights), inputs.dtype)


def conv2d(inputs, num_outputs, kernel_size, stride=1, padding="SAME", data_format=None,
           rate=1, activation_fn=_DEFAULT, normalizer_fn=None, normalizer_params=None,
           weights_initializer=None, weights_regularizer=None, biases_initializer=_DEFAULT,
           biases_regularizer=None, reuse=None, variables_collections=None,
           outputs_collections=None, trainable=True, scope=None):
    """A 2-D convolution layer (TF1 contrib: NHWC, ``Conv/weights``, ``Conv/biases``)."""
    if data_format not in (None, "NHWC"):
        raise ValueError(f"contrib.layers.conv2d: data_format {data_format!r}; use NHWC")
    activation_fn = relu if activation_fn is _DEFAULT else activation_fn
    biases_initializer = zeros_initializer() if biases_initializer is _DEFAULT else \
        biases_initializer
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    rh, rw = (rate, rate) if isinstance(rate, int) else rate
    with variable_scope(scope, default_name="Conv", values=[inputs], reuse=reuse):
        weights = get_variable("weights", [kh, kw, int(inputs.shape[-1]), int(num_outputs)],
                               dtype=inputs.dtype,
                               initializer=weights_initializer or xavier_initializer(),
                               regularizer=weights_regularizer, trainable=trainable)
        out = conv2d_op(inputs, weights, [1, sh, sw, 1], padding.upper(),
                        dilations=[1, rh, rw, 1])
        return _dense_part(inputs, weights, activation_fn, normalizer_fn, normalizer_params,
                           biases_initializer, biases_regularizer, trainable, out,
                           inputs.dtype)


def flatten(inputs, outputs_collections=None, scope=None):
    """``[batch, ...]`` to ``[batch, k]`` (TF1 contrib)."""
    dims = inputs.shape.dims
    if dims is not None and all(d is not None for d in dims[1:]):
        count = 1
        for d in dims[1:]:
            count *= d
        return reshape(inputs, [-1, count])
    return reshape(inputs, stack([shape(inputs)[0], -1]))
