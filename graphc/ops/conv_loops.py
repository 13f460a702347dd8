"""The compiled loop of the row-window convolution's last sum (numba, the optional ``fast``
extra), used by graphc.ops.conv_rows where numba is installed; conv_rows' NumPy passes are
the reference and give bitwise the same results. (The max-pool loops are
graphc.ops.pool_loops'.)
"""
from __future__ import annotations

import importlib.util

import numpy as np

# the optional ``fast`` extra, found but not imported: importing numba costs ~0.2 s and maps
# LLVM, which only a program whose convolution needs it should pay for (as runtime.fused)
HAVE_NUMBA = importlib.util.find_spec("numba") is not None

__all__ = ["HAVE_NUMBA", "tap_row_sum_loop"]

_COMPILED: dict = {}


def _tap_row_sum_source():
    import numba  # here, not at import time: see HAVE_NUMBA

    @numba.njit(cache=False, nogil=True)
    def tap_row_sum(products, out, images, height, width, dilation):
        """out (images * height * width, C) = the sum over filter rows i (in order) of
        products ((images, height + (rows - 1) * dilation, width) x (rows * C)) of input row
        ``r + i * dilation``, i-th block of C columns (the last step of graphc.ops.conv_rows'
        forward convolution; the same additions in the same order as its NumPy passes, so
        bitwise their result). Both C-contiguous 2-D: the loop over an output row's
        columns and channels then runs over adjacent elements (4-D indexing was 2x slower)."""
        channels = out.shape[1]
        rows = products.shape[1] // channels
        padded_height = height + (rows - 1) * dilation
        for n in range(images):
            for r in range(height):
                first = (n * height + r) * width
                source = (n * padded_height + r) * width
                for c in range(width):
                    for ch in range(channels):
                        out[first + c, ch] = products[source + c, ch]
                for i in range(1, rows):
                    source = (n * padded_height + r + i * dilation) * width
                    block = i * channels
                    for c in range(width):
                        for ch in range(channels):
                            out[first + c, ch] += products[source + c, block + ch]
    return tap_row_sum


def _compiled(name, source):
    if name not in _COMPILED:
        _COMPILED[name] = source()
    return _COMPILED[name]


def tap_row_sum_loop():
    """The compiled sum over filter rows (compiled on first use); requires ``HAVE_NUMBA``."""
    return _compiled("tap_row_sum", _tap_row_sum_source)
