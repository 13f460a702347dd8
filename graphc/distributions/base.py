"""What every ``gc.distributions`` distribution shares (TF1's ``tf.distributions.Distribution``):
parameters as tensors, ``batch_shape``, ``sample(sample_shape, seed)`` of shape
``sample_shape + batch_shape + event_shape``, ``log_prob``/``prob``, ``cdf``/``log_cdf``,
moments, ``entropy``, and ``kl_divergence`` through a registry of pair rules
(``RegisterKL``), as TF1 does.
"""
from __future__ import annotations

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor
from graphc.graph import get_default_graph
from graphc.ops.array import concat
from graphc.ops.elementwise import exp, log, sqrt
from graphc.ops.shape_ops import shape
from graphc.shapes import TensorShape

__all__ = ["Distribution", "ReparameterizationType", "FULLY_REPARAMETERIZED",
           "NOT_REPARAMETERIZED", "RegisterKL", "kl_divergence"]


class ReparameterizationType:
    """Whether samples are differentiable functions of the parameters (TF1's marker)."""

    def __init__(self, name: str):
        self._name = name

    def __repr__(self) -> str:
        return f"<Reparameterization Type: {self._name}>"


FULLY_REPARAMETERIZED = ReparameterizationType("FULLY_REPARAMETERIZED")
NOT_REPARAMETERIZED = ReparameterizationType("NOT_REPARAMETERIZED")


class Distribution:
    """The base class: subclasses give ``_sample_n(n, seed)``, ``_log_prob``, and the
    moments they have; ``parameters`` holds the constructor's arguments.

    Example:
        >>> dist = gc.distributions.Normal(loc=0.0, scale=1.0)
        >>> z = dist.sample([16], seed=1); dist.log_prob(z)
    """

    reparameterization_type = NOT_REPARAMETERIZED

    def __init__(self, dtype, parameters: dict, name: str, validate_args=False,
                 allow_nan_stats=True):
        self._dtype, self._parameters, self._name = dtype, dict(parameters), name
        self.validate_args, self.allow_nan_stats = validate_args, allow_nan_stats

    # -- description -----------------------------------------------------------------------
    @property
    def dtype(self):
        return self._dtype

    @property
    def name(self) -> str:
        return self._name

    @property
    def parameters(self) -> dict:
        return dict(self._parameters)

    @property
    def batch_shape(self) -> TensorShape:
        return self._batch_shape()

    @property
    def event_shape(self) -> TensorShape:
        return TensorShape([])

    def batch_shape_tensor(self):
        return self._batch_shape_tensor()

    def event_shape_tensor(self):
        return convert_to_tensor([], dtype=gdt.int32)

    def _scope(self, method: str):
        return get_default_graph().name_scope(f"{self._name}/{method}")

    # -- sampling and densities --------------------------------------------------------------
    def sample(self, sample_shape=(), seed=None, name="sample"):
        """Samples of shape ``sample_shape + batch_shape + event_shape``."""
        with self._scope(name):
            sample_shape = convert_to_tensor(sample_shape, dtype=gdt.int32)
            if sample_shape.shape.rank == 0:
                sample_shape = sample_shape[None]
            return self._sample(sample_shape, seed)

    def _full_shape(self, sample_shape):
        return concat([sample_shape, self.batch_shape_tensor(), self.event_shape_tensor()], 0)

    def log_prob(self, value, name="log_prob"):
        with self._scope(name):
            return self._log_prob(convert_to_tensor(value, dtype=self._dtype))

    def prob(self, value, name="prob"):
        with self._scope(name):
            return exp(self._log_prob(convert_to_tensor(value, dtype=self._dtype)))

    def cdf(self, value, name="cdf"):
        with self._scope(name):
            return self._cdf(convert_to_tensor(value, dtype=self._dtype))

    def log_cdf(self, value, name="log_cdf"):
        with self._scope(name):
            return log(self._cdf(convert_to_tensor(value, dtype=self._dtype)))

    def survival_function(self, value, name="survival_function"):
        with self._scope(name):
            return 1.0 - self._cdf(convert_to_tensor(value, dtype=self._dtype))

    # -- statistics --------------------------------------------------------------------------
    def mean(self, name="mean"):
        with self._scope(name):
            return self._mean()

    def variance(self, name="variance"):
        with self._scope(name):
            return self._variance()

    def stddev(self, name="stddev"):
        with self._scope(name):
            return sqrt(self._variance())

    def mode(self, name="mode"):
        with self._scope(name):
            return self._mode()

    def entropy(self, name="entropy"):
        with self._scope(name):
            return self._entropy()

    def kl_divergence(self, other, name="kl_divergence"):
        return kl_divergence(self, other, name=name)

    def cross_entropy(self, other, name="cross_entropy"):
        return self.entropy(name) + kl_divergence(self, other)

    def _missing(self, what: str):
        raise NotImplementedError(f"{type(self).__name__} has no {what} in gc.distributions")

    def _cdf(self, value):
        self._missing("cdf")

    def _mean(self):
        self._missing("mean")

    def _variance(self):
        self._missing("variance")

    def _mode(self):
        self._missing("mode")

    def _entropy(self):
        self._missing("entropy")

    def _batch_shape_tensor(self):
        return shape(self._broadcast_parameters())

    def __repr__(self) -> str:
        return (f"<gc.distributions.{type(self).__name__} '{self._name}' "
                f"batch_shape={self.batch_shape} dtype={self._dtype.name}>")


_KL_RULES: dict = {}


class RegisterKL:
    """Decorator registering ``fn(a, b, name=None)`` as KL(a || b) for distribution classes
    (TF1 ``tf.distributions.RegisterKL``); subclasses find their parents' rules.

    Example:
        >>> @gc.distributions.RegisterKL(MyDist, MyDist)
        ... def _kl(a, b, name=None): ...
    """

    def __init__(self, first, second):
        self._key = (first, second)

    def __call__(self, fn):
        if self._key in _KL_RULES:
            raise ValueError(f"KL({self._key[0].__name__} || {self._key[1].__name__}) is "
                             "already registered")
        _KL_RULES[self._key] = fn
        return fn


def kl_divergence(distribution_a, distribution_b, allow_nan_stats=True, name=None):
    """KL(a || b) by the rule registered for the pair of classes nearest in their MROs
    (TF1 ``tf.distributions.kl_divergence``).

    Example:
        >>> kl = gc.distributions.kl_divergence(posterior, prior)
    """
    for first in type(distribution_a).__mro__:
        for second in type(distribution_b).__mro__:
            rule = _KL_RULES.get((first, second))
            if rule is not None:
                with get_default_graph().name_scope(name or "KullbackLeibler"):
                    return rule(distribution_a, distribution_b)
    raise NotImplementedError(f"No KL(distribution_a || distribution_b) registered for "
                              f"distribution_a type {type(distribution_a).__name__} and "
                              f"distribution_b type {type(distribution_b).__name__}")
