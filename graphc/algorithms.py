"""Graph algorithms over the IR: what a set of fetches needs, topological order, and the
networkx view for everything networkx already does well. All iterative: depth is unlimited.
"""
from __future__ import annotations

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
    while stack:
        op = stack.pop()
        if op in needed:
            continue
        needed.add(op)
        stack.extend(t.op for t in op._inputs if t not in fed)
        if control:
            stack.extend(op._control_inputs)
    return needed


def control_sources(graph) -> set:
    """The ops that some op of ``graph`` must run after (control dependencies' sources)."""
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
    """``ops`` ordered so each follows its dependencies, ties broken by creation order
    (networkx's lexicographical topological sort on the graph's networkx view)."""
    import networkx as nx
    chosen = {op.name for op in ops}
    view = to_networkx(graph).subgraph(chosen)
    order = nx.lexicographical_topological_sort(view, key=lambda n: graph._by_name[n]._id)
    return [graph._by_name[n] for n in order]
