"""Continuous distributions of ``gc.distributions`` with TF1's parameters and formulas:
Normal, Uniform, Laplace, Exponential, Gamma, Beta and StudentT. Normal, Uniform and Laplace
samples are reparameterized (differentiable in the parameters).

Example:
    >>> q = gc.distributions.Normal(loc=mu, scale=gc.nn.softplus(rho))
    >>> z = q.sample()                     # gradients reach mu and rho
"""
from __future__ import annotations

import math

import numpy as np

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor
from graphc.ops.creation import ones_like, zeros_like
from graphc.ops.elementwise import (abs as absolute, erf, exp, log, log1p, sign, sqrt,
                                    square)
from graphc.ops.random import random_normal, random_uniform
from graphc.ops.random_more import random_gamma
from graphc.ops.select import where
from graphc.ops.shape_checks import broadcast_static_shape
from graphc.ops.special_math import digamma, igamma, lgamma
from graphc.shapes import TensorShape

from .base import FULLY_REPARAMETERIZED, Distribution

__all__ = ["float_parameters", "Normal", "Uniform", "Laplace", "Exponential", "Gamma", "Beta", "StudentT"]


def float_parameters(**values):
    """The parameters as tensors of one floating dtype: a tensor's or NumPy value's floating
    dtype where one has it (TF1 requires them to agree), float32 for Python numbers."""
    dtype = None
    for value in values.values():
        found = getattr(value, "dtype", None)
        if found is not None and not isinstance(found, gdt.DType):
            found = gdt.as_dtype(np.dtype(found)) if np.dtype(found).kind == "f" else None
        if found is not None and found.is_floating:
            if dtype is not None and found is not dtype:
                raise TypeError(f"distribution parameters must have one dtype, got "
                                f"{dtype.name} and {found.name}")
            dtype = found
    dtype = dtype or gdt.float32
    return dtype, {k: convert_to_tensor(v, dtype=dtype) for k, v in values.items()}


class _Continuous(Distribution):
    """Parameters broadcast together give the batch shape."""

    def __init__(self, name, validate_args, allow_nan_stats, **values):
        dtype, self._params = float_parameters(**values)
        super().__init__(dtype, values, name, validate_args, allow_nan_stats)
        for key, tensor in self._params.items():
            setattr(self, "_" + key, tensor)

    def _broadcast_parameters(self):
        """A tensor of the batch shape (the parameters' broadcast shape)."""
        tensors = list(self._params.values())
        total = tensors[0]
        for tensor in tensors[1:]:
            total = total + zeros_like(tensor)
        return total

    def _batch_shape(self) -> TensorShape:
        dims = TensorShape([])
        for tensor in self._params.values():
            dims = broadcast_static_shape(dims, tensor.shape)
        return dims

    def _draws(self, sample_shape, draw):
        return draw(self._full_shape(sample_shape))

    def _everywhere(self, value):
        return value * ones_like(self._broadcast_parameters())


class Normal(_Continuous):
    """The normal distribution N(loc, scale^2) (TF1 ``tf.distributions.Normal``)."""

    reparameterization_type = FULLY_REPARAMETERIZED

    def __init__(self, loc, scale, validate_args=False, allow_nan_stats=True, name="Normal"):
        super().__init__(name, validate_args, allow_nan_stats, loc=loc, scale=scale)

    @property
    def loc(self):
        return self._loc

    @property
    def scale(self):
        return self._scale

    def _sample(self, sample_shape, seed):
        return self._loc + self._scale * self._draws(
            sample_shape, lambda s: random_normal(s, dtype=self._dtype, seed=seed))

    def _z(self, x):
        return (x - self._loc) / self._scale

    def _log_prob(self, x):
        return -0.5 * square(self._z(x)) - log(self._scale) - 0.5 * math.log(2.0 * math.pi)

    def _cdf(self, x):
        return 0.5 * (1.0 + erf(self._z(x) / math.sqrt(2.0)))

    def _entropy(self):
        return self._everywhere(0.5 * math.log(2.0 * math.pi * math.e) + log(self._scale))

    def _mean(self):
        return self._everywhere(self._loc)

    _mode = _mean

    def _variance(self):
        return self._everywhere(square(self._scale))


