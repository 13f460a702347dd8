"""``gc.train``: TF1's optimizers, built from symbolic gradients and assign ops.

An optimizer step is ordinary graph ops: ``gradients`` for the update directions and
``assign``-family ops for the updates, grouped into one op. Slot variables (momentum
accumulators, Adam's moments) are ordinary non-trainable Variables, so
``global_variables_initializer()`` (called after ``minimize``) initializes them, and a step
that fails midway leaves every variable and slot unchanged (the Session stages writes).
"""
from __future__ import annotations

from typing import Optional

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor, graph_of
from graphc.graph import get_default_graph
from graphc.ops.control import group
from graphc.ops.creation import ones, zeros
from graphc.ops.elementwise import sqrt, square
from graphc.ops.select import cast
from graphc.passes.gradients import gradients
from graphc.variables import GraphKeys, Variable, assign, assign_add, assign_sub

__all__ = ["Optimizer", "GradientDescentOptimizer", "MomentumOptimizer", "AdamOptimizer",
           "RMSPropOptimizer", "get_or_create_global_step", "get_global_step"]


def get_global_step(graph=None) -> Optional[Variable]:
    """The graph's global step variable, or None."""
    steps = (graph or get_default_graph()).get_collection(GraphKeys.GLOBAL_STEP)
    return steps[0] if steps else None


def get_or_create_global_step(graph=None) -> Variable:
    """The graph's int64 ``global_step`` variable, created (at 0) on first use.

    Example:
        >>> step = gc.train.get_or_create_global_step()
        >>> train_op = opt.minimize(loss, global_step=step)
    """
    graph = graph or get_default_graph()
    existing = get_global_step(graph)
    if existing is not None:
        return existing
    with graph.as_default(), graph.name_scope(None):
        return Variable(0, dtype=gdt.int64, trainable=False, name="global_step",
                        collections=[GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP])


class Optimizer:
    """Base class: ``compute_gradients``, ``apply_gradients`` and ``minimize`` as in TF1.

    Subclasses define ``_create_slots(var_list)`` and ``_apply_dense(grad, var)`` returning
    the update op of one variable, plus optionally ``_finish(update_ops)``.
    """

    def __init__(self, use_locking: bool, name: str):
        self._name = name
        self._slots: dict = {}

    def get_name(self) -> str:
        return self._name

    def compute_gradients(self, loss, var_list=None, gate_gradients=1,
                          aggregation_method=None, colocate_gradients_with_ops=False,
                          grad_loss=None, stop_gradients=None) -> list:
        """``[(gradient, variable)]`` for the trainable variables (or ``var_list``).

        Example:
            >>> grads_and_vars = opt.compute_gradients(loss)
        """
        loss = convert_to_tensor(loss)
        graph = loss.graph
        if var_list is None:
            var_list = graph.get_collection(GraphKeys.TRAINABLE_VARIABLES)
        var_list = list(var_list)
        if not var_list:
            raise ValueError("No variables to optimize.")
        with graph.as_default():
            grads = gradients(loss, var_list, grad_ys=grad_loss, stop_gradients=stop_gradients)
        return list(zip(grads, var_list))

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """One op applying every ``(gradient, variable)`` update (None gradients skipped).

        Example:
            >>> train_op = opt.apply_gradients(opt.compute_gradients(loss))
        """
        pairs = [(g, v) for g, v in grads_and_vars if g is not None]
        if not pairs:
            raise ValueError(f"No gradients provided for any variable: "
                             f"{[v.name for _, v in grads_and_vars]}")
        graph = graph_of(*[v.value() for _, v in pairs])
        with graph.as_default(), graph.atomic(), graph.name_scope(name or self._name) as scope:
            with graph.control_dependencies(None):
                self._create_slots([v for _, v in pairs])
            updates = []
            for grad, var in pairs:
                with graph.name_scope("update_" + var.op.name):
                    updates.append(self._apply_dense(convert_to_tensor(grad), var))
            if global_step is None:
                return self._finish(updates, scope[:-1] + "/")
            finish = self._finish(updates, "update")
            with graph.control_dependencies([finish]):
                return assign_add(global_step, 1, name=scope[:-1] + "/").op

    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=1,
                 aggregation_method=None, colocate_gradients_with_ops=False, name=None,
                 grad_loss=None):
        """``apply_gradients(compute_gradients(loss))``: an op that takes one step.

        Example:
            >>> train_op = gc.train.AdamOptimizer(1e-3).minimize(loss)
        """
        pairs = self.compute_gradients(loss, var_list=var_list, grad_loss=grad_loss)
        missing = [v.name for g, v in pairs if g is None]
        if len(missing) == len(pairs):
            raise ValueError(f"No gradients provided for any variable, check your graph for "
                             f"ops that do not support gradients, between variables "
                             f"{missing} and loss {convert_to_tensor(loss).name!r}.")
        return self.apply_gradients(pairs, global_step=global_step, name=name)

    # -- slots -----------------------------------------------------------------------------
    def _slot(self, var, slot_name: str, initial: str = "zeros") -> Variable:
        key = (var, slot_name)
        if key not in self._slots:
            make = zeros if initial == "zeros" else ones
            with var.graph.name_scope(None), var.graph.name_scope(var.op.name + "/"):
                self._slots[key] = Variable(lambda: make(var.shape.dims, dtype=var.dtype),
                                            trainable=False, name=f"{self._name}_{slot_name}")
        return self._slots[key]

    def get_slot(self, var, name: str) -> Optional[Variable]:
        """The slot variable ``name`` of ``var`` (e.g. "m" for Adam), or None."""
        return self._slots.get((var, name))

    def get_slot_names(self) -> list:
        return sorted({name for _, name in self._slots})

    def _create_slots(self, var_list) -> None:
        """Create the slot variables this optimizer needs (none by default)."""

    def _apply_dense(self, grad, var):
        raise NotImplementedError

    def _finish(self, update_ops, name: str):
        """The op that completes a step (``name`` as for ``group``)."""
        return group(*update_ops, name=name)

    @staticmethod
    def _as(value, var):
        return cast(value, var.dtype) if hasattr(value, "dtype") and value.dtype != var.dtype \
            else convert_to_tensor(value, dtype=var.dtype)


