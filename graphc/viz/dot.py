"""Turning a View into graphviz DOT: styles, nested scope clusters, edge labels."""
from __future__ import annotations

import hashlib
import math

import graphviz
import numpy as np

from graphc import registry
from graphc.printing import format_attr, format_type
from graphc.viz.cost import op_bytes, op_flops
from graphc.viz.layer_labels import layer_labels
from graphc.viz.view import View, scope_of

__all__ = ["to_digraph", "escape"]

PALETTE = ["#dbe9f6", "#e3f1dc", "#fbe5d6", "#ece1f3", "#fdf3cf", "#dcefee", "#f6dde8",
           "#e8e8e8", "#d9e5ff", "#f1e9d2"]
SPECIAL = {
    "placeholder": dict(shape="ellipse", style="filled", fillcolor="#b7e1a1"),
    "variable": dict(shape="cylinder", style="filled", fillcolor="#f6b26b"),
    "const": dict(shape="note", style="filled", fillcolor="#eeeeee", fontsize="9"),
    "fused_elementwise": dict(shape="box3d", style="filled", fillcolor="#c9a0dc"),
}


def escape(text: str) -> str:
    """Escape graphviz label metacharacters ({ } | < > and backslashes)."""
    for char in "\\{}|<>":
        text = text.replace(char, "\\" + char)
    return text


def family_color(op_type: str) -> str:
    """A stable colour per op family (the registry module defining the op)."""
    opdef = registry.get(op_type)
    family = getattr(opdef.kernel, "__module__", None) or op_type
    digest = hashlib.md5(family.encode()).digest()[0]
    return PALETTE[digest % len(PALETTE)]


def _op_label(op) -> str:
    if op.type in ("placeholder", "placeholder_with_default"):
        return f"{op.name.split('/')[-1]}\\n{op.type}"
    if op.type == "variable":
        return f"{op.name.split('/')[-1]}\\nvariable"
    if op.type == "const":
        value = op.attrs["value"]
        return escape(format_attr(value)) if value.size <= 4 else f"const {format_type(op.outputs[0])}"
    if op.type == "fused_elementwise":
        steps = [step[0] for step in op.attrs["program"]]
        shown = ", ".join(dict.fromkeys(steps[:6])) + (", ..." if len(set(steps)) > 6 else "")
        return f"fused ×{len(steps)}\\n{escape(shown)}"
    return op.type


def _value_line(op) -> str:
    """``= 0.1`` under an op that ran eagerly (it keeps its values): small values in full,
    others by their shape."""
    values = getattr(op, "_values", None)
    if not values or op.type == "const" or not isinstance(values[0], np.ndarray):
        return ""
    value = values[0]
    shown = format_attr(value) if value.size <= 4 else f"{value.dtype}{list(value.shape)}"
    return "\\n= " + escape(shown)


def _heat(value: float, top: float) -> str:
    """White (cheap) to red (most expensive), on a log scale."""
    share = 0.0 if value <= 0 or top <= 1 else math.log1p(value) / math.log1p(top)
    green_blue = int(255 * (1 - share))
    return f"#ff{green_blue:02x}{green_blue:02x}" if share else "#ffffff"


def to_digraph(view: View, rankdir="TB", cost=None, unknown_dim=1, highlight=None,
               removed=None, title=None) -> graphviz.Digraph:
    """The DOT graph of ``view``. ``cost`` is None, "flops" or "bytes"; ``highlight`` and
    ``removed`` are op-name sets drawn with green and red borders (pass reports)."""
    highlight, removed = set(highlight or ()), set(removed or ())
    dot = graphviz.Digraph(graph_attr=dict(rankdir=rankdir, fontname="Helvetica",
                                           fontsize="11", labelloc="t", compound="true"),
                           node_attr=dict(fontname="Helvetica", fontsize="10"),
                           edge_attr=dict(fontname="Helvetica", fontsize="8", color="#555555"))
    costs = {}
    if cost is not None:
        measure = op_flops if cost == "flops" else op_bytes
        costs = {op: measure(op, unknown_dim) for op in view.ops}
    top = max(costs.values(), default=0)
    ids = {}
    tree: dict = {}  # scope tuple -> list of (id, attrs)
    layers = layer_labels(view.graph)  # scope tuple -> "Type · shape · params" of a layer

    def place(scope, node_id, attrs):
        tree.setdefault(scope, []).append((node_id, attrs))

    for index, op in enumerate(view.ops):
        shown = view.display[op]
        if shown is not op:
            continue
        node_id = f"n{index}"
        ids[op] = node_id
        attrs = dict(SPECIAL.get(op.type, dict(shape="box", style="filled,rounded",
                                               fillcolor=family_color(op.type))))
        attrs["label"] = _op_label(op) + _value_line(op)
        attrs["tooltip"] = f"{op.name} ({op.type})" + (f" at {op.location}" if op.location else "")
        if cost is not None and op.type not in ("placeholder", "variable", "const"):
            attrs["fillcolor"] = _heat(costs[op], top)
            attrs["label"] += f"\\n{costs[op]:,} {'flop' if cost == 'flops' else 'B'}"
        if op is view.focus:
            attrs.update(color="#d62728", penwidth="3")
        if op.name in highlight:
            attrs.update(color="#2ca02c", penwidth="3")
        if op.name in removed:
            attrs.update(color="#d62728", penwidth="3", style="filled,dashed")
        place(scope_of(op), node_id, attrs)
    for number, (box, inside) in enumerate(view.boxes.items()):
        node_id = f"box{number}"
        for op in inside:
            ids[op] = node_id
        kinds = ", ".join(dict.fromkeys(op.type for op in inside[:40]))
        kinds = kinds if len(kinds) <= 40 else kinds[:39] + "…"
        layer = layers.get(tuple(box.split("/")))
        label = f"{box.split('/')[-1]}\\n{len(inside)} ops\\n" + escape(
            layer.replace(" · ", "\n") if layer else kinds).replace("\n", "\\n")
        attrs = dict(shape="folder", style="filled", fillcolor="#fff2cc", label=label,
                     tooltip=box)
        if cost is not None:
            total = sum(costs[op] for op in inside)
            attrs["fillcolor"] = _heat(total, top)
            attrs["label"] += f"\\n{total:,} {'flop' if cost == 'flops' else 'B'}"
        place(tuple(box.split("/")[:-1]), node_id, attrs)
    _emit(dot, tree, view, layers)
    _edges(dot, view, ids)
    for op, node_id in list(ids.items()):
        if registry.get(op.type).subgraphs and node_id.startswith("n"):
            _control_flow_cluster(dot, op, node_id)
    notes = list(view.notes)
    if cost is not None:
        notes.append(f"colour: estimated {cost} per op (white low, red high; unknown dims "
                     f"taken as {unknown_dim})")
    if title or notes:
        dot.attr(label=escape("\n".join(([title] if title else []) + notes)))
    return dot


