"""``BatchNormalization``: normalize each channel by the batch's statistics while training
and by moving averages of them at inference (TF1 ``tf.layers.BatchNormalization``).

It computes as TF1's non-fused layer does: ``tf.nn.moments`` over every axis but the
channels, then ``tf.nn.batch_normalization``. While training, the layer adds two updates to
``GraphKeys.UPDATE_OPS`` (and its ``updates``): ``moving_mean -= (moving_mean - batch_mean)
* (1 - momentum)``, the same for ``moving_variance`` with the batch's (biased) variance. As
in TF1 they run only when the train op depends on them: ``graphc.training.train_op`` (which
``fit`` uses) groups them with the optimizer's step. With a bool tensor as ``training`` both
ways are in the graph: the output picks its statistics by the switch, and the updates use
momentum 1 (no change) while it is False.

Example:
    >>> bn = gc.layers.BatchNormalization()
    >>> h = bn(conv, training=True)                 # batch statistics, 2 update ops
    >>> with gc.control_dependencies(gc.get_collection(gc.GraphKeys.UPDATE_OPS)):
    ...     train_op = optimizer.minimize(loss)
"""
from __future__ import annotations

from graphc.initializers import Ones, Zeros
from graphc.layers.base import Layer, training_switch
from graphc.layers.core import initializer, regularizer
from graphc.moving_averages import assign_moving_average
from graphc.nn_norm import batch_normalization, moments
from graphc.ops.select import where
from graphc.ops.shape_ops import reshape

__all__ = ["BatchNormalization"]


class BatchNormalization(Layer):
    """Batch normalization over every axis but ``axis`` (the channels).

    Args:
        axis: the channel axis (default the last).
        momentum: the moving averages' decay (TF1: 0.99).
        epsilon: added to the variance (TF1: 1e-3).
        center, scale: learn ``beta`` (an offset) and ``gamma`` (a factor).

    Variables: ``gamma``, ``beta`` (trainable), ``moving_mean``, ``moving_variance``
    (not trainable, in ``GLOBAL_VARIABLES``).

    Example:
        >>> y = gc.layers.BatchNormalization()(x, training=is_training)
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer=Zeros(), gamma_initializer=Ones(),
                 moving_mean_initializer=Zeros(), moving_variance_initializer=Ones(),
                 beta_regularizer=None, gamma_regularizer=None, trainable=True, name=None,
                 **kwargs):
        super().__init__(trainable=trainable, name=name, **kwargs)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNormalization: momentum must be in [0, 1], got {momentum}")
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale = center, scale
        self.beta_initializer = initializer(beta_initializer)
        self.gamma_initializer = initializer(gamma_initializer)
        self.moving_mean_initializer = initializer(moving_mean_initializer)
        self.moving_variance_initializer = initializer(moving_variance_initializer)
        self.beta_regularizer = regularizer(beta_regularizer)
        self.gamma_regularizer = regularizer(gamma_regularizer)

    def build(self, input_shape):
        rank = input_shape.rank
        if rank is None or not -rank <= self.axis < rank:
            raise ValueError(f"BatchNormalization '{self.name}': axis {self.axis} does not fit "
                             f"inputs of shape {input_shape}")
        self._axis = self.axis % rank
        channels = input_shape[self._axis]
        if channels is None:
            raise ValueError(f"BatchNormalization '{self.name}': the size of axis {self.axis} "
                             f"must be known, got shape {input_shape}")
        self.gamma = self.add_weight("gamma", [channels], initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer) if self.scale else None
        self.beta = self.add_weight("beta", [channels], initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer) if self.center else None
        self.moving_mean = self.add_weight("moving_mean", [channels], trainable=False,
                                           initializer=self.moving_mean_initializer)
        self.moving_variance = self.add_weight("moving_variance", [channels], trainable=False,
                                               initializer=self.moving_variance_initializer)

    def call(self, inputs, training=None):
        training = training_switch(training, inputs.graph)
        rank = inputs.shape.rank
        mean, variance = self.moving_mean.value(), self.moving_variance.value()
        if training is not False:
            batch_mean, batch_variance = moments(inputs, [i for i in range(rank)
                                                          if i != self._axis])
            self._add_moving_updates(batch_mean, batch_variance, training)
            if training is True:
                mean, variance = batch_mean, batch_variance
            else:
                mean = where(training, batch_mean, mean, name="pick_mean")
                variance = where(training, batch_variance, variance, name="pick_variance")
        per_channel = [None if v is None else self._broadcast(v, rank)
                       for v in (mean, variance, self.beta, self.gamma)]
        return batch_normalization(inputs, *per_channel, variance_epsilon=self.epsilon)

    def _broadcast(self, per_channel, rank):
        """A ``[channels]`` tensor shaped to broadcast against the inputs."""
        if self._axis == rank - 1:
            return per_channel
        return reshape(per_channel, [-1 if i == self._axis else 1 for i in range(rank)])

    def _add_moving_updates(self, batch_mean, batch_variance, training) -> None:
        momentum = self.momentum if training is True else \
            where(training, self.momentum, 1.0, name="momentum")
        for variable, value in ((self.moving_mean, batch_mean),
                                (self.moving_variance, batch_variance)):
            self.add_update(assign_moving_average(variable, value, momentum,
                                                  zero_debias=False).op)
