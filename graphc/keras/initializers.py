"""``gc.keras.initializers``: the initializer classes under their Keras names and defaults.

They are ``gc.initializers``' classes, except that Keras' random ones default to a small
spread: ``RandomNormal`` and ``TruncatedNormal`` to stddev 0.05, ``RandomUniform`` to
``[-0.05, 0.05)``.

Example:
    >>> W = gc.get_variable("W", [128, 64], initializer=gc.keras.initializers.GlorotUniform())
"""
from __future__ import annotations

from graphc import dtypes as gdt
from graphc import initializers as core
from graphc.initializers import (Constant, GlorotNormal, GlorotUniform, HeNormal,  # noqa
                                 HeUniform, Identity, Initializer, LecunNormal, LecunUniform,
                                 Ones, Orthogonal, VarianceScaling, Zeros, he_normal,
                                 he_uniform, lecun_normal, lecun_uniform)

__all__ = ["Initializer", "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform",
           "TruncatedNormal", "VarianceScaling", "Orthogonal", "Identity", "GlorotUniform",
           "GlorotNormal", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform", "get",
           "serialize"]


class RandomNormal(core.RandomNormal):
    """Normal values, by default of stddev 0.05."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None, dtype=gdt.float32):
        super().__init__(mean, stddev, seed, dtype)


class TruncatedNormal(core.TruncatedNormal):
    """Truncated normal values, by default of stddev 0.05."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None, dtype=gdt.float32):
        super().__init__(mean, stddev, seed, dtype)


class RandomUniform(core.RandomUniform):
    """Uniform values, by default in [-0.05, 0.05)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None, dtype=gdt.float32):
        super().__init__(minval, maxval, seed, dtype)


zeros, ones, constant, identity, orthogonal = Zeros, Ones, Constant, Identity, Orthogonal
normal = random_normal = RandomNormal
uniform = random_uniform = RandomUniform
truncated_normal = TruncatedNormal
glorot_uniform, glorot_normal, variance_scaling = GlorotUniform, GlorotNormal, VarianceScaling

_CLASSES = {cls.__name__: cls for cls in (
    Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling,
    Orthogonal, Identity, GlorotUniform, GlorotNormal, HeNormal, HeUniform, LecunNormal,
    LecunUniform)}
_CLASSES.update({name: globals()[name] for name in (
    "zeros", "ones", "constant", "identity", "orthogonal", "normal", "random_normal",
    "uniform", "random_uniform", "truncated_normal", "glorot_uniform", "glorot_normal",
    "variance_scaling")})
_CLASSES.update(he_normal=HeNormal, he_uniform=HeUniform, lecun_normal=LecunNormal,
                lecun_uniform=LecunUniform)


def serialize(initializer) -> dict:
    """``{"class_name": ..., "config": {...}}`` of an initializer."""
    return {"class_name": type(initializer).__name__, "config": initializer.get_config()}


def get(identifier):
    """An initializer from None, a name (``"glorot_uniform"``, ``"GlorotUniform"``), a
    ``serialize`` dict, or a callable (returned as is).

    Example:
        >>> gc.keras.initializers.get("he_normal")
    """
    if identifier is None or callable(identifier):
        return identifier
    if isinstance(identifier, (str, dict)):
        name = identifier if isinstance(identifier, str) else identifier.get("class_name")
        if name not in _CLASSES:
            raise ValueError(f"keras.initializers.get: unknown initializer {name!r}; "
                             f"known: {', '.join(sorted(_CLASSES))}")
        config = {} if isinstance(identifier, str) else identifier.get("config", {})
        return _CLASSES[name].from_config(config)
    raise ValueError(f"keras.initializers.get: cannot interpret {identifier!r} as an "
                     "initializer")
