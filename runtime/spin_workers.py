"""Worker threads that wait for work spinning in compiled code, without the GIL, and run the
blocks of a split GEMM without returning to Python (graphc.runtime.threads' pool uses them
where numba is installed, on x86-64, with NumPy's OpenBLAS).

Why: a worker that sleeps between calls starts its piece ~90-100 us after the call hands it
over on this project's VMs (the idle vCPU halts; the host wakes it), which is what a 0.2-0.6 ms
GEMM of the MLP step (W1) would save by splitting. OpenBLAS's and TF's own threads spin for
the same reason. Here a worker spins for ``SPIN_SECONDS`` after its last piece (a ``pause``
per turn, reading one cache line), then sleeps on an Event until the next call wakes it; the
pool asks these workers only while the machine has idle cores, so a spinning worker takes a
core nobody else wanted.

The handshake, all on one int64 array (each slot on a cache line of its own):
- ``TICKET``: ``seq << 33 | python << 32 | pieces << 16 | next piece``. A call stores a new
  ticket (its ``seq`` counts up); whoever runs takes the next piece by compare-and-swap of
  the whole ticket, so a worker late for one call can never take a piece of the next one.
- ``DONE``: pieces finished; the caller runs pieces itself, then waits for ``DONE``.
- ``SPIN``: how many cycles a worker spins after its last piece (the caller's choice).
- ``SLEEPING + 8 w``: worker ``w`` went to sleep. It sets the flag, then reads the ticket
  again; a caller stores the ticket, then reads the flags: one of the two sees the other.
A Python job (``python`` bit) sends each worker back to Python to run ``job()`` with the GIL
(the conv kernels' pieces). A GEMM piece is one single-threaded ``cblas_?gemm`` call on its
rows (or columns), the same call ``np.matmul`` makes for them, on any thread, so the bits
depend only on where the pieces fall.

Example:
    >>> workers = SpinWorkers.start(1)   # None where numba, x86-64 or the BLAS is missing
    >>> workers.gemm(SpinWorkers.gemm_job(a, b, out), [0, 64, 128], split=True)
"""
from __future__ import annotations

import atexit
import ctypes
import functools
import importlib.util
import os
import platform
import threading
import time

import numpy as np

from graphc.ops.jit_cache import generated_module, module_file

__all__ = ["SpinWorkers", "SPIN_SECONDS", "blas_gemm_symbols"]

# how long a worker spins after its last piece before it sleeps: the gaps between one
# step's GEMMs (W1: under 0.3 ms), not the gaps between steps of a slow program
SPIN_SECONDS = 0.002
MAX_PIECES = 0xFFFF
_SEQ_MASK = (1 << 30) - 1  # call numbers wrap: a ticket stays an int64
_NO_TRANS, _TRANS = 111, 112  # CBLAS's transpose flags
_CODES = {np.dtype(np.float32): 0, np.dtype(np.float64): 1}
# the handshake array's slots (see the module docstring), each on a cache line of its own;
# the compiled loops get the same numbers written into their source
_TICKET, _DONE, _STOP, _SPIN, _SLEEPING = 0, 8, 16, 24, 32

