"""What a pass takes and gives back: the ``Interface`` it must preserve, its ``PassOptions``,
its ``PassResult``, and the ``PassError`` a failing pass raises."""
from __future__ import annotations

import collections
import dataclasses
import functools
from dataclasses import dataclass, field
from typing import NamedTuple, Optional

from graphc.errors import describe_op
from graphc.graph import Graph

__all__ = ["Interface", "Rewrite", "PassResult", "PassOptions", "PassError", "strict_fields",
           "EXACT", "REASSOCIATING", "NAN_INF_CHANGING", "SAFETY_CLASSES", "DEFAULT_FOLD_LIMIT"]

# Safety classes of rewrite rules, from safest to least safe.
EXACT = "exact"  # bit-identical results
REASSOCIATING = "reassociating"  # floating-point results may differ in the last bits
NAN_INF_CHANGING = "nan-inf-changing"  # may turn NaN/Inf into numbers or the reverse
SAFETY_CLASSES = (EXACT, REASSOCIATING, NAN_INF_CHANGING)
DEFAULT_FOLD_LIMIT = 1 << 20  # elements per folded constant


def strict_fields(cls):
    """Make a dataclass refuse unknown keyword arguments with a message listing the valid
    ones (a misspelled option must fail loudly, never be ignored).

    Example:
        >>> PassOptions(fold_limt=10)
        TypeError: PassOptions has no option 'fold_limt'; valid options: safety, fold_limit, budget
    """
    init = cls.__init__
    names = [f.name for f in dataclasses.fields(cls)]

    @functools.wraps(init)
    def checked_init(self, *args, **kwargs):
        unknown = [key for key in kwargs if key not in names]
        if unknown:
            raise TypeError(f"{cls.__name__} has no option {unknown[0]!r}; valid options: "
                            f"{', '.join(names)}")
        init(self, *args, **kwargs)

    cls.__init__ = checked_init
    return cls


@strict_fields
@dataclass(frozen=True)
class PassOptions:
    """What every pass may be told; one record instead of loose keyword arguments.

    Attributes:
        safety: the rule safety classes a pass may apply (``SAFETY_CLASSES``).
        fold_limit: the largest constant (in elements) that constant folding may create.
        budget: at most this many rewrites (``bisect`` uses it to find the first bad one).
        passes: the names of the passes the pipeline runs (None: all), for the pipelines
            a pass runs inside subgraphs (``passes/subgraphs.py``).

    Example:
        >>> algebraic.run(graph, interface, PassOptions(safety=("exact",)))
    """

    safety: tuple = SAFETY_CLASSES
    fold_limit: int = DEFAULT_FOLD_LIMIT
    budget: Optional[int] = None
    passes: Optional[tuple] = None

    def __post_init__(self):
        for safety in self.safety:
            if safety not in SAFETY_CLASSES:
                raise ValueError(f"Unknown safety class {safety!r}; known: {SAFETY_CLASSES}")


DEFAULT_OPTIONS = PassOptions()


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

    def copied(self, op_map: dict) -> "Interface":
        """The interface in a copy of the graph, given the copy's ``{op: copied op}``."""
        def tensor(t):
            return op_map[t.op].outputs[t.value_index]
        return Interface(tuple(map(tensor, self.fetches)),
                         tuple(op_map[o] for o in self.targets), tuple(map(tensor, self.feeds)))

    def roots(self) -> list:
        """The ops whose results are asked for (fetch producers and targets)."""
        return [t.op for t in self.fetches] + list(self.targets)


class Rewrite(NamedTuple):
    """One rule application: which source ops it replaced and which new ops it made (a
    named tuple: a pass over a big graph records tens of thousands)."""

    rule: str
    old_nodes: tuple
    new_nodes: tuple
    safety: str = EXACT

    def describe(self) -> str:
        return (f"{self.rule} [{self.safety}]: {', '.join(self.old_nodes)} -> "
                f"{', '.join(self.new_nodes) or '(existing value)'}")


def histogram(graph: Graph) -> dict:
    """``{op type: count}`` of a graph, sorted by type."""
    return graph.op_type_counts()


@dataclass(frozen=True)
class PassResult:
    """The record of one pass over a graph.

    ``graph`` is the graph after the pass. A pass's ``run`` gives it a graph of its own; the
    pipeline of a Session edits one working copy in place, so its records share that graph
    (the final one), while ``gc.optimize`` and ``bisect`` keep a snapshot per changed pass.

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


class PassError(RuntimeError):
    """A compiler pass raised: names the pass, the passes before it, the rule and the op it
    was working on (with the user's line that created it); ``__cause__`` is the original."""

    def __init__(self, pass_name: str, cause: BaseException, rule: Optional[str] = None,
                 op=None, before: tuple = ()):
        super().__init__(pass_name, cause)
        self.pass_name, self.cause, self.rule, self.op, self.before = (pass_name, cause, rule,
                                                                        op, tuple(before))

    def __str__(self) -> str:
        where = f" in rule '{self.rule}'" if self.rule else ""
        at = f" at {describe_op(self.op)}" if self.op is not None else ""
        after = f" (after {', '.join(self.before)})" if self.before else ""
        return (f"pass '{self.pass_name}'{after} failed{where}{at}: "
                f"{type(self.cause).__name__}: {self.cause}")


def rule_counts(result: PassResult) -> dict:
    """``{rule name: applications}`` of one pass."""
    return dict(collections.Counter(r.rule for r in result.rewrites))


