"""What the graph picture says about layers: a graph built with ``gc.layers`` keeps its
layer tree as plain dicts in its ``layer_tree`` collection; each layer's name scope cluster
is labelled with the layer's type, output shape and parameter count.

Example:
    >>> layer_labels(graph)[("model", "inception_block")]
    'InceptionBlock · (None, 8, 8, 40) · 2,452 params'
"""
from __future__ import annotations

from graphc.layers.introspection import LAYER_TREE, format_shape

__all__ = ["tree_records", "layer_labels", "leaf_layer_scopes"]


def tree_records(target) -> list:
    """The layer records of a Graph (its ``layer_tree`` collection) or a list of them."""
    if hasattr(target, "get_collection"):
        return list(target.get_collection(LAYER_TREE))
    return list(target)


def layer_labels(graph) -> dict:
    """``{name scope tuple: "Type · output shape · N params"}`` for the graph's layers
    (empty for a graph built without layers)."""
    labels = {}
    for record in tree_records(graph):
        if record.get("name_scope"):
            labels[tuple(record["name_scope"].split("/"))] = (
                f"{record['type']} · {format_shape(record['output_shape'])} · "
                f"{record['params']:,} params")
    return labels


def leaf_layer_scopes(graph) -> set:
    """The name scopes (tuples) of the graph's layers that have no child layers."""
    records = tree_records(graph)
    parents = {record["parent"] for record in records}
    return {tuple(record["name_scope"].split("/")) for record in records
            if record["path"] not in parents and record.get("name_scope")}