_SOURCE = '''\
import numba
from graphc.runtime.spin_intrinsics import (atomic_load, atomic_store, compare_swap, cycles,
                                            fetch_add, gemm_caller, spin_hint)

sgemm = gemm_caller({single!r}, "float32", {ilp64})
dgemm = gemm_caller({double!r}, "float64", {ilp64})
TICKET, DONE, STOP, SPIN, SLEEPING = {layout}
NO_TRANS = 111


@numba.njit(nogil=True, cache={cache})
def run_piece(job, cuts, piece):
    lo = cuts[piece]
    size = cuts[piece + 1] - lo
    item = job[11]
    a, b, c, rows, columns = job[1], job[2], job[3], job[12], job[4]
    if job[13] == 0:  # a block of rows: rows lo:hi of op(A) and of C
        a += (lo * job[6] if job[9] == NO_TRANS else lo) * item
        c += lo * job[8] * item
        rows = size
    else:  # a block of columns: columns lo:hi of op(B) and of C
        b += (lo if job[10] == NO_TRANS else lo * job[7]) * item
        c += lo * item
        columns = size
    if job[0] == 0:
        sgemm(job[9], job[10], rows, columns, job[5], a, job[6], b, job[7], c, job[8])
    else:
        dgemm(job[9], job[10], rows, columns, job[5], a, job[6], b, job[7], c, job[8])


@numba.njit(nogil=True, cache={cache})
def run_all(job, cuts, pieces):
    for piece in range(pieces):
        run_piece(job, cuts, piece)


@numba.njit(nogil=True, cache={cache})
def take_pieces(ctl, job, cuts, seq):
    while True:
        ticket = atomic_load(ctl, TICKET)
        index = ticket & 0xFFFF
        if (ticket >> 33) != seq or index >= (ticket >> 16) & 0xFFFF:
            return
        if compare_swap(ctl, TICKET, ticket, ticket + 1):
            run_piece(job, cuts, index)
            fetch_add(ctl, DONE, 1)


@numba.njit(nogil=True, cache={cache})
def post(ctl, ticket, workers, spin_cycles):
    atomic_store(ctl, SPIN, spin_cycles)
    atomic_store(ctl, DONE, 0)
    atomic_store(ctl, TICKET, ticket)
    asleep = 0
    for worker in range(workers):
        if atomic_load(ctl, SLEEPING + 8 * worker) != 0:
            atomic_store(ctl, SLEEPING + 8 * worker, 0)
            asleep |= 1 << worker
    return asleep


@numba.njit(nogil=True, cache={cache})
def finish(ctl, job, cuts, seq, pieces):
    take_pieces(ctl, job, cuts, seq)
    while atomic_load(ctl, DONE) < pieces:
        spin_hint()


@numba.njit(nogil=True, cache={cache})
def wait_for_work(ctl, job, cuts, worker, python_seen):
    start = cycles()
    while True:
        if atomic_load(ctl, STOP) != 0:
            return -1
        ticket = atomic_load(ctl, TICKET)
        seq = ticket >> 33
        if (ticket >> 32) & 1:
            if seq != python_seen:
                return seq
        elif ticket & 0xFFFF < (ticket >> 16) & 0xFFFF:
            take_pieces(ctl, job, cuts, seq)
            start = cycles()
            continue
        if cycles() - start > atomic_load(ctl, SPIN):
            atomic_store(ctl, SLEEPING + 8 * worker, 1)
            if atomic_load(ctl, TICKET) == ticket:
                return -2
            atomic_store(ctl, SLEEPING + 8 * worker, 0)
            start = cycles()
        spin_hint()


@numba.njit(nogil=True, cache={cache})
def now():
    return cycles()
'''


def _numpy_blas():
    """``(path, internal_api)`` of the BLAS library NumPy itself links (threadpoolctl's
    entry whose file lies in NumPy's folder or its wheel's ``numpy.libs``), or None."""
    from threadpoolctl import threadpool_info  # here: only a starting pool needs it
    folder = os.path.dirname(os.path.dirname(np.__file__))
    for library in threadpool_info():
        path = library.get("filepath") or ""
        if library.get("user_api") == "blas" and os.path.realpath(path).startswith(
                (os.path.join(folder, "numpy"), os.path.join(folder, "numpy.libs"))):
            return path, library.get("internal_api")
    return None


@functools.lru_cache(maxsize=1)
def blas_gemm_symbols():
    """``(path, sgemm, dgemm, ilp64)``: NumPy's OpenBLAS and its CBLAS GEMM symbols, or None
    (another BLAS, or none found): NumPy's wheels name them ``scipy_cblas_sgemm64_`` (64-bit
    integers), older ones ``cblas_sgemm64_``, 32-bit builds ``cblas_sgemm``."""
    found = _numpy_blas()
    if found is None or found[1] != "openblas":
        return None
    path = found[0]
    library = ctypes.CDLL(path)
    for prefix, suffix in (("scipy_", "64_"), ("", "64_"), ("scipy_", ""), ("", "")):
        single, double = (f"{prefix}cblas_{kind}gemm{suffix}" for kind in "sd")
        if hasattr(library, single) and hasattr(library, double):
            return path, single, double, suffix == "64_"
    return None


@functools.lru_cache(maxsize=1)
def _loops():
    """The compiled loops for NumPy's BLAS (None where they cannot be built here)."""
    if (importlib.util.find_spec("numba") is None
            or platform.machine().lower() not in ("x86_64", "amd64")):
        return None
    symbols = blas_gemm_symbols()
    if symbols is None:
        return None
    from llvmlite import binding  # here: numba (and LLVM) load only where a pool starts
    path, single, double, ilp64 = symbols
    binding.load_library_permanently(path)  # the compiled calls find the symbols by name
    fields = dict(single=single, double=double, ilp64=ilp64,
                  layout=", ".join(map(str, (_TICKET, _DONE, _STOP, _SPIN, _SLEEPING))))
    source = _SOURCE.format(cache=True, **fields)
    if module_file(source, "spin-workers", path) is None:  # no disk cache: numba may not
        source = _SOURCE.format(cache=False, **fields)
    return generated_module(source, "spin-workers", path)[0]


def _cycles_per_second(now) -> float:
    """The cycle counter's rate, timed against the monotonic clock over a millisecond."""
    now()  # compiled (or loaded from the cache) before the clock starts
    start, counted = time.perf_counter(), now()
    while time.perf_counter() - start < 0.001:
        pass
    return (now() - counted) / (time.perf_counter() - start)


