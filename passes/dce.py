"""Dead-code elimination: drop every op that no fetch, target or control dependency needs.

Stateful ops that a fetch or target depends on (through data or control edges) are kept;
the feed placeholders are kept whether used or not, so the interface stays valid.
"""
from __future__ import annotations

from graphc.graph import Graph, required_ops

from .result import DEFAULT_OPTIONS, Interface, PassOptions, PassResult
from .rewriter import Rewriter, on_copy

__all__ = ["run", "edit"]


def edit(graph: Graph, interface: Interface,
         options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Remove the dead ops of ``graph`` in place."""
    live = required_ops(interface.fetches, interface.targets, frozenset())
    live.update(t.op for t in interface.feeds)
    rw = Rewriter(graph, interface, "dce", options)
    rw.remove(op for op in graph.get_operations() if op not in live)
    return rw.finish()


def run(graph: Graph, interface: Interface,
        options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Copy only the live ops of ``graph`` (``graph`` is not changed).

    Example:
        >>> dce.run(g, interface).removed
        ('unused_branch/exp',)
    """
    return on_copy(edit, graph, interface, options)
