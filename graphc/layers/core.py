"""The basic layers: Dense, Activation, Dropout, Flatten, Embedding, Concatenate, Add and
Sequential (TF1 ``tf.layers`` / ``tf.keras.layers`` names and arguments).

Example:
    >>> model = gc.layers.Sequential([gc.layers.Flatten(), gc.layers.Dense(64, "relu"),
    ...                               gc.layers.Dropout(0.2), gc.layers.Dense(10)])
    >>> logits = model(images)
"""
from __future__ import annotations

import inspect

import numpy as np

from graphc.layers.base import Layer, training_switch
from graphc.ops import activations, elementwise
from graphc.ops.array import concat, stack
from graphc.ops.indexing import gather
from graphc.ops.linalg import matmul, tensordot
from graphc.ops.nn import bias_add, log_softmax, softmax
from graphc.ops.random import dropout
from graphc.ops.select import cast
from graphc.ops.shape_ops import reshape, shape
from graphc.initializers import RandomUniform, Zeros
from graphc.variables import GraphKeys

__all__ = ["Dense", "Activation", "Dropout", "Flatten", "Embedding", "Concatenate", "Add",
           "Sequential", "get_activation"]

_ACTIVATIONS = {
    "linear": None, "relu": elementwise.relu, "relu6": elementwise.relu6,
    "elu": elementwise.elu, "selu": activations.selu, "leaky_relu": activations.leaky_relu,
    "swish": activations.swish, "silu": activations.silu, "gelu": activations.gelu,
    "softsign": activations.softsign, "sigmoid": elementwise.sigmoid, "tanh": elementwise.tanh,
    "softplus": elementwise.softplus, "softmax": softmax, "log_softmax": log_softmax,
}


def get_activation(activation):
    """None, a callable, or a Keras name (``relu``, ``gelu``, ``softmax``... the keys of
    ``_ACTIVATIONS``) -> a function (None for ``linear``)."""
    if activation is None or callable(activation):
        return activation
    if isinstance(activation, str) and activation in _ACTIVATIONS:
        return _ACTIVATIONS[activation]
    known = ", ".join(_ACTIVATIONS)
    raise ValueError(f"unknown activation {activation!r}; use a callable or one of {known}")


def initializer(value):
    """An initializer argument as ``get_variable`` takes it; Keras names (``"he_normal"``)
    and configs are looked up in ``gc.keras.initializers``."""
    if value is None or callable(value):
        return value
    # imported here: gc.keras.layers re-exports this package, so gc.keras imports it
    from graphc.keras import initializers as keras_initializers
    return keras_initializers.get(value)


def regularizer(value):
    """A regularizer argument; Keras names (``"l2"``) go through ``gc.keras.regularizers``."""
    if value is None or callable(value):
        return value
    # imported here: gc.keras.layers re-exports this package, so gc.keras imports it
    from graphc.keras import regularizers as keras_regularizers
    return keras_regularizers.get(value)


def last_dim(layer: Layer, input_shape, rank=None) -> int:
    """The known size of the inputs' last axis, or a clear error naming the layer."""
    where = f"{type(layer).__name__} '{layer.scope_name or layer.name}'"
    if input_shape.rank is None or (rank is not None and input_shape.rank != rank):
        want = f"rank {rank}" if rank is not None else "a known rank"
        raise ValueError(f"{where}: inputs need {want}, got shape {input_shape}")
    size = input_shape[-1]
    if size is None:
        raise ValueError(f"{where}: the last axis of the inputs must be known to create the "
                         f"variables, got shape {input_shape}")
    return size


class Dense(Layer):
    """``activation(inputs @ kernel + bias)`` over the last axis (TF1 ``tf.layers.Dense``).

    Variables: ``kernel`` ``[in, units]`` (glorot_uniform by default) and ``bias``
    ``[units]`` (zeros).

    Example:
        >>> h = gc.layers.Dense(128, activation="relu")(x)
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer=None,
                 bias_initializer=Zeros(), kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 trainable=True, name=None, **kwargs):
        super().__init__(trainable=trainable, name=name, **kwargs)
        if not isinstance(units, (int, np.integer)) or units < 1:
            raise ValueError(f"Dense: units must be a positive integer, got {units!r}")
        self.units, self.activation = int(units), get_activation(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializer(kernel_initializer)
        self.bias_initializer = initializer(bias_initializer)
        self.kernel_regularizer = regularizer(kernel_regularizer)
        self.bias_regularizer = regularizer(bias_regularizer)
        self.kernel_constraint, self.bias_constraint = kernel_constraint, bias_constraint
        self.activity_regularizer = regularizer(activity_regularizer)
        self.kernel = self.bias = None

    def build(self, input_shape):
        size = last_dim(self, input_shape)
        self.kernel = self.add_weight("kernel", [size, self.units],
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight("bias", [self.units], initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    def call(self, inputs):
        rank = inputs.shape.rank
        if rank is not None and rank > 2:  # contract the last axis of every row
            outputs = tensordot(inputs, self.kernel, [[rank - 1], [0]])
        else:
            outputs = matmul(inputs, self.kernel)
        if self.use_bias:
            outputs = bias_add(outputs, self.bias)
        return finish(self, outputs)


def finish(layer, outputs):
    """The layer's activation and activity regularizer applied to ``outputs``."""
    if getattr(layer, "activation", None) is not None:
        outputs = layer.activation(outputs)
    penalty = getattr(layer, "activity_regularizer", None)
    if penalty is not None:
        loss = penalty(outputs)
        if loss is not None:
            outputs.graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
    return outputs


