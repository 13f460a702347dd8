"""Minibatches of NumPy arrays, shuffled from a seed.

Example:
    >>> for xb, yb in minibatches([images, labels], batch_size=64, seed=0):
    ...     sess.run(train_op, {x: xb, y: yb})
"""
from __future__ import annotations

import numpy as np

__all__ = ["as_arrays", "minibatches", "batch_count"]


def as_arrays(data, who: str) -> list:
    """``data`` (an array or a list/tuple of arrays with one length) as a list of arrays."""
    arrays = [np.asarray(a) for a in data] if isinstance(data, (list, tuple)) else \
        [np.asarray(data)]
    if not arrays or any(a.ndim == 0 for a in arrays):
        raise ValueError(f"{who}: data must be arrays with a leading example axis")
    lengths = {len(a) for a in arrays}
    if len(lengths) != 1:
        raise ValueError(f"{who}: the arrays have different numbers of examples: "
                         f"{[len(a) for a in arrays]}")
    return arrays


def batch_count(n: int, batch_size: int, drop_remainder: bool = False) -> int:
    return n // batch_size if drop_remainder else -(-n // batch_size)


def minibatches(data, batch_size, shuffle=True, seed=None, drop_remainder=False, rng=None):
    """Yield tuples of aligned slices of ``data``'s arrays, ``batch_size`` examples each (the
    last one shorter unless ``drop_remainder``), in an order shuffled by ``rng`` or a new
    ``np.random.default_rng(seed)``: the same seed gives the same batches.

    Example:
        >>> [len(b[0]) for b in minibatches([np.arange(5)], 2, shuffle=False)]
        [2, 2, 1]
    """
    arrays = as_arrays(data, "minibatches")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"minibatches: batch_size must be a positive integer, got "
                         f"{batch_size!r}")
    n = len(arrays[0])
    order = np.arange(n)
    if shuffle:
        order = (rng if rng is not None else np.random.default_rng(seed)).permutation(n)
    for start in range(0, batch_count(n, batch_size, drop_remainder) * batch_size, batch_size):
        picked = order[start:start + batch_size]
        yield tuple(a[picked] for a in arrays)
