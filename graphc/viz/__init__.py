"""Pictures of graphs through the graphviz ``dot`` program: ``render`` and the pass report."""
from __future__ import annotations

import os
import pathlib

import graphviz

from graphc.viz.dot import to_digraph
from graphc.viz.view import build_view

__all__ = ["render", "DotNotFoundError", "FORMATS"]

FORMATS = ("png", "svg", "pdf", "dot")


class DotNotFoundError(RuntimeError):
    """The graphviz ``dot`` program is missing."""


INSTALL_HINT = ("the graphviz 'dot' program was not found on PATH; install it (Debian/Ubuntu: "
                "apt-get install graphviz, macOS: brew install graphviz) or render to .dot")


def render(target, path, depth=None, collapse_depth=None, hide_constants=False,
           fold_repeats=True, max_nodes=250, cost=None, unknown_dim=1, rankdir="TB",
           highlight=None, removed=None, title=None) -> pathlib.Path:
    """Draw ``target`` to ``path``; the format follows the extension (png, svg, pdf, dot).

    Args:
        target: a Graph; a Tensor or Operation (its expression tree); or a list of them.
        path: output file; ``.dot`` writes the DOT source and needs no graphviz binary.
        depth: with a single node, draw only its neighbourhood within ``depth`` edges.
        collapse_depth: draw name scopes nested deeper than this as single boxes. By default
            graphs over ``max_nodes`` ops are collapsed as little as needed, and the
            picture says so.
        hide_constants: leave constant nodes out.
        fold_repeats: draw consecutive identical blocks (sibling scopes) once, with a count.
        cost: None, "flops" or "bytes": colour ops by their estimated cost (static shapes;
            unknown dims count as ``unknown_dim``).
        rankdir: flow direction ("TB" top to bottom, "LR" left to right).
        highlight / removed: op names drawn with green / red borders.
        title: a caption.

    Returns:
        The path written.

    Raises:
        DotNotFoundError: a picture format was asked for but ``dot`` is not installed.
        ValueError: an unknown extension.

    Example:
        >>> gc.render(loss, "loss.png")
        >>> gc.render(g, "net.svg", collapse_depth=1, cost="flops")
    """
    path = pathlib.Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ValueError(f"render: unknown format {path.suffix!r} for {str(path)!r}; use one of "
                         f"{', '.join('.' + f for f in FORMATS)}")
    view = build_view(target, depth=depth, collapse_depth=collapse_depth,
                      hide_constants=hide_constants, fold_repeats=fold_repeats,
                      max_nodes=max_nodes)
    dot = to_digraph(view, rankdir=rankdir, cost=cost, unknown_dim=unknown_dim,
                     highlight=highlight, removed=removed, title=title)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "dot":
        path.write_text(dot.source)
        return path
    try:
        data = dot.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise DotNotFoundError(INSTALL_HINT) from None
    temporary = path.with_name(path.name + ".partial")
    temporary.write_bytes(data)
    os.replace(temporary, path)  # a failed render never leaves a corrupted file behind
    return path
