"""Facts about the values a tensor can hold, proved from the graph and the registry.

Rules whose result differs for special values (``x - x`` is NaN, not 0, when ``x`` is Inf)
ask these before they fire; a fact that cannot be proved within a few ops is false.
"""
from __future__ import annotations

import numpy as np

from graphc import registry
from graphc.graph import Tensor

__all__ = ["provably_finite", "has_effect", "MAX_OPS_EXAMINED"]

MAX_OPS_EXAMINED = 64  # the proof walks back this many ops at most, so rules stay cheap


def has_effect(op) -> bool:
    """Whether running ``op`` can be seen beyond its outputs' values: it reads or changes
    state (``OpDef.stateful``: an assignment, a variable read that fails uninitialized) or
    its kernel may raise on values (``OpDef.raises_on_values``: an integer division by
    zero). Such an op must run wherever the unoptimized graph would run it.

    Example:
        >>> has_effect(gc.truncatediv(i, j).op), has_effect(gc.add(i, j).op)
        (True, False)
    """
    opdef = registry.get(op.type)
    return opdef.stateful or opdef.raises_on_values


def _leaf_fact(tensor: Tensor):
    """True/False when ``tensor`` decides its finiteness alone, else None (ask its op)."""
    if not tensor.dtype.is_floating:
        return True  # integers and bools hold no NaN or Inf
    op = tensor.op
    if op.type == "const":
        return bool(np.all(np.isfinite(op.attrs["value"])))
    if registry.get(op.type).finite_outputs is None:
        return False  # placeholders, variables, exp, add (overflow)...
    return None


def provably_finite(tensor: Tensor) -> bool:
    """True when ``tensor`` can hold no NaN or Inf whatever the feeds and variables hold:
    integers and bools, finite constants, and ops whose ``OpDef.finite_outputs`` says so
    for their (recursively proved) inputs, e.g. ``sin(cast(i, float32))``.

    Example:
        >>> provably_finite(gc.tanh(gc.cast(indices, gc.float32)))
        True
        >>> provably_finite(gc.tanh(x))  # x a float placeholder: it may be fed NaN
        False
    """
    known: dict = {}
    stack = [tensor]
    examined = 0
    while stack:  # an iterative post-order walk: graphs may be deep
        current = stack[-1]
        if current in known:
            stack.pop()
            continue
        fact = _leaf_fact(current)
        if fact is not None:
            known[current] = fact
            stack.pop()
            continue
        inputs = current.op.inputs
        pending = [t for t in inputs if t not in known]
        if pending:
            examined += 1
            if examined > MAX_OPS_EXAMINED:
                return False
            stack.extend(pending)
            continue
        finite_outputs = registry.get(current.op.type).finite_outputs
        known[current] = bool(finite_outputs(current.op, [known[t] for t in inputs]))
        stack.pop()
    return known[tensor]
