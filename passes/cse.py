"""Common-subexpression elimination: pure ops with the same inputs and attributes merge.

Stateful and random ops never merge (two ``random_normal`` draws are different values);
inputs of commutative ops are compared as a set, so ``a + b`` and ``b + a`` merge too.
Constants merge by value (small ones only, compared byte for byte).
"""
from __future__ import annotations

import numpy as np

from graphc import registry
from graphc.dtypes import DType
from graphc.graph import Graph

from .result import DEFAULT_OPTIONS, EXACT, Interface, PassOptions, PassResult
from .rewriter import on_copy, rewrite_graph

__all__ = ["run", "edit", "attrs_key"]

_MAX_CONST_BYTES = 1 << 14
_PLAIN = frozenset({int, float, bool, str, type(None), DType})  # hashable values: as they are


def _canonical(value):
    if type(value) in _PLAIN:
        return (type(value).__name__, value)
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
    return _canonical(attrs) if attrs else ()  # most ops have none


def _merge_key(op, inputs):
    """What makes two ops the same computation, or None for ops that never merge."""
    opdef = registry.get(op.type)
    if opdef.stateful or opdef.random or op.control_inputs:
        return None
    ids = [id(t) for t in inputs]
    if opdef.commutative:
        ids.sort()
    return (op.type, tuple(ids), attrs_key(op.attrs))


def edit(graph: Graph, interface: Interface,
         options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Merge duplicate pure ops of ``graph`` in place (a later duplicate reads as the first).

    Duplicates read the same tensors, so an op with inputs can only have one among the
    other readers of its first input: an op is keyed only when one of them has its type
    (most ops of a big graph have none), and ops without inputs always are.
    """
    seen: dict = {}
    keyed: set = set()

    def key(op):
        keyed.add(op)
        return _merge_key(op, op.inputs)  # inputs already merged earlier in this pass

    def visit(rw, op):
        if op.inputs:
            rivals = [r for r in op.inputs[0].consumers() if r is not op and r.type == op.type]
            if not rivals:
                return False
            for rival in rivals:  # an earlier op that got its rival only by a merge
                if rival not in keyed and rival._id < op._id:
                    rival_key = key(rival)
                    if rival_key is not None:
                        seen.setdefault(rival_key, rival)
        op_key = key(op)
        if op_key is None:
            return False
        existing = seen.setdefault(op_key, op)
        if existing is op or not rw.may_rewrite(op, EXACT):
            return False
        return rw.redirect(op, existing.outputs, "merge_duplicates", EXACT)

    return rewrite_graph(graph, interface, "cse", visit, options)


def run(graph: Graph, interface: Interface,
        options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Merge duplicate pure ops of a copy of ``graph`` (``graph`` is not changed).

    Example:
        >>> cse.run(g, interface).rewrites[0].rule
        'merge_duplicates'
    """
    return on_copy(edit, graph, interface, options)
