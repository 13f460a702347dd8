"""The threading policy: who uses the cores while a Session runs.

NumPy's BLAS (OpenBLAS) starts one thread per core and lets idle threads spin; when other
processes load the cores, its threads and theirs oversubscribe them and a step can take 5-25x
its quiet time (issue 14). So the runtime decides once per process, never both at a time:

- ``pool`` (the default on several cores): BLAS runs single-threaded, and graphc's own pool
  of ``threads`` workers shares with the calling thread the pieces of each conv and pool
  kernel's batch, of each large concat's and split's copy and ReLU gradient's rows
  (graphc.ops.batch_split), of each large 2-D GEMM's rows (graphc.ops.gemm), and the fused
  engines' chunks (``run_shares``), while the machine has idle cores; runs of such ops
  run as batch regions (runtime/batch_regions.py): each piece of the batch through all of
  them on one thread, its kernels unsplit (``batch_split.unsplit``). Its workers wait
  spinning in compiled code for 2 ms after work handed out on an idle machine, then sleep
  (graphc.runtime.spin_workers; sleeping workers only, where those cannot be built); under
  load a step slows down by its fair share only.
- ``blas``: BLAS gets ``threads`` threads and graphc's pool is not used.

``GRAPHC_THREADS`` (a count, default: the cores this process may run on) and
``GRAPHC_THREAD_POLICY`` (``pool`` or ``blas``) choose; the BLAS limit goes through
threadpoolctl and is applied the first time a Session runs (``ensure_applied``), for the
whole process.

Example:
    >>> from graphc.runtime.threads import current_policy
    >>> current_policy().describe()
    'pool: 2 graphc threads split conv/pool batches, BLAS 1 thread'
"""
from __future__ import annotations

import itertools
import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from graphc.ops import batch_split, gemm

from .machine_load import BusyCores as _BusyCores
from .machine_load import load_average as _load_average
from .machine_load import process_cpu_seconds as _process_cpu_seconds
from .spin_workers import SpinWorkers

__all__ = ["ThreadPolicy", "current_policy", "ensure_applied", "kernel_threads", "run_shares",
           "pool", "blas_info", "request_threads", "requested_threads", "applied", "MODES"]

MODES = ("pool", "blas")


def _available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class ThreadPolicy:
    """How many threads graphc's pool and the BLAS library get (see the module docstring)."""

    mode: str
    threads: int

    @property
    def blas_threads(self) -> int:
        return self.threads if self.mode == "blas" else 1

    @property
    def pool_threads(self) -> int:
        return self.threads if self.mode == "pool" else 1

    def describe(self) -> str:
        if self.mode == "pool":
            return (f"pool: {self.pool_threads} graphc threads split conv/pool batches, "
                    f"BLAS 1 thread")
        return f"blas: BLAS {self.blas_threads} threads, no graphc pool"

    @classmethod
    def from_environment(cls, environ=None) -> "ThreadPolicy":
        """The policy ``GRAPHC_THREAD_POLICY`` and ``GRAPHC_THREADS`` ask for; raises
        ValueError naming the variable for a bad value."""
        environ = os.environ if environ is None else environ
        mode = environ.get("GRAPHC_THREAD_POLICY", "pool").strip().lower()
        if mode not in MODES:
            raise ValueError(f"GRAPHC_THREAD_POLICY must be one of {MODES}, got {mode!r}")
        raw = environ.get("GRAPHC_THREADS", "").strip()
        try:
            threads = int(raw) if raw else _available_cores()
        except ValueError:
            raise ValueError(f"GRAPHC_THREADS must be a positive integer, got {raw!r}") from None
        if threads < 1:
            raise ValueError(f"GRAPHC_THREADS must be a positive integer, got {raw!r}")
        return cls(mode, threads)


