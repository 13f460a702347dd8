"""TF1's Adagrad, Adadelta, proximal gradient descent, proximal Adagrad and FTRL optimizers.

Each update is the formula of TF1's kernel (``training_ops.cc``) written as graph ops, in its
order of operations, with TF1's slot names (``W/Adagrad``; ``W/Adadelta`` and
``W/Adadelta_1``; ``W/Ftrl`` and ``W/Ftrl_1``).
"""
from __future__ import annotations

import numbers

from graphc.ops.control import group
from graphc.ops.creation import zeros_like
from graphc.ops.elementwise import abs, maximum, pow, rsqrt, sign, sqrt, square
from graphc.ops.select import where
from graphc.optimizer import Optimizer
from graphc.variables import assign, assign_sub

__all__ = ["AdagradOptimizer", "AdadeltaOptimizer", "ProximalGradientDescentOptimizer",
           "ProximalAdagradOptimizer", "FtrlOptimizer"]


def _is_zero(value) -> bool:
    """A hyperparameter statically known to be 0 (a Python number), so the kernel's
    ``if (l1 > 0)`` branch can be chosen when the graph is built."""
    return isinstance(value, numbers.Number) and value == 0


def _proximal_step(prox, rate, l1, l2, l1_is_zero: bool):
    """FOBOS's proximal step on ``prox = var - rate * grad``::

        l1 > 0:  sign(prox) * max(|prox| - rate * l1, 0) / (1 + rate * l2)
        else:    prox / (1 + rate * l2)
    """
    denominator = 1.0 + rate * l2
    if l1_is_zero:
        return prox / denominator
    return sign(prox) * maximum(abs(prox) - rate * l1, 0.0) / denominator


class AdagradOptimizer(Optimizer):
    """Adagrad as TF1: ``accum += grad^2; var -= lr * grad / sqrt(accum)``; the accumulator
    (slot "accumulator", ``W/Adagrad``) starts at ``initial_accumulator_value``.

    Example:
        >>> train_op = gc.train.AdagradOptimizer(0.1).minimize(loss)
    """

    def __init__(self, learning_rate, initial_accumulator_value=0.1, use_locking=False,
                 name="Adagrad"):
        if initial_accumulator_value <= 0.0:
            raise ValueError(f"initial_accumulator_value must be positive: "
                             f"{initial_accumulator_value}")
        super().__init__(use_locking, name)
        self._lr, self._initial = learning_rate, initial_accumulator_value

    def _create_slots(self, var_list):
        for var in var_list:
            self._slot(var, "accumulator", self._initial)

    def _apply_dense(self, grad, var):
        slot = self._slot(var, "accumulator")
        accum = assign(slot, slot.value() + square(grad))
        return assign_sub(var, grad * self._as(self._lr, var) * rsqrt(accum)).op


