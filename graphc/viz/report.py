"""Inspecting the optimizer: a terminal table of the pass records and a self-contained HTML
report with each pass's before/after picture (changes highlighted) and text-IR diff."""
from __future__ import annotations

import difflib
import html
import pathlib

import graphviz

from graphc.printing import graph_as_text
from graphc.viz.dot import to_digraph
from graphc.viz.view import build_view

__all__ = ["pass_table", "subgraph_table", "html_report"]


def pass_table(records) -> str:
    """The records as an aligned text table, one row per pass run, with totals; under a
    pass that optimized subgraphs (loop bodies, branches), one row per subgraph sums up its
    own pipeline (``subgraph_table`` lists it pass by pass).

    Example:
        >>> print(pass_table(records))
    """
    header = ("#", "pass", "nodes", "removed", "added", "rewrites", "rules", "ms")
    rows = []
    for index, record in enumerate(records):
        rows.append(_row(str(index), record.name, [record]))
        for label, inner in record.extra.get("inside", {}).items():
            rows.append(_row("", f"  in {label}", inner))
    if records:
        rows.append(("", "total", f"{records[0].nodes_before} -> {records[-1].nodes_after}",
                     str(sum(len(r.removed) for r in records)),
                     str(sum(len(r.added) for r in records)),
                     str(sum(len(r.rewrites) for r in records)), "",
                     f"{sum(r.seconds for r in records) * 1000:.1f}"))
    widths = [max(len(row[i]) for row in rows + [header]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
             for row in [header] + rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _row(index: str, name: str, records) -> tuple:
    """One table row summing ``records`` (one pass, or a subgraph's whole pipeline)."""
    rules: dict = {}
    for record in records:
        for rewrite in record.rewrites:
            rules[rewrite.rule] = rules.get(rewrite.rule, 0) + 1
    summary = ", ".join(f"{k}×{v}" for k, v in sorted(rules.items(), key=lambda kv: -kv[1]))
    return (index, name, f"{records[0].nodes_before} -> {records[-1].nodes_after}",
            str(sum(len(r.removed) for r in records)), str(sum(len(r.added) for r in records)),
            str(sum(len(r.rewrites) for r in records)),
            summary[:60] + ("…" if len(summary) > 60 else ""),
            f"{sum(r.seconds for r in records) * 1000:.1f}")


def subgraph_table(records) -> str:
    """What the pipeline did inside each subgraph, pass by pass (a ``pass_table`` each).

    Example:
        >>> print(subgraph_table(records))
        while/body
        # pass ...
    """
    parts = []
    for record in records:
        for label, inner in record.extra.get("inside", {}).items():
            parts.append(f"{label}\n{pass_table(inner)}")
    return "\n\n".join(parts)


def _svg(graph, interface, highlight=(), removed=(), max_nodes=150) -> str:
    roots = list(interface.fetches) + list(interface.targets)
    view = build_view(roots if roots else graph, max_nodes=max_nodes)
    dot = to_digraph(view, highlight=highlight, removed=removed)
    try:
        svg = dot.pipe(format="svg").decode()
    except graphviz.ExecutableNotFound:
        return "<p><em>(graphviz 'dot' not installed: no picture)</em></p>"
    return svg[svg.index("<svg"):]


def html_report(records, path, title="graphc optimization report", original=None) -> pathlib.Path:
    """Write one self-contained HTML file: per pass, the summary, the before/after pictures
    (added nodes green, removed red), the rule applications and the text-IR diff.

    Example:
        >>> optimized, records = gc.optimize(g, [loss], feeds=[x])
        >>> html_report(records, "report.html")
    """
    path = pathlib.Path(path)
    parts = [f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;margin:2em}pre{background:#f6f6f6;padding:1em;"
             "overflow:auto;font-size:12px}.pics{display:flex;gap:2em;align-items:flex-start}"
             ".pics div{flex:1;overflow:auto;max-height:60em}svg{max-width:100%;height:auto}"
             "ins{background:#dfd;text-decoration:none}del{background:#fdd}</style>",
             f"<h1>{html.escape(title)}</h1>",
             f"<pre>{html.escape(pass_table(records))}</pre>"]
    previous_graph = original
    previous_interface = None
    for index, record in enumerate(records):
        before_graph = previous_graph if previous_graph is not None else record.graph
        parts.append(f"<h2 id='pass-{index}'>{index}. {html.escape(record.name)}</h2>")
        parts.append(f"<p>{html.escape(record.summary())}</p>")
        if record.rewrites:
            items = "".join(f"<li>{html.escape(r.describe())}</li>" for r in record.rewrites[:200])
            more = len(record.rewrites) - 200
            parts.append(f"<ul>{items}</ul>" + (f"<p>… and {more} more</p>" if more > 0 else ""))
        if record.changed and previous_interface is not None:
            parts.append("<div class='pics'><div><h3>before</h3>"
                         + _svg(before_graph, previous_interface, removed=set(record.removed))
                         + "</div><div><h3>after</h3>"
                         + _svg(record.graph, record.interface, highlight=set(record.added))
                         + "</div></div>")
            diff = difflib.unified_diff(graph_as_text(before_graph).splitlines(),
                                        graph_as_text(record.graph).splitlines(),
                                        "before", "after", lineterm="", n=1)
            parts.append(f"<pre>{html.escape(chr(10).join(diff))}</pre>")
        elif record.changed or previous_interface is None:
            parts.append("<div class='pics'><div><h3>result</h3>"
                         + _svg(record.graph, record.interface, highlight=set(record.added))
                         + "</div></div>")
        else:
            parts.append("<p>No change.</p>")
        previous_graph, previous_interface = record.graph, record.interface
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts))
    return path