class Uniform(_Continuous):
    """The uniform distribution on [low, high) (TF1 ``tf.distributions.Uniform``)."""

    reparameterization_type = FULLY_REPARAMETERIZED

    def __init__(self, low=0.0, high=1.0, validate_args=False, allow_nan_stats=True,
                 name="Uniform"):
        super().__init__(name, validate_args, allow_nan_stats, low=low, high=high)

    @property
    def low(self):
        return self._low

    @property
    def high(self):
        return self._high

    def range(self):
        return self._high - self._low

    def _sample(self, sample_shape, seed):
        return self._low + self.range() * self._draws(
            sample_shape, lambda s: random_uniform(s, dtype=self._dtype, seed=seed))

    def _log_prob(self, x):
        inside = (x >= self._low) & (x < self._high)
        return where(inside, -log(self.range()) + zeros_like(x), zeros_like(x) - math.inf)

    def _cdf(self, x):
        ratio = (x - self._low) / self.range()
        return where(x < self._low, zeros_like(ratio), where(x >= self._high, ones_like(ratio),
                                                             ratio))

    def _entropy(self):
        return log(self.range())

    def _mean(self):
        return (self._low + self._high) / 2.0

    def _variance(self):
        return square(self.range()) / 12.0


class Laplace(_Continuous):
    """The Laplace distribution with ``loc`` and ``scale`` (TF1
    ``tf.distributions.Laplace``)."""

    reparameterization_type = FULLY_REPARAMETERIZED

    def __init__(self, loc, scale, validate_args=False, allow_nan_stats=True, name="Laplace"):
        super().__init__(name, validate_args, allow_nan_stats, loc=loc, scale=scale)

    def _sample(self, sample_shape, seed):
        # u uniform in (-1, 1): loc - scale sign(u) log(1 - |u|)
        u = self._draws(sample_shape, lambda s: random_uniform(
            s, minval=-1.0 + 1e-7, maxval=1.0, dtype=self._dtype, seed=seed))
        return self._loc - self._scale * sign(u) * log1p(-absolute(u))

    def _log_prob(self, x):
        return -math.log(2.0) - log(self._scale) - absolute(x - self._loc) / self._scale

    def _cdf(self, x):
        z = (x - self._loc) / self._scale
        return 0.5 + 0.5 * sign(z) * (1.0 - exp(-absolute(z)))

    def _entropy(self):
        return self._everywhere(math.log(2.0) + 1.0 + log(self._scale))

    def _mean(self):
        return self._everywhere(self._loc)

    _mode = _mean

    def _variance(self):
        return self._everywhere(2.0 * square(self._scale))


class Gamma(_Continuous):
    """The gamma distribution with ``concentration`` (shape) and ``rate`` (TF1
    ``tf.distributions.Gamma``)."""

    def __init__(self, concentration, rate, validate_args=False, allow_nan_stats=True,
                 name="Gamma"):
        super().__init__(name, validate_args, allow_nan_stats, concentration=concentration,
                         rate=rate)

    def _alpha(self):
        return self._everywhere(self._concentration)

    def _sample(self, sample_shape, seed):
        return random_gamma(sample_shape, self._alpha(), beta=self._everywhere(self._rate),
                            dtype=self._dtype, seed=seed)

    def _log_prob(self, x):
        alpha, rate = self._concentration, self._rate
        return (alpha - 1.0) * log(x) - rate * x + alpha * log(rate) - lgamma(alpha)

    def _cdf(self, x):
        return igamma(self._alpha(), self._rate * x)

    def _entropy(self):
        alpha = self._concentration
        return self._everywhere(alpha - log(self._rate) + lgamma(alpha) +
                                (1.0 - alpha) * digamma(alpha))

    def _mean(self):
        return self._everywhere(self._concentration / self._rate)

    def _variance(self):
        return self._everywhere(self._concentration / square(self._rate))

    def _mode(self):
        mode = (self._concentration - 1.0) / self._rate
        return self._everywhere(where(self._concentration > 1.0, mode, mode * 0.0 + math.nan))


