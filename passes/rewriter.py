"""The copying rewriter every pass is built on.

A pass never mutates its input graph: ``Rewriter`` walks the source graph in topological
order and builds a fresh target graph through an old-to-new tensor map (torch.fx's CSE
style). A visitor decides per op: copy it, map its outputs to existing tensors, or build a
replacement with the public API inside ``replace``. Every replacement is recorded as a
``Rewrite`` and stamps the new ops with their provenance (pass/rule and the user ops they
stand for). An optional ``budget`` caps the number of rewrites, which is how ``bisect`` finds
the first rule application that changes results.
"""
from __future__ import annotations

import functools
import time
from typing import Callable, Optional

from graphc.algorithms import control_sources
from graphc.graph import Graph, Operation

from .result import EXACT, Interface, PassResult, Rewrite, histogram

__all__ = ["Rewriter", "rewrite_graph", "apply_rules"]


class _Declined(Exception):
    """A rule's side condition failed after it started building: undo and copy instead."""


class Rewriter:
    """Builds ``target`` from ``source``; see the module docstring.

    Example:
        >>> rw = Rewriter(graph, interface, "cse")
        >>> for op in graph.topological_order(): rw.copy(op)
        >>> result = rw.finish()
    """

    def __init__(self, source: Graph, interface: Interface, pass_name: str,
                 budget: Optional[int] = None, allowed_safety=None):
        self.source, self.interface, self.pass_name = source, interface, pass_name
        self.target = Graph()
        self.target.seed = source.seed
        self.target._used_names = dict(source._used_names)  # copies keep their names
        self.target._variable_reads = source._variable_reads
        self.tensor_map: dict = {}
        self.op_map: dict = {}
        self.rewrites: list = []
        self.added: list = []
        self.budget = budget
        self.allowed_safety = allowed_safety
        self._started = time.perf_counter()

    # -- per-op actions ---------------------------------------------------------------------
    def inputs_of(self, op: Operation) -> list:
        return [self.tensor_map[t] for t in op.inputs]

    def copy(self, op: Operation, inputs: Optional[list] = None) -> Operation:
        """Append a copy of ``op`` reading the mapped (or given) inputs."""
        controls = [self.op_map[c] for c in op.control_inputs if c in self.op_map]
        new = self.target._clone_op(op, self.inputs_of(op) if inputs is None else inputs,
                                    controls)
        self.op_map[op] = new
        for old, fresh in zip(op.outputs, new.outputs):
            self.tensor_map[old] = fresh
        return new

    def may_rewrite(self, op: Operation, safety: str = EXACT) -> bool:
        """Whether a rule may replace ``op``: budget left, safety allowed, no control edges."""
        if self.budget is not None and len(self.rewrites) >= self.budget:
            return False
        if self.allowed_safety is not None and safety not in self.allowed_safety:
            return False
        return not op.control_inputs and op not in self._control_sources

    @functools.cached_property
    def _control_sources(self) -> set:
        return control_sources(self.source)

    def replace(self, op: Operation, build: Callable[[], object], rule: str,
                safety: str = EXACT, matched=()) -> bool:
        """Map ``op``'s outputs to what ``build()`` returns (a tensor, or a list per output),
        built in the target graph. Returns False (changing nothing) if ``build`` returns None
        or yields tensors of another dtype or an incompatible shape."""
        start = len(self.target._ops)
        try:
            with self.target.as_default(), self.target.atomic():
                result = build()
                if result is None:
                    raise _Declined
                outputs = list(result) if isinstance(result, (list, tuple)) else [result]
                for old, new in zip(op.outputs, outputs):
                    if new.dtype is not old.dtype or not new.shape.is_compatible_with(old.shape):
                        raise _Declined
        except _Declined:
            return False
        new_ops = self.target._ops[start:]
        sources = tuple(dict.fromkeys(name for o in [op, *matched]
                                      for name in o.provenance[1]))
        made_by = f"{self.pass_name}/{rule}"
        for new_op in new_ops:
            new_op.provenance = (made_by, sources)
            new_op.location = op.location  # errors point at the user's line of the root
        for old, new in zip(op.outputs, outputs):
            if not new.shape.is_fully_defined() and old.shape.is_fully_defined():
                new.set_shape(old.shape)  # the rule guarantees the run-time shape
            self.tensor_map[old] = new
        self.op_map[op] = outputs[0].op
        self.added.extend(o.name for o in new_ops)
        self.rewrites.append(Rewrite(rule, tuple(o.name for o in [op, *matched]),
                                     tuple(o.name for o in new_ops), safety))
        return True

    def finish(self, extra: Optional[dict] = None) -> PassResult:
        """The PassResult: new graph, mapped interface, counts, rewrites and time."""
        interface = self.interface.mapped(self.tensor_map, self.op_map)
        kept = {op.name for op in self.target.get_operations()}
        removed = tuple(op.name for op in self.source.get_operations() if op.name not in kept)
        return PassResult(
            name=self.pass_name, graph=self.target, interface=interface,
            nodes_before=len(self.source), nodes_after=len(self.target),
            histogram_before=histogram(self.source), histogram_after=histogram(self.target),
            rewrites=tuple(self.rewrites), removed=removed, added=tuple(self.added),
            seconds=time.perf_counter() - self._started, extra=extra or {})


