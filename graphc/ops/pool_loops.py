"""Compiled loops of max pooling and its gradients over NHWC float images (numba, the
optional ``fast`` extra), used by graphc.ops.pool_kernels where numba is installed; the
NumPy passes there (and graphc.ops.conv_grads' taps) are the reference and give the same
values, NaN, infinities and ties included.

Every loop runs its innermost loop over the channels, the contiguous axis of NHWC (the
forward pool, the overlapping scatter and the disjoint scatter over whole output rows at a
time, tap by tap), with selects instead of branches; nothing but the result (and
per-thread scratch rows) is written (the forward pool records no argmax):

- ``max_pool``: each window's maximum by np.maximum's rule, tap after tap in raster order
  (NaN as soon as one tap is NaN; of equal values such as -0.0 and +0.0, the later tap's),
  over the taps inside the image (SAME's padding holds -inf, which never changes a
  maximum), each tap's pass covering every window of an output row;
- ``max_pool_scatter``: each window's first maximum (the first tap in raster order equal to
  the window's max_pool value, padding taps included: a -inf window whose first -inf is a
  padding tap sends its gradient nowhere) receives the window's gradient. Two passes per
  output row, over flat C-ordered rows (long vector loops, no scattered adds): the first-max
  tap of each window (int32, into a ring of kh rows), then, once an input row's last window
  row is known, each of its pixels' sum: +0.0, then + gradient for each window containing
  the pixel whose first maximum it is, in increasing tap order of the pixel within the
  window, as the per-tap NumPy kernel adds them (bitwise the same sums; the loop adds +0.0
  for the other windows, which changes no value since the sums never hold -0.0). Windows 3
  wide at column stride 1 take a window row's three taps in one pass. Windows that never
  overlap (strides >= window: a 2x2 pool of stride 2) write each input once instead
  (``max_pool_scatter_disjoint``);
- ``max_pool_gather``: the gradient's adjoint, each window's value read at its first
  maximum.
"""
from __future__ import annotations

import importlib.util


# found, not imported: importing numba costs ~0.2 s and maps LLVM (as graphc.ops.conv_loops)
HAVE_NUMBA = importlib.util.find_spec("numba") is not None

__all__ = ["HAVE_NUMBA", "pool_loop"]

LOOPS = ("max_pool", "max_pool_scatter", "max_pool_scatter_3wide", "max_pool_scatter_disjoint",
         "max_pool_gather")


def pool_loop(name: str):
    """The compiled loop ``name`` (one of ``LOOPS``), compiled on first use (or loaded from
    numba's disk cache); requires ``HAVE_NUMBA``.

    Example:
        >>> pool_loop("max_pool")(x, out, 3, 3, 1, 1, 1, 1)
    """
    if name not in LOOPS:
        raise KeyError(name)
    from graphc.ops import pool_loop_code  # imports numba: here, not at import time
    return getattr(pool_loop_code, name)
