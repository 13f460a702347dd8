"""Nested structures of loop variables and branch results (TF's ``nest``, the part control
flow needs): lists, tuples, namedtuples and dicts (by sorted key) of leaves. A
``TensorArray`` is one leaf standing for its stacked tensor (``_flat``/``_rebuilt``).

Example:
    >>> flatten({"b": 1, "a": (2, 3)})
    [2, 3, 1]
    >>> pack_as({"b": 0, "a": (0, 0)}, [2, 3, 1])
    {'a': (2, 3), 'b': 1}
"""
from __future__ import annotations

__all__ = ["flatten", "pack_as", "leaves", "describe", "same_structure"]


def _is_namedtuple(value) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def _children(value):
    if isinstance(value, dict):
        return [value[k] for k in sorted(value)]
    if isinstance(value, (list, tuple)):
        return list(value)
    return None


def flatten(value) -> list:
    """The leaves of ``value`` in order (a TensorArray gives its stacked tensor)."""
    children = _children(value)
    if children is None:
        flat = getattr(value, "_flat", None)
        return [flat()] if callable(flat) else [value]
    return [leaf for child in children for leaf in flatten(child)]


def pack_as(structure, leaves, rebuild: bool = True) -> object:
    """``leaves`` arranged as ``structure`` (whose own leaves say how, with ``rebuild``: a
    TensorArray there rebuilds a TensorArray over the new tensor)."""
    leaves = list(leaves)
    packed, used = _pack(structure, leaves, 0, rebuild)
    if used != len(leaves):
        raise ValueError(f"pack_as: {len(leaves)} values for a structure of {used} leaves")
    return packed


def _pack(structure, leaves, start, rebuild):
    children = _children(structure)
    if children is None:
        rebuilt = getattr(structure, "_rebuilt", None) if rebuild else None
        value = leaves[start]
        return (rebuilt(value) if callable(rebuilt) else value), start + 1
    out = []
    for child in children:
        value, start = _pack(child, leaves, start, rebuild)
        out.append(value)
    if isinstance(structure, dict):
        return dict(zip(sorted(structure), out)), start
    if _is_namedtuple(structure):
        return type(structure)(*out), start
    return type(structure)(out), start


def leaves(value) -> list:
    """The leaves of ``value`` themselves (a TensorArray stays a TensorArray)."""
    children = _children(value)
    if children is None:
        return [value]
    return [leaf for child in children for leaf in leaves(child)]


def describe(value) -> str:
    """The structure of ``value`` with ``*`` for each leaf: ``[*, (*, *)]``."""
    children = _children(value)
    if children is None:
        return "TensorArray" if callable(getattr(value, "_flat", None)) else "*"
    inner = ", ".join(describe(c) for c in children)
    if isinstance(value, dict):
        inner = ", ".join(f"{k!r}: {describe(value[k])}" for k in sorted(value))
        return "{" + inner + "}"
    if _is_namedtuple(value):
        return f"{type(value).__name__}({inner})"
    return f"[{inner}]" if isinstance(value, list) else f"({inner})"


def same_structure(a, b) -> bool:
    """Whether ``a`` and ``b`` nest alike (lists and tuples count as the same kind)."""
    ca, cb = _children(a), _children(b)
    if ca is None or cb is None:
        return ca is None and cb is None
    if isinstance(a, dict) != isinstance(b, dict) or len(ca) != len(cb):
        return False
    if isinstance(a, dict) and sorted(a) != sorted(b):
        return False
    return all(same_structure(x, y) for x, y in zip(ca, cb))
