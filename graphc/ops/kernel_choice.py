"""Choosing between two kernels of one op by timing them on this machine, once per shape.

The direct convolution loops (graphc.ops.conv_direct) beat the GEMM kernels 1.5-2.5x on
the 2-core Zen 3 EPYC they were measured on, but on a Zen 4 EPYC the 3x3 16->24 filter
gradient of W7 (b) once ran 20-30x slower than its GEMM kernel (~100 ms against 3.5-5 ms):
LLVM had vectorized its accumulators with AVX-512 gathers and scatters, which Zen 4 runs
microcoded (now fixed in conv_direct). Which kernel wins depends on the machine and on
code generation no test can foresee, so the first call of a shape times both and keeps the
faster one for the rest of the process: each candidate runs once untimed (which compiles
or warms it), then ROUNDS times, alternating with the other, and its fastest run counts. Both
candidates compute the op's value within its documented float-sum bound
(tests/test_conv_direct.py), and a process keeps its choice, so a given process and
thread count always gives the same bits.

Example:
    >>> use_first = faster_first(("filter_grad", x.shape, w_shape), lambda: (direct, gemm))
"""
from __future__ import annotations

import threading
import time

__all__ = ["faster_first", "choices"]

_CHOSEN: dict = {}  # key -> whether the first candidate was faster
ROUNDS = 5  # timed rounds of the two candidates, interleaved
_LOCK = threading.Lock()  # held while a key is timed


def _first_is_faster(first, second, rounds: int = ROUNDS) -> bool:
    """Whether ``first``'s fastest run beat ``second``'s, over ``rounds`` rounds that time
    one run of each, after an untimed one of each: a time slice lost to another thread or
    process lengthens one run, not the fastest, and a host whose speed drifts over
    milliseconds slows both alike."""
    first()
    second()
    best = [float("inf"), float("inf")]
    for _ in range(rounds):
        for index, run in enumerate((first, second)):
            start = time.perf_counter()
            run()
            best[index] = min(best[index], time.perf_counter() - start)
    return best[0] <= best[1]


def faster_first(key, candidates) -> bool:
    """Whether the first of ``candidates()`` (two callables without arguments that compute
    the same thing into scratch space; made only when ``key`` is new, so the scratch is
    allocated once) ran faster than the second the first time ``key`` was asked about."""
    chosen = _CHOSEN.get(key)
    if chosen is None:
        # one timing at a time, the other threads waiting (not computing) meanwhile: the
        # pool's threads reach a new key together (each with its piece of one batch), and
        # timed side by side on 2 vCPUs the compute-bound direct loop lost to the GEMM in
        # some processes and not others (W7 (b)'s 5x5 filter gradient: kept GEMM at
        # 4.2 ms a step against 1.1 direct)
        with _LOCK:
            chosen = _CHOSEN.get(key)
            if chosen is None:
                first, second = candidates()
                chosen = _CHOSEN[key] = _first_is_faster(first, second)
    return chosen


def choices() -> dict:
    """The choices made so far (key -> first candidate chosen), for tests and reports."""
    return dict(_CHOSEN)