class Exponential(Gamma):
    """The exponential distribution with ``rate`` (TF1 ``tf.distributions.Exponential``: a
    Gamma of concentration 1)."""

    def __init__(self, rate, validate_args=False, allow_nan_stats=True, name="Exponential"):
        _, converted = float_parameters(rate=rate)
        rate = converted["rate"]
        super().__init__(ones_like(rate), rate, validate_args, allow_nan_stats, name)

    @property
    def rate(self):
        return self._rate

    def _sample(self, sample_shape, seed):
        u = self._draws(sample_shape, lambda s: random_uniform(
            s, minval=1e-7, maxval=1.0, dtype=self._dtype, seed=seed))
        return -log(u) / self._rate

    def _log_prob(self, x):
        return log(self._rate) - self._rate * x

    def _cdf(self, x):
        return 1.0 - exp(-self._rate * x)

    def _mode(self):
        return self._everywhere(0.0 * self._rate)


class Beta(_Continuous):
    """The beta distribution with ``concentration1`` (alpha) and ``concentration0`` (beta)
    (TF1 ``tf.distributions.Beta``)."""

    def __init__(self, concentration1=None, concentration0=None, validate_args=False,
                 allow_nan_stats=True, name="Beta"):
        super().__init__(name, validate_args, allow_nan_stats, concentration1=concentration1,
                         concentration0=concentration0)

    def _total(self):
        return self._concentration1 + self._concentration0

    def _lbeta(self):
        return lgamma(self._concentration1) + lgamma(self._concentration0) - \
            lgamma(self._total())

    def _sample(self, sample_shape, seed):
        a = random_gamma(sample_shape, self._everywhere(self._concentration1),
                         dtype=self._dtype, seed=seed)
        b = random_gamma(sample_shape, self._everywhere(self._concentration0),
                         dtype=self._dtype, seed=None if seed is None else seed + 1)
        return a / (a + b)

    def _log_prob(self, x):
        return (self._concentration1 - 1.0) * log(x) + \
            (self._concentration0 - 1.0) * log1p(-x) - self._lbeta()

    def _entropy(self):
        a, b = self._concentration1, self._concentration0
        return self._lbeta() - (a - 1.0) * digamma(a) - (b - 1.0) * digamma(b) + \
            (self._total() - 2.0) * digamma(self._total())

    def _mean(self):
        return self._concentration1 / self._total()

    def _variance(self):
        total = self._total()
        return self._concentration1 * self._concentration0 / (square(total) * (total + 1.0))


class StudentT(_Continuous):
    """Student's t distribution with ``df`` degrees of freedom, ``loc`` and ``scale`` (TF1
    ``tf.distributions.StudentT``)."""

    def __init__(self, df, loc, scale, validate_args=False, allow_nan_stats=True,
                 name="StudentT"):
        super().__init__(name, validate_args, allow_nan_stats, df=df, loc=loc, scale=scale)

    def _sample(self, sample_shape, seed):
        normal = self._draws(sample_shape, lambda s: random_normal(s, dtype=self._dtype,
                                                                  seed=seed))
        half = self._everywhere(0.5 * self._df)
        chi2 = 2.0 * random_gamma(sample_shape, half, dtype=self._dtype,
                                  seed=None if seed is None else seed + 1)
        return self._loc + self._scale * normal / sqrt(chi2 / self._df)

    def _log_prob(self, x):
        df = self._df
        y = (x - self._loc) / self._scale
        return (lgamma(0.5 * (df + 1.0)) - lgamma(0.5 * df) - 0.5 * log(df * math.pi) -
                log(self._scale) - 0.5 * (df + 1.0) * log1p(square(y) / df))

    def _mean(self):
        mean = self._everywhere(self._loc)
        return where(self._everywhere(self._df) > 1.0, mean, mean * 0.0 + math.nan)

    _mode = Normal._mean

    def _variance(self):
        df = self._everywhere(self._df)
        variance = self._everywhere(square(self._scale)) * df / (df - 2.0)
        return where(df > 2.0, variance, where(df > 1.0, variance * 0.0 + math.inf,
                                               variance * 0.0 + math.nan))

