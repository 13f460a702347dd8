"""Common-subexpression elimination: pure ops with the same inputs and attributes merge.

Stateful and random ops never merge (two ``random_normal`` draws are different values);
inputs of commutative ops are compared as a set, so ``a + b`` and ``b + a`` merge too.
Constants merge by value (small ones only, compared byte for byte).
"""
from __future__ import annotations

import numpy as np

from graphc import registry
from graphc.graph import Graph

from .result import EXACT, Interface, PassResult
from .rewriter import rewrite_graph

__all__ = ["run", "attrs_key"]

_MAX_CONST_BYTES = 1 << 14


def _canonical(value):
    if isinstance(value, np.ndarray):
        if value.nbytes > _MAX_CONST_BYTES:
            return ("array-id", id(value))
        return ("array", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, (list, tuple)):
        return tuple(_canonical(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _canonical(v)) for k, v in value.items()))
    try:
        hash(value)
    except TypeError:
        return ("repr", repr(value))
    return (type(value).__name__, value)


def attrs_key(attrs: dict) -> tuple:
    """A hashable, value-based key for an op's attributes."""
    return _canonical(attrs)


def _merge_key(op, inputs):
    """What makes two ops the same computation, or None for ops that never merge."""
    opdef = registry.get(op.type)
    if opdef.stateful or opdef.random or op.control_inputs:
        return None
    ids = [id(t) for t in inputs]
    if opdef.commutative:
        ids.sort()
    return (op.type, tuple(ids), attrs_key(op.attrs))


def run(graph: Graph, interface: Interface, budget=None, allowed_safety=None,
        **options) -> PassResult:
    """Merge duplicate pure ops of ``graph``.

    Example:
        >>> cse.run(g, interface).rewrites[0].rule
        'merge_duplicates'
    """
    seen: dict = {}
    probe_seen: set = set()

    def duplicate(op):
        key = _merge_key(op, op.inputs)
        if key is None:
            return False
        if key in probe_seen:
            return True
        probe_seen.add(key)
        return False

    def visit(rw, op):
        key = _merge_key(op, rw.inputs_of(op))
        if key is None:
            return False
        existing = seen.get(key)
        if existing is not None and rw.may_rewrite(op, EXACT):
            outputs = list(existing.outputs)
            return rw.replace(op, lambda: outputs if len(outputs) > 1 else outputs[0],
                              "merge_duplicates", EXACT)
        seen[key] = rw.copy(op)
        return True

    return rewrite_graph(graph, interface, "cse", visit, budget, allowed_safety,
                         probe=duplicate)
