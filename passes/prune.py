"""Pruning: keep only the ops the fetches and targets need; fed tensors become placeholders.

This is the pipeline's entry pass. Its output graph has one placeholder per fed tensor (a fed
placeholder keeps its name), so no later pass can fold or rewrite through a value that a
feed replaces.
"""
from __future__ import annotations

from graphc.graph import Graph, required_ops
from graphc.ops.control import placeholder

from .result import Interface, PassResult
from .rewriter import Rewriter

__all__ = ["run"]


def run(graph: Graph, interface: Interface, **options) -> PassResult:
    """Copy what ``interface`` needs from ``graph``; feeds become placeholders.

    Example:
        >>> result = prune.run(g, Interface(fetches=(loss,), feeds=(x,)))
    """
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
