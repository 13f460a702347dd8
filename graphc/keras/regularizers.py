"""``gc.keras.regularizers``: Keras' ``L1L2`` regularizers (no 1/2 on the L2 term).

Example:
    >>> W = gc.get_variable("W", [64, 10], regularizer=gc.keras.regularizers.l2(1e-4))
"""
from __future__ import annotations

from graphc.regularizers import L1, L1L2, L2, Regularizer, l1, l1_l2, l2

__all__ = ["Regularizer", "L1L2", "L1", "L2", "l1", "l2", "l1_l2", "get"]

_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2}


def get(identifier):
    """A regularizer from None, a name (``"l2"``: the Keras default factor 0.01), a config
    dict ``{"class_name": ..., "config": {...}}`` or a callable (returned as is).

    Example:
        >>> gc.keras.regularizers.get("l2")(W)
    """
    if identifier is None or callable(identifier):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in _BY_NAME:
            raise ValueError(f"keras.regularizers.get: unknown regularizer {identifier!r}; "
                             f"known: {', '.join(sorted(_BY_NAME))}")
        return L1L2(l1=0.01, l2=0.01) if key in ("l1_l2", "l1l2") else _BY_NAME[key]()
    if isinstance(identifier, dict):
        classes = {"L1L2": L1L2, "L1": L1, "L2": L2}
        return classes[identifier["class_name"]].from_config(identifier.get("config", {}))
    raise ValueError(f"keras.regularizers.get: cannot interpret {identifier!r} as a regularizer")
