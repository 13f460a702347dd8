"""The model summary table, made from plain layer records (``layer_records(model)`` or a
graph's ``layer_tree`` collection), so a graph read back from a file prints the same table.

Example:
    >>> print(gc.layers.summary_table(gc.get_collection(gc.layers.LAYER_TREE)))
"""
from __future__ import annotations

import numpy as np

__all__ = ["summary_table", "format_shape", "roots", "layer_records", "record_tree",
           "variable_size", "LAYER_TREE"]

LAYER_TREE = "layer_tree"  # graph collection: one plain dict per layer that was called


def format_shape(shape) -> str:
    """``[None, 8, 8, 16]`` -> ``(None, 8, 8, 16)``; several outputs joined by commas."""
    if shape is None:
        return "?"
    if shape and isinstance(shape[0], list):
        return ", ".join(format_shape(s) for s in shape)
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def roots(records: list) -> list:
    """The records whose parent is not among ``records`` (the outermost layers)."""
    paths = {record["path"] for record in records}
    return [record for record in records if record["parent"] not in paths]


def summary_table(records: list) -> str:
    """The layer tree as a table: one row per layer (path indented by depth, type, output
    shape, parameters including its children's), then the totals of the outermost layers.

    Example:
        >>> print(summary_table(gc.layers.layer_records(model)))
    """
    if not records:
        return "(no layers)"
    children: dict = {}
    for record in records:
        children.setdefault(record["parent"], []).append(record)
    rows = []

    def walk(record, depth):
        rows.append(("  " * depth + record["path"].split("/")[-1] if depth else record["path"],
                     record["type"], format_shape(record["output_shape"]),
                     f"{record['params']:,}"))
        for child in children.get(record["path"], []):
            walk(child, depth + 1)

    tops = roots(records)
    for top in tops:
        walk(top, 0)
    header = ("layer", "type", "output shape", "params")
    widths = [max(len(row[i]) for row in rows + [header]) for i in range(4)]

    def line(row):
        return "  ".join(cell.rjust(w) if i == 3 else cell.ljust(w)
                         for i, (cell, w) in enumerate(zip(row, widths))).rstrip()

    rule = "-" * len(line(header))
    total = sum(top["params"] for top in tops)
    trainable = sum(top["trainable_params"] for top in tops)
    return "\n".join([line(header), rule] + [line(row) for row in rows] + [
        rule, f"total params: {total:,} (trainable {trainable:,}, non-trainable "
              f"{total - trainable:,})"])


def variable_size(variable) -> int:
    return int(np.prod(variable.shape.as_list(), dtype=np.int64))


def _shape_list(shape):
    if isinstance(shape, list):
        return [_shape_list(s) for s in shape]
    return None if shape is None or shape.rank is None else shape.as_list()


def layer_records(root) -> list:
    """One plain dict per layer of ``root``'s tree that has been called (parents first):
    ``path`` (variable scope), ``name_scope``, ``type``, ``parent``, ``output_shape`` (a
    list of dims, None for unknown), ``params``, ``trainable_params``, ``variables``."""
    records = []
    for _, layer in root.named_layers():
        if layer.scope_name is None:
            continue
        parent = next((p for p in _parents(root, layer)), None)
        records.append(dict(
            path=layer.scope_name, name_scope=layer.name_scope, type=type(layer).__name__,
            parent=None if parent is None else parent.scope_name,
            output_shape=_shape_list(layer.output_shape), params=layer.count_params(),
            trainable_params=sum(variable_size(v) for v in layer.trainable_variables),
            variables=[v.name for v in layer.own_variables]))
    return records


def _parents(root, layer):
    for _, candidate in root.named_layers():
        if layer in candidate.layers:
            yield candidate


def record_tree(graph, root) -> None:
    """Replace ``root``'s subtree in the graph's ``layer_tree`` collection."""
    records = layer_records(root)
    paths = {record["path"] for record in records}
    items = graph.get_collection_ref(LAYER_TREE)
    kept = [item for item in items if item["path"] not in paths]
    if records and records[0]["path"] == root.scope_name:
        parent = next((item["parent"] for item in items if item["path"] == root.scope_name),
                      None)
        records[0]["parent"] = parent  # a block called alone stays under its parent
    items[:] = kept + records
