"""Initializers, TF1's ``tf.initializers``: objects that build a variable's initial value.

An initializer is called as ``init(shape, dtype=None, partition_info=None)`` and returns a
Tensor (``get_variable`` calls it inside ``<variable>/Initializer/``). The classes carry
TF1's (v1) defaults; the lower-case names of this module (``gc.initializers.zeros``) and the
``gc.*_initializer`` aliases are the same classes, as in TF1. Random initializers draw with
the random ops of ``graphc.ops.random``, so their seeds follow TF1's graph/op seed rules:
with ``gc.set_random_seed`` a program builds the same values in every Session.

Fan sizes follow TF1's ``_compute_fans``: a matrix ``[fan_in, fan_out]``; a convolution
kernel ``[..., in_channels, out_channels]`` multiplies both by its receptive field.

Example:
    >>> init = gc.initializers.variance_scaling(scale=2.0, mode="fan_in")
    >>> W = gc.get_variable("W", [3, 3, 16, 32], initializer=init)   # stddev ~ sqrt(2/144)
"""
from __future__ import annotations

import math

import numpy as np

from graphc import dtypes as gdt
from graphc.convert import numpy_value
from graphc.graph import Tensor
from graphc.ops import creation
from graphc.ops import random as random_ops
from graphc.ops.elementwise import multiply
from graphc.shapes import TensorShape, as_shape
from graphc.static_values import constant_value_as_shape
from graphc.variables import global_variables_initializer, local_variables_initializer
from graphc.variables import variables_initializer as variables  # noqa: F401 - TF1's name

__all__ = ["Initializer", "Zeros", "Ones", "Constant", "RandomUniform", "RandomNormal",
           "TruncatedNormal", "UniformUnitScaling", "VarianceScaling", "Orthogonal", "Identity",
           "GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform", "LecunNormal",
           "LecunUniform", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform",
           "compute_fans", "fully_defined_dims"]


def compute_fans(shape) -> tuple:
    """``(fan_in, fan_out)`` of a weight shape, by TF1's rule.

    Example:
        >>> compute_fans([3, 3, 16, 32])      # receptive field 9
        (144, 288)
    """
    dims = [int(d) for d in shape]
    if not dims:
        return 1, 1
    if len(dims) == 1:
        return dims[0], dims[0]
    receptive_field = int(np.prod(dims[:-2], dtype=np.int64))
    return dims[-2] * receptive_field, dims[-1] * receptive_field


def fully_defined_dims(shape, who: str) -> list:
    if isinstance(shape, Tensor):
        dims = constant_value_as_shape(shape)
    else:
        dims = as_shape(shape.as_list() if isinstance(shape, TensorShape) else shape)
    if not dims.is_fully_defined():
        raise ValueError(f"{who}: the shape to initialize must be fully defined, got {dims}")
    return list(dims.dims)


def _shape_arg(shape):
    """A shape for the creation/random ops: lists and tensors as they are."""
    return shape if isinstance(shape, (Tensor, list, tuple)) else fully_defined_dims(shape, "shape")


class Initializer:
    """Base class: ``init(shape, dtype=None, partition_info=None) -> Tensor``.

    Subclasses list their constructor arguments in ``_config`` (for ``get_config``).
    """

    _config: tuple = ()

    def __call__(self, shape, dtype=None, partition_info=None):
        raise NotImplementedError(f"{type(self).__name__} must define __call__")

    def get_config(self) -> dict:
        """The constructor arguments, so ``type(init).from_config(init.get_config())``
        rebuilds it."""
        config = {key: getattr(self, key) for key in self._config}
        if "dtype" in config:
            config["dtype"] = config["dtype"].name
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Initializer":
        return cls(**config)

    def _dtype(self, dtype, floating=False):
        dtype = self.dtype if dtype is None else gdt.as_dtype(dtype)
        if floating and not dtype.is_floating:
            raise ValueError(f"{type(self).__name__}: expected a floating point dtype, got "
                             f"{dtype.name}")
        return dtype

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _Filled(Initializer):
    _config = ("dtype",)
    _fill = staticmethod(creation.zeros)

    def __init__(self, dtype=gdt.float32):
        self.dtype = gdt.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return self._fill(_shape_arg(shape), self._dtype(dtype))


class Zeros(_Filled):
    """All zeros (``gc.zeros_initializer()``; TF1's default for integer and bool variables)."""


class Ones(_Filled):
    """All ones (``gc.ones_initializer()``)."""

    _fill = staticmethod(creation.ones)