class _BatchPool:
    """Runs ``work(lo, hi)`` over pieces of ``range(n)``, on the calling thread and the pool.

    Whoever runs takes the next piece (work sharing), so a worker that the OS has not
    scheduled yet costs nothing: the calling thread runs every piece no worker took, and waits
    only for pieces a worker is in the middle of. And the batch is split only while the
    machine has idle cores for the pool's threads: under a CPU load a worker that took a piece
    waits for a time slice, and so does the call (measured: 5-20x slower calls at load 4-19
    on 2 cores), so the calling thread then runs the same pieces itself, one after another
    (but pieces of milliseconds: see ``__call__``).
    The pieces depend only on ``n``, ``chunks`` and the policy's thread count (``bounds``),
    never on the load, so neither does any result.

    The check, at most every ``LOAD_CHECK_SECONDS``: the cores other processes kept busy
    since the last one (``busy_cores``: the machine's busy cores, from /proc/stat, less this
    process's own CPU use, ``cpu_seconds``) leave at least ``threads - 0.5`` cores free.
    Without the correction a process that keeps both cores busy would see its own use and
    stop splitting. /proc/stat tells within the check's interval that a load started; the
    1-minute load average (the reading where /proc/stat is missing) lags it by up to a
    minute, and for that minute the pool split under load (W7 (a) took 3x its quiet step)."""

    LOAD_CHECK_SECONDS = 0.5

    def __init__(self, threads: int, busy_cores=None, cpu_seconds=None, spinning=True):
        self.threads = threads
        self._workers_lock = threading.Lock()
        self._started = False  # the workers start when work is first split (``_workers``)
        self._spinning = spinning  # False: sleeping workers even where spinning ones can run
        self._spin = None
        self._executor = None
        self._busy_cores = busy_cores or _BusyCores()
        self._cpu_seconds = cpu_seconds or _process_cpu_seconds
        # a configured count above the machine's cores was asked for: free cores count up to it
        self._cores = max(threads, os.cpu_count() or 1)
        self._checked = (-math.inf, True, 0.0)  # (when, idle cores then, CPU seconds then)
        self._own_rate = 0.0  # this process's CPU use (cores) between the last two checks

    def idle(self) -> bool:
        """Whether the machine had idle cores at the last check (at most
        ``LOAD_CHECK_SECONDS`` ago)."""
        when, idle, cpu_then = self._checked
        now = time.monotonic()
        if now - when > self.LOAD_CHECK_SECONDS:
            cpu = self._cpu_seconds()
            own = (cpu - cpu_then) / (now - when) if math.isfinite(when) else 0.0
            self._own_rate = own
            others = self._busy_cores() - own
            idle = self._cores - others >= self.threads - 0.5
            self._checked = (now, idle, cpu)
        return idle

    def _workers(self):
        """The spinning workers (None where they cannot be built here: then the sleeping
        ``_executor``), started on the first split: a program that never splits work never
        loads numba (~0.5 s and its LLVM) for them."""
        if not self._started:
            with self._workers_lock:
                if not self._started:
                    # spinning where they can be built (numba, x86-64, NumPy's OpenBLAS), else
                    # sleeping: the same pieces either way
                    if self._spinning:
                        self._spin = SpinWorkers.start(self.threads - 1)
                    if self._spin is None:
                        self._executor = ThreadPoolExecutor(max_workers=self.threads - 1,
                                                            thread_name_prefix="graphc-pool")
                    self._started = True
        return self._spin

    def bounds(self, n: int, chunks: int) -> list:
        """Where a split of ``range(n)`` into about ``chunks`` pieces per call cuts it (the
        pieces' first elements, then n): the same for any load."""
        pieces = max(1, min(2 * chunks, 2 * self.threads, n))
        return [n * k // pieces for k in range(pieces + 1)]

    def _heavily_loaded(self) -> bool:
        """Whether other processes keep more than twice the cores runnable (the 1-minute
        load average less this process's own CPU use at the last ``idle`` check)."""
        return _load_average() - self._own_rate > 2 * self._cores

    def __call__(self, work, n: int, chunks: int, long_pieces: bool = False) -> None:
        """``long_pieces``: the caller's pieces take milliseconds (W7 (b)'s convolutions),
        so a worker's wait for a time slice costs a fraction of one: they still go to the
        pool under a moderate load (the process then gets its fair share of the cores, two
        threads' worth, not one's: W7 (b) took 2.8x its quiet step run on one thread under a
        2-process load, 2.3x split), but not under a heavy one (``_heavily_loaded``)."""
        self.run_pieces(work, self.bounds(n, chunks), long_pieces)

    def run_pieces(self, work, bounds: list, long_pieces: bool = False) -> None:
        """``work(lo, hi)`` over the pieces ``bounds`` cuts (their first elements, then the
        end), shared with the pool's threads as ``__call__`` shares them."""
        pieces = len(bounds) - 1
        if pieces == 1:
            work(bounds[0], bounds[1])
            return
        split = self.idle() or long_pieces and not self._heavily_loaded()
        spin = self._workers() if split else None
        if not split or spin is not None and not spin.busy.acquire(blocking=False):
            # the same pieces, one after another on this thread: a piece's GEMM rounds its
            # rows by where they fall in it (OpenBLAS's Haswell kernels) and a batch's sum
            # adds the pieces' partial sums, so a whole call would give other bits (and so
            # while another thread of the process hands the spinning workers work)
            for lo, hi in zip(bounds, bounds[1:]):
                work(lo, hi)
            return
        try:
            self._share(work, bounds, keep_spinning=self._checked[1])
        finally:
            if spin is not None:
                spin.busy.release()

    def _share(self, work, bounds, keep_spinning: bool) -> None:
        """Run ``work`` over the pieces ``bounds`` cuts, on this thread and the workers
        (spinning ones spin after it where ``keep_spinning``: the machine had idle cores)."""
        pieces = len(bounds) - 1
        taken = itertools.count()  # next() on a count is atomic under the GIL
        finished = threading.Condition()
        state = {"done": 0, "error": None}
        errors = np.geterr()  # the caller's (a Session ignores NaN/Inf): NumPy's is per thread

        def drain():
            with np.errstate(**errors):
                take_pieces()

        def take_pieces():
            for k in iter(lambda: next(taken), None):
                if k >= pieces:
                    return
                try:
                    work(bounds[k], bounds[k + 1])
                except BaseException as err:  # noqa: BLE001 - re-raised by the caller
                    state["error"] = state["error"] or err
                with finished:
                    state["done"] += 1
                    finished.notify_all()
        if self._spin is not None:
            self._spin.run_python(drain, keep_spinning)
        else:
            for _ in range(min(self.threads, pieces) - 1):
                self._executor.submit(drain)
        drain()
        with finished:
            finished.wait_for(lambda: state["done"] == pieces)
        if self._spin is not None:
            self._spin.forget_python()
        if state["error"] is not None:
            raise state["error"]

    def gemm_blocks(self, left, right, out, cuts: list, axis: int = 0) -> bool:
        """``out = left @ right`` in the pieces of rows (``axis`` 0; columns: 1) ``cuts``
        marks, by the spinning workers' compiled loop (each piece one single-threaded BLAS
        call, as np.matmul makes it) while the machine has idle cores, else one after
        another on this thread; False (nothing done) where the spinning workers or these
        operands cannot."""
        if any(hi - lo < 2 for lo, hi in zip(cuts, cuts[1:])):
            return False  # np.matmul takes a vector routine for a row or a column
        spin = self._workers()
        job = None if spin is None else spin.gemm_job(left, right, out, axis)
        if job is None:
            return False
        spin.gemm(job, cuts, split=len(cuts) > 2 and self.idle())
        return True


_APPLIED: list = []  # the policy in force, once applied
_POOL: list = [None]  # graphc's pool in force (the pool policy on several cores), once applied
_LOCK = threading.Lock()


_REQUESTED: list = [None]  # a thread count asked for in code (tf.config.threading)


def _asked_for() -> ThreadPolicy:
    """The environment's policy, with the thread count code asked for unless
    ``GRAPHC_THREADS`` sets one."""
    policy = ThreadPolicy.from_environment()
    if _REQUESTED[0] is not None and not os.environ.get("GRAPHC_THREADS", "").strip():
        policy = ThreadPolicy(policy.mode, _REQUESTED[0])
    return policy


def request_threads(threads) -> None:
    """Ask for ``threads`` threads (0: the default) before the policy is applied, as TF's
    ``tf.config.threading.set_intra_op_parallelism_threads`` does; once applied, only the
    count in force may be asked for (RuntimeError otherwise, TF's rule).

    Example:
        >>> request_threads(1)   # before the first Session runs: one thread, BLAS included
    """
    if not isinstance(threads, int) or threads < 0:
        raise ValueError(f"the thread count must be a non-negative integer, got {threads!r}")
    asked = None if threads == 0 else threads
    if _APPLIED and (asked or ThreadPolicy.from_environment().threads) != _APPLIED[0].threads:
        raise RuntimeError("Intra op parallelism cannot be modified after initialization "
                           f"(graphc runs with {_APPLIED[0].threads} threads since its first "
                           "Session run)")
    _REQUESTED[0] = asked


def requested_threads() -> int:
    """The count ``request_threads`` asked for, 0 when none."""
    return _REQUESTED[0] or 0


def applied() -> bool:
    """Whether the policy is in force: a Session of this process has run (the runtime is
    initialized, in TF's words)."""
    return bool(_APPLIED)


def current_policy() -> ThreadPolicy:
    """The policy in force (applied), or the one the environment (and code) asks for."""
    return _APPLIED[0] if _APPLIED else _asked_for()


def ensure_applied() -> ThreadPolicy:
    """Apply the environment's policy once per process: set the BLAS thread limit with
    threadpoolctl and give the conv kernels graphc's pool. Cheap after the first call."""
    if _APPLIED:
        return _APPLIED[0]
    with _LOCK:
        if not _APPLIED:
            policy = _asked_for()
            _limit_blas(policy.blas_threads)
            _POOL[0] = _BatchPool(policy.pool_threads) if policy.pool_threads > 1 else None
            batch_split.set_batch_splitter(_POOL[0])
            gemm.set_row_splitter(_POOL[0])
            _APPLIED.append(policy)
    return _APPLIED[0]


def pool():
    """graphc's pool in force (``run_pieces`` over pieces of a batch), None where the
    policy has none (one thread, the ``blas`` policy) or it is not applied yet."""
    return _POOL[0]


def kernel_threads() -> int:
    """How many threads may share one kernel call's work right now (the fused NumPy engine
    asks before splitting its chunks over its pool): the pool policy's threads while the
    machine has idle cores (the pool's load check), else 1, so that no two pools, nor a
    pool and BLAS, ever share the cores.

    Example:
        >>> kernel_threads()  # 1 under GRAPHC_THREADS=1, the blas policy, a CPU load or
        ...                   # in a batch region's piece (which is its share already)
        2
    """
    ensure_applied()
    pool = _POOL[0]
    return pool.threads if pool is not None and batch_split.splitting() and pool.idle() else 1


def run_shares(function, shares: list) -> None:
    """``function(share)`` for each of ``shares``, on the pool's threads and this one (where
    ``kernel_threads`` said more than one may share a kernel: the fused engines' chunks), so
    that the fused engines and the conv and GEMM kernels share one set of workers and never
    run more threads than the policy's.

    Example:
        >>> run_shares(fill, [(0, 512), (512, 1024)])
    """
    pool = _POOL[0]
    if pool is None or len(shares) < 2:
        for share in shares:
            function(share)
        return

    def run(lo, hi):
        for share in shares[lo:hi]:
            function(share)
    pool(run, len(shares), (len(shares) + 1) // 2)


def _forget_in_child() -> None:
    """A forked child has none of the parent's pool threads: it applies the policy afresh
    (with a new pool) when it first runs a Session."""
    _APPLIED.clear()
    _POOL[0] = None
    batch_split.set_batch_splitter(None)
    gemm.set_row_splitter(None)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


def _limit_blas(threads: int) -> None:
    threadpool_limits(limits=threads, user_api="blas")


def blas_info() -> list:
    """threadpoolctl's description of each BLAS library loaded: which kernels it runs
    (``architecture``, e.g. SkylakeX or Haswell for OpenBLAS) and its thread count."""
    return [{k: lib.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for lib in threadpool_info() if lib.get("user_api") == "blas"]
