"""``gc.contrib.layers``: TF1 contrib's initializers and regularizers.

Example:
    >>> W = gc.get_variable("W", [784, 10],
    ...                     initializer=gc.contrib.layers.xavier_initializer(),
    ...                     regularizer=gc.contrib.layers.l2_regularizer(1e-4))
"""
from __future__ import annotations

import math

from graphc import dtypes as gdt
from graphc.initializers import Initializer, fully_defined_dims
from graphc.ops import random as random_ops
from graphc.regularizers import (apply_regularization, l1_l2_regularizer,  # noqa: F401
                                 l1_regularizer, l2_regularizer, sum_regularizer)

__all__ = ["xavier_initializer", "xavier_initializer_conv2d", "variance_scaling_initializer",
           "l1_regularizer", "l2_regularizer", "l1_l2_regularizer", "sum_regularizer",
           "apply_regularization"]

_MODES = ("FAN_IN", "FAN_OUT", "FAN_AVG")


class _ContribVarianceScaling(Initializer):
    """contrib's own variance scaling (not the same formula as ``tf.variance_scaling``):
    ``n`` from ``shape[-2]`` (or ``shape[-1]`` for vectors) and ``shape[-1]``, both times
    the other dims; uniform within ``±sqrt(3 factor / n)``, else a truncated normal of
    stddev ``sqrt(1.3 factor / n)``."""

    _config = ("factor", "mode", "uniform", "seed", "dtype")

    def __init__(self, factor, mode, uniform, seed, dtype):
        dtype = gdt.as_dtype(dtype)
        if not dtype.is_floating:
            raise TypeError(f"variance_scaling_initializer: cannot create an initializer for "
                            f"the non-floating point type {dtype.name}")
        if mode not in _MODES:
            raise TypeError(f"variance_scaling_initializer: unknown mode {mode!r}; expected "
                            f"one of {', '.join(_MODES)}")
        self.factor, self.mode, self.uniform, self.seed, self.dtype = \
            factor, mode, uniform, seed, dtype

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self._dtype(dtype, floating=True)
        dims = fully_defined_dims(shape, "variance_scaling_initializer")
        fan_in = float(dims[-2] if len(dims) > 1 else dims[-1]) if dims else 1.0
        fan_out = float(dims[-1]) if dims else 1.0
        for dim in dims[:-2]:
            fan_in, fan_out = fan_in * dim, fan_out * dim
        n = {"FAN_IN": fan_in, "FAN_OUT": fan_out, "FAN_AVG": (fan_in + fan_out) / 2.0}
        n = n[self.mode]
        if self.uniform:
            limit = math.sqrt(3.0 * self.factor / n)
            return random_ops.random_uniform(dims, -limit, limit, dtype, seed=self.seed)
        stddev = math.sqrt(1.3 * self.factor / n)
        return random_ops.truncated_normal(dims, 0.0, stddev, dtype, seed=self.seed)


def variance_scaling_initializer(factor=2.0, mode="FAN_IN", uniform=False, seed=None,
                                 dtype=gdt.float32):
    """He-style initializer of TF1 contrib (defaults: ``factor=2``, ``FAN_IN``, normal).

    Example:
        >>> init = gc.contrib.layers.variance_scaling_initializer(factor=1.0, mode="FAN_AVG")
    """
    return _ContribVarianceScaling(factor, mode, uniform, seed, dtype)


def xavier_initializer(uniform=True, seed=None, dtype=gdt.float32):
    """Glorot/Xavier: ``variance_scaling_initializer(1.0, "FAN_AVG", uniform)``.

    Example:
        >>> W = gc.get_variable("W", [256, 10], initializer=gc.contrib.layers.xavier_initializer())
    """
    return variance_scaling_initializer(1.0, "FAN_AVG", uniform, seed, dtype)


xavier_initializer_conv2d = xavier_initializer