class Constant(Initializer):
    """A constant: a scalar fills the shape; a list or array with fewer elements than the
    shape is padded with its last element, as TF1 does (more is an error).

    Example:
        >>> b = gc.get_variable("b", [4], initializer=gc.constant_initializer(0.1))
    """

    _config = ("value", "dtype", "verify_shape")

    def __init__(self, value=0, dtype=gdt.float32, verify_shape=False):
        if not (np.isscalar(value) or isinstance(value, (list, tuple, np.ndarray))):
            raise TypeError(f"constant_initializer: invalid type for the initial value: "
                            f"{type(value).__name__} (expected a Python scalar, list or tuple "
                            "of values, or a numpy.ndarray)")
        self.value, self.dtype, self.verify_shape = value, gdt.as_dtype(dtype), verify_shape

    def __call__(self, shape, dtype=None, partition_info=None, verify_shape=None):
        dtype = self._dtype(dtype)
        dims = fully_defined_dims(shape, "constant_initializer")
        verify = self.verify_shape if verify_shape is None else verify_shape
        array = numpy_value(self.value, dtype, context="constant_initializer: ").ravel()
        needed = int(np.prod(dims, dtype=np.int64))
        if array.size > needed or (verify and array.size not in (1, needed)):
            raise ValueError(f"constant_initializer: {array.size} values given for shape "
                             f"{dims}, which holds {needed}")
        if 0 < array.size < needed and not verify:
            array = np.concatenate([array, np.repeat(array[-1:], needed - array.size)])
        return creation.constant(array.reshape(dims) if array.size else array, dtype=dtype,
                                 shape=dims)


class RandomUniform(Initializer):
    """Uniform values in ``[minval, maxval)`` (``maxval`` None: 1 for floats)."""

    _config = ("minval", "maxval", "seed", "dtype")

    def __init__(self, minval=0, maxval=None, seed=None, dtype=gdt.float32):
        self.minval, self.maxval, self.seed = minval, maxval, seed
        self.dtype = gdt.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_ops.random_uniform(_shape_arg(shape), self.minval, self.maxval,
                                         self._dtype(dtype), seed=self.seed)


class RandomNormal(Initializer):
    """Normal values with ``mean`` and ``stddev``."""

    _config = ("mean", "stddev", "seed", "dtype")

    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=gdt.float32):
        self.mean, self.stddev, self.seed = mean, stddev, seed
        self.dtype = gdt.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_ops.random_normal(_shape_arg(shape), self.mean, self.stddev,
                                        self._dtype(dtype, floating=True), seed=self.seed)


class TruncatedNormal(RandomNormal):
    """Normal values redrawn until within two ``stddev`` of ``mean``."""

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_ops.truncated_normal(_shape_arg(shape), self.mean, self.stddev,
                                           self._dtype(dtype, floating=True), seed=self.seed)


class UniformUnitScaling(Initializer):
    """Uniform in ``±factor * sqrt(3 / input_size)``, ``input_size`` the product of all
    dims but the last (TF1's deprecated ``uniform_unit_scaling_initializer``)."""

    _config = ("factor", "seed", "dtype")

    def __init__(self, factor=1.0, seed=None, dtype=gdt.float32):
        self.factor, self.seed, self.dtype = factor, seed, gdt.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dims = fully_defined_dims(shape, "uniform_unit_scaling_initializer")
        scale_dims = getattr(partition_info, "full_shape", None) or dims
        input_size = max(float(np.prod(scale_dims[:-1])), 1.0)
        limit = math.sqrt(3.0 / input_size) * self.factor
        return random_ops.random_uniform(dims, -limit, limit, self._dtype(dtype, True),
                                         seed=self.seed)


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("normal", "uniform", "truncated_normal", "untruncated_normal")
# scipy.stats.truncnorm.std(a=-2, b=2): a normal cut at two stddevs keeps this much spread
_TRUNCATED_STDDEV = .87962566103423978


