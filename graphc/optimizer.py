"""The optimizer base class, slot variables and the global step (TF1's ``optimizer.py``,
``slot_creator.py`` and ``training_util.py``); ``gc.train`` re-exports them.

An optimizer step is ordinary graph ops: ``gradients`` for the update directions and
``assign``-family ops for the updates, grouped into one op. Slot variables (momentum
accumulators, Adam's moments) are ordinary non-trainable Variables named as TF1 names them
(``W/Adam``, ``W/Adam_1``), so ``global_variables_initializer()`` (called after ``minimize``)
initializes them, and a step that fails midway leaves every variable and slot unchanged (the
Session stages writes).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor, graph_of
from graphc.graph import Tensor, get_default_graph
from graphc.ops.control import group
from graphc.ops.creation import constant, fill
from graphc.ops.select import cast
from graphc.passes.gradients import gradients
from graphc.variables import GraphKeys, Variable, assign_add

__all__ = ["Optimizer", "get_or_create_global_step", "get_global_step", "create_global_step",
           "global_step", "create_slot", "create_filled_slot"]


def get_global_step(graph=None) -> Optional[Variable]:
    """The graph's global step variable, or None."""
    steps = (graph or get_default_graph()).get_collection(GraphKeys.GLOBAL_STEP)
    return steps[0] if steps else None


def create_global_step(graph=None) -> Variable:
    """A new int64 ``global_step`` variable (at 0); an error if the graph has one already.

    Example:
        >>> step = gc.train.create_global_step()
    """
    graph = graph or get_default_graph()
    if get_global_step(graph) is not None:
        raise ValueError('"global_step" already exists.')
    with graph.as_default(), graph.name_scope(None):
        return Variable(0, dtype=gdt.int64, trainable=False, name="global_step",
                        collections=[GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP])


def get_or_create_global_step(graph=None) -> Variable:
    """The graph's int64 ``global_step`` variable, created (at 0) on first use.

    Example:
        >>> step = gc.train.get_or_create_global_step()
        >>> train_op = opt.minimize(loss, global_step=step)
    """
    graph = graph or get_default_graph()
    existing = get_global_step(graph)
    return existing if existing is not None else create_global_step(graph)


def global_step(sess, global_step_tensor) -> int:
    """The value of ``global_step_tensor`` in session ``sess``, as a Python int.

    Example:
        >>> print("step", gc.train.global_step(sess, step))
    """
    return int(sess.run(global_step_tensor))


def create_slot(primary, initial_value, name: str) -> Variable:
    """A non-trainable Variable ``"<primary's op name>/<name>"`` holding ``initial_value``
    (a tensor, or a callable building one). A second slot of the same name gets ``_1``, as
    TF1's ``slot_creator`` names them (``W/Adam``, ``W/Adam_1``). It is made outside any
    name scope or control dependencies, so its initializer runs on its own.

    Example:
        >>> accumulator = create_slot(W, lambda: gc.zeros([3, 2]), "Adagrad")  # "W/Adagrad"
    """
    graph = primary.graph
    with graph.as_default(), graph.control_dependencies(None), graph.name_scope(None), \
            graph.name_scope(primary.op.name + "/"):
        return Variable(initial_value, trainable=False, name=name)


def create_filled_slot(primary, name: str, value=0.0, dtype=None) -> Variable:
    """A slot of ``primary``'s (fully defined) shape filled with ``value`` (TF1's
    ``create_zeros_slot`` for 0).

    Example:
        >>> momentum = create_filled_slot(W, "Momentum")
    """
    shape = primary.shape
    if not shape.is_fully_defined():
        raise ValueError(f"slot {name!r} of {primary.op.name!r}: its shape {shape} must be "
                         "fully defined")
    dtype = gdt.as_dtype(dtype or primary.dtype)
    # a fill op, not a constant of the variable's size stored in the graph
    return create_slot(primary, lambda: fill(list(shape.dims),
                                             constant(np.array(value, dtype.np))), name)


class Optimizer:
    """Base class: ``compute_gradients``, ``apply_gradients`` and ``minimize`` as in TF1.

    Subclasses define ``_create_slots(var_list)`` and ``_apply_dense(grad, var)`` returning
    the update op of one variable, plus optionally ``_finish(update_ops, name)``.
    Hyperparameters may be numbers, tensors (a learning-rate schedule) or callables.
    """

    GATE_NONE, GATE_OP, GATE_GRAPH = 0, 1, 2  # accepted; graphc's updates are all-or-nothing

    def __init__(self, use_locking: bool, name: str):
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._name = name
        self._slots: dict = {}
        self._non_slot_variables: dict = {}

    def get_name(self) -> str:
        return self._name

    def compute_gradients(self, loss, var_list=None, gate_gradients=GATE_OP,
                          aggregation_method=None, colocate_gradients_with_ops=False,
                          grad_loss=None, stop_gradients=None) -> list:
        """``[(gradient, variable)]`` for the trainable variables (or ``var_list``).

        Example:
            >>> grads_and_vars = opt.compute_gradients(loss)
        """
        loss = convert_to_tensor(loss() if callable(loss) else loss)
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
        grads_and_vars = list(grads_and_vars)
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

    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=GATE_OP,
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
    def _slot(self, var, slot_name: str, initial: float = 0.0,
              var_name: Optional[str] = None) -> Variable:
        """The slot ``slot_name`` of ``var``, created filled with ``initial`` on first use;
        its variable is named ``var_name``, by default after the optimizer (``W/Adam``, then
        ``W/Adam_1``, ...)."""
        key = (var, slot_name)
        if key not in self._slots:
            self._slots[key] = create_filled_slot(var, var_name or self._name, initial)
        return self._slots[key]

    def _non_slot(self, name: str, initial, like) -> Variable:
        """A variable the optimizer keeps once, not per variable (Adam's ``beta1_power``),
        created at the root scope with ``like``'s dtype."""
        if name not in self._non_slot_variables:
            with like.graph.as_default(), like.graph.control_dependencies(None), \
                    like.graph.name_scope(None):
                self._non_slot_variables[name] = Variable(initial, dtype=like.dtype,
                                                          trainable=False, name=name)
        return self._non_slot_variables[name]

    def get_slot(self, var, name: str) -> Optional[Variable]:
        """The slot variable ``name`` of ``var`` (e.g. "m" for Adam), or None."""
        return self._slots.get((var, name))

    def get_slot_names(self) -> list:
        return sorted({name for _, name in self._slots})

    def variables(self) -> list:
        """Every variable this optimizer created: slots and the ones kept once.

        Example:
            >>> sess.run(gc.variables_initializer(opt.variables()))
        """
        return list(self._slots.values()) + list(self._non_slot_variables.values())

    def _create_slots(self, var_list) -> None:
        """Create the slot variables this optimizer needs (none by default)."""

    def _apply_dense(self, grad, var):
        raise NotImplementedError

    def _finish(self, update_ops, name: str):
        """The op that completes a step (``name`` as for ``group``)."""
        return group(*update_ops, name=name)

    @staticmethod
    def _as(value, var):
        """A hyperparameter (number, tensor, or a callable returning one) in ``var``'s dtype:
        tensors are cast, numbers converted straight to it (no float32 rounding first)."""
        value = value() if callable(value) else value
        if isinstance(value, (Tensor, Variable)):
            value = convert_to_tensor(value)
            return value if value.dtype == var.dtype else cast(value, var.dtype)
        return convert_to_tensor(np.asarray(value, dtype=var.dtype.np))
