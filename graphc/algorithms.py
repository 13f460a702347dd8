"""Graph algorithms over the IR: what a set of fetches needs, topological order, and the
networkx view for everything networkx already does well. All iterative: depth is unlimited.
"""
from __future__ import annotations

import heapq

__all__ = ["required_ops", "control_sources", "to_networkx", "topological_order"]


def required_ops(fetches, targets=(), fed: frozenset = frozenset(), control: bool = True) -> set:
    """Every op the ``fetches`` (tensors) and ``targets`` (ops) depend on, through data edges
    and (if ``control``) control edges, not looking past ``fed`` tensors. Iterative, so any
    depth works.

    Example:
        >>> needed = required_ops([loss], fed=frozenset([x]))
    """
    needed: set = set()
    stack = [t.op for t in fetches if t not in fed] + list(targets)
    push = stack.append
    while stack:  # the hottest walk of compiling: written out, no generators
        op = stack.pop()
        if op in needed:
            continue
        needed.add(op)
        for tensor in op._inputs:
            producer = tensor.op
            if producer not in needed and (not fed or tensor not in fed):
                push(producer)
        if control and op._control_inputs:
            stack.extend(op._control_inputs)
    return needed


def control_sources(graph) -> set:
    """The ops that some op of ``graph`` must run after (control dependencies' sources)."""
    if not graph._any_control_edges:
        return set()
    return {dep for op in graph.get_operations() for dep in op.control_inputs}


def to_networkx(graph):
    """A networkx DiGraph over operation names: data edges and ``control`` edges.

    Example:
        >>> view = to_networkx(g); networkx.is_directed_acyclic_graph(view)
        True
    """
    import networkx as nx
    view = nx.DiGraph()
    for op in graph.get_operations():
        view.add_node(op.name, type=op.type)
        for tensor in op.inputs:
            view.add_edge(tensor.op.name, op.name, control=False)
        for dep in op.control_inputs:
            if not view.has_edge(dep.name, op.name):
                view.add_edge(dep.name, op.name, control=True)
    return view


def topological_order(graph, ops) -> list:
    """``ops`` ordered so each follows its dependencies among them, ties broken by creation
    order (Kahn's algorithm with the earliest-created ready op first: O(n log n)).

    Raises:
        networkx.NetworkXUnfeasible: when control edges close a cycle.
    """
    chosen = set(ops)
    waiting: dict = {}
    readers: dict = {}
    for op in chosen:
        producers = {t.op for t in op._inputs}.union(op._control_inputs) & chosen
        waiting[op] = len(producers)
        for producer in producers:
            readers.setdefault(producer, []).append(op)
    ready = [(op._id, op) for op, count in waiting.items() if not count]
    heapq.heapify(ready)
    order = []
    while ready:
        _, op = heapq.heappop(ready)
        order.append(op)
        for reader in readers.get(op, ()):
            waiting[reader] -= 1
            if not waiting[reader]:
                heapq.heappush(ready, (reader._id, reader))
    if len(order) < len(chosen):
        import networkx as nx
        raise nx.NetworkXUnfeasible("the graph has a cycle through control dependencies")
    return order