def unchanged(source: Graph, interface: Interface, pass_name: str) -> PassResult:
    """The result of a pass that found nothing to do: the input graph itself, unmodified."""
    started = time.perf_counter()
    counts = histogram(source)
    return PassResult(name=pass_name, graph=source, interface=interface,
                      nodes_before=len(source), nodes_after=len(source),
                      histogram_before=counts, histogram_after=counts,
                      seconds=time.perf_counter() - started)


def rewrite_graph(source: Graph, interface: Interface, pass_name: str,
                  visit: Callable[[Rewriter, Operation], bool], budget=None,
                  allowed_safety=None, ops=None, probe=None) -> PassResult:
    """Run ``visit(rewriter, op)`` over ``ops`` (default: all, topologically); ops for which
    it returns False are copied unchanged. ``probe(op)``, when given, says cheaply whether
    ``op`` might be rewritten; if it holds for no op, the graph is returned without a copy."""
    if probe is not None and not any(probe(op) for op in source.get_operations()):
        return unchanged(source, interface, pass_name)
    rw = Rewriter(source, interface, pass_name, budget, allowed_safety)
    for op in source.topological_order(ops):
        if not visit(rw, op):
            rw.copy(op)
    return rw.finish()


def rules_may_apply(op: Operation, index: dict) -> bool:
    """A probe: does any rule of ``index`` match ``op`` in its own graph?"""
    if len(op.outputs) != 1 or op.control_inputs:
        return False
    inputs = list(op.inputs)
    return any(rule.find(op, inputs, op.outputs[0]) is not None
               for rule in index.get(op.type, ()))


def run_rule_table(graph: Graph, interface: Interface, pass_name: str, index: dict,
                   budget=None, allowed_safety=None) -> PassResult:
    """A pass that applies a rule table (indexed by root op type) wherever it matches."""
    return rewrite_graph(graph, interface, pass_name,
                         lambda rw, op: apply_rules(rw, op, index), budget, allowed_safety,
                         probe=lambda op: rules_may_apply(op, index))


def apply_rules(rw: Rewriter, op: Operation, index: dict) -> bool:
    """Try the rules indexed under ``op.type``, in table order; True if one fired."""
    rules = index.get(op.type)
    if not rules or len(op.outputs) != 1:
        return False
    inputs = rw.inputs_of(op)
    for rule in rules:
        if not rw.may_rewrite(op, rule.safety):
            continue
        found = rule.find(op, inputs, op.outputs[0])
        if found is not None and rw.replace(op, lambda: rule.rewrite(found), rule.name,
                                            rule.safety, found.matched):
            return True
    return False