class GradientDescentOptimizer(Optimizer):
    """``var -= learning_rate * grad``.

    Example:
        >>> train_op = gc.train.GradientDescentOptimizer(0.1).minimize(loss)
    """

    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate

    def _apply_dense(self, grad, var):
        return assign_sub(var, self._as(self._learning_rate, var) * grad).op


class MomentumOptimizer(Optimizer):
    """``accum = momentum * accum + grad; var -= lr * accum`` (Nesterov: ``lr * (grad +
    momentum * accum)``), with TF1's slot name "Momentum".

    Example:
        >>> opt = gc.train.MomentumOptimizer(0.01, momentum=0.9, use_nesterov=True)
    """

    def __init__(self, learning_rate, momentum, use_locking=False, name="Momentum",
                 use_nesterov=False):
        super().__init__(use_locking, name)
        self._learning_rate, self._momentum, self._nesterov = learning_rate, momentum, use_nesterov

    def _create_slots(self, var_list):
        for var in var_list:
            self._slot(var, "momentum")

    def _apply_dense(self, grad, var):
        lr, mu = self._as(self._learning_rate, var), self._as(self._momentum, var)
        accum = assign(self._slot(var, "momentum"), self._slot(var, "momentum").value() * mu
                       + grad)
        step = (grad + mu * accum) if self._nesterov else accum
        return assign_sub(var, lr * step).op


class AdamOptimizer(Optimizer):
    """Adam (Kingma & Ba), exactly as TF1 computes it::

        lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
        m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2
        var -= lr_t * m / (sqrt(v) + epsilon)

    Example:
        >>> train_op = gc.train.AdamOptimizer(1e-3).minimize(loss)
    """

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 use_locking=False, name="Adam"):
        super().__init__(use_locking, name)
        self._lr, self._beta1, self._beta2, self._epsilon = learning_rate, beta1, beta2, epsilon
        self._powers = None

    def _create_slots(self, var_list):
        first = min(var_list, key=lambda v: v.name)
        if self._powers is None:
            with first.graph.name_scope(None):
                self._powers = (Variable(self._beta1, dtype=first.dtype, trainable=False,
                                         name="beta1_power"),
                                Variable(self._beta2, dtype=first.dtype, trainable=False,
                                         name="beta2_power"))
        for var in var_list:
            self._slot(var, "m")
            self._slot(var, "v")

    def _apply_dense(self, grad, var):
        beta1, beta2 = self._as(self._beta1, var), self._as(self._beta2, var)
        beta1_power, beta2_power = (cast(p.value(), var.dtype) for p in self._powers)
        lr = self._as(self._lr, var) * sqrt(1.0 - beta2_power) / (1.0 - beta1_power)
        m_slot, v_slot = self._slot(var, "m"), self._slot(var, "v")
        m = assign(m_slot, beta1 * m_slot.value() + (1.0 - beta1) * grad)
        v = assign(v_slot, beta2 * v_slot.value() + (1.0 - beta2) * square(grad))
        return assign_sub(var, lr * m / (sqrt(v) + self._as(self._epsilon, var))).op

    def _finish(self, update_ops, name):
        beta1_power, beta2_power = self._powers
        graph = beta1_power.graph
        with graph.control_dependencies(update_ops):  # advance t after every update read it
            bump1 = assign(beta1_power, beta1_power.value() * self._beta1)
            bump2 = assign(beta2_power, beta2_power.value() * self._beta2)
        return group(*update_ops, bump1, bump2, name=name)


class RMSPropOptimizer(Optimizer):
    """TF1's RMSProp: ``ms = decay * ms + (1 - decay) * g^2``; ``mom = momentum * mom + lr * g /
    sqrt(ms + eps)``; ``var -= mom`` (centered: ``ms - mg^2`` in the root). "rms" starts at 1.

    Example:
        >>> opt = gc.train.RMSPropOptimizer(0.01, decay=0.9)
    """

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10,
                 use_locking=False, centered=False, name="RMSProp"):
        super().__init__(use_locking, name)
        self._lr, self._decay, self._momentum = learning_rate, decay, momentum
        self._epsilon, self._centered = epsilon, centered

    def _create_slots(self, var_list):
        for var in var_list:
            self._slot(var, "rms", initial="ones")
            self._slot(var, "momentum")
            if self._centered:
                self._slot(var, "mg")

    def _apply_dense(self, grad, var):
        lr, decay = self._as(self._lr, var), self._as(self._decay, var)
        rms_slot = self._slot(var, "rms")
        ms = assign(rms_slot, decay * rms_slot.value() + (1.0 - decay) * square(grad))
        denominator = ms
        if self._centered:
            mg_slot = self._slot(var, "mg")
            mg = assign(mg_slot, decay * mg_slot.value() + (1.0 - decay) * grad)
            denominator = ms - square(mg)
        mom_slot = self._slot(var, "momentum")
        mom = assign(mom_slot, self._as(self._momentum, var) * mom_slot.value()
                     + lr * grad / sqrt(denominator + self._as(self._epsilon, var)))
        return assign_sub(var, mom).op
