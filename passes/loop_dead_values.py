"""Dead loop values: DCE for what a loop carries from one iteration to the next.

A loop op (one whose ``OpDef`` holds a repeating ``body`` and ``cond`` and whose attrs count
its loop variables, ``num_vars``: the ``while_loop`` layout of ``graphc.control_flow.ops``)
carries every loop variable through every iteration, needed or not. Plain DCE cannot drop
one: the body computes it. This pass does. A loop variable stays when the loop's result
for it (final value or history) is read or fetched, when the condition reads it, or when
the body needs it for another loop variable that stays or for a saved value whose history
is read; saved values whose history nobody reads go too. A variable whose update runs a
stateful op (an assignment, a print) that nothing kept runs stays, so effects never vanish.

The typical case is a gradient loop: ``tf.gradients`` differentiates a loop for every
captured float tensor, and a loop over a ``[time, batch, depth]`` input it was not asked
about (a placeholder) would add a full-size gradient of it every iteration (O(T^2) work).
"""
from __future__ import annotations

from graphc import registry
from graphc.algorithms import required_ops
from graphc.control_flow.subgraph import Subgraph
from graphc.graph import Graph, get_default_graph

from .result import DEFAULT_OPTIONS, Interface, PassOptions, PassResult
from .rewriter import on_copy, rewrite_graph
from .subgraph_edits import any_subgraphs, copied

__all__ = ["run", "edit", "is_loop"]


def is_loop(op) -> bool:
    subs = op.opdef.subgraphs
    return "body" in subs and "cond" in subs and "num_vars" in op.attrs


def _inputs_needed(sub, outputs, count, effects=()) -> set:
    """Positions of the loop-variable inputs of ``sub`` that ``outputs`` (and the ops
    ``effects``) depend on."""
    read = {t for op in required_ops(outputs, effects, fed=frozenset(sub.inputs))
            for t in op.inputs}
    read.update(outputs)  # a value passed straight through
    return {k for k in range(count) if sub.inputs[k] in read}


def _live(op, watched) -> tuple:
    """``(loop variables kept, saved values kept)``, by position."""
    count = op.attrs["num_vars"]
    body, cond = op.attrs["body"], op.attrs["cond"]
    outputs = op.outputs

    def read(tensor):
        return bool(tensor.consumers()) or tensor in watched
    histories = op.attrs["back_prop"]
    keep = {0} | {k for k in range(1, count)
                  if read(outputs[k]) or (histories and read(outputs[count + k - 1]))}
    saved = [j for j in range(len(body.outputs) - count)
             if histories and read(outputs[2 * count - 1 + j])]
    keep |= _inputs_needed(cond, cond.outputs, count, cond.effects)
    keep |= _inputs_needed(body, [], count, body.effects)  # they run in every iteration
    keep |= _inputs_needed(body, [body.outputs[count + j] for j in saved], count)
    while True:
        more = keep | _inputs_needed(body, [body.outputs[k] for k in keep], count)
        if more == keep:
            break
        keep = more
    kept_ops = required_ops([body.outputs[k] for k in keep] +
                            [body.outputs[count + j] for j in saved], body.effects,
                            fed=frozenset(body.inputs))
    for k in range(1, count):
        if k not in keep and any(registry.get(o.type).stateful and o not in kept_ops
                                 for o in required_ops([body.outputs[k]],
                                                       fed=frozenset(body.inputs))):
            keep.add(k)  # its update has effects: it must keep running
    return sorted(keep), saved


def _narrowed(sub, keep, outputs, count) -> Subgraph:
    """``sub`` over the kept loop variables (and all captured inputs) with ``outputs``
    and its effects."""
    inputs = [sub.inputs[k] for k in keep] + list(sub.inputs[count:])
    graph, inputs, outputs, effects = copied(
        Subgraph(sub.graph, inputs, outputs, sub.label, effects=sub.effects))
    return Subgraph(graph, inputs, outputs, sub.label, sub.first_input, len(keep),
                    sub.repeats, effects)


def _drop_dead_values(rw, op) -> bool:
    if not is_loop(op) or not rw.may_rewrite(op):
        return False
    count = op.attrs["num_vars"]
    body, cond = op.attrs["body"], op.attrs["cond"]
    keep, saved = _live(op, set(rw.interface.fetches))
    if len(keep) == count and len(saved) == len(body.outputs) - count:
        return False

    def build():
        attrs = dict(op.attrs)
        attrs["num_vars"] = len(keep)
        attrs["shape_invariants"] = tuple(op.attrs["shape_invariants"][k] for k in keep)
        attrs["body"] = _narrowed(body, keep, [body.outputs[k] for k in keep] +
                                  [body.outputs[count + j] for j in saved], count)
        attrs["cond"] = _narrowed(cond, keep, list(cond.outputs), count)
        inputs = [op.inputs[k] for k in keep] + list(op.inputs[count:])
        new = get_default_graph().create_op(op.type, inputs, attrs,
                                            name=op.name.rsplit("/", 1)[-1]).outputs
        stands_for = list(op.outputs)  # a dropped value stands for itself: nobody reads it
        width = len(keep)
        for position, k in enumerate(keep):
            stands_for[k] = new[position]
            if k and op.attrs["back_prop"]:
                stands_for[count + k - 1] = new[width + position - 1]
        for position, j in enumerate(saved):
            stands_for[2 * count - 1 + j] = new[2 * width - 1 + position]
        return stands_for
    return rw.replace(op, build, "drop_dead_loop_values")


def edit(graph: Graph, interface: Interface,
         options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Drop the loop variables and saved values no one needs from every loop, in place."""
    ops = None if any_subgraphs(graph) else ()  # nothing to do without control flow
    return rewrite_graph(graph, interface, "loop_dead_values", _drop_dead_values, options,
                         ops)


def run(graph: Graph, interface: Interface,
        options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """``edit`` on a copy (``graph`` is not changed).

    Example:
        >>> loop_dead_values.run(g, interface).rewrites[0].rule
        'drop_dead_loop_values'
    """
    return on_copy(edit, graph, interface, options)
