"""Discrete distributions of ``gc.distributions``: Bernoulli and Categorical, given by
``logits`` or ``probs`` as in TF1, and the KL rules of the common pairs (Normal, Bernoulli,
Categorical).

Example:
    >>> policy = gc.distributions.Categorical(logits=scores)
    >>> action = policy.sample(); loss = -policy.log_prob(action) * advantage
"""
from __future__ import annotations

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor
from graphc.ops.elementwise import exp, log, sigmoid, softplus, square
from graphc.ops.nn import log_softmax, sigmoid_cross_entropy_with_logits, softmax
from graphc.ops.random import random_uniform
from graphc.ops.reduce import argmax, reduce_prod, reduce_sum
from graphc.ops.sampling import multinomial
from graphc.ops.select import cast
from graphc.ops.shape_ops import reshape, shape, transpose
from graphc.ops.array import concat
from graphc.ops.sparse_xent import sparse_softmax_cross_entropy_with_logits
from graphc.shapes import TensorShape

from .base import Distribution, RegisterKL
from .continuous import Normal, float_parameters

__all__ = ["Bernoulli", "Categorical"]


def _logits_and_probs(name, logits, probs, to_logits, to_probs):
    if (logits is None) == (probs is None):
        raise ValueError(f"{name}: give exactly one of logits and probs")
    if logits is not None:
        logits = float_parameters(logits=logits)[1]["logits"]
        return logits, to_probs(logits)
    probs = float_parameters(probs=probs)[1]["probs"]
    return to_logits(probs), probs


class _Discrete(Distribution):
    """Given by logits or probs; values are class indices of any integer or float dtype
    (converted as they come, not to the sample dtype)."""

    def __init__(self, name, logits, probs, to_logits, to_probs, dtype, validate_args,
                 allow_nan_stats):
        self._logits, self._probs = _logits_and_probs(name, logits, probs, to_logits,
                                                      to_probs)
        super().__init__(gdt.as_dtype(dtype), {"logits": logits, "probs": probs}, name,
                         validate_args, allow_nan_stats)

    @property
    def logits(self):
        return self._logits

    @property
    def probs(self):
        return self._probs

    def log_prob(self, value, name="log_prob"):
        with self._scope(name):
            return self._log_prob(convert_to_tensor(value))

    def prob(self, value, name="prob"):
        with self._scope(name):
            return exp(self._log_prob(convert_to_tensor(value)))


class Bernoulli(_Discrete):
    """1 with probability ``probs`` (or ``sigmoid(logits)``), else 0 (TF1
    ``tf.distributions.Bernoulli``; samples of ``dtype``, int32 by default)."""

    def __init__(self, logits=None, probs=None, dtype=gdt.int32, validate_args=False,
                 allow_nan_stats=True, name="Bernoulli"):
        super().__init__(name, logits, probs, lambda p: log(p) - log(1.0 - p), sigmoid, dtype,
                         validate_args, allow_nan_stats)

    def _batch_shape(self) -> TensorShape:
        return self._logits.shape

    def _batch_shape_tensor(self):
        return shape(self._logits)

    def _sample(self, sample_shape, seed):
        u = random_uniform(self._full_shape(sample_shape), dtype=self._probs.dtype, seed=seed)
        return cast(u < self._probs, self._dtype)

    def _log_prob(self, x):
        labels = cast(x, self._logits.dtype)
        return -sigmoid_cross_entropy_with_logits(labels=labels + 0.0 * self._logits,
                                                  logits=self._logits + 0.0 * labels)

    def _entropy(self):
        return sigmoid_cross_entropy_with_logits(labels=self._probs, logits=self._logits)

    def _mean(self):
        return self._probs

    def _variance(self):
        return self._probs * (1.0 - self._probs)

    def _mode(self):
        return cast(self._probs > 0.5, self._dtype)


class Categorical(_Discrete):
    """One of ``k`` classes with probabilities ``softmax(logits)`` (or ``probs``) over the
    last dimension (TF1 ``tf.distributions.Categorical``; samples of ``dtype``)."""

    def __init__(self, logits=None, probs=None, dtype=gdt.int32, validate_args=False,
                 allow_nan_stats=True, name="Categorical"):
        super().__init__(name, logits, probs, log, softmax, dtype, validate_args,
                         allow_nan_stats)
        if self._logits.shape.rank == 0:
            raise ValueError("Categorical: logits/probs need at least one dimension (the "
                             "classes)")

    @property
    def event_size(self):
        return shape(self._logits)[-1]

    def _batch_shape(self) -> TensorShape:
        dims = self._logits.shape.dims
        return TensorShape(None if dims is None else dims[:-1])

    def _batch_shape_tensor(self):
        return shape(self._logits)[:-1]

    def _sample(self, sample_shape, seed):
        count = reduce_prod(sample_shape)
        flat_logits = reshape(self._logits, [-1, self.event_size])
        draws = multinomial(flat_logits, count, seed=seed, output_dtype=gdt.int64)  # [B, n]
        ordered = transpose(draws)  # [n, B]
        return cast(reshape(ordered, concat([sample_shape, self._batch_shape_tensor()], 0)),
                    self._dtype)

    def _log_prob(self, x):
        labels = cast(x, gdt.int32)
        logits = self._logits
        if logits.shape.rank == 1 and labels.shape.rank not in (None, 0):
            logits = reshape(logits, [1, -1]) + 0.0 * cast(reshape(labels, [-1, 1]),
                                                          logits.dtype)
            flat = sparse_softmax_cross_entropy_with_logits(labels=reshape(labels, [-1]),
                                                            logits=logits)
            return -reshape(flat, shape(labels))
        return -sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)

    def _entropy(self):
        return -reduce_sum(softmax(self._logits) * log_softmax(self._logits), -1)

    def _mode(self):
        return cast(argmax(self._logits, -1), self._dtype)

    def _mean(self):
        self._missing("mean (classes have no order)")


@RegisterKL(Normal, Normal)
def _kl_normal_normal(a, b, name=None):
    ratio = square(a.scale / b.scale)
    return 0.5 * (ratio + square((a.loc - b.loc) / b.scale) - 1.0 - log(ratio))


@RegisterKL(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(a, b, name=None):
    # TF1's form, in logits so that it stays finite for probabilities near 0 and 1
    zero = softplus(-b.logits) - softplus(-a.logits)
    one = softplus(b.logits) - softplus(a.logits)
    return sigmoid(a.logits) * zero + sigmoid(-a.logits) * one


@RegisterKL(Categorical, Categorical)
def _kl_categorical_categorical(a, b, name=None):
    return reduce_sum(softmax(a.logits) * (log_softmax(a.logits) - log_softmax(b.logits)), -1)

