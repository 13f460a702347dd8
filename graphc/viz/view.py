"""What a picture shows: the selected ops, collapsed scopes and folded repeats.

Selection: a Graph shows everything; a Tensor or Operation its expression tree (everything
it depends on); a list of fetches their union; with ``depth=k`` and a single node, the
neighbourhood of that node within k edges (a focus view for graphs too large to draw).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

import networkx as nx

from graphc.graph import Graph, Operation, Tensor
from graphc.viz.layer_labels import leaf_layer_scopes

__all__ = ["View", "build_view", "scope_of"]


def scope_of(op: Operation) -> tuple:
    """The name scopes of an op: ``("block1", "conv")`` for ``block1/conv/Conv2D``."""
    return tuple(op.name.split("/")[:-1])


def _as_node(item):
    if hasattr(item, "_as_graph_element"):
        item = item._as_graph_element()
    if isinstance(item, Tensor):
        return item.op
    if isinstance(item, Operation):
        return item
    raise TypeError(f"render: cannot draw {item!r}; pass a Graph, Tensor, Operation or a "
                    "list of them")


def _ancestors(roots) -> set:
    seen, stack = set(), list(roots)
    while stack:
        op = stack.pop()
        if op not in seen:
            seen.add(op)
            stack.extend(t.op for t in op.inputs)
            stack.extend(op.control_inputs)
    return seen


@dataclass
class View:
    """The ops to draw and how they group.

    ``display[op]`` is the op itself or the name of the collapsed scope box standing for it.
    """

    graph: Graph
    ops: list
    display: dict
    boxes: dict = field(default_factory=dict)  # box name -> list of ops inside
    repeats: dict = field(default_factory=dict)  # kept scope -> all equal sibling scopes
    alias: dict = field(default_factory=dict)  # op of a folded repeat -> its drawn twin
    focus: Optional[Operation] = None
    notes: list = field(default_factory=list)


def _select(target, depth):
    if isinstance(target, Graph):
        return target, target.get_operations(), None
    items = list(target) if isinstance(target, (list, tuple)) else [target]
    nodes = [_as_node(i) for i in items]
    graph = nodes[0].graph
    if depth is not None:
        if len(nodes) != 1:
            raise ValueError("render: depth= focuses on one node; pass a single Tensor or op")
        view = nx.ego_graph(graph.to_networkx(), nodes[0].name, radius=depth, undirected=True)
        chosen = {graph.get_operation_by_name(n) for n in view.nodes}
        return graph, graph.topological_order(chosen), nodes[0]
    return graph, graph.topological_order(_ancestors(nodes)), None


def _signature(ops) -> tuple:
    """Structure of a scope's ops, independent of names: types, output shapes and internal
    wiring (blocks of one structure but other widths are not the same block)."""
    position = {t: (i, k) for i, op in enumerate(ops) for k, t in enumerate(op.outputs)}
    return tuple((op.type, tuple(position.get(t, ("in", t.dtype.name)) for t in op.inputs),
                  tuple(str(t.shape) for t in op.outputs)) for op in ops)


def _stem(scope: tuple) -> str:
    """``block`` for ``block3`` or ``block_3``: repeated layers share their stem."""
    return re.sub(r"_?\d+$", "", scope[-1])


def _fold_repeats(view: View, min_ops: int = 4) -> None:
    """Consecutive sibling scopes named alike (``block1``, ``block2``...) with identical
    structure are drawn once, labelled with their count; edges to the others go to it."""
    by_scope: dict = {}
    for op in view.ops:
        scope = scope_of(op)
        for level in range(1, len(scope) + 1):
            by_scope.setdefault(scope[:level], []).append(op)
    siblings: dict = {}
    for scope in by_scope:
        siblings.setdefault(scope[:-1], []).append(scope)
    hidden: dict = {}
    for parent, scopes in siblings.items():
        run: list = []
        for scope in scopes + [None]:
            if run and (scope is None or _stem(scope) != _stem(run[0])
                        or len(by_scope[run[0]]) < min_ops
                        or _signature(by_scope[scope]) != _signature(by_scope[run[0]])):
                if len(run) > 1:
                    view.repeats[run[0]] = run
                    for other in run[1:]:
                        hidden[other] = run[0]
                run = []
            if scope is not None:
                run.append(scope)
    for scope, kept in hidden.items():
        for twin, op in zip(by_scope[kept], by_scope[scope]):
            view.alias[op] = twin
    if hidden:
        view.ops = [op for op in view.ops if op not in view.alias]
        view.notes.append(f"{len(hidden)} repeated blocks drawn once (×count in their label)")


def _collapse_layers(view: View) -> None:
    """Each layer without child layers (a convolution, a batch normalization...) becomes
    one box; containers stay clusters (ops already in a collapsed scope's box stay there)."""
    leaves = leaf_layer_scopes(view.graph)
    for op in view.ops:
        if view.display[op] is not op:
            continue
        scope = scope_of(op)
        prefix = next((scope[:n] for n in range(1, len(scope) + 1) if scope[:n] in leaves), None)
        if prefix is not None:
            box = "/".join(prefix)
            view.display[op] = box
            view.boxes.setdefault(box, []).append(op)


def _collapse(view: View, depth: int) -> None:
    for op in view.ops:
        scope = scope_of(op)
        if len(scope) > depth:
            box = "/".join(scope[:depth + 1])
            view.display[op] = box
            view.boxes.setdefault(box, []).append(op)


def _count_items(view_ops, depth) -> int:
    return len({("/".join(scope_of(op)[:depth + 1]) if len(scope_of(op)) > depth else op)
                for op in view_ops})


def build_view(target, depth=None, collapse_depth=None, hide_constants=False,
               fold_repeats=True, max_nodes=250, layer_boxes=False) -> View:
    """Select and group what to draw (see ``graphc.render`` for the options)."""
    graph, ops, focus = _select(target, depth)
    if hide_constants:
        ops = [op for op in ops if op.type != "const" or op is focus]
    view = View(graph, list(ops), {op: op for op in ops}, focus=focus)
    if fold_repeats:
        _fold_repeats(view)
    total = len(view.ops)
    if collapse_depth is None and total > max_nodes:
        deepest = max((len(scope_of(op)) for op in view.ops), default=0)
        collapse_depth = 0
        for level in range(deepest - 1, -1, -1):
            if _count_items(view.ops, level) <= max_nodes:
                collapse_depth = level
                break
        view.notes.append(f"{total} ops: name scopes deeper than {collapse_depth} collapsed to "
                          f"stay under {max_nodes} boxes (pass collapse_depth= to change)")
    if collapse_depth is not None:
        _collapse(view, collapse_depth)
    if layer_boxes:
        _collapse_layers(view)
    return view
