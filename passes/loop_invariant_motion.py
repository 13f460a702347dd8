"""Loop-invariant code motion: computations of a loop's body (or condition) that depend only
on captured tensors, never on the loop variables, are built once before the loop and
captured by it instead of running every iteration.

Which subgraphs repeat and which of their inputs stay the same across iterations comes
from the ``Subgraph`` (``repeats``, ``captured_from``). An op moves when it is pure (no effect:
not stateful and no kernel that may raise on values; not random or context-needing, holds no
subgraph, has no control inputs) and every input is a captured input, a constant or the
result of an op that moves; ops of constants alone stay for constant folding inside.
Hoisting runs the op even when the loop runs zero times, which is why an op whose kernel may
raise (an integer division by zero) stays inside: the hoisted one would fail a run where the
loop did not.
"""
from __future__ import annotations

from graphc import registry
from graphc.control_flow.subgraph import subgraphs_of
from graphc.graph import Graph, get_default_graph

from .result import DEFAULT_OPTIONS, Interface, PassOptions, PassResult
from .rewriter import on_copy, rewrite_graph
from .subgraph_edits import any_subgraphs, captured_start, copied, holds_subgraphs, rebuilt, stand_in
from .value_facts import has_effect

__all__ = ["run", "edit"]


def _movable(op) -> bool:
    opdef = registry.get(op.type)
    return not (has_effect(op) or opdef.random or opdef.needs_context or opdef.subgraphs
                or op.control_inputs or op.type == "const")


def _invariant_ops(sub) -> list:
    """The ops of ``sub`` that move out, in order."""
    captured = set(sub.inputs[sub.captured_from:])
    constants: set = set()
    moving = []
    for op in sub.ops():
        if op.type == "const":
            constants.update(op.outputs)
        elif (_movable(op) and op.inputs
              and all(t in captured or t in constants for t in op.inputs)
              and any(t in captured for t in op.inputs)):
            moving.append(op)
            captured.update(op.outputs)  # as good as captured once moved
    return moving


def _hoist(op, plans):
    """Build the moving ops before the loop; returns the new captured outer tensors and,
    per subgraph, its rebuilt graph."""
    outer = get_default_graph()
    start = captured_start(op)
    captured = list(op.inputs[start:])
    new_captured: list = []
    rebuilt_subs = []
    for sub, moving in plans:
        graph, inputs, outputs, effects, to_copy = copied(sub, with_map=True)
        values = dict(zip(sub.inputs[sub.captured_from:], captured))
        moved = set(moving)
        for inner in moving:
            args = []
            for t in inner.inputs:
                if t not in values:  # a constant of the body
                    const = outer.create_op("const", [], dict(t.op.attrs),
                                            name=t.op.name.rsplit("/", 1)[-1])
                    values[t] = const.outputs[0]
                args.append(values[t])
            made = outer.create_op(inner.type, args, dict(inner.attrs),
                                   name=inner.name.rsplit("/", 1)[-1])
            values.update(zip(inner.outputs, made.outputs))
        frontier = [t for inner in moving for t in inner.outputs
                    if t in sub.outputs or any(c not in moved for c in t.consumers())]
        added = []
        for t in frontier:
            copy_t = to_copy[t.op].outputs[t.value_index]
            placeholder = stand_in(graph, copy_t, "hoisted/" + t.op.name)
            graph.replace_uses(copy_t, placeholder)
            outputs = [placeholder if o is copy_t else o for o in outputs]
            added.append(placeholder)
            new_captured.append(values[t])
        graph.remove_ops([to_copy[m] for m in moving])
        rebuilt_subs.append((sub, graph, inputs, outputs, added, effects))
    return new_captured, rebuilt_subs


def _with_all_captures(rebuilt_subs, new_captured):
    """Each subgraph over the old inputs plus every new capture (its own, or an unused
    placeholder for another subgraph's)."""
    result = []
    offset = 0
    for sub, graph, inputs, outputs, added, effects in rebuilt_subs:
        extra = []
        for k, outer in enumerate(new_captured):
            if offset <= k < offset + len(added):
                extra.append(added[k - offset])
            else:
                extra.append(stand_in(graph, outer, "unused/" + outer.op.name))
        offset += len(added)
        result.append(sub.replaced(graph, list(inputs) + extra, outputs, effects))
    return result


def _hoist_invariants(rw, op) -> bool:
    if not holds_subgraphs(op) or not rw.may_rewrite(op):
        return False
    subs = subgraphs_of(op)
    plans = [(sub, _invariant_ops(sub) if sub.repeats else []) for _, sub in subs]
    if not any(moving for _, moving in plans):
        return False

    def build():
        new_captured, rebuilt_subs = _hoist(op, plans)
        new_subs = _with_all_captures(rebuilt_subs, new_captured)
        attrs: dict = {}
        for (key, old), new in zip(subs, new_subs):
            attrs[key] = new if not isinstance(op.attrs[key], tuple) else \
                attrs.get(key, ()) + (new,)
        captured = list(op.inputs[captured_start(op):]) + new_captured
        return rebuilt(op, attrs, captured)
    return rw.replace(op, build, "hoist_invariant")


def edit(graph: Graph, interface: Interface,
         options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Move loop-invariant computations out of every loop of ``graph``, in place."""
    ops = None if any_subgraphs(graph) else ()  # nothing to do without control flow
    return rewrite_graph(graph, interface, "loop_invariant_motion", _hoist_invariants,
                         options, ops)


def run(graph: Graph, interface: Interface,
        options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """``edit`` on a copy (``graph`` is not changed).

    Example:
        >>> result = loop_invariant_motion.run(g, interface)
        >>> result.rewrites[0].rule
        'hoist_invariant'
    """
    return on_copy(edit, graph, interface, options)
