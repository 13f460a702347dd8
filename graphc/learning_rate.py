"""TF1's learning-rate schedules (``tf.train.exponential_decay`` ...): graph ops on the
global step.

Each schedule is TF1's formula on ``global_step`` cast to the learning rate's dtype (a Python
float learning rate is float32), computed when the tensor is run; an optimizer given the
tensor reads the step of the run, and ``minimize(loss, global_step=step)`` advances it after
the update. The result is named after the schedule (``ExponentialDecay``) or ``name``.

Example:
    >>> step = gc.train.get_or_create_global_step()
    >>> lr = gc.train.exponential_decay(0.1, step, 1000, 0.96, staircase=True)
    >>> train_op = gc.train.GradientDescentOptimizer(lr).minimize(loss, global_step=step)
"""
from __future__ import annotations

import contextlib
import math

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor, graph_of
from graphc.ops.control import identity
from graphc.ops.creation import ones_like
from graphc.ops.elementwise import ceil, cos, equal, exp, floor, log, minimum
from graphc.ops.random import random_normal
from graphc.ops.select import cast, where
from graphc.static_values import constant_value

__all__ = ["exponential_decay", "piecewise_constant", "polynomial_decay", "natural_exp_decay",
           "inverse_time_decay", "cosine_decay", "cosine_decay_restarts", "linear_cosine_decay",
           "noisy_linear_cosine_decay"]


@contextlib.contextmanager
def _schedule(schedule: str, default_name: str, name, learning_rate, global_step):
    """Enter the schedule's name scope; yields ``(learning rate tensor, step as its dtype,
    scope)`` (the scope, ending in "/", names the result op exactly)."""
    if global_step is None:
        raise ValueError(f"global_step is required for {schedule}.")
    graph = graph_of(learning_rate, global_step)
    with graph.as_default(), graph.atomic(), graph.name_scope(name or default_name) as scope:
        rate = convert_to_tensor(learning_rate, name="learning_rate")
        yield rate, cast(global_step, rate.dtype), scope


def _as(value, like):
    """A hyperparameter (number or tensor) cast to ``like``'s dtype, as TF1's schedules do."""
    return cast(convert_to_tensor(value, dtype_hint=like.dtype), like.dtype)


def _progress(step, decay_steps, rate, staircase: bool):
    """``step / decay_steps``, floored with ``staircase`` (whole decay periods only)."""
    p = step / _as(decay_steps, rate)
    return floor(p) if staircase else p


def exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    """``learning_rate * decay_rate ^ (global_step / decay_steps)``; with ``staircase`` the
    exponent is floored (the rate drops every ``decay_steps``).

    Example:
        >>> lr = gc.train.exponential_decay(0.1, step, 100, 0.5, staircase=True)
    """
    with _schedule("exponential_decay", "ExponentialDecay", name, learning_rate,
                   global_step) as (rate, step, scope):
        p = _progress(step, decay_steps, rate, staircase)
        return _named(rate * _as(decay_rate, rate) ** p, scope)


def natural_exp_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    """``learning_rate * exp(-decay_rate * p)``, ``p = global_step / decay_steps`` (floored
    with ``staircase``).

    Example:
        >>> lr = gc.train.natural_exp_decay(0.1, step, decay_steps=10, decay_rate=0.5)
    """
    with _schedule("natural_exp_decay", "NaturalExpDecay", name, learning_rate,
                   global_step) as (rate, step, scope):
        p = _progress(step, decay_steps, rate, staircase)
        return _named(rate * exp(-_as(decay_rate, rate) * p), scope)


def inverse_time_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                       name=None):
    """``learning_rate / (1 + decay_rate * p)``, ``p = global_step / decay_steps`` (floored
    with ``staircase``).

    Example:
        >>> lr = gc.train.inverse_time_decay(0.1, step, decay_steps=1, decay_rate=0.5)
    """
    with _schedule("inverse_time_decay", "InverseTimeDecay", name, learning_rate,
                   global_step) as (rate, step, scope):
        p = _progress(step, decay_steps, rate, staircase)
        return _named(rate / (1.0 + _as(decay_rate, rate) * p), scope)