class Activation(Layer):
    """An activation function as a layer. Example: ``gc.layers.Activation("relu")(x)``."""

    def __init__(self, activation, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.activation = get_activation(activation)

    def call(self, inputs):
        return inputs if self.activation is None else self.activation(inputs)


class Dropout(Layer):
    """Zero a fraction ``rate`` of the inputs and scale the rest by ``1 / (1 - rate)``, only
    while training: ``training`` True/False, a bool tensor, or None for the graph's
    ``learning_phase()`` (False unless fed; ``fit`` feeds True).

    Example:
        >>> h = gc.layers.Dropout(0.5)(h)                    # follows learning_phase()
        >>> h = gc.layers.Dropout(0.5)(h, training=is_training)
    """

    def __init__(self, rate=0.5, noise_shape=None, seed=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout: rate must be in [0, 1), got {rate}")
        self.rate, self.noise_shape, self.seed = float(rate), noise_shape, seed

    def call(self, inputs, training=None):
        training = training_switch(training, inputs.graph)
        if training is False or self.rate == 0:
            return inputs
        rate = self.rate if training is True else \
            cast(training, inputs.dtype) * np.asarray(self.rate, inputs.dtype.as_numpy_dtype)
        return dropout(inputs, rate=rate, noise_shape=self.noise_shape, seed=self.seed)


class Flatten(Layer):
    """``[batch, d1, d2, ...] -> [batch, d1*d2*...]``. Example: ``gc.layers.Flatten()(x)``."""

    def call(self, inputs):
        dims = inputs.shape.as_list() if inputs.shape.rank is not None else None
        if dims is not None and None not in dims[1:]:
            return reshape(inputs, [-1, int(np.prod(dims[1:], dtype=np.int64))])
        return reshape(inputs, stack([shape(inputs)[0], -1]))


class Embedding(Layer):
    """Rows of an ``embeddings`` table ``[input_dim, output_dim]`` picked by integer ids.

    Example:
        >>> vectors = gc.layers.Embedding(10000, 64)(word_ids)     # [batch, len, 64]
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        if embeddings_initializer == "uniform":  # Keras' default: U(-0.05, 0.05)
            embeddings_initializer = RandomUniform(-0.05, 0.05)
        self.embeddings_initializer = initializer(embeddings_initializer)
        self.embeddings_regularizer = regularizer(embeddings_regularizer)

    def build(self, input_shape):
        self.embeddings = self.add_weight("embeddings", [self.input_dim, self.output_dim],
                                          initializer=self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer)

    def call(self, inputs):
        if not inputs.dtype.is_integer:
            raise TypeError(f"Embedding '{self.name}': ids must be integers, got "
                            f"{inputs.dtype.name} for '{inputs.name}'")
        return gather(self.embeddings, inputs)


class Concatenate(Layer):
    """Join a list of tensors along ``axis`` (default the last: channels).

    Example:
        >>> merged = gc.layers.Concatenate()([branch_a, branch_b])
    """

    def __init__(self, axis=-1, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.axis = axis

    def call(self, inputs):
        _check_list(self, inputs)
        return concat(list(inputs), axis=self.axis)


class Add(Layer):
    """The sum of a list of tensors of one shape (residual connections).

    Example:
        >>> y = gc.layers.Add()([x, block(x)])
    """

    def call(self, inputs):
        _check_list(self, inputs)
        total = inputs[0]
        for item in inputs[1:]:
            total = elementwise.add(total, item)
        return total


def _check_list(layer, inputs):
    if not isinstance(inputs, list) or len(inputs) < 2:
        raise ValueError(f"{type(layer).__name__} '{layer.name}' takes a list of at least two "
                         f"tensors, got {inputs!r}")


class Sequential(Layer):
    """Layers applied one after the other; each is a child with its own scope.

    Example:
        >>> model = gc.layers.Sequential([gc.layers.Conv2D(8, 3, activation="relu"),
        ...                               gc.layers.Flatten(), gc.layers.Dense(10)])
        >>> model.add(gc.layers.Activation("softmax"))
        >>> probs = model(images)
    """

    def __init__(self, layers=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.layers_list: list = []
        for layer in layers or []:
            self.add(layer)

    def add(self, layer: Layer) -> None:
        """Append ``layer`` (before the first call)."""
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add: expected a Layer, got {layer!r}")
        if self.built:
            raise ValueError(f"Sequential '{self.name}' was already called; add layers before")
        self.layers_list.append(layer)

    def call(self, inputs, training=None):
        outputs = inputs
        for layer in self.layers_list:
            outputs = layer(outputs, training=training) if takes_training(layer) else \
                layer(outputs)
        return outputs


def takes_training(layer: Layer) -> bool:
    """Whether ``layer.call`` accepts ``training=`` (passed down by containers)."""
    return "training" in inspect.signature(layer.call).parameters

