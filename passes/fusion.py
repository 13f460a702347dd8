"""Elementwise fusion: maximal groups of elementwise ops become one ``fused_elementwise`` node.

Invariant: a group has one output (its root) and every other member's value is used only
inside the group. Contracting such a group keeps the graph acyclic (it is convex): no path
can leave the group and come back, because nothing outside reads an inner value. Fetched
tensors, stateful and random ops, and ops tied to control dependencies are never absorbed.
Fusion runs after differentiation, so fused nodes rarely need a gradient (they have one:
the expanded program's).
"""
from __future__ import annotations

from graphc import registry
from graphc.algorithms import control_sources
from graphc.graph import Graph
from graphc.ops.fused import program_from_ops

from .result import EXACT, Interface, PassResult
from .rewriter import Rewriter, unchanged

__all__ = ["run", "find_groups"]


def _fusible(op, blocked: set) -> bool:
    opdef = registry.get(op.type)
    return (opdef.elementwise and not opdef.stateful and not opdef.random
            and len(op.outputs) == 1 and not op.control_inputs and op not in blocked)


def find_groups(graph: Graph, interface: Interface) -> list:
    """Maximal convex groups (lists of ops in topological order, root last), size >= 2."""
    blocked = control_sources(graph)
    fetched = set(interface.fetches)
    assigned: set = set()
    groups = []
    order = graph.topological_order()
    for root in reversed(order):
        if root in assigned or not _fusible(root, blocked):
            continue
        members = {root}
        # A producer joins once all its consumers have; each member added re-offers the
        # producers of its inputs, so one pass over the edges finds the maximal group.
        queue = list(root.inputs)
        while queue:
            tensor = queue.pop()
            producer = tensor.op
            if (producer in members or producer in assigned or tensor in fetched
                    or not _fusible(producer, blocked)):
                continue
            if all(c in members for c in tensor._consumers):
                members.add(producer)
                queue.extend(producer.inputs)
        if len(members) >= 2:
            assigned |= members
            groups.append(graph.topological_order(members))
    return groups


def run(graph: Graph, interface: Interface, budget=None, allowed_safety=None,
        **options) -> PassResult:
    """Replace each fusible group of ``graph`` by one fused node.

    Example:
        >>> fusion.run(g, interface).histogram_after["fused_elementwise"]
        1
    """
    groups = find_groups(graph, interface)
    if not groups:
        return unchanged(graph, interface, "fusion")
    group_of = {op: group for group in groups for op in group}
    rw = Rewriter(graph, interface, "fusion", budget, allowed_safety)
    for op in graph.topological_order():
        group = group_of.get(op)
        if group is None:
            rw.copy(op)
            continue
        if op is not group[-1]:
            continue  # an inner member: computed inside its root's fused node
        inside = {o.outputs[0] for o in group}
        external = list(dict.fromkeys(t for o in group for t in o.inputs if t not in inside))
        program = program_from_ops(group, external)

        def build(group=group, external=external, program=program):
            return rw.target.create_op(
                "fused_elementwise", [rw.tensor_map[t] for t in external],
                {"program": program, "ops": tuple(o.name for o in group)},
                name=f"{group[-1].name}_fused").outputs[0]

        if not (rw.may_rewrite(op, EXACT) and rw.replace(op, build, "fuse_elementwise", EXACT,
                                                         group[:-1])):
            for member in group:
                rw.copy(member)
    return rw.finish()
