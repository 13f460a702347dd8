"""Pictures of layer trees, read from a graph's ``layer_tree`` collection (plain dicts, so a
graph loaded from a file draws the same).

``layer_tree_digraph`` draws one box per layer (name, type, output shape, parameters) with
an edge from each layer to its children, in call order; consecutive siblings that are the
same block (same type, output shape, parameters and subtree, names differing only by a
``_N`` suffix) are drawn once, labelled ``×count``.

Example:
    >>> gc.viz.layer_tree.render_layer_tree(graph, "layers.png")
"""
from __future__ import annotations

import re

import graphviz

from graphc.layers.introspection import format_shape, roots
from graphc.viz.dot import escape
from graphc.viz.layer_labels import tree_records
from graphc.viz.output import write_digraph

__all__ = ["layer_tree_digraph", "render_layer_tree"]

_CONTAINER_COLOR, _LEAF_COLOR, _FOLDED_COLOR = "#dbe9f6", "#fbfbf4", "#fff2cc"


def _stem(path: str) -> str:
    return re.sub(r"_\d+$", "", path.split("/")[-1])


def _signature(record, children) -> tuple:
    """What makes two sibling layers the same block, names aside."""
    return (record["type"], str(record["output_shape"]), record["params"],
            tuple(_signature(child, children) for child in children.get(record["path"], [])))


def _fold(siblings, children) -> list:
    """``[(record, count)]``: runs of identical consecutive siblings drawn once."""
    runs: list = []
    for record in siblings:
        if runs and _stem(runs[-1][0]["path"]) == _stem(record["path"]) and \
                _signature(runs[-1][0], children) == _signature(record, children):
            runs[-1] = (runs[-1][0], runs[-1][1] + 1, runs[-1][2] + [record])
        else:
            runs.append((record, 1, [record]))
    return runs


def layer_tree_digraph(target, fold_repeats=True, rankdir="TB", title=None,
                       max_depth=None) -> graphviz.Digraph:
    """The DOT graph of the layer tree of ``target`` (a Graph or layer records).

    Args:
        fold_repeats: draw identical consecutive sibling blocks once, with ×count.
        max_depth: leave out layers nested deeper (0: only the outermost layers).

    Raises:
        ValueError: the graph has no layers.
    """
    records = tree_records(target)
    if not records:
        raise ValueError("render --layers: the graph has no layer tree (build the model with "
                         "gc.layers)")
    children: dict = {}
    for record in records:
        children.setdefault(record["parent"], []).append(record)
    dot = graphviz.Digraph(graph_attr=dict(rankdir=rankdir, fontname="Helvetica",
                                           fontsize="11", labelloc="t", nodesep="0.15",
                                           ranksep="0.35"),
                           node_attr=dict(fontname="Helvetica", fontsize="9", shape="box",
                                          style="filled,rounded"),
                           edge_attr=dict(color="#777777", arrowsize="0.6"))
    ids: dict = {}

    def add(record, count, group, depth, parent_id):
        node_id = f"l{len(ids)}"
        ids[record["path"]] = node_id
        name = record["path"].split("/")[-1]
        if count > 1:
            name = f"{name} … {group[-1]['path'].split('/')[-1]}  ×{count}"
        kids = children.get(record["path"], [])
        label = "\\n".join(escape(part) for part in (
            name, record["type"], format_shape(record["output_shape"]),
            f"{record['params']:,} params"))
        fill = _FOLDED_COLOR if count > 1 else (_CONTAINER_COLOR if kids else _LEAF_COLOR)
        dot.node(node_id, label=label, fillcolor=fill,
                 tooltip=record["path"])
        if parent_id is not None:
            dot.edge(parent_id, node_id)
        if max_depth is None or depth < max_depth:
            for kid, kid_count, kid_group in (_fold(kids, children) if fold_repeats else
                                              [(k, 1, [k]) for k in kids]):
                add(kid, kid_count, kid_group, depth + 1, node_id)

    for top, count, group in (_fold(roots(records), children) if fold_repeats else
                              [(r, 1, [r]) for r in roots(records)]):
        add(top, count, group, 0, None)
    if title:
        dot.attr(label=escape(title))
    return dot


def render_layer_tree(target, path, fold_repeats=True, rankdir="TB", title=None,
                      max_depth=None):
    """Draw the layer tree of ``target`` (a Graph or records) to ``path`` (png, svg, pdf or
    dot); see ``graphc.render`` for formats and errors.

    Example:
        >>> render_layer_tree(graph, "out/layers.png", title="the model's layers")
    """
    return write_digraph(layer_tree_digraph(target, fold_repeats, rankdir, title, max_depth),
                         path)
