"""The benchmark's machine conditions: a concurrent CPU load (the "loaded" column) and the
BLAS build as users get it (issue 14, items 3 and 4).

``cpu_load()`` runs two busy processes while the suite measures a workload again; the
``loaded_x`` note is the loaded time over the quiet time (the threading policy's target is
at most 2.5x). ``blas_environments()`` describes which BLAS kernels run (threadpoolctl), and
``unset_blas_rows`` reruns W1 and W7 (graphc and hand NumPy only) in a child process whose
environment lacks OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE: only that child's environment,
never the tests' or CI's.
"""
from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from graphc.runtime.threads import blas_info

__all__ = ["cpu_load", "BLAS_VARIABLES", "blas_note", "unset_blas_rows", "users_blas",
           "interleaved", "SETTLE_SECONDS"]

BLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_BUSY = "import time\nend = time.time() + {seconds}\nwhile time.time() < end: pass\n"


# before each window: the threads of the implementation timed just before stop spinning
# (OpenBLAS's wait ~0.1 s for work, TF's and torch's pools theirs); in one process, graphc's
# W1 timed in turns with hand NumPy's (two OpenBLAS threads) made 292 steps/s without the
# pause, 367 with it
SETTLE_SECONDS = 0.3
# ... and after it, calls for this long untimed, so the window times the steady state: after
# the pause the first steps are slow for every implementation (a core woken from idle, cold
# caches, a pool's threads asleep): W7 (a) in graphc took 8, 6, 10, 7, 8, 8 ms for its first
# six steps, then 4.9 ms; a 0.1 s window timed 5.9 ms of it
REWARM_SECONDS = 0.1
# ... and at least this many calls: under a CPU load a W7 (b) step takes 40-70 ms, and after
# the pause graphc's first five steps took 65-72 ms against 40-53 from the sixth on (its
# pool's sleeping workers woken by the scheduler among the load's processes)
REWARM_CALLS = 5


def interleaved(runs: dict, measure, windows: int, contexts=None, warm: bool = True,
                settle: float = SETTLE_SECONDS) -> dict:
    """Median seconds per call of each of ``runs`` over ``windows`` rounds, one timing
    window of each per round (``measure(fn, windows=, warm=)`` is the suite's timer), each
    window inside ``contexts[name]()`` where given (hand NumPy's BLAS threads), ``settle``
    seconds after the window before and REWARM_SECONDS (at least REWARM_CALLS) of untimed
    calls (neither in the quick smoke test). On a shared
    machine the speed of a core changes over seconds (this 2-vCPU VM: one thread's GEMM
    took 2.2 ms on a core, then 3.4 ms on the same core a few seconds later; W1 ran at 750
    and 430 steps/s in two runs five minutes apart), so implementations timed one after
    another each land in a different stretch; interleaved, every one samples them all.

    Example:
        >>> interleaved({"graphc": step, "numpy": numpy_step}, measure, windows=7)
        {'graphc': 0.0013, 'numpy': 0.0012}
    """
    contexts = contexts or {}

    def timed(name, **options):
        with contexts.get(name, contextlib.nullcontext)():
            time.sleep(settle)
            if settle:
                _rewarm(runs[name], REWARM_SECONDS)
            return measure(runs[name], windows=1, **options)
    for name in runs:
        timed(name, warm=warm)  # warm-up (fused nodes hot, background compiles done)
    times: dict = {name: [] for name in runs}
    for _ in range(windows):
        for name in runs:
            times[name].append(timed(name, warm=False))
    return {name: statistics.median(found) for name, found in times.items()}


def _rewarm(fn, seconds: float, calls: int = REWARM_CALLS) -> None:
    """Call ``fn`` untimed for about ``seconds``, and at least ``calls`` times."""
    end = time.perf_counter() + seconds
    for _ in range(calls):
        fn()
    while time.perf_counter() < end:
        fn()


@contextlib.contextmanager
def cpu_load(processes: int = 2, seconds: float = 600.0):
    """Run ``processes`` busy Python processes (each ends by itself after ``seconds``, and
    is stopped when the block ends)."""
    busy = [subprocess.Popen([sys.executable, "-c", _BUSY.format(seconds=seconds)])
            for _ in range(processes)]
    time.sleep(0.2)  # let them start spinning
    try:
        yield
    finally:
        for process in busy:
            process.terminate()
        for process in busy:
            process.wait()


# BLAS threads as NumPy starts them, read before any Session applies graphc's policy
_USERS_BLAS_THREADS = max([lib["num_threads"] for lib in blas_info()] or [1])


def users_blas():
    """A block in which NumPy's BLAS has the threads it starts with (hand-written NumPy is
    measured as users get it, not under the limit graphc's policy set for this process)."""
    return threadpool_limits(limits=_USERS_BLAS_THREADS, user_api="blas")


def blas_note() -> str:
    """The BLAS kernels that run in this process, as threadpoolctl reports them, with the
    environment variables that choose them (e.g. ``openblas 0.3.27 Haswell, 1 thread,
    OPENBLAS_CORETYPE=Haswell``)."""
    libs = [f"{lib['internal_api']} {lib['version']} {lib['architecture']}, "
            f"{lib['num_threads']} thread{'s' if lib['num_threads'] != 1 else ''}"
            for lib in blas_info()]
    chosen = [f"{name}={os.environ[name]}" for name in BLAS_VARIABLES if name in os.environ]
    return "; ".join(libs + (chosen or ["OPENBLAS_CORETYPE unset"]))


def unset_blas_rows(workloads: list, quick: bool) -> list:
    """Rows of ``workloads`` run again, graphc and hand NumPy only, with BLAS_VARIABLES
    removed from the child's environment (so OpenBLAS picks its kernels for this CPU)."""
    env = {k: v for k, v in os.environ.items() if k not in BLAS_VARIABLES}
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run([sys.executable, "-m", "graphc.tools.bench", "--only",
                        ",".join(workloads), "--out", folder, "--no-peers", "--no-tuned-malloc",
                        "--no-loaded", "--no-micro"] + (["--quick"] if quick else []),
                       env=env, check=True, capture_output=True, text=True)
        child = json.loads((Path(folder) / "results.json").read_text())
    kernels = child["machine"].split("BLAS: ")[-1].split(";")[0]  # the child's blas_note
    rows = child["rows"]
    for entry in rows:
        entry["blas_env"] = "unset"
        entry["blas"] = kernels
    return rows
