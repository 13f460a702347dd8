"""The exact steps of the sparse cross-entropy pair (graphc.ops.sparse_xent's
``_pair_kernel``) as two compiled loops (numba, the optional ``fast`` extra).

The pair's NumPy kernel makes about a dozen calls on a small (rows, classes) array (W1's
128 x 10 logits: ~33 us, 77 us inside the training step, more than its three small GEMMs
together). Only three of its steps round: ``exp``, the row sums and ``log``, whose bits
are NumPy's own (its SIMD functions, its pairwise sums), so they stay NumPy calls. The
rest is exact IEEE arithmetic and indexing, the same bits whoever computes it: the label
check, each row's max (NaN when the row has one, as ``np.max``) and the shift by it, the
picked logit, then the loss (``log(total) - picked``), the division by the row sums and
the one-hot subtraction. Those run as ``prepare`` and ``finish`` here: five calls instead
of a dozen, bitwise the NumPy kernel (~10 us at W1's shape; tests/test_xent_loops.py), but
that a row holding NaNs of several payloads may carry another of them than NumPy's max.

Example:
    >>> prepare, finish = xent_loops()   # None without numba
    >>> bad_row = prepare(labels, logits, shifted, picked)   # -1: every label in range
"""
from __future__ import annotations

import functools
import importlib.util

__all__ = ["xent_loops", "HAVE_NUMBA"]

# found, not imported: importing numba costs ~0.2 s and maps LLVM (as graphc.ops.pool_loops)
HAVE_NUMBA = importlib.util.find_spec("numba") is not None


@functools.lru_cache(maxsize=1)
def xent_loops():
    """``(prepare, finish)`` over 2-D (rows, classes) float arrays with 1-D integer labels,
    classes > 0; None without numba.

    ``prepare(labels, logits, shifted, picked)`` returns the first row whose label is out
    of range (nothing written then), else -1 with ``shifted = logits - rowmax`` and
    ``picked[i] = shifted[i, labels[i]]``. ``finish(labels, picked, probs, totals, loss)``
    turns ``loss`` (the rows' log totals) into ``loss - picked``, divides ``probs`` by its
    rows' ``totals`` (shape (rows, 1)) and subtracts 1 at each row's label."""
    if not HAVE_NUMBA:
        return None
    import numba  # here, not at import time: see HAVE_NUMBA

    jit = numba.njit(cache=True, nogil=True, error_model="numpy")

    @jit
    def prepare(labels, logits, shifted, picked):
        rows, classes = logits.shape
        for i in range(rows):
            if labels[i] < 0 or labels[i] >= classes:
                return i
        for i in range(rows):
            top = logits[i, 0]
            j = 1
            while j < classes and top == top:  # a NaN max stays: np.max's row max is NaN
                value = logits[i, j]
                if not value <= top:  # larger, or NaN
                    top = value
                j += 1
            for j in range(classes):
                shifted[i, j] = logits[i, j] - top
            picked[i] = shifted[i, labels[i]]
        return -1

    @jit
    def finish(labels, picked, probs, totals, loss):
        rows, classes = probs.shape
        for i in range(rows):
            loss[i] -= picked[i]
            total = totals[i, 0]
            for j in range(classes):
                probs[i, j] = probs[i, j] / total
            probs[i, labels[i]] -= 1
    return prepare, finish
