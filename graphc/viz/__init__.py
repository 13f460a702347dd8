"""Pictures of graphs through the graphviz ``dot`` program: ``render`` and the pass report."""
from __future__ import annotations

import pathlib

from graphc.viz.dot import to_digraph
from graphc.viz.output import (FORMATS, INSTALL_HINT, DotNotFoundError,  # noqa: F401
                               check_format, write_digraph)
from graphc.viz.view import build_view

__all__ = ["render", "render_layer_tree", "DotNotFoundError", "FORMATS"]


def render(target, path, depth=None, collapse_depth=None, hide_constants=False,
           fold_repeats=True, max_nodes=250, cost=None, unknown_dim=1, rankdir="TB",
           highlight=None, removed=None, title=None, layer_boxes=False) -> pathlib.Path:
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
        layer_boxes: draw each ``gc.layers`` layer without child layers as one box (its
            type, output shape and parameters), containers as clusters. Clusters of layers
            are labelled with the same facts in any case.
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
    check_format(path)
    view = build_view(target, depth=depth, collapse_depth=collapse_depth,
                      hide_constants=hide_constants, fold_repeats=fold_repeats,
                      max_nodes=max_nodes, layer_boxes=layer_boxes)
    dot = to_digraph(view, rankdir=rankdir, cost=cost, unknown_dim=unknown_dim,
                     highlight=highlight, removed=removed, title=title)
    return write_digraph(dot, pathlib.Path(path))


from graphc.viz.layer_tree import render_layer_tree  # noqa: E402,F401
