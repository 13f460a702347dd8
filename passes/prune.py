"""Pruning: keep only the ops the fetches and targets need; fed tensors become placeholders.

Every kept op with an effect (``value_facts.has_effect``: it reads or changes state, or its kernel
may raise on values) becomes a target of the pruned graph's interface, so a later rewrite
that stops needing its value (``x - x -> 0``, a shape folded from static shapes) still runs
it: the assignment still happens, the integer division by zero still fails, exactly as in
the unoptimized run.

This is the pipeline's entry pass, and the one pass that builds a new graph: the copy that
every later pass edits in place. Its output graph has one placeholder per fed tensor (a fed
placeholder keeps its name), so no later pass can fold or rewrite through a value that a
feed replaces.
"""
from __future__ import annotations

import time

from graphc.graph import Graph, required_ops
from graphc.ops.control import placeholder

from .result import DEFAULT_OPTIONS, Interface, PassOptions, PassResult, histogram
from .value_facts import has_effect

__all__ = ["run"]


def run(graph: Graph, interface: Interface,
        options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Copy what ``interface`` needs from ``graph`` into a new graph; feeds become
    placeholders. ``graph`` is not changed.

    Example:
        >>> result = prune.run(g, Interface(fetches=(loss,), feeds=(x,)))
    """
    started = time.perf_counter()
    fed = frozenset(interface.feeds)
    target = graph.empty_like()
    fed_copies: dict = {}  # fed tensor -> its placeholder in the target
    added = []
    for tensor in interface.feeds:
        if tensor.op.type == "placeholder":
            fed_copies[tensor] = target.copy_op(tensor.op, []).outputs[0]
            continue
        with target.as_default():
            fresh = placeholder(tensor.dtype, tensor.shape, name=f"{tensor.op.name}_fed")
        fresh.op.provenance = (None, tensor.op.provenance[1])
        fresh.op.location = tensor.op.location
        fed_copies[tensor] = fresh
        added.append(fresh.op.name)

    def copied(tensor):
        found = fed_copies.get(tensor) if fed else None
        return found if found is not None else op_map[tensor.op].outputs[tensor.value_index]

    op_map: dict = {}
    effects = []  # ops whose running is seen beyond their values: they stay roots
    for op in graph.topological_order(required_ops(interface.fetches, interface.targets, fed)):
        if op.type == "placeholder":
            if op.outputs[0] in fed:
                op_map[op] = fed_copies[op.outputs[0]].op
                continue
        elif has_effect(op):
            effects.append(op)
        controls = [op_map[c] for c in op.control_inputs if c in op_map]
        op_map[op] = target.copy_op(op, [copied(t) for t in op.inputs], controls)
    targets = dict.fromkeys(interface.targets)
    targets.update(dict.fromkeys(effects))
    mapped = Interface(tuple(map(copied, interface.fetches)),
                       tuple(op_map[o] for o in targets),
                       tuple(map(copied, interface.feeds)))
    removed = tuple(op.name for op in graph.get_operations()
                    if op not in op_map and not (op.type == "placeholder" and op.outputs[0] in fed))
    before, after = histogram(graph), histogram(target)
    return PassResult(name="prune", graph=target, interface=mapped,
                      nodes_before=sum(before.values()), nodes_after=sum(after.values()),
                      histogram_before=before, histogram_after=after,
                      removed=removed, added=tuple(added),
                      seconds=time.perf_counter() - started)
