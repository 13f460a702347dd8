"""``gc.distributions``: TF1's ``tf.distributions`` (probability distributions as graph
builders): Normal, Uniform, Laplace, Exponential, Gamma, Beta, StudentT, Bernoulli,
Categorical, with ``sample``, ``log_prob``/``prob``, ``cdf``, moments, ``entropy`` and
``kl_divergence`` (rules for Normal, Bernoulli and Categorical pairs; ``RegisterKL`` adds
more). Not here: Dirichlet, Multinomial, DirichletMultinomial.

Example:
    >>> prior = gc.distributions.Normal(0.0, 1.0)
    >>> posterior = gc.distributions.Normal(mu, sigma)
    >>> kl = gc.reduce_sum(gc.distributions.kl_divergence(posterior, prior))
"""
from .base import (FULLY_REPARAMETERIZED, NOT_REPARAMETERIZED, Distribution,  # noqa: F401
                   RegisterKL, ReparameterizationType, kl_divergence)
from .continuous import Beta, Exponential, Gamma, Laplace, Normal, StudentT, Uniform  # noqa
from .discrete import Bernoulli, Categorical  # noqa: F401
