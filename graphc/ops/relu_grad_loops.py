"""The compiled loops of graphc.ops.relu_bias_grad (numba), in a module of their own so that
numba's disk cache keeps their machine code (``cache=True`` needs module-level functions);
imported on first use. See that module for what the op computes.

Both loops run over flat C-ordered arrays of ``rows`` rows of ``channels`` elements (the
size of ``totals``). Each element is ``dz = dy * (1 if y > 0 else 0)``, as TF1's ReluGrad
and the fused engines compute it (``dy * cast(y > 0)``: an Inf or NaN ``dy`` stays NaN
where masked, a negative ``dy`` becomes -0.0), with ``dy = dy0 + dy1`` for two gradients
(add_n's order); the column sums start from +0.0 and add the rows in order, as ``np.sum``
over the leading axes of a C-contiguous array does (bitwise, -0.0 + 0.0 included:
tests/test_relu_bias_grad.py).

Indices are unsigned (``_flat``): numba wraps a negative signed index with a select per
element, which keeps LLVM from vectorizing the row loop (W7 (b)'s 32768 x 32 gradient:
0.67 -> 0.26 ms, one Zen 4 thread).
"""
from __future__ import annotations

import numba
import numpy as np

__all__ = ["masked_sums", "masked_sums2"]

jit = numba.njit(cache=True, nogil=True, error_model="numpy")


@jit
def _flat(index):
    return np.uint64(index)


@jit
def masked_sums(y, dy, dz, totals):
    """``dz = dy * (y > 0)`` and ``totals`` its column sums."""
    channels = totals.size
    one, zero = y.dtype.type(1), y.dtype.type(0)
    for c in range(channels):
        totals[_flat(c)] = zero
    for r in range(y.size // channels):
        row = r * channels
        for c in range(channels):
            value = dy[_flat(row + c)] * (one if y[_flat(row + c)] > 0 else zero)
            dz[_flat(row + c)] = value
            totals[_flat(c)] += value


@jit
def masked_sums2(y, dy0, dy1, dz, totals):
    """``masked_sums`` of the sum ``dy0 + dy1`` of two gradients. A loop of its own, not
    one over a tuple of gradients: numba's tuple indexing kept the channel loop from
    vectorizing (measured 2x slower), and adding the two first is one more pass."""
    channels = totals.size
    one, zero = y.dtype.type(1), y.dtype.type(0)
    for c in range(channels):
        totals[_flat(c)] = zero
    for r in range(y.size // channels):
        row = r * channels
        for c in range(channels):
            value = ((dy0[_flat(row + c)] + dy1[_flat(row + c)])
                     * (one if y[_flat(row + c)] > 0 else zero))
            dz[_flat(row + c)] = value
            totals[_flat(c)] += value
