"""Matrix products of two 2-D operands (the dense layers' forward and gradient GEMMs), split
into blocks of output rows (of columns, for results wider than tall) over graphc's thread
pool when the runtime's threading policy installs one (``set_row_splitter``;
graphc.runtime.threads).

The pool policy runs BLAS single-threaded (so that BLAS threads and graphc's pool never
share the cores); a large GEMM then runs as one single-threaded BLAS call per block of
output rows, one block per thread, each written straight into its rows of the result (the
calling thread runs the blocks one after another when the machine is loaded). Blocks start
at multiples of ``ROW_ALIGN`` rows, the register-block height of the BLAS kernels, and
where they fall depends only on the shape and the policy's thread count, never on the load,
so a given thread count always gives the same bits. On BLAS kernels that round each row the
same wherever it falls in a call (OpenBLAS's SkylakeX kernels) they are the whole call's
bits; on others (its Haswell kernels, whose edge rows take other kernels) a row may round
differently in its block than in one whole call, as in any threaded BLAS, where the block
edges also fall by thread count.

Not an epilogue host (OpDef.epilogue): measured on the MLP step (W1), the bias + ReLU group
run op by op on each block of rows (graphc.ops.epilogue) cost more than the fused engine's
one pass over the whole result.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

import numpy as np

__all__ = ["matmul_2d", "set_row_splitter", "unsplit", "splitting", "MIN_SPLIT_MACS",
           "ROW_ALIGN"]

# graphc's pool installs itself here: ``splitter(work, n, chunks)`` runs ``work(lo, hi)``
# over pieces of ``range(n)`` on its threads (the BLAS call releases the GIL).
_SPLITTER: list = [None]
# below this many multiply-adds a GEMM takes ~50 us on one core, about what handing half of
# it to a pool thread costs
MIN_SPLIT_MACS = 1 << 22
ROW_ALIGN = 16
# the dtypes np.matmul hands to BLAS (others run NumPy's own loop, not worth splitting)
_BLAS_DTYPES = frozenset(np.dtype(t) for t in (np.float32, np.float64, np.complex64,
                                               np.complex128))

# np.matmul's bits depend on its operands' layout (BLAS with or without a transpose flag,
# NumPy's own loop for broadcast and strided views), which differs between runs of one graph
# (a folded broadcast is dense): it gets dense row-major operands, as TF1 stores tensors.
dense = np.ascontiguousarray


def set_row_splitter(splitter) -> None:
    """Install the runtime's splitter (None: every GEMM runs on the calling thread).

    Example:
        >>> set_row_splitter(pool)  # graphc.runtime.threads.ensure_applied does this
    """
    _SPLITTER[0] = splitter


_UNSPLIT = threading.local()  # .depth > 0: this thread runs its kernels whole


@contextmanager
def unsplit():
    """Within it, this thread runs each kernel call whole: no pieces on the pool, no GEMM
    row splits, no shares of the fused engines (the runtime's threading policy asks
    ``splitting``).

    Example:
        >>> with unsplit():
        ...     kernel(x[lo:hi], out=y[lo:hi])   # one piece of a batch region
    """
    _UNSPLIT.depth = getattr(_UNSPLIT, "depth", 0) + 1
    try:
        yield
    finally:
        _UNSPLIT.depth -= 1


def splitting() -> bool:
    """Whether this thread may split a kernel's work (it is not inside ``unsplit``)."""
    return not getattr(_UNSPLIT, "depth", 0)


def _worth_splitting(left, right) -> bool:
    (m, k), n = left.shape, right.shape[1]
    return (_SPLITTER[0] is not None and splitting() and max(m, n) >= 2 * ROW_ALIGN
            and m * k * n >= MIN_SPLIT_MACS and left.dtype in _BLAS_DTYPES
            and right.dtype == left.dtype)


def _blocks(m: int) -> tuple:
    """``(blocks of ROW_ALIGN rows or columns, pieces asked for)`` of a split of ``m``."""
    return -(-m // ROW_ALIGN), (_SPLITTER[0].threads + 1) // 2  # a piece per thread


def matmul_2d(a, b, transpose_a=False, transpose_b=False, out=None):
    """``a @ b`` of 2-D operands (``a.T``, ``b.T`` where transposed: BLAS reads the
    transposes in place), into ``out`` when given.

    Example:
        >>> matmul_2d(np.ones((2, 3)), np.ones((2, 4)), transpose_a=True).shape
        (3, 4)
    """
    a, b = dense(a), dense(b)
    left = a.T if transpose_a else a
    right = b.T if transpose_b else b
    if not _worth_splitting(left, right):
        return np.matmul(left, right, out=out)
    if out is None:
        out = np.empty((left.shape[0], right.shape[1]), np.result_type(left, right))
    return _split(left, right, out)


def _split(left, right, out):
    """``left @ right`` into ``out``, in blocks of rows (of columns where the result is
    wider than tall: each piece then packs half of the wider operand, not all of it) on the
    pool, a piece per thread: by the pool's compiled GEMM loop where it has one for these
    operands (``gemm_blocks``), else by one np.matmul per piece (the same BLAS call on the
    same rows or columns)."""
    axis = int(right.shape[1] > left.shape[0])
    length = out.shape[axis]
    splitter = _SPLITTER[0]
    blocks, chunks = _blocks(length)
    gemm_blocks = getattr(splitter, "gemm_blocks", None)
    if gemm_blocks is not None and gemm_blocks(
            left, right, out, [min(b * ROW_ALIGN, length)
                               for b in splitter.bounds(blocks, chunks)], axis):
        return out

    def piece(lo, hi):
        lo, hi = lo * ROW_ALIGN, min(hi * ROW_ALIGN, length)
        if axis:
            np.matmul(left, right[:, lo:hi], out=out[:, lo:hi])
        else:
            np.matmul(left[lo:hi], right, out=out[lo:hi])
    splitter(piece, blocks, chunks)
    return out