class SpinWorkers:
    """``count`` spinning worker threads (see the module docstring). One caller at a time
    (``busy``: a lock the caller holds while it hands out work)."""

    def __init__(self, count: int, loops: dict):
        self.count = count
        self.busy = threading.Lock()
        self._loops = loops
        self._ctl = np.zeros(8 * (4 + count), np.int64)
        self._job = np.zeros(14, np.int64)
        self._cuts = np.zeros(MAX_PIECES + 1, np.int64)
        self._seq = 0
        self._python = (-1, None)  # (seq, run) of the current Python job
        self._wakeups = [threading.Event() for _ in range(count)]
        self._spin_cycles = int(SPIN_SECONDS * _cycles_per_second(loops["now"]))
        self._threads = [threading.Thread(target=self._work, args=(w,), daemon=True,
                                          name=f"graphc-pool-{w}") for w in range(count)]
        for thread in self._threads:
            thread.start()
        atexit.register(self.stop)

    @classmethod
    def start(cls, count: int):
        """``count`` workers, or None where the compiled loops cannot be built here."""
        loops = _loops()
        return None if loops is None or count < 1 else cls(count, loops)

    def stop(self, timeout: float = 5.0) -> None:
        """End the workers' loops and wait for their threads (at exit: the interpreter's
        finalization unmaps the compiled code, so no worker may still be inside it)."""
        self._ctl[_STOP] = 1
        for wakeup in self._wakeups:
            wakeup.set()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout)

    def _work(self, worker: int) -> None:
        python_seen = -1
        wait = self._loops["wait_for_work"]
        while True:
            got = wait(self._ctl, self._job, self._cuts, worker, python_seen)
            if got == -1:
                return
            if got == -2:
                self._wakeups[worker].wait()
                self._wakeups[worker].clear()
                continue
            python_seen = got
            seq, run = self._python
            if seq == got:
                run()
            # the job's closure holds the arrays of its call (a plan's arena buffers, which
            # are written again only where nothing else refers to them): not while waiting
            del run

    def _next_seq(self) -> int:
        return (self._seq + 1) & _SEQ_MASK

    def _post(self, pieces: int, python: bool, spin: bool = True) -> int:
        self._seq = self._next_seq()
        ticket = self._seq << 33 | int(python) << 32 | pieces << 16
        asleep = self._loops["post"](self._ctl, ticket, self.count,
                                     self._spin_cycles if spin else 0)
        for worker in range(self.count):
            if asleep >> worker & 1:
                self._wakeups[worker].set()
        return self._seq

    def run_python(self, run, spin: bool = True) -> None:
        """Send every worker to run ``run()`` (which shares its pieces with the caller's own
        call of it); the caller holds ``busy``. ``spin``: the workers spin after it (False
        on a loaded machine, where a spinning worker would take this process's own share
        of the cores from its calling thread)."""
        self._python = (self._next_seq(), run)
        self._post(0, python=True, spin=spin)

    def forget_python(self) -> None:
        """Drop the last job's ``run`` once the caller has seen all its pieces done (a
        worker that wakes up later finds no job of its sequence number and skips it)."""
        self._python = (-1, None)

    @staticmethod
    def gemm_job(left, right, out, axis: int = 0):
        """The job record of ``out = left @ right`` (2-D; each operand dense or the
        transpose of a dense array; float32 or float64) cut into blocks of rows (``axis``
        0) or columns (1), or None for other operands."""
        code = _CODES.get(left.dtype)
        if code is None or right.dtype != left.dtype or out.dtype != left.dtype:
            return None
        flags = []
        for operand in (left, right):
            if operand.flags.c_contiguous:
                flags.append((_NO_TRANS, operand.shape[1]))
            elif operand.flags.f_contiguous:
                flags.append((_TRANS, operand.shape[0]))
            else:
                return None
        if not out.flags.c_contiguous:
            return None
        (trans_a, lda), (trans_b, ldb) = flags
        m, k = left.shape
        n = right.shape[1]
        if min(lda, ldb, m, n, k) < 2:
            return None  # NumPy's matmul takes other routines (gemv, dot) for vectors
        return np.array([code, left.ctypes.data, right.ctypes.data, out.ctypes.data, n, k,
                         lda, ldb, n, trans_a, trans_b, left.itemsize, m, axis], np.int64)

    def gemm(self, job, cuts: list, split: bool) -> None:
        """Run the GEMM ``job`` (``gemm_job``) in the pieces ``cuts`` marks: shared
        with the workers where ``split`` and nobody else is handing out work, else one after
        another on this thread (the same pieces, the same bits)."""
        pieces = len(cuts) - 1
        if not split or pieces > MAX_PIECES or not self.busy.acquire(blocking=False):
            self._loops["run_all"](job, np.asarray(cuts, np.int64), pieces)
            return
        try:
            self._job[:] = job
            self._cuts[:pieces + 1] = cuts
            seq = self._post(pieces, python=False)
            self._loops["finish"](self._ctl, self._job, self._cuts, seq, pieces)
        finally:
            self.busy.release()