def polynomial_decay(learning_rate, global_step, decay_steps, end_learning_rate=0.0001,
                     power=1.0, cycle=False, name=None):
    """From ``learning_rate`` to ``end_learning_rate`` over ``decay_steps``::

        step = min(global_step, decay_steps)       (cycle: decay_steps *= ceil(step / decay_steps))
        (learning_rate - end_learning_rate) * (1 - step / decay_steps) ^ power + end_learning_rate

    Example:
        >>> lr = gc.train.polynomial_decay(0.1, step, 10000, 0.01, power=0.5)
    """
    with _schedule("polynomial_decay", "PolynomialDecay", name, learning_rate,
                   global_step) as (rate, step, scope):
        end, steps = _as(end_learning_rate, rate), _as(decay_steps, rate)
        if cycle:  # the first multiple of decay_steps at or above the step (1 at step 0)
            multiplier = where(equal(step, 0.0), ones_like(step), ceil(step / steps))
            steps = steps * multiplier
        else:
            step = minimum(step, steps)
        p = step / steps
        return _named((rate - end) * (1.0 - p) ** _as(power, rate) + end, scope)


def cosine_decay(learning_rate, global_step, decay_steps, alpha=0.0, name=None):
    """Cosine annealing (Loshchilov & Hutter): ``learning_rate * ((1 - alpha) * c + alpha)``,
    ``c = (1 + cos(pi * min(global_step, decay_steps) / decay_steps)) / 2``.

    Example:
        >>> lr = gc.train.cosine_decay(0.1, step, decay_steps=1000, alpha=0.01)
    """
    with _schedule("cosine_decay", "CosineDecay", name, learning_rate,
                   global_step) as (rate, step, scope):
        steps = _as(decay_steps, rate)
        fraction = minimum(step, steps) / steps
        decayed = 0.5 * (1.0 + cos(math.pi * fraction))
        return _named(rate * ((1.0 - alpha) * decayed + alpha), scope)


def cosine_decay_restarts(learning_rate, global_step, first_decay_steps, t_mul=2.0, m_mul=1.0,
                          alpha=0.0, name=None):
    """Cosine decay with warm restarts (SGDR): period ``i`` lasts ``first_decay_steps *
    t_mul^i`` steps and starts at ``learning_rate * m_mul^i``.

    Example:
        >>> lr = gc.train.cosine_decay_restarts(0.1, step, first_decay_steps=100)
    """
    with _schedule("cosine_decay_restarts", "SGDRDecay", name, learning_rate,
                   global_step) as (rate, step, scope):
        t_mul, m_mul = _as(t_mul, rate), _as(m_mul, rate)
        fraction = step / _as(first_decay_steps, rate)
        # geometric periods: restart i = floor(log(1 - f (1 - t)) / log t) when t != 1
        geometric_restart = floor(log(1.0 - fraction * (1.0 - t_mul)) / log(t_mul))
        geometric_sum = (1.0 - t_mul ** geometric_restart) / (1.0 - t_mul)
        geometric_fraction = (fraction - geometric_sum) / t_mul ** geometric_restart
        constant_period = equal(t_mul, 1.0)
        restart = where(constant_period, floor(fraction), geometric_restart)
        fraction = where(constant_period, fraction - floor(fraction), geometric_fraction)
        decayed = 0.5 * m_mul ** restart * (1.0 + cos(math.pi * fraction))
        return _named(rate * ((1.0 - alpha) * decayed + alpha), scope)


