"""Scaled updates: ``assign_sub(v, multiply(scale, delta))`` with a 0-d ``scale`` (an SGD
step: ``v -= learning_rate * gradient``) becomes one ``scaled_assign_sub`` op, which writes
the product straight into the buffer of the variable's next value and subtracts over it
(graphc.ops.scaled_update): one plan step and no temporary instead of two steps and a pass
over the gradient.

The product moves into the update only when nothing else can tell: the assign_sub alone
reads it (once), it is not fetched, neither op has control edges, and the variable, scale
and delta share one floating dtype (so the kernel's two NumPy calls are the two ops', with
the same operand order: bitwise their result).
"""
from __future__ import annotations

from graphc.graph import Graph
from graphc.ops.scaled_update import SCALED_ASSIGN_SUB
from graphc.ops.state import ASSIGN_SUB

from .result import DEFAULT_OPTIONS, EXACT, Interface, PassOptions, PassResult
from .rewriter import Rewriter, on_copy

__all__ = ["run", "edit", "find_updates"]


def _scale_position(product):
    """The position (0 or 1) of the product's 0-d operand, or None."""
    for position, tensor in enumerate(product.inputs):
        if tensor.shape.rank == 0 and product.inputs[1 - position].shape.rank != 0:
            return position
    return None


def find_updates(graph: Graph, interface: Interface) -> list:
    """``(update, product, scale position)`` for each assign_sub whose value is a scaled
    product that may move into it."""
    fetched = set(interface.fetches)
    found = []
    for op in graph.topological_order():
        if op.type != ASSIGN_SUB.name:
            continue
        value = op.inputs[1]
        product = value.op
        if (product.type != "multiply" or value in fetched or value.consumers() != [op]
                or product.control_inputs or len(product.inputs) != 2):
            continue
        dtype = op.inputs[0].dtype
        position = _scale_position(product)
        if (position is not None and dtype.is_floating
                and all(t.dtype is dtype for t in product.inputs)):
            found.append((op, product, position))
    return found


def edit(graph: Graph, interface: Interface,
         options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Fold each movable scaled product into its assign_sub, in place."""
    rw = Rewriter(graph, interface, "scaled_updates", options)
    for update, product, position in find_updates(graph, interface):
        try:
            _fold(rw, update, product, position)
        except Exception as err:  # noqa: BLE001 - every failure gets the pass, rule and op
            raise rw.failure(err, update) from err
    return rw.finish()


def _fold(rw: Rewriter, update, product, position: int) -> None:
    scale, delta = product.inputs[position], product.inputs[1 - position]
    made: list = []

    def build():
        out = update.outputs[0]
        new = rw.graph.create_op(SCALED_ASSIGN_SUB.name, [update.inputs[0], scale, delta],
                                 {"scale_first": position == 0},
                                 name=f"{update.name}_scaled",
                                 specs=[(out.shape, out.dtype)])
        made.append(new)
        return new.outputs[0]

    # the update may be a control input (a train op groups its updates): the edges move to
    # the op standing for it; the product's check covers the budget and the safety class
    if (not update.control_inputs and rw.may_rewrite(product, EXACT)
            and rw.replace(update, build, "fold_scale", EXACT, [product])):
        _move_control_edges(rw.graph, update, made[0])
        rw.remove([product])  # only the update read it


def _move_control_edges(graph: Graph, old, new) -> None:
    """Every op that had to run after ``old`` runs after ``new`` instead (``new`` stands
    just before ``old``, so no cycle can form)."""
    if not graph._any_control_edges:
        return
    for op in graph.get_operations():
        if old in op.control_inputs:
            op._control_inputs = tuple(c for c in op.control_inputs if c is not old)
            op._add_control_input(new)


def run(graph: Graph, interface: Interface,
        options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Fold the scaled products of a copy of ``graph`` into their updates (``graph`` is
    not changed).

    Example:
        >>> scaled_updates.run(g, interface).histogram_after["scaled_assign_sub"]
        1
    """
    return on_copy(edit, graph, interface, options)