def _emit(dot, tree, view, layers) -> None:
    """Nodes inside nested clusters, one per name scope (a layer's says its type, output
    shape and parameters)."""
    scopes = sorted(tree, key=len)
    all_scopes = {s[:i] for s in scopes for i in range(1, len(s) + 1)}

    def fill(graph, scope):
        for node_id, attrs in tree.get(scope, []):
            graph.node(node_id, **attrs)
        children = sorted(s for s in all_scopes if len(s) == len(scope) + 1 and s[:-1] == scope)
        for child in children:
            with graph.subgraph(name="cluster_" + "/".join(child)) as cluster:
                label = child[-1] + (f"\n{layers[child]}" if child in layers else "")
                copies = view.repeats.get(child)
                if copies:
                    label += f"  (×{len(copies)}: {copies[0][-1]} … {copies[-1][-1]})"
                gradient = child[0].startswith("gradients")
                cluster.attr(label=escape(label), style="rounded,filled" if not gradient
                             else "rounded,dashed,filled",
                             fillcolor="#fbfbf4" if not gradient else "#fff8e0",
                             color="#999999")
                fill(cluster, child)

    fill(dot, ())


def _edges(dot, view, ids) -> None:
    drawn = set()
    for op in view.ops:
        if op not in ids:
            continue
        for tensor in op.inputs:
            source = ids.get(view.alias.get(tensor.op, tensor.op))
            if source is None or source == ids[op] or (source, ids[op]) in drawn:
                continue
            drawn.add((source, ids[op]))
            dot.edge(source, ids[op], label=escape(format_type(tensor)))
        for dep in op.control_inputs:
            source = ids.get(view.alias.get(dep, dep))
            if source is not None and source != ids[op] and (source, ids[op], "c") not in drawn:
                drawn.add((source, ids[op], "c"))
                dot.edge(source, ids[op], style="dashed", arrowhead="odot")


def _subgraphs(op) -> list:
    found = []
    for key in registry.get(op.type).subgraphs:
        value = op.attrs[key]
        found.extend(value if isinstance(value, tuple) else (value,))
    return found


def _control_flow_cluster(dot, op, node_id: str) -> None:
    """A loop or cond as a labelled cluster holding one cluster per subgraph (body,
    condition, branches) with their ops, nested control flow drawn the same way; a dashed
    edge leads from the op's node to it."""
    def draw(graph, op, prefix):
        subs = _subgraphs(op)
        with graph.subgraph(name=f"cluster_{prefix}") as outer:
            outer.attr(label=escape(f"{op.type} '{op.name}'"), style="rounded,filled",
                       fillcolor="#eef4fb", color="#4a78b5", penwidth="2")
            anchor = None
            for k, sub in enumerate(subs):
                with outer.subgraph(name=f"cluster_{prefix}_{k}") as inner:
                    inner.attr(label=escape(sub.label), style="rounded,filled",
                               fillcolor="#ffffff", color="#8fb0d9")
                    ids = {}
                    for j, inner_op in enumerate(sub.ops()):
                        ids[inner_op] = f"{prefix}_{k}_{j}"
                        attrs = dict(SPECIAL.get(inner_op.type, dict(
                            shape="box", style="filled,rounded",
                            fillcolor=family_color(inner_op.type))))
                        inner.node(ids[inner_op], label=_op_label(inner_op),
                                   tooltip=f"{inner_op.name} ({inner_op.type})", **attrs)
                        anchor = anchor or ids[inner_op]
                    for inner_op, inner_id in ids.items():
                        for tensor in inner_op.inputs:
                            if tensor.op in ids:
                                inner.edge(ids[tensor.op], inner_id,
                                           label=escape(format_type(tensor)))
                        if registry.get(inner_op.type).subgraphs:
                            nested = draw(inner, inner_op, f"{prefix}_{k}_{len(ids)}x")
                            inner.edge(inner_id, nested, style="dashed",
                                       lhead=f"cluster_{prefix}_{k}_{len(ids)}x")
            return anchor or node_id

    first = draw(dot, op, f"cf_{node_id}")
    dot.edge(node_id, first, style="dashed", color="#4a78b5", lhead=f"cluster_cf_{node_id}")
