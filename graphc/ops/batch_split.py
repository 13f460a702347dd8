"""Splitting a kernel's work over graphc's thread pool, by pieces of a leading axis: a conv
or pool kernel's batch (graphc.ops.conv_kernels, graphc.ops.pool_kernels), the rows of a
concat's or split's copy (graphc.ops.array) and of a ReLU gradient
(graphc.ops.relu_bias_grad).

The runtime's pool (graphc.runtime.threads) installs itself here (``set_batch_splitter``):
``splitter(work, n, chunks, long_pieces=...)`` runs ``work(lo, hi)`` over pieces of
``range(n)`` on its threads (GEMMs, copies and the compiled loops release the GIL), or one
after another on the calling thread under load. The pieces depend only on ``n`` and the
thread count, so both give the same bits.

Measured and rejected: choosing per kind of call, by timing it both ways on its first run
(as graphc.ops.kernel_choice chooses kernels), whether its pieces go to the pool. Timed
alone, W7 (b)'s 1x1 convolutions ran 5-15% faster unshared, with their operands in cache;
in the training step, where the operands come from memory, the same calls then took
0.05-0.14 ms longer each (in-process A/B, 2-vCPU Intel Xeon host).

A thread running one piece of a batch region (runtime/batch_regions.py: several ops over
one piece of the batch, the pieces on the pool's threads) runs every kernel whole
(``unsplit``): its piece is already its share of the cores.

Example:
    >>> each_chunk(n, out.size, lambda lo, hi: kernel(x[lo:hi], out[lo:hi]))
"""
from __future__ import annotations

import numpy as np

# defined with the GEMM row splits, the lowest op family that splits its work
from graphc.ops.gemm import splitting, unsplit

__all__ = ["set_batch_splitter", "each_chunk", "summed_by_batch", "unsplit", "splitting",
           "MIN_SPLIT_ELEMENTS", "LONG_PIECE_ELEMENTS"]

# None: every kernel runs on the calling thread (no Session yet, or the ``blas`` policy)
_SPLITTER: list = [None]
# below this many elements per call, splitting costs more than it saves (each piece pays
# its own padding, im2col and GEMM setup; W7 (a)'s 64x8x8 batches stay whole)
MIN_SPLIT_ELEMENTS = 1 << 18
# from this many elements a call's pieces take milliseconds (W7 (b)'s 32x32x32x16-32
# convolutions and pools): the pool hands them out under a moderate load too
LONG_PIECE_ELEMENTS = 1 << 19


def set_batch_splitter(splitter) -> None:
    """Install the runtime's batch splitter (None: no splitting).

    Example:
        >>> set_batch_splitter(pool)  # graphc.runtime.threads.ensure_applied does this
    """
    _SPLITTER[0] = splitter


def _splitter(n, elements, minimum=None):
    """The pool's splitter when this call is big enough to split (``minimum`` elements,
    by default MIN_SPLIT_ELEMENTS) and this thread may split, else None."""
    splitter = _SPLITTER[0] if splitting() else None
    minimum = MIN_SPLIT_ELEMENTS if minimum is None else minimum
    return splitter if splitter is not None and n > 1 and elements >= minimum else None


def each_chunk(n, elements, work, long_pieces=None, minimum=None) -> None:
    """``work(lo, hi)`` over ``range(n)``: in one call, or in pieces on the pool from
    ``minimum`` elements (by default MIN_SPLIT_ELEMENTS), whose pieces count as long (see
    the pool's call) where ``long_pieces`` says, or by default from LONG_PIECE_ELEMENTS
    elements (a convolution's or pool's work; a copy's or another pass at memory speed
    takes a fraction of a millisecond there: False)."""
    splitter = _splitter(n, elements, minimum)
    if splitter is None:
        work(0, n)
        return
    if long_pieces is None:
        long_pieces = elements >= LONG_PIECE_ELEMENTS
    splitter(work, n, splitter.threads, long_pieces=long_pieces)


def summed_by_batch(n, elements, compute, out, long_pieces=None, minimum=None):
    """The sum over the batch of ``compute(lo, hi, into)`` (which writes the sum over batch
    rows lo:hi into ``into``), in ``out``: partial sums per piece, added in batch order (so
    a given thread count always gives the same result, on the pool or not); split as
    ``each_chunk`` splits."""
    if _splitter(n, elements, minimum) is None:
        return compute(0, n, out)
    partials: dict = {}

    def work(lo, hi):
        partials[lo] = compute(lo, hi, np.empty_like(out))
    each_chunk(n, elements, work, long_pieces, minimum)
    ordered = [partials[lo] for lo in sorted(partials)]
    np.copyto(out, ordered[0])
    for partial in ordered[1:]:
        out += partial
    return out
