"""Pruning: keep only the ops the fetches and targets need; fed tensors become placeholders.

This is the pipeline's entry pass. Its output graph has one placeholder per fed tensor (a fed
placeholder keeps its name), so no later pass can fold or rewrite through a value that a
feed replaces.
"""
from __future__ import annotations

from graphc.graph import Graph
from graphc.passes.result import Interface, PassResult
from graphc.passes.rewriter import Rewriter

__all__ = ["run", "required_ops"]


def required_ops(fetches, targets, fed: frozenset) -> set:
    """Ancestors of the fetches and targets through data and control edges, stopping at
    fed tensors (iterative: no recursion on depth)."""
    needed: set = set()
    stack = [t.op for t in fetches if t not in fed] + list(targets)
    while stack:
        op = stack.pop()
        if op in needed:
            continue
        needed.add(op)
        stack.extend(t.op for t in op.inputs if t not in fed)
        stack.extend(op.control_inputs)
    return needed


def run(graph: Graph, interface: Interface, **options) -> PassResult:
    """Copy what ``interface`` needs from ``graph``; feeds become placeholders.

    Example:
        >>> result = prune.run(g, Interface(fetches=(loss,), feeds=(x,)))
    """
    from graphc.ops.control import placeholder
    fed = frozenset(interface.feeds)
    rw = Rewriter(graph, interface, "prune")
    for tensor in interface.feeds:
        if tensor.op.type == "placeholder":
            rw.copy(tensor.op, inputs=[])
            continue
        with rw.target.as_default():
            fresh = placeholder(tensor.dtype, tensor.shape, name=f"{tensor.op.name}_fed")
        fresh.op.provenance = (None, tensor.op.provenance[1])
        fresh.op.location = tensor.op.location
        rw.tensor_map[tensor] = fresh
        rw.added.append(fresh.op.name)
    needed = required_ops(interface.fetches, interface.targets, fed)
    for op in graph.topological_order(needed):
        if op not in rw.op_map:
            rw.copy(op)
    return rw.finish()