class VarianceScaling(Initializer):
    """Values of variance ``scale / n``, ``n`` the fan-in, fan-out or their average.

    ``distribution``: ``"truncated_normal"`` (and its old name ``"normal"``: stddev
    ``sqrt(scale / n) / .8796``, cut at two stddevs), ``"untruncated_normal"``, or
    ``"uniform"`` (within ``±sqrt(3 scale / n)``).

    Example:
        >>> he = gc.variance_scaling_initializer(scale=2.0, mode="fan_in")
    """

    _config = ("scale", "mode", "distribution", "seed", "dtype")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 dtype=gdt.float32):
        if not scale > 0.0:
            raise ValueError(f"variance_scaling: scale must be a positive float, got {scale}")
        if str(mode).lower() not in _MODES:
            raise ValueError(f"variance_scaling: invalid mode {mode!r}; expected one of "
                             f"{', '.join(_MODES)}")
        if str(distribution).lower() not in _DISTRIBUTIONS:
            raise ValueError(f"variance_scaling: invalid distribution {distribution!r}; "
                             f"expected one of {', '.join(_DISTRIBUTIONS)}")
        self.scale, self.mode, self.distribution = scale, mode.lower(), distribution.lower()
        self.seed, self.dtype = seed, gdt.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self._dtype(dtype, floating=True)
        dims = fully_defined_dims(shape, type(self).__name__)
        fan_in, fan_out = compute_fans(getattr(partition_info, "full_shape", None) or dims)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        variance = self.scale / max(1.0, n[self.mode])
        if self.distribution in ("normal", "truncated_normal"):
            stddev = math.sqrt(variance) / _TRUNCATED_STDDEV
            return random_ops.truncated_normal(dims, 0.0, stddev, dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return random_ops.random_normal(dims, 0.0, math.sqrt(variance), dtype, seed=self.seed)
        limit = math.sqrt(3.0 * variance)
        return random_ops.random_uniform(dims, -limit, limit, dtype, seed=self.seed)


def _variance_scaling_preset(name, scale, mode, distribution, doc):
    class Preset(VarianceScaling):
        _config = ("seed", "dtype")

        def __init__(self, seed=None, dtype=gdt.float32):
            super().__init__(scale, mode, distribution, seed, dtype)
    Preset.__name__ = Preset.__qualname__ = name
    Preset.__doc__ = doc
    return Preset


GlorotUniform = _variance_scaling_preset(
    "GlorotUniform", 1.0, "fan_avg", "uniform",
    "Uniform in ±sqrt(6 / (fan_in + fan_out)) (Xavier; ``get_variable``'s default for floats).")
GlorotNormal = _variance_scaling_preset(
    "GlorotNormal", 1.0, "fan_avg", "truncated_normal",
    "Truncated normal of stddev sqrt(2 / (fan_in + fan_out)) before truncation.")
HeNormal = _variance_scaling_preset("HeNormal", 2.0, "fan_in", "truncated_normal",
                                    "Truncated normal of stddev sqrt(2 / fan_in) (He et al.).")
HeUniform = _variance_scaling_preset("HeUniform", 2.0, "fan_in", "uniform",
                                     "Uniform in ±sqrt(6 / fan_in).")
LecunNormal = _variance_scaling_preset("LecunNormal", 1.0, "fan_in", "truncated_normal",
                                       "Truncated normal of stddev sqrt(1 / fan_in).")
LecunUniform = _variance_scaling_preset("LecunUniform", 1.0, "fan_in", "uniform",
                                        "Uniform in ±sqrt(3 / fan_in).")


def he_normal(seed=None):
    """``HeNormal(seed)`` (TF1 ``tf.initializers.he_normal``)."""
    return HeNormal(seed)


def he_uniform(seed=None):
    """``HeUniform(seed)``."""
    return HeUniform(seed)


def lecun_normal(seed=None):
    """``LecunNormal(seed)``."""
    return LecunNormal(seed)


def lecun_uniform(seed=None):
    """``LecunUniform(seed)``."""
    return LecunUniform(seed)


class Orthogonal(Initializer):
    """``gain`` times a random orthogonal matrix: flattened to ``[prod(shape[:-1]),
    shape[-1]]``, its rows or columns (whichever are fewer) are orthonormal.

    Example:
        >>> U = gc.get_variable("U", [128, 128], initializer=gc.orthogonal_initializer())
    """

    _config = ("gain", "seed", "dtype")

    def __init__(self, gain=1.0, seed=None, dtype=gdt.float32):
        self.gain, self.seed, self.dtype = gain, seed, gdt.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self._dtype(dtype, floating=True)
        dims = fully_defined_dims(shape, "orthogonal_initializer")
        if len(dims) < 2:
            raise ValueError(f"orthogonal_initializer: the tensor to initialize must be at "
                             f"least two-dimensional, got shape {dims}")
        matrix = random_ops.random_orthogonal(dims, dtype, seed=self.seed)
        return multiply(creation.constant(self.gain, dtype=dtype), matrix)


class Identity(Initializer):
    """``gain`` times the identity matrix (rectangular shapes get ``eye(rows, cols)``)."""

    _config = ("gain", "dtype")

    def __init__(self, gain=1.0, dtype=gdt.float32):
        self.gain, self.dtype = gain, gdt.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self._dtype(dtype)
        dims = fully_defined_dims(getattr(partition_info, "full_shape", None) or shape, "identity")
        if len(dims) != 2:
            raise ValueError(f"identity_initializer: only 2-D matrices, got shape {dims}")
        return creation.constant(self.gain * np.eye(*dims), dtype=dtype)


# TF1's lower-case spellings in tf.initializers (the classes themselves) ---------------------
zeros, ones, constant = Zeros, Ones, Constant
random_uniform, random_normal, truncated_normal = RandomUniform, RandomNormal, TruncatedNormal
uniform_unit_scaling, variance_scaling = UniformUnitScaling, VarianceScaling
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
orthogonal, identity = Orthogonal, Identity
global_variables, local_variables = global_variables_initializer, local_variables_initializer

# ... and the tf.*_initializer aliases
zeros_initializer, ones_initializer, constant_initializer = Zeros, Ones, Constant
random_uniform_initializer, random_normal_initializer = RandomUniform, RandomNormal
truncated_normal_initializer = TruncatedNormal
uniform_unit_scaling_initializer, variance_scaling_initializer = UniformUnitScaling, VarianceScaling
glorot_uniform_initializer, glorot_normal_initializer = GlorotUniform, GlorotNormal
orthogonal_initializer = Orthogonal

