"""The in-place rewriter every pass is built on.

A pass edits a graph it owns (the pipeline's working copy; a pass's ``run`` makes one with
``on_copy``), and touches only the ops it changes: a replacement is built just before the op
it replaces (``Graph.inserting_before``), every reader of the old outputs is pointed at the
new ones (``Graph.replace_uses``), and the replaced ops are removed when the pass finishes.
Every replacement is recorded as a ``Rewrite`` and stamps the new ops with their provenance
(pass/rule and the user ops they stand for). ``PassOptions.budget`` caps the number of
rewrites, which is how ``bisect`` finds the first rule application that changes results.
An exception inside a pass becomes a ``PassError`` naming the pass, the rule and the op.
"""
from __future__ import annotations

import functools
import time
from typing import Callable, Optional

from graphc.algorithms import control_sources
from graphc.graph import Graph, Operation

from .result import (DEFAULT_OPTIONS, EXACT, Interface, PassError, PassOptions, PassResult,
                     Rewrite, histogram)

__all__ = ["Rewriter", "rewrite_graph", "apply_rules", "run_rule_table", "on_copy"]


class _Declined(Exception):
    """A rule's side condition failed after it started building: undo and leave the op."""


class Rewriter:
    """Edits ``graph`` in place for one pass and records what changed.

    Example:
        >>> rw = Rewriter(graph, interface, "cse")
        >>> rw.replace(duplicate, lambda: first.outputs[0], "merge_duplicates")
        >>> result = rw.finish()
    """

    def __init__(self, graph: Graph, interface: Interface, pass_name: str,
                 options: PassOptions = DEFAULT_OPTIONS):
        self.graph, self.interface, self.pass_name = graph, interface, pass_name
        self.options = options
        self.rule: Optional[str] = None  # the rule being tried (named by errors)
        self.rewrites: list = []
        self.added: list = []
        self._dropped: dict = {}  # ops to remove when the pass finishes (ordered set)
        self._forward: dict = {}  # replaced interface tensor -> the tensor standing for it
        self._forward_ops: dict = {}
        self._watched = set(interface.fetches).union(interface.targets, interface.feeds)
        self._started = time.perf_counter()
        self.histogram_before = histogram(graph)
        self.nodes_before = sum(self.histogram_before.values())

    # -- per-op actions ---------------------------------------------------------------------
    @staticmethod
    def inputs_of(op: Operation) -> list:
        """The tensors ``op`` reads now (earlier rewrites of this pass included)."""
        return list(op.inputs)

    def may_rewrite(self, op: Operation, safety: str = EXACT, any_safety: bool = False) -> bool:
        """Whether a rule may replace ``op``: budget left, ``safety`` allowed (unless
        ``any_safety``), no control edges."""
        budget = self.options.budget
        if budget is not None and len(self.rewrites) >= budget:
            return False
        if not any_safety and safety not in self.options.safety:
            return False
        return not op._control_inputs and op not in self._control_sources

    @functools.cached_property
    def _control_sources(self) -> set:
        return control_sources(self.graph)

    def replace(self, op: Operation, build: Callable[[], object], rule: str,
                safety: str = EXACT, matched=()) -> bool:
        """Let what ``build()`` returns (a tensor, or a list per output), built just before
        ``op``, stand for ``op``'s outputs; ``op`` goes when the pass finishes. Returns False
        (changing nothing) if ``build`` returns None or yields tensors of another dtype or
        an incompatible shape."""
        graph = self.graph
        self.rule = rule
        try:
            with graph.as_default(), graph.atomic() as created, graph.inserting_before(op):
                result = build()
                if result is None:
                    raise _Declined
                outputs = list(result) if isinstance(result, (list, tuple)) else [result]
                for old, new in zip(op.outputs, outputs):
                    if new.dtype is not old.dtype or not new.shape.is_compatible_with(old.shape):
                        raise _Declined
                if any(t.op is op for new_op in created for t in new_op.inputs):
                    raise _Declined  # a replacement reading the outputs it replaces: a cycle
            new_ops = list(created)
        except _Declined:
            return False
        if new_ops:
            sources = tuple(dict.fromkeys(name for o in [op, *matched]
                                          for name in o.provenance[1]))
            made_by = f"{self.pass_name}/{rule}"
            for new_op in new_ops:
                new_op.provenance = (made_by, sources)
                new_op.location = op.location  # errors point at the user's line of the root
        self._record(op, outputs, rule, safety, matched, new_ops)
        return True

    def redirect(self, op: Operation, outputs, rule: str, safety: str = EXACT) -> bool:
        """Let existing tensors ``outputs`` (which must not depend on ``op``) stand for its
        outputs: ``replace`` without building anything, as CSE merges. False if a dtype or
        shape differs."""
        for old, new in zip(op.outputs, outputs):
            if new.dtype is not old.dtype or not new.shape.is_compatible_with(old.shape):
                return False
        self._record(op, outputs, rule, safety, (), ())
        return True

    def _record(self, op, outputs, rule, safety, matched, new_ops) -> None:
        for old, new in zip(op.outputs, outputs):
            if not new.shape.is_fully_defined() and old.shape.is_fully_defined():
                new.set_shape(old.shape)  # the rule guarantees the run-time shape
            self.graph.replace_uses(old, new)
            if old in self._watched:
                self._forward[old] = new
                self._watched.add(new)
        if op in self._watched:
            self._forward_ops[op] = outputs[0].op
            self._watched.add(outputs[0].op)
        self._dropped[op] = None
        self.added.extend(new_ops)
        old_names = tuple([o.name for o in [op, *matched]]) if matched else (op.name,)
        self.rewrites.append(Rewrite(rule, old_names, tuple([o.name for o in new_ops]), safety))

    def remove(self, ops, into: Optional[Operation] = None) -> None:
        """Remove ``ops`` (which nothing else may read) when the pass finishes; a target
        among them (an effect prune kept) is then ``into``, the op computing them now."""
        ops = list(ops)
        for op in ops:
            if into is not None and op in self._watched:
                self._forward_ops[op] = into
        self._dropped.update(dict.fromkeys(ops))

    def finish(self, extra: Optional[dict] = None) -> PassResult:
        """Remove what was replaced or dropped; the PassResult: graph, mapped interface,
        counts, rewrites and time."""
        dropped = list(self._dropped)
        if dropped:
            self.graph.remove_ops(dropped)
        gone, made = set(dropped), set(self.added)
        removed = [op for op in dropped if op not in made]
        added = [op for op in self.added if op not in gone]
        histogram_after = histogram(self.graph)
        return PassResult(
            name=self.pass_name, graph=self.graph, interface=self._mapped_interface(),
            nodes_before=self.nodes_before, nodes_after=sum(histogram_after.values()),
            histogram_before=self.histogram_before, histogram_after=histogram_after,
            rewrites=tuple(self.rewrites), removed=tuple(op.name for op in removed),
            added=tuple(op.name for op in added),
            seconds=time.perf_counter() - self._started, extra=extra or {})

    def _mapped_interface(self) -> Interface:
        def tensor(t):
            while t in self._forward:
                t = self._forward[t]
            return t

        def op(o):
            while o in self._forward_ops:
                o = self._forward_ops[o]
            return o
        iface = self.interface
        return Interface(tuple(map(tensor, iface.fetches)), tuple(map(op, iface.targets)),
                         tuple(map(tensor, iface.feeds)))

    def failure(self, err: Exception, op: Optional[Operation]) -> PassError:
        """The PassError for ``err`` raised while working on ``op``."""
        return PassError(self.pass_name, err, rule=self.rule, op=op)


