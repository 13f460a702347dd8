"""Dead-code elimination: drop every op that no fetch, target or control dependency needs.

Stateful ops that a fetch or target depends on (through data or control edges) are kept;
the feed placeholders are kept whether used or not, so the interface stays valid.
"""
from __future__ import annotations

from graphc.graph import Graph, required_ops

from .result import Interface, PassResult
from .rewriter import rewrite_graph

__all__ = ["run"]


def run(graph: Graph, interface: Interface, **options) -> PassResult:
    """Copy only the live ops of ``graph``.

    Example:
        >>> dce.run(g, interface).removed
        ('unused_branch/exp',)
    """
    live = required_ops(interface.fetches, interface.targets, frozenset())
    live.update(t.op for t in interface.feeds)
    return rewrite_graph(graph, interface, "dce", lambda rw, op: False, ops=live,
                         probe=lambda op: op not in live)