class AdadeltaOptimizer(Optimizer):
    """Adadelta (Zeiler 2012) as TF1's kernel computes it::

        accum = rho * accum + (1 - rho) * grad^2
        update = sqrt(accum_update + epsilon) / sqrt(accum + epsilon) * grad
        var -= lr * update
        accum_update = rho * accum_update + (1 - rho) * update^2

    Slots "accum" (``W/Adadelta``) and "accum_update" (``W/Adadelta_1``) start at 0.

    Example:
        >>> opt = gc.train.AdadeltaOptimizer(learning_rate=1.0, rho=0.95, epsilon=1e-6)
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-8, use_locking=False,
                 name="Adadelta"):
        super().__init__(use_locking, name)
        self._lr, self._rho, self._epsilon = learning_rate, rho, epsilon

    def _create_slots(self, var_list):
        for var in var_list:
            self._slot(var, "accum")
            self._slot(var, "accum_update")

    def _apply_dense(self, grad, var):
        lr, rho, epsilon = (self._as(h, var) for h in (self._lr, self._rho, self._epsilon))
        accum_slot, update_slot = self._slot(var, "accum"), self._slot(var, "accum_update")
        accum = assign(accum_slot, accum_slot.value() * rho + square(grad) * (1.0 - rho))
        previous = update_slot.value()
        update = sqrt(previous + epsilon) * rsqrt(accum + epsilon) * grad
        var_update = assign_sub(var, update * lr)
        update_update = assign(update_slot, previous * rho + square(update) * (1.0 - rho))
        return group(var_update, update_update)


class ProximalGradientDescentOptimizer(Optimizer):
    """Gradient descent followed by TF1's proximal (FOBOS) step for L1/L2 penalties::

        prox = var - lr * grad
        var = sign(prox) * max(|prox| - lr * l1, 0) / (1 + lr * l2)

    Example:
        >>> opt = gc.train.ProximalGradientDescentOptimizer(0.1, l1_regularization_strength=0.01)
    """

    def __init__(self, learning_rate, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, use_locking=False,
                 name="ProximalGradientDescent"):
        super().__init__(use_locking, name)
        self._lr, self._l1, self._l2 = (learning_rate, l1_regularization_strength,
                                        l2_regularization_strength)

    def _apply_dense(self, grad, var):
        lr, l1, l2 = (self._as(h, var) for h in (self._lr, self._l1, self._l2))
        prox = var.value() - grad * lr
        return assign(var, _proximal_step(prox, lr, l1, l2, _is_zero(self._l1))).op


class ProximalAdagradOptimizer(Optimizer):
    """Adagrad's per-element rate ``lr / sqrt(accum)`` with the proximal step of
    ``ProximalGradientDescentOptimizer`` (slot "accumulator", ``W/ProximalAdagrad``).

    Example:
        >>> opt = gc.train.ProximalAdagradOptimizer(0.1, l2_regularization_strength=0.01)
    """

    def __init__(self, learning_rate, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 use_locking=False, name="ProximalAdagrad"):
        if initial_accumulator_value <= 0.0:
            raise ValueError(f"initial_accumulator_value must be positive: "
                             f"{initial_accumulator_value}")
        super().__init__(use_locking, name)
        self._lr, self._initial = learning_rate, initial_accumulator_value
        self._l1, self._l2 = l1_regularization_strength, l2_regularization_strength

    def _create_slots(self, var_list):
        for var in var_list:
            self._slot(var, "accumulator", self._initial)

    def _apply_dense(self, grad, var):
        lr, l1, l2 = (self._as(h, var) for h in (self._lr, self._l1, self._l2))
        slot = self._slot(var, "accumulator")
        rate = lr * rsqrt(assign(slot, slot.value() + square(grad)))
        prox = var.value() - grad * rate
        return assign(var, _proximal_step(prox, rate, l1, l2, _is_zero(self._l1))).op


class FtrlOptimizer(Optimizer):
    """FTRL-Proximal (McMahan et al. 2013) as TF1's ``ApplyFtrl``/``ApplyFtrlV2`` kernels::

        g' = grad + 2 * l2_shrinkage * var;   new_accum = accum + grad^2
        linear += g' - (new_accum^-p - accum^-p) / lr * var          (p = learning_rate_power)
        var = (l1 * sign(linear) - linear) / (new_accum^-p / lr + 2 * l2)  if |linear| > l1
              0                                                           otherwise
        accum = new_accum

    Slots "accum" (``W/Ftrl``, starting at ``initial_accumulator_value``) and "linear"
    (``W/Ftrl_1``, at 0); ``accum_name``/``linear_name`` rename them.

    Example:
        >>> opt = gc.train.FtrlOptimizer(0.1, l1_regularization_strength=0.001)
    """

    def __init__(self, learning_rate, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 use_locking=False, name="Ftrl", accum_name=None, linear_name=None,
                 l2_shrinkage_regularization_strength=0.0):
        checks = [(initial_accumulator_value, "initial_accumulator_value", "positive"),
                  (-learning_rate_power, "learning_rate_power", "negative"),
                  (l1_regularization_strength, "l1_regularization_strength", "positive"),
                  (l2_regularization_strength, "l2_regularization_strength", "positive"),
                  (l2_shrinkage_regularization_strength, "l2_shrinkage_regularization_strength",
                   "positive")]
        for value, what, sign_word in checks:
            if isinstance(value, numbers.Number) and value < 0.0:
                shown = -value if what == "learning_rate_power" else value
                raise ValueError(f"{what} {shown:f} needs to be {sign_word} or zero")
        super().__init__(use_locking, name)
        self._lr, self._power, self._initial = (learning_rate, learning_rate_power,
                                                initial_accumulator_value)
        self._l1, self._l2 = l1_regularization_strength, l2_regularization_strength
        self._shrinkage = l2_shrinkage_regularization_strength
        self._accum_name, self._linear_name = accum_name, linear_name

    def _create_slots(self, var_list):
        for var in var_list:
            self._slot(var, "accum", self._initial, var_name=self._accum_name)
            self._slot(var, "linear", var_name=self._linear_name)

    def _apply_dense(self, grad, var):
        lr, power, l1, l2, shrinkage = (self._as(h, var) for h in (
            self._lr, self._power, self._l1, self._l2, self._shrinkage))
        accum_slot, linear_slot = self._slot(var, "accum"), self._slot(var, "linear")
        weights, accum = var.value(), accum_slot.value()
        new_accum = accum + square(grad)
        if isinstance(self._power, numbers.Number) and self._power == -0.5:
            root, old_root = sqrt(new_accum), sqrt(accum)  # the kernel's special case
        else:
            root, old_root = pow(new_accum, -power), pow(accum, -power)
        shrunk = grad if _is_zero(self._shrinkage) else grad + 2.0 * shrinkage * weights
        linear = assign(linear_slot, linear_slot.value() + (shrunk - (root - old_root) / lr
                                                            * weights))
        pre_shrink = (l1 * sign(linear) - linear) / (root / lr + 2.0 * l2)
        var_update = assign(var, where(abs(linear) > l1, pre_shrink, zeros_like(pre_shrink)))
        accum_update = assign(accum_slot, new_accum)
        return group(var_update, accum_update)