def on_copy(edit: Callable, graph: Graph, interface: Interface,
            options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Run the in-place pass ``edit`` on a copy of ``graph``: ``graph`` stays as it is."""
    work, op_map = graph.copy()
    return edit(work, interface.copied(op_map), options)


def rewrite_graph(graph: Graph, interface: Interface, pass_name: str,
                  visit: Callable[[Rewriter, Operation], bool],
                  options: PassOptions = DEFAULT_OPTIONS, ops=None) -> PassResult:
    """Run ``visit(rewriter, op)`` over ``ops`` (default: all, topologically), in place.

    ``visit`` returns whether it rewrote ``op``; an exception it raises becomes a PassError
    naming the pass, the rule being tried and ``op``."""
    rw = Rewriter(graph, interface, pass_name, options)
    for op in graph.topological_order(ops):
        rw.rule = None
        try:
            visit(rw, op)
        except PassError:
            raise
        except Exception as err:  # noqa: BLE001 - every failure gets the pass, rule and op
            raise rw.failure(err, op) from err
    return rw.finish()


def run_rule_table(graph: Graph, interface: Interface, pass_name: str, index: dict,
                   options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """A pass that applies a rule table (indexed by root op type) wherever it matches."""
    return rewrite_graph(graph, interface, pass_name,
                         lambda rw, op: apply_rules(rw, op, index), options)


def apply_rules(rw: Rewriter, op: Operation, index: dict) -> bool:
    """Try the rules indexed under ``op.type``, in table order; True if one fired."""
    rules = index.get(op.type)
    if not rules or len(op.outputs) != 1 or not rw.may_rewrite(op, EXACT, any_safety=True):
        return False
    inputs = list(op.inputs)
    allowed = rw.options.safety
    for rule in rules:
        if rule.safety not in allowed:
            continue
        rw.rule = rule.name
        found = rule.find(op, inputs, op.outputs[0])
        if found is not None and rw.replace(op, lambda: rule.rewrite(found), rule.name,
                                            rule.safety, found.matched):
            return True
    return False