def linear_cosine_decay(learning_rate, global_step, decay_steps, num_periods=0.5, alpha=0.0,
                        beta=0.001, name=None):
    """``learning_rate * ((alpha + linear) * cosine + beta)`` with ``linear = (decay_steps -
    s) / decay_steps`` and ``cosine = (1 + cos(2 pi num_periods s / decay_steps)) / 2``,
    ``s = min(global_step, decay_steps)`` (Bello et al. 2017).

    Example:
        >>> lr = gc.train.linear_cosine_decay(0.1, step, decay_steps=1000)
    """
    with _schedule("linear_cosine_decay", "LinearCosineDecay", name, learning_rate,
                   global_step) as (rate, step, scope):
        steps = _as(decay_steps, rate)
        step = minimum(step, steps)
        linear = (steps - step) / steps
        cosine = 0.5 * (1.0 + cos(math.pi * (2.0 * num_periods * (step / steps))))
        return _named(rate * ((alpha + linear) * cosine + beta), scope)


def noisy_linear_cosine_decay(learning_rate, global_step, decay_steps, initial_variance=1.0,
                              variance_decay=0.55, num_periods=0.5, alpha=0.0, beta=0.001,
                              name=None):
    """``linear_cosine_decay`` whose linear part gets Gaussian noise of variance
    ``initial_variance / (1 + global_step) ^ variance_decay`` (a new draw every run).

    Example:
        >>> lr = gc.train.noisy_linear_cosine_decay(0.1, step, decay_steps=1000)
    """
    with _schedule("noisy_linear_cosine_decay", "NoisyLinearCosineDecay", name, learning_rate,
                   global_step) as (rate, step, scope):
        steps = _as(decay_steps, rate)
        step = minimum(step, steps)
        linear = (steps - step) / steps
        variance = initial_variance / (1.0 + step) ** _as(variance_decay, rate)
        noisy = linear + random_normal([], stddev=variance ** 0.5, dtype=rate.dtype)
        cosine = 0.5 * (1.0 + cos(math.pi * (2.0 * num_periods * (step / steps))))
        return _named(rate * ((alpha + noisy) * cosine + beta), scope)


def piecewise_constant(x, boundaries, values, name=None):
    """``values[0]`` while ``x <= boundaries[0]``, ``values[i]`` while ``boundaries[i-1] < x
    <= boundaries[i]``, ``values[-1]`` after the last boundary (TF1's intervals).

    Boundaries must have ``x``'s dtype (int32 ones are promoted for an int64 ``x``, as Python
    ints are) and all values one dtype; each is a ValueError otherwise, as in TF1.

    Example:
        >>> lr = gc.train.piecewise_constant(step, [1000, 2000], [0.1, 0.01, 0.001])
    """
    boundaries, values = list(boundaries), list(values)
    if len(boundaries) != len(values) - 1:
        raise ValueError("The length of boundaries should be 1 less than the length of values")
    graph = graph_of(x, *boundaries, *values)
    with graph.as_default(), graph.atomic(), \
            graph.name_scope(name or "PiecewiseConstant") as scope:
        x = convert_to_tensor(x)
        points = [_boundary(convert_to_tensor(b), x) for b in boundaries]
        levels = [convert_to_tensor(v) for v in values]
        for level in levels[1:]:
            if level.dtype != levels[0].dtype:
                raise ValueError(f"Values must have elements all with the same dtype "
                                 f"({levels[0].dtype.name} vs {level.dtype.name}).")
        known = [constant_value(p) for p in points]
        if all(k is not None for k in known) and any(b > a for a, b in zip(known[1:], known)):
            raise ValueError(f"piecewise_constant: boundaries {[k.tolist() for k in known]} "
                             "must be in increasing order")
        result = levels[-1]
        for point, level in reversed(list(zip(points, levels))):
            result = where(x <= point, level, result)
        return _named(result, scope)


def _boundary(point, x):
    if point.dtype == x.dtype:
        return point
    if point.dtype == gdt.int32 and x.dtype == gdt.int64:  # Python ints: lossless promotion
        return cast(point, gdt.int64)
    raise ValueError(f"Boundaries ({point.dtype.name}) must have the same dtype as x "
                     f"({x.dtype.name}).")


def _named(tensor, scope: str):
    """The schedule's result under the scope's own name (``ExponentialDecay:0``)."""
    return identity(tensor, name=scope)
