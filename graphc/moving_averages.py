"""TF1's ``tf.train.ExponentialMovingAverage`` and ``assign_moving_average``.

A moving average is a shadow Variable ``<var>/ExponentialMovingAverage`` (non-trainable, in
GLOBAL_VARIABLES) updated by ``shadow -= (1 - decay) * (shadow - var)`` when the op that
``apply`` returns runs. Created inside ``control_dependencies([train_op])``, that op reads
the variables after the training step, so the averages follow the updated weights.

Example:
    >>> ema = gc.train.ExponentialMovingAverage(decay=0.99, num_updates=step)
    >>> with gc.control_dependencies([opt_op]):
    ...     train_op = ema.apply([W, b])
    >>> eval_logits = gc.matmul(x, ema.average(W)) + ema.average(b)
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor, graph_of
from graphc.graph import Tensor
from graphc.ops.control import group
from graphc.ops.creation import constant
from graphc.ops.elementwise import minimum
from graphc.ops.select import cast
from graphc.optimizer import create_filled_slot, create_slot
from graphc.variables import (GraphKeys, Variable, assign, assign_add, assign_sub,
                              global_variables, moving_average_variables,
                              trainable_variables)

__all__ = ["ExponentialMovingAverage", "assign_moving_average"]

_AVERAGED_DTYPES = (gdt.float16, gdt.float32, gdt.float64)


def assign_moving_average(variable, value, decay, zero_debias=True, name=None):
    """``variable -= (variable - value) * (1 - decay)``, TF1's update of a moving average.

    With ``zero_debias`` the average starts from 0 and is divided by ``1 - decay^t`` after
    ``t`` updates (Adam's bias correction), kept in the variables ``<variable>/biased`` and
    ``<variable>/local_step``. Returns the updated value.

    Example:
        >>> update = gc.train.assign_moving_average(moving_mean, batch_mean, decay=0.9,
        ...                                         zero_debias=False)
    """
    graph = graph_of(variable, value, decay)
    with graph.as_default(), graph.atomic(), \
            graph.name_scope(name or "AssignMovingAvg") as scope:
        rate = convert_to_tensor(1.0 - decay, name="decay")  # a Python decay subtracts exactly
        if rate.dtype != variable.dtype:
            rate = cast(rate, variable.dtype)
        value = convert_to_tensor(value)
        if zero_debias:
            return _zero_debiased_update(variable, value, rate, scope)
        return assign_sub(variable, (variable.value() - value) * rate, name=scope)


def _zero_debiased_update(unbiased, value, rate, scope):
    """TF1's ``_zero_debias``: a biased average from 0 and a step count, their ratio stored."""
    biased = create_filled_slot(unbiased, "biased")
    local_step = create_slot(unbiased, lambda: constant(np.zeros((), unbiased.dtype.np)),
                             "local_step")
    update_biased = assign_sub(biased, (biased.value() - value) * rate)
    update_local_step = assign_add(local_step, 1.0)
    bias_factor = 1.0 - (1.0 - rate) ** update_local_step
    return assign(unbiased, update_biased / bias_factor, name=scope)


class ExponentialMovingAverage:
    """Moving averages of variables (or tensors) with TF1's names and update rule.

    Args:
        decay: the decay, e.g. 0.999 (a float or float32 tensor).
        num_updates: optional step count (the global step): the decay used is then
            ``min(decay, (1 + num_updates) / (10 + num_updates))``, so early averages move
            fast.
        zero_debias: debias the averages of tensors (not Variables, as in TF1), which start
            at 0.
        name: the averages' name (``W/ExponentialMovingAverage``) and the update op's scope.

    Example:
        >>> ema = gc.train.ExponentialMovingAverage(0.9)
        >>> update = ema.apply([W])
        >>> ema.average(W).name, ema.average_name(W)
        ('W/ExponentialMovingAverage:0', 'W/ExponentialMovingAverage')
    """

    def __init__(self, decay, num_updates=None, zero_debias=False,
                 name="ExponentialMovingAverage"):
        self._decay, self._num_updates = decay, num_updates
        self._zero_debias, self._name = zero_debias, name
        self._averages: dict = {}

    @property
    def name(self) -> str:
        return self._name

    def apply(self, var_list=None):
        """Create the averages (once per variable) and return an op updating them all.

        Variables' averages start at the variable's initial value and the variables join
        ``GraphKeys.MOVING_AVERAGE_VARIABLES``; tensors' averages start at 0.

        Example:
            >>> with gc.control_dependencies([opt_op]):
            ...     train_op = ema.apply(gc.trainable_variables())
        """
        var_list = list(trainable_variables() if var_list is None else var_list)
        for var in var_list:
            if not isinstance(var, (Variable, Tensor)):
                raise TypeError(f"ExponentialMovingAverage.apply: {var!r} is neither a "
                                "Variable nor a Tensor")
            if var.dtype not in _AVERAGED_DTYPES:
                raise TypeError(f"The variables must be half, float, or double: {var.name}")
        graph = graph_of(*var_list)
        with graph.as_default(), graph.atomic():
            created = {}  # kept only if the whole op builds (graph.atomic undoes the rest)
            for var in var_list:
                if var not in self._averages and var not in created:
                    created[var] = self._create_average(var)
            averages = {**self._averages, **created}
            with graph.name_scope(self._name) as scope:
                decay = convert_to_tensor(self._decay, dtype=gdt.float32, name="decay")
                if self._num_updates is not None:
                    updates = cast(self._num_updates, gdt.float32, name="num_updates")
                    decay = minimum(decay, (1.0 + updates) / (10.0 + updates))
                # TF1 debiases only tensors' averages: a Variable's starts at its value
                ops = [assign_moving_average(averages[var], var, decay, zero_debias=(
                    self._zero_debias and not isinstance(var, Variable))) for var in var_list]
                update = group(*ops, name=scope)
        self._averages = averages
        for var in created:
            if isinstance(var, Variable):
                graph.add_to_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, var)
        return update

    def _create_average(self, var) -> Variable:
        if isinstance(var, Variable):
            return create_slot(var, var.initial_value, self._name)
        return create_filled_slot(var, self._name)

    def average(self, var):
        """The shadow Variable of ``var``, or None if ``apply`` has not seen it."""
        return self._averages.get(var)

    def average_name(self, var) -> str:
        """The op name of ``var``'s average, also before ``apply`` created it (the name it
        would get), as savers use it.

        Example:
            >>> ema.average_name(W)
            'W/ExponentialMovingAverage'
        """
        if var in self._averages:
            return self._averages[var].op.name
        return var.graph.unique_name(f"{var.op.name}/{self._name}", mark_used=False)

    def variables_to_restore(self, moving_avg_variables=None) -> dict:
        """``{name in a checkpoint: variable}`` restoring each averaged variable from its
        average, and every other global variable from its own name (TF1's mapping for
        evaluating with averaged weights).

        Example:
            >>> saver = gc.train.Saver(ema.variables_to_restore())
        """
        if moving_avg_variables is None:
            moving_avg_variables = trainable_variables() + moving_average_variables()
        averaged = list(dict.fromkeys(moving_avg_variables))
        name_map = {self.average_name(v): v for v in averaged}
        averaged_names = {v.name for v in averaged}
        for v in global_variables():
            if v.name not in averaged_names and v.op.name not in name_map:
                name_map[v.op.name] = v
        return name_map
