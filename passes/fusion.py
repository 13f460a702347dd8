"""Elementwise fusion: maximal groups of elementwise ops become one ``fused_elementwise`` node.

Invariant: a group has one output (its root) and every other member's value is used only
inside the group. Contracting such a group keeps the graph acyclic (it is convex): no path
can leave the group and come back, because nothing outside reads an inner value. Fetched
tensors, stateful and random ops, and ops tied to control dependencies are never absorbed.
Fusion runs after differentiation, so fused nodes rarely need a gradient (they have one:
the expanded program's). A group holds at most ``MAX_GROUP_OPS`` ops: every engine compiles
a group's program as one function, and compile time grows with its length while the gain
(fewer passes over memory, no per-op dispatch) is all there long before (TVM's FuseOps caps
a group's depth at 256 for the same reason). A longer chain becomes several groups.
"""
from __future__ import annotations

from graphc import registry
from graphc.algorithms import control_sources
from graphc.graph import Graph
from graphc.ops.fused import program_from_ops

from .result import DEFAULT_OPTIONS, EXACT, Interface, PassOptions, PassResult
from .rewriter import Rewriter, on_copy

__all__ = ["run", "edit", "find_groups", "MAX_GROUP_OPS"]

MAX_GROUP_OPS = 256


def _fusible_types() -> frozenset:
    return frozenset(d.name for d in registry.all_ops()
                     if d.elementwise and not d.stateful and not d.random)


def find_groups(graph: Graph, interface: Interface) -> list:
    """Maximal convex groups (lists of ops in topological order, root last), size >= 2."""
    blocked = control_sources(graph)
    kinds = _fusible_types()

    def fusible(op):
        return (op.type in kinds and len(op.outputs) == 1 and not op.control_inputs
                and op not in blocked)

    fetched = set(interface.fetches)
    assigned: set = set()
    groups = []
    order = graph.topological_order()
    for root in reversed(order):
        if root in assigned or not fusible(root):
            continue
        members = {root}
        # A producer joins once all its consumers have; each member added re-offers the
        # producers of its inputs, so one pass over the edges finds the maximal group.
        queue = list(root.inputs)
        while queue:
            tensor = queue.pop()
            producer = tensor.op
            if (producer in members or producer in assigned or tensor in fetched
                    or not fusible(producer)):
                continue
            if len(members) < MAX_GROUP_OPS and all(c in members for c in tensor.consumers()):
                members.add(producer)
                queue.extend(producer.inputs)
        if len(members) >= 2:
            assigned |= members
            groups.append(graph.topological_order(members))
    return groups


def edit(graph: Graph, interface: Interface,
         options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Replace each fusible group of ``graph`` by one fused node, in place."""
    rw = Rewriter(graph, interface, "fusion", options)
    rw.rule = "fuse_elementwise"
    for group in find_groups(graph, interface):
        try:
            _fuse(rw, group)
        except Exception as err:  # noqa: BLE001 - every failure gets the pass, rule and op
            raise rw.failure(err, group[-1]) from err
    return rw.finish()


def _fuse(rw: Rewriter, group: list) -> None:
    """Replace ``group`` (root last) by one fused node standing where its root stood."""
    root = group[-1]
    inside = {o.outputs[0] for o in group}
    external = list(dict.fromkeys(t for o in group for t in o.inputs if t not in inside))
    program = program_from_ops(group, external)

    def build():
        out = root.outputs[0]  # the group computes what its root computes
        return rw.graph.create_op("fused_elementwise", external,
                                  {"program": program, "ops": tuple(o.name for o in group)},
                                  name=f"{root.name}_fused", specs=[(out.shape, out.dtype)]
                                  ).outputs[0]

    if rw.may_rewrite(root, EXACT) and rw.replace(root, build, "fuse_elementwise", EXACT,
                                                  group[:-1]):
        rw.remove(group[:-1], into=rw.added[-1])  # only the group read them


def run(graph: Graph, interface: Interface,
        options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Replace each fusible group of a copy of ``graph`` by one fused node (``graph`` is
    not changed).

    Example:
        >>> fusion.run(g, interface).histogram_after["fused_elementwise"]
        1
    """
    return on_copy(edit, graph, interface, options)
