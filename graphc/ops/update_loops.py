"""The SGD update ``variable - scale * delta`` as one compiled pass (numba, the optional
``fast`` extra), for graphc.ops.scaled_update.

NumPy takes two passes over the variable-sized arrays (the product into the new value's
buffer, then the difference over it): five array-sized reads and writes where one loop
needs three, and the update of a 784x256 float32 weight is memory-bound (W1's first layer:
about 240 us a step in NumPy). The loop computes each element with the same two IEEE
operations in the same order (numba adds no fused multiply-add without fast-math), so its
values are bitwise NumPy's, infinities and signed zeros included; which operand's payload a
NaN keeps is up to the compiler, so the loop counts NaN results and the caller then runs
NumPy's two calls instead.

Example:
    >>> loop = update_loop()   # None without numba
    >>> nans = loop(current.reshape(-1), delta.reshape(-1), scale, True, out.reshape(-1))
"""
from __future__ import annotations

import functools
import importlib.util

__all__ = ["update_loop", "HAVE_NUMBA"]

# found, not imported: importing numba costs ~0.2 s and maps LLVM (as graphc.ops.pool_loops)
HAVE_NUMBA = importlib.util.find_spec("numba") is not None


@functools.lru_cache(maxsize=1)
def update_loop():
    """The compiled ``out = current - scale * delta`` (``delta * scale`` where
    ``scale_first`` is false) over 1-D arrays of one float dtype, returning how many results
    are NaN; None without numba."""
    if not HAVE_NUMBA:
        return None
    import numba  # here, not at import time: see HAVE_NUMBA

    @numba.njit(cache=True, nogil=True, error_model="numpy")
    def scaled_difference(current, delta, scale, scale_first, out):
        nans = 0
        if scale_first:  # two loops: a test inside one would keep it from vectorizing
            for i in range(out.size):
                value = current[i] - scale * delta[i]
                out[i] = value
                nans += value != value
        else:
            for i in range(out.size):
                value = current[i] - delta[i] * scale
                out[i] = value
                nans += value != value
        return nans
    return scaled_difference
