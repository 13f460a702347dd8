"""What a pass takes and gives back: the ``Interface`` it must preserve and its ``PassResult``."""
from __future__ import annotations

import collections
from dataclasses import dataclass, field


from graphc.graph import Graph

__all__ = ["Interface", "Rewrite", "PassResult", "EXACT", "REASSOCIATING", "NAN_INF_CHANGING",
           "SAFETY_CLASSES"]

# Safety classes of rewrite rules, from safest to least safe.
EXACT = "exact"  # bit-identical results
REASSOCIATING = "reassociating"  # floating-point results may differ in the last bits
NAN_INF_CHANGING = "nan-inf-changing"  # may turn NaN/Inf into numbers or the reverse
SAFETY_CLASSES = (EXACT, REASSOCIATING, NAN_INF_CHANGING)


@dataclass(frozen=True)
class Interface:
    """The tensors and ops an optimized graph must keep computing (by position).

    ``fetches`` and ``targets`` are what a Session run asks for; ``feeds`` are the fed
    tensors, which after pruning are placeholders of the optimized graph.
    """

    fetches: tuple = ()
    targets: tuple = ()
    feeds: tuple = ()

    def mapped(self, tensor_map: dict, op_map: dict) -> "Interface":
        return Interface(tuple(tensor_map[t] for t in self.fetches),
                         tuple(op_map[o] for o in self.targets),
                         tuple(tensor_map[t] for t in self.feeds))

    def roots(self) -> list:
        """The ops whose results are asked for (fetch producers and targets)."""
        return [t.op for t in self.fetches] + list(self.targets)


@dataclass(frozen=True)
class Rewrite:
    """One rule application: which source ops it replaced and which new ops it made."""

    rule: str
    old_nodes: tuple
    new_nodes: tuple
    safety: str = EXACT

    def describe(self) -> str:
        return (f"{self.rule} [{self.safety}]: {', '.join(self.old_nodes)} -> "
                f"{', '.join(self.new_nodes) or '(existing value)'}")


def histogram(graph: Graph) -> dict:
    """``{op type: count}`` of a graph, sorted by type."""
    return dict(sorted(collections.Counter(op.type for op in graph.get_operations()).items()))


@dataclass(frozen=True)
class PassResult:
    """The record of one pass over a graph.

    Example:
        >>> result = constant_folding.run(graph, interface)
        >>> result.name, result.changed, result.nodes_before, result.nodes_after
        ('constant_folding', True, 12, 9)
    """

    name: str
    graph: Graph
    interface: Interface
    nodes_before: int
    nodes_after: int
    histogram_before: dict
    histogram_after: dict
    rewrites: tuple = ()
    removed: tuple = ()  # source op names with no counterpart in the new graph
    added: tuple = ()  # new op names that are not copies of source ops
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.rewrites or self.removed or self.added)

    def summary(self) -> str:
        """One line: name, node counts, rewrites and time."""
        return (f"{self.name}: {self.nodes_before} -> {self.nodes_after} nodes, "
                f"{len(self.rewrites)} rewrites, -{len(self.removed)} +{len(self.added)}, "
                f"{self.seconds * 1000:.1f} ms")


def rule_counts(result: PassResult) -> dict:
    """``{rule name: applications}`` of one pass."""
    return dict(collections.Counter(r.rule for r in result.rewrites))


