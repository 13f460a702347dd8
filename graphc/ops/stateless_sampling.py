"""TF's ``tf.random.stateless_*`` functions, ``split`` and ``fold_in``, on the raw stateless
ops of graphc.ops.stateless_random: the same seed pair gives TensorFlow's values.

Example:
    >>> gc.random.stateless_uniform([3], seed=[1, 2])        # [0.8440604, 0.19204533, 0.9962232]
    >>> gc.random.stateless_uniform([2], seed=[1, 2], minval=0, maxval=10, dtype=gc.int32)
"""
from __future__ import annotations

import contextlib

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor, graph_of
from graphc.ops import stateless_random as raw
from graphc.ops.array import stack
from graphc.ops.elementwise import add, multiply, subtract

__all__ = ["stateless_uniform", "stateless_normal", "stateless_truncated_normal",
           "stateless_categorical", "stateless_multinomial", "split", "fold_in"]

stateless_multinomial = raw.stateless_multinomial


@contextlib.contextmanager
def name_scope_of(name, default: str, values):
    """The graph of ``values`` as the default, inside a name scope (TF's op-function scope)."""
    graph = graph_of(*values)
    with graph.as_default(), graph.name_scope(name or default):
        yield


def _scaled(draws, scale, shift, dtype):
    """``draws * scale + shift`` in ``dtype``, as TF composes its float ops."""
    scale = convert_to_tensor(scale, dtype=dtype)
    shift = convert_to_tensor(shift, dtype=dtype)
    return add(multiply(draws, scale), shift)


def stateless_uniform(shape, seed, minval=0, maxval=None, dtype=gdt.float32, name=None):
    """Uniform values in [minval, maxval) that depend only on ``seed`` (a pair of ints) —
    TF's ``tf.random.stateless_uniform``, with TF's values. Floats default to [0, 1);
    integers need ``maxval``, or ``minval=maxval=None`` for the dtype's whole range.

    Example:
        >>> gc.random.stateless_uniform([2, 2], seed=[7, 3], minval=-1.0, maxval=1.0)
    """
    dtype = gdt.as_dtype(dtype)
    with name_scope_of(name, "stateless_random_uniform", (shape, seed, minval, maxval)):
        if dtype.is_integer:
            if minval is None and maxval is None:
                return raw.stateless_random_uniform_full_int(shape, seed, dtype=dtype)
            if minval is None or maxval is None:
                raise ValueError(f"stateless_uniform: dtype {dtype.name} needs both minval and "
                                 f"maxval (or neither, for the whole range)")
            return raw.stateless_random_uniform_int(shape, seed, minval, maxval, dtype=dtype)
        if minval is None:
            raise ValueError("stateless_uniform: minval=None is only for integer dtypes")
        draws = raw.stateless_random_uniform(shape, seed, dtype=dtype)
        if maxval is None:
            maxval = 1
        minval_t = convert_to_tensor(minval, dtype=dtype)
        return _scaled(draws, subtract(convert_to_tensor(maxval, dtype=dtype), minval_t),
                       minval_t, dtype)


def stateless_normal(shape, seed, mean=0.0, stddev=1.0, dtype=gdt.float32, name=None):
    """Normal values N(mean, stddev²) that depend only on ``seed`` (TF's
    ``tf.random.stateless_normal``, with TF's values).

    Example:
        >>> gc.random.stateless_normal([3], seed=[1, 2])   # [0.5441101, 0.20738031, 0.07356432]
    """
    dtype = gdt.as_dtype(dtype)
    with name_scope_of(name, "stateless_random_normal", (shape, seed, mean, stddev)):
        return _scaled(raw.stateless_random_normal(shape, seed, dtype=dtype), stddev, mean, dtype)


def stateless_truncated_normal(shape, seed, mean=0.0, stddev=1.0, dtype=gdt.float32, name=None):
    """Normal values redrawn when beyond two standard deviations, depending only on ``seed``
    (TF's ``tf.random.stateless_truncated_normal``, with TF's values).

    Example:
        >>> init = gc.random.stateless_truncated_normal([784, 10], seed=[0, 1], stddev=0.1)
    """
    dtype = gdt.as_dtype(dtype)
    with name_scope_of(name, "stateless_truncated_normal", (shape, seed, mean, stddev)):
        return _scaled(raw.stateless_truncated_normal(shape, seed, dtype=dtype), stddev, mean,
                       dtype)


def stateless_categorical(logits, num_samples, seed, dtype=gdt.int64, name=None):
    """Class indices drawn from each row of ``logits`` [batch, classes], depending only on
    ``seed`` (TF's ``tf.random.stateless_categorical``).

    Example:
        >>> gc.random.stateless_categorical([[0.0, 1.0, 2.0]], 5, seed=[1, 2])   # [[2, 2, 1, 2, 2]]
    """
    return raw.stateless_multinomial(logits, num_samples, seed, output_dtype=dtype,
                                     name=name or "stateless_categorical")


def split(seed, num=2, name=None):
    """``num`` new seed pairs from ``seed`` — a tensor [num, 2] of the seed's dtype (TF's
    ``tf.random.experimental.stateless_split``).

    Example:
        >>> pairs = gc.random.split([1, 2], num=3)    # [[1105988140, 1738052849], ...]
    """
    seed = convert_to_tensor(seed, dtype_hint=gdt.int32)
    return stateless_uniform([num, 2], seed, minval=None, maxval=None, dtype=seed.dtype,
                             name=name or "split")


def fold_in(seed, data, name=None):
    """A new seed pair from ``seed`` and an integer ``data`` (a step, a worker index): TF's
    ``tf.random.experimental.stateless_fold_in``.

    Example:
        >>> step_seed = gc.random.fold_in([1, 2], 5)   # [1105988140, 5]
    """
    data = convert_to_tensor(data, dtype_hint=gdt.int32)
    with name_scope_of(name, "fold_in", (seed, data)):
        first = stateless_uniform([], seed, minval=None, maxval=None, dtype=data.dtype)
        return stack([first, data])
