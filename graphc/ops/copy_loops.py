"""Copies between a wide C-contiguous matrix and its column blocks as one compiled pass
(numba, the optional ``fast`` extra): the concat along NHWC's channels (graphc.ops.array's
``_concat_blocks``) and the split of its gradient into dense pieces (``_copied_pieces``).

Seen as (pixels, channels) matrices, an Inception block's concat copies 8-24 channels per
pixel from each branch. NumPy runs such a copy as one inner loop per row and input
(np.concatenate), or with each row's block as one ``void`` element, one memcpy call per
row: about 30 ns per row either way, 2 ns per element at W7 (b)'s 32x32x32x56, and every
input's pass writes parts of each cache line of the result again. The compiled loops walk
the wide matrix's rows once, copying every block of a row in turn, as the widest words its
bytes make whole (``word_rows``): bytes are copied unchanged, so the results are bitwise
NumPy's copies.

Example:
    >>> gather, scatter = block_loops()   # None without numba
    >>> *words, wide_words = word_rows(blocks + [wide])
    >>> gather(tuple(words), wide_words)   # wide = np.concatenate(blocks, axis=1)
"""
from __future__ import annotations

import functools
import importlib.util

import numpy as np

__all__ = ["block_loops", "word_rows", "HAVE_NUMBA"]

# found, not imported: importing numba costs ~0.2 s and maps LLVM (as graphc.ops.pool_loops)
HAVE_NUMBA = importlib.util.find_spec("numba") is not None


@functools.lru_cache(maxsize=1)
def block_loops():
    """``(gather, scatter)``: the compiled ``wide = [blocks side by side]`` and its inverse,
    over a tuple of C-contiguous 2-D blocks with the wide matrix's rows; None without
    numba."""
    if not HAVE_NUMBA:
        return None
    import numba  # here, not at import time: see HAVE_NUMBA

    @numba.njit(cache=True, nogil=True)
    def gather(blocks, wide):
        for r in range(wide.shape[0]):
            first = 0
            for block in blocks:
                for k in range(block.shape[1]):
                    wide[r, first + k] = block[r, k]
                first += block.shape[1]

    @numba.njit(cache=True, nogil=True)
    def scatter(wide, blocks):
        for r in range(wide.shape[0]):
            first = 0
            for block in blocks:
                for k in range(block.shape[1]):
                    block[r, k] = wide[r, first + k]
                first += block.shape[1]
    return gather, scatter


def word_rows(matrices):
    """The 2-D C-contiguous ``matrices`` (one dtype) as rows of the widest words that
    every row's bytes make whole: 8 bytes (float32 blocks of even widths, float64), 4
    (float32, int32), else bytes; the loops' element type (one compile per type). Wider
    words, fewer iterations of the short inner loops: 8-byte words copy W7 (b)'s concat
    at memcpy speed, 4-byte ones 1.25x slower."""
    row_bytes = [m.shape[1] * m.itemsize for m in matrices]
    word = next(w for w in (np.uint64, np.uint32, np.uint8)
                if all(b % np.dtype(w).itemsize == 0 for b in row_bytes))
    return tuple(m.view(word) for m in matrices)
