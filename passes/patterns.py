"""Rewrite rules as data: ``Rule(name, Pat(...), rewrite, safety, math)``.

A ``Pat`` describes a small expression tree: an op type with sub-patterns for its inputs, a
named wildcard (``X``), or a constant (``const(...)``). Matching is structural and respects
the registry's ``commutative`` flag; a name captured twice must bind the same tensor (so
``Pat("subtract", X, X)`` matches ``x - x``). Patterns are shallow, so matching recurses on
the pattern's depth only, never on the graph's.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from graphc import registry
from graphc.graph import Tensor

__all__ = ["Pat", "const", "Rule", "Match", "X", "Y", "ONE", "ZERO", "match_root",
           "rules_by_root"]


class Pat:
    """A pattern node: ``Pat(op_type, *input_patterns, name=None, where=None)``.

    ``Pat(name="x")`` (no op type) matches any tensor and captures it as ``x``; ``where`` is
    an extra predicate on the matched tensor.

    Example:
        >>> Pat("multiply", X, ONE)        # x * 1
    """

    __slots__ = ("op", "inputs", "name", "where", "kinds")

    def __init__(self, op: Optional[str] = None, *inputs: "Pat", name: Optional[str] = None,
                 where: Optional[Callable] = None):
        self.op, self.inputs, self.name, self.where = op, inputs, name, where
        self.kinds = tuple(p.op for p in inputs)  # the op types the inputs must come from

    def __repr__(self) -> str:
        inner = ", ".join(map(repr, self.inputs))
        return f"{self.op or '_'}({inner})" if self.op else (self.name or "_")


def const(name: str = "c", where: Optional[Callable[[np.ndarray], bool]] = None) -> Pat:
    """A constant operand, captured by ``name``; ``where`` tests its value."""
    test = None if where is None else (lambda t: bool(where(t.op.attrs["value"])))
    return Pat("const", name=name, where=test)


def _all_equal(value: np.ndarray, number) -> bool:
    """Every element equals ``number``, and there is one; a one-element array (most
    constants) without a ufunc call, since every pass asks this of every constant operand."""
    if value.size == 1:
        return value.item() == number
    return value.size > 0 and bool((value == number).all())


X = Pat(name="x")
Y = Pat(name="y")
ONE = const("one", lambda v: _all_equal(v, 1))
ZERO = const("zero", lambda v: _all_equal(v, 0))


@dataclass(frozen=True)
class Rule:
    """One rewrite: where ``pattern`` matches and ``when(match)`` holds, ``rewrite(match)``
    builds the replacement. ``math`` is the specification; ``safety`` its class."""

    name: str
    pattern: Pat
    rewrite: Callable
    safety: str
    math: str
    when: Optional[Callable] = None

    def find(self, root, inputs: list, out: Tensor) -> Optional["Match"]:
        """The match at ``root`` if the pattern and the side condition both hold."""
        found = match_root(self.pattern, root, inputs, out)
        if found is None or (self.when is not None and not self.when(found)):
            return None
        return found


class Match:
    """Captured tensors of one match, plus the op being replaced (``root``) and its output."""

    def __init__(self, captures: dict, root, out: Tensor, matched: list):
        self.captures, self.root, self.out, self.matched = captures, root, out, matched

    def __getattr__(self, name):
        try:
            return self.captures[name]
        except KeyError:
            raise AttributeError(name) from None

    def value(self, name: str) -> np.ndarray:
        """The array of a captured constant."""
        return self.captures[name].op.attrs["value"]

    def attr(self, name: str):
        return self.root.attrs[name]

    def fits_output(self, tensor: Tensor, *others: Tensor) -> bool:
        """True when replacing the output by ``tensor`` keeps the shape: ``tensor`` has the
        output's static shape, or every other operand broadcasts into it without growing it."""
        if tensor.dtype is not self.out.dtype:
            return False
        if tensor.shape.is_fully_defined() and tensor.shape == self.out.shape:
            return True
        others = [o for o in others if o is not tensor and o.shape.rank != 0]
        if not others:  # scalars (and the tensor itself) never grow a shape, even unknown
            return True
        if tensor.shape.rank is None:
            return False
        for other in others:
            if other.shape.rank is None or other.shape.rank > tensor.shape.rank:
                return False
            offset = tensor.shape.rank - other.shape.rank
            for k, dim in enumerate(other.shape.dims):
                mine = tensor.shape.dims[offset + k]
                if dim != 1 and (dim is None or mine != dim):
                    return False
        return True


def _match(pat: Pat, tensor: Tensor, captures: dict, matched: list) -> bool:
    if pat.op is not None:
        producer = tensor.op
        if producer.type != pat.op or producer.control_inputs:
            return False
        if pat.inputs and not _match_inputs(pat, producer.type, list(producer.inputs),
                                            captures, matched):
            return False
        matched.append(producer)
    if pat.where is not None and not pat.where(tensor):
        return False
    if pat.name is not None:
        bound = captures.get(pat.name)
        if bound is not None and bound is not tensor:
            return False
        captures[pat.name] = tensor
    return True


def _match_inputs(pat: Pat, op_type: str, inputs: list, captures: dict, matched: list) -> bool:
    if len(pat.inputs) != len(inputs):
        return False
    if _match_in_order(pat.inputs, inputs, captures, matched):
        return True
    return (len(inputs) == 2 and registry.get(op_type).commutative
            and _match_in_order(pat.inputs, inputs[::-1], captures, matched))


def _may_match(kinds: tuple, inputs, op_type: str) -> bool:
    """The cheap test first (most ops fail it): the inputs' producers have the op types
    ``kinds`` asks for (None: any), in order or (commutative ops) swapped."""
    if len(kinds) != len(inputs):
        return False
    if len(kinds) == 2:  # most patterns: spelled out, every pass asks it of every op
        first, second = inputs[0].op.type, inputs[1].op.type
        want_first, want_second = kinds
        if ((want_first is None or first == want_first)
                and (want_second is None or second == want_second)):
            return True
        return ((want_first is None or second == want_first)
                and (want_second is None or first == want_second)
                and registry.get(op_type).commutative)
    return all(kind is None or t.op.type == kind for kind, t in zip(kinds, inputs))


def _match_in_order(patterns, inputs, captures: dict, matched: list) -> bool:
    """Match ``patterns`` to ``inputs`` pairwise; on success, commit the captures."""
    for pattern, tensor in zip(patterns, inputs):
        if pattern.op is not None and tensor.op.type != pattern.op:
            return False
    trial, trial_matched = dict(captures), []
    for pattern, tensor in zip(patterns, inputs):
        if not _match(pattern, tensor, trial, trial_matched):
            return False
    captures.update(trial)
    matched.extend(trial_matched)
    return True


def match_root(pat: Pat, root, inputs: list, out: Tensor) -> Optional[Match]:
    """Match ``pat`` at an op given by its type (``root.type``) and (mapped) input tensors."""
    if pat.op != root.type or not _may_match(pat.kinds, inputs, root.type):
        return None
    captures: dict = {}
    matched: list = []
    if not _match_inputs(pat, root.type, inputs, captures, matched):
        return None
    return Match(captures, root, out, matched)


def rules_by_root(rules) -> dict:
    """Index a rule table by the op type at each pattern's root."""
    index: dict = {}
    for rule in rules:
        index.setdefault(rule.pattern.op, []).append(rule)
    return index
