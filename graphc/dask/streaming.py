"""Minibatches streamed from chunked datasets, for minibatch SGD over data bigger than
memory: only the current minibatch (and dask's look-ahead of one) is ever on the host."""
from __future__ import annotations

import numpy as np

from .session import import_dask

__all__ = ["minibatches"]


def minibatches(arrays, batch_size: int, shuffle_seed=None, drop_remainder: bool = False):
    """Yield tuples of NumPy minibatches, rows ``i:i+batch_size`` of every array (dask or
    NumPy, equal lengths along axis 0), each tuple from one compute.

    ``shuffle_seed``: visit the minibatches in a seeded random order (rows inside a
    minibatch stay in order, so each read is one contiguous slice of the chunks).

    Example:
        >>> for xb, yb in minibatches([X, Y], 1024, shuffle_seed=0):
        ...     sess.run(train_op, {x: xb, y: yb})
    """
    dask, _ = import_dask()
    lengths = {int(a.shape[0]) for a in arrays}
    if len(lengths) != 1:
        raise ValueError(f"minibatches: the arrays have different lengths {sorted(lengths)} "
                         "along axis 0")
    if batch_size < 1:
        raise ValueError(f"minibatches: batch_size must be positive, got {batch_size}")
    (length,) = lengths
    starts = list(range(0, length, batch_size))
    if drop_remainder and starts and length - starts[-1] < batch_size:
        starts.pop()
    if shuffle_seed is not None:
        np.random.default_rng(shuffle_seed).shuffle(starts)
    for start in starts:
        parts = [a[start:start + batch_size] for a in arrays]
        yield tuple(np.asarray(p) for p in dask.compute(*parts))
