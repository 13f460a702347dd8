"""The threading policy: who uses the cores while a Session runs.

NumPy's BLAS (OpenBLAS) starts one thread per core and lets idle threads spin; when other
processes load the cores, its threads and theirs oversubscribe them and a step can take 5-25x
its quiet time (issue 14). So the runtime decides once per process, never both at a time:

- ``pool`` (the default on several cores): BLAS runs single-threaded, and graphc's own pool
  of ``threads`` workers shares the pieces of each conv and pool kernel's batch
  (graphc.ops.conv_kernels) and of each large 2-D GEMM's rows (graphc.ops.gemm) with the
  calling thread, while the machine has idle cores.
  Waiting workers sleep; under load a step slows down by its fair share only.
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

from graphc.ops import conv_kernels, gemm

__all__ = ["ThreadPolicy", "current_policy", "ensure_applied", "kernel_threads", "blas_info",
           "request_threads", "requested_threads", "applied", "MODES"]

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
    machine has idle cores (its load average less this process's own CPU use since the last
    check, read at most every ``LOAD_CHECK_SECONDS``, is below the policy's threads; without
    the correction a process that keeps both cores busy would see its own load and stop
    splitting, then start again once the average decayed): under a CPU load, handing pieces
    to threads that wait for a time slice would make each call wait too (measured: 5-20x
    slower calls at load 4-19 on 2 cores)."""

    LOAD_CHECK_SECONDS = 1.0

    def __init__(self, threads: int, load_average=None, cpu_seconds=None):
        self.threads = threads
        self._executor = ThreadPoolExecutor(max_workers=threads - 1,
                                            thread_name_prefix="graphc-pool")
        self._load_average = load_average or _load_average
        self._cpu_seconds = cpu_seconds or _process_cpu_seconds
        self._checked = (-math.inf, True, 0.0)  # (when, idle cores then, CPU seconds then)

    def idle(self) -> bool:
        """Whether the machine had idle cores at the last check (at most a second ago)."""
        when, idle, cpu_then = self._checked
        now = time.monotonic()
        if now - when > self.LOAD_CHECK_SECONDS:
            cpu = self._cpu_seconds()
            own = (cpu - cpu_then) / (now - when) if math.isfinite(when) else 0.0
            idle = self._load_average() - own < self.threads - 0.5
            self._checked = (now, idle, cpu)
        return idle

    def bounds(self, n: int, chunks: int) -> list:
        """Where a split of ``range(n)`` into about ``chunks`` pieces per call cuts it (the
        pieces' first elements, then n): the same for any load (a loaded machine runs it
        whole instead)."""
        pieces = max(1, min(2 * chunks, 2 * self.threads, n))
        return [n * k // pieces for k in range(pieces + 1)]

    def __call__(self, work, n: int, chunks: int) -> None:
        bounds = self.bounds(n, chunks)
        pieces = len(bounds) - 1
        if pieces == 1 or not self.idle():
            work(0, n)
            return
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
        for _ in range(min(self.threads, pieces) - 1):
            self._executor.submit(drain)
        drain()
        with finished:
            finished.wait_for(lambda: state["done"] == pieces)
        if state["error"] is not None:
            raise state["error"]


def _process_cpu_seconds() -> float:
    """User and system CPU seconds of every thread of this process so far."""
    times = os.times()
    return times.user + times.system


def _load_average() -> float:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # not available: assume idle cores
        return 0.0


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
            conv_kernels.set_batch_splitter(_POOL[0])
            gemm.set_row_splitter(_POOL[0])
            _APPLIED.append(policy)
    return _APPLIED[0]


def kernel_threads() -> int:
    """How many threads may share one kernel call's work right now (the fused NumPy engine
    asks before splitting its chunks over its pool): the pool policy's threads while the
    machine has idle cores (the pool's load check), else 1, so that no two pools, nor a
    pool and BLAS, ever share the cores.

    Example:
        >>> kernel_threads()  # 1 under GRAPHC_THREADS=1, the blas policy or a CPU load
        2
    """
    ensure_applied()
    pool = _POOL[0]
    return pool.threads if pool is not None and pool.idle() else 1


def _forget_in_child() -> None:
    """A forked child has none of the parent's pool threads: it applies the policy afresh
    (with a new pool) when it first runs a Session."""
    _APPLIED.clear()
    _POOL[0] = None
    conv_kernels.set_batch_splitter(None)
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
