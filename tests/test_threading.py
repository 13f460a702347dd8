"""The runtime's threading policy (graphc.runtime.threads): BLAS threads or graphc's pool,
never both, applied the first time a Session runs."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from graphc.runtime.threads import MODES, ThreadPolicy

_PROBE = """
import json
import numpy as np
import graphc as gc
from graphc.ops import batch_split
from graphc.runtime.threads import blas_info, current_policy, kernel_threads
before = [lib["num_threads"] for lib in blas_info()]
with gc.Graph().as_default() as g:
    x = gc.placeholder(gc.float32, (None, 3))
    y = gc.matmul(x, gc.constant(np.ones((3, 2), np.float32)))
with gc.Session(graph=g) as sess:
    sess.run(y, {x: np.ones((2, 3), np.float32)})
splitter = batch_split._SPLITTER[0]
print(json.dumps({"before": before, "after": [lib["num_threads"] for lib in blas_info()],
                  "pool": getattr(splitter, "threads", None),
                  "policy": current_policy().describe(), "kernel_threads": kernel_threads()}))
"""


def _probe(**environ):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHC_THREAD")}
    env.update(environ)
    done = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_pool_policy_runs_blas_single_threaded_and_splits_batches_itself():
    """Before issue 14 a session left OpenBLAS one thread per core, oversubscribed under
    load; now BLAS gets one thread and graphc's pool the cores."""
    seen = _probe(GRAPHC_THREADS="2", OPENBLAS_NUM_THREADS="2")
    assert seen["before"] and set(seen["before"]) == {2}
    assert set(seen["after"]) == {1}
    assert seen["pool"] == 2
    assert seen["policy"].startswith("pool: 2 graphc threads")


def test_the_blas_policy_gives_blas_the_threads_and_uses_no_pool():
    seen = _probe(GRAPHC_THREAD_POLICY="blas", GRAPHC_THREADS="2", OPENBLAS_NUM_THREADS="1")
    assert set(seen["after"]) == {2}
    assert seen["pool"] is None and seen["kernel_threads"] == 1  # BLAS has the cores


def test_one_thread_means_no_pool():
    seen = _probe(GRAPHC_THREADS="1")
    assert set(seen["after"]) == {1} and seen["pool"] is None
    assert seen["kernel_threads"] == 1


def test_the_policy_reads_the_environment():
    assert ThreadPolicy.from_environment({"GRAPHC_THREADS": "3"}) == ThreadPolicy("pool", 3)
    policy = ThreadPolicy.from_environment({"GRAPHC_THREAD_POLICY": "BLAS",
                                            "GRAPHC_THREADS": "4"})
    assert (policy.blas_threads, policy.pool_threads) == (4, 1)
    assert ThreadPolicy("pool", 4).blas_threads == 1
    assert ThreadPolicy.from_environment({}).threads >= 1
    assert set(MODES) == {"pool", "blas"}


@pytest.mark.parametrize("environ,match", [({"GRAPHC_THREADS": "0"}, "GRAPHC_THREADS"),
                                           ({"GRAPHC_THREADS": "two"}, "GRAPHC_THREADS"),
                                           ({"GRAPHC_THREAD_POLICY": "both"},
                                            "GRAPHC_THREAD_POLICY")])
def test_a_bad_setting_is_an_error_naming_the_variable(environ, match):
    with pytest.raises(ValueError, match=match):
        ThreadPolicy.from_environment(environ)


_FORKED = """
import os, json
import numpy as np
import graphc as gc
from graphc.ops import batch_split
from graphc.runtime import threads
threads._BusyCores.__call__ = lambda self: 0.0  # split however loaded the test machine is
with gc.Graph().as_default() as g:
    x = gc.placeholder(gc.float32, (None, 6, 6, 2))
    y = gc.nn.conv2d(x, gc.constant(np.ones((3, 3, 2, 4), np.float32)), 1, "SAME")
sess = gc.Session(graph=g)
batch_split.MIN_SPLIT_ELEMENTS = 0
batch = np.ones((4, 6, 6, 2), np.float32)
want = sess.run(y, {x: batch})
pid = os.fork()
if pid == 0:
    import signal
    signal.alarm(30)  # a hung child ends by itself instead of outliving the test
    got = sess.run(y, {x: batch})  # would wait forever on the parent's pool threads
    os._exit(0 if np.array_equal(got, want) else 1)
_, status = os.waitpid(pid, 0)
print(json.dumps({"child": os.waitstatus_to_exitcode(status)}))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_runs_split_kernels_on_a_pool_of_its_own():
    env = dict(os.environ, GRAPHC_THREADS="2", GRAPHC_THREAD_POLICY="pool")
    done = subprocess.run([sys.executable, "-c", _FORKED], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"child": 0}


def test_kernel_threads_follow_the_pool_and_its_load_check(monkeypatch):
    """The fused NumPy engine splits its chunks over threads only as the policy allows: the
    pool's threads while the machine has idle cores, one thread under a CPU load."""
    from graphc.runtime import threads

    threads.ensure_applied()
    monkeypatch.setattr(threads, "_POOL", [threads._BatchPool(2, busy_cores=lambda: 0.0)])
    assert threads.kernel_threads() == 2
    monkeypatch.setattr(threads, "_POOL", [threads._BatchPool(2, busy_cores=lambda: 5.0)])
    assert threads.kernel_threads() == 1
    monkeypatch.setattr(threads, "_POOL", [None])
    assert threads.kernel_threads() == 1


def test_the_fused_engine_on_one_thread_never_hands_chunks_to_its_pool(monkeypatch):
    """Before, the fused NumPy engine sent every large call through its own pool whatever
    the policy (twice the CPU time of a plain call at W7's shapes, and more under load)."""
    import numpy as np

    from graphc.runtime.fused import numpy_engine

    def no_pool(*args):
        raise AssertionError("the pool was used")
    monkeypatch.setattr(numpy_engine, "kernel_threads", lambda: 1)
    monkeypatch.setattr(numpy_engine, "run_shares", no_pool)
    program = (("add", (("in", 0), ("in", 1)), ()), ("relu", (("step", 0),), ()))
    x = np.linspace(-1, 1, 1 << 18, dtype=np.float32).reshape(1 << 8, -1)
    got = numpy_engine.ChunkedProgram(program)(x, np.float32(0.25))
    np.testing.assert_array_equal(got, np.maximum(x + np.float32(0.25), np.float32(0)))


def test_busy_cores_come_from_proc_stat_ticks_and_else_the_load_average(tmp_path, monkeypatch):
    """The machine's busy cores between two readings of /proc/stat's first line (idle and
    iowait are not busy; steal is), so that a load that just started is seen at the next
    check rather than a minute later; the 1-minute load average on the first call and
    where the file cannot be read."""
    from graphc.runtime import machine_load, threads
    monkeypatch.setattr(machine_load, "load_average", lambda: 1.25)
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 4)
    stat = tmp_path / "stat"
    # user nice system idle iowait irq softirq steal guest guest_nice
    stat.write_text("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3 4\n")
    busy = threads._BusyCores(str(stat))
    assert busy() == 1.25  # no earlier reading yet
    stat.write_text("cpu  160 0 70 860 60 0 0 10 0 0\ncpu0 1 2 3 4\n")
    # 90 busy ticks (60 user, 20 system, 10 steal) of 160: 4 cores x 90 / 160
    assert busy() == pytest.approx(4 * 90 / 160)
    assert busy() == 1.25  # no tick since: nothing to tell
    assert threads._BusyCores(str(tmp_path / "missing"))() == 1.25


def test_a_load_that_starts_is_seen_at_the_next_check(monkeypatch):
    """Two other processes keeping both cores busy: the pool's next check (half a second
    on) stops splitting, and resumes once they stop; this process's own use never counts."""
    from graphc.runtime import threads

    monkeypatch.setattr(threads.os, "cpu_count", lambda: 2)
    reading, own_cpu = [0.0], [0.0]
    pool = threads._BatchPool(2, busy_cores=lambda: reading[0], cpu_seconds=lambda: own_cpu[0])
    assert pool.idle()

    def later(busy, own_seconds):
        when, idle, cpu = pool._checked
        pool._checked = (when - pool.LOAD_CHECK_SECONDS - 0.5, idle, cpu)
        reading[0], own_cpu[0] = busy, own_cpu[0] + own_seconds
        return pool.idle()
    assert later(2.0, 2.0)  # both cores busy with this process's own threads
    assert not later(2.0, 0.7)  # the load: 1.3 cores others'
    assert later(0.4, 0.4)  # it stopped


def test_long_pieces_still_go_to_the_pool_under_a_moderate_load_but_not_a_heavy_one(
        monkeypatch):
    """Pieces of milliseconds (W7 (b)'s convolutions): under a 2-process load the process
    still gets two threads' share of the cores; under a heavy load (the load average above
    twice the cores) the calling thread runs them. Short pieces never go under load."""
    import threading

    from graphc.runtime import threads

    monkeypatch.setattr(threads.os, "cpu_count", lambda: 2)
    pool = threads._BatchPool(2, busy_cores=lambda: 2.0, cpu_seconds=lambda: 0.0)
    assert not pool.idle()

    def runners(long_pieces):
        seen, both = set(), threading.Barrier(2, timeout=0.5)

        def work(lo, hi):
            seen.add(threading.get_ident())
            try:
                both.wait()  # holds a piece until another thread takes one (or times out)
            except threading.BrokenBarrierError:
                pass
        pool(work, 4, 2, long_pieces=long_pieces)
        return len(seen)
    monkeypatch.setattr(threads, "_load_average", lambda: 3.0)  # 2 busy processes, us
    assert runners(long_pieces=True) == 2
    assert runners(long_pieces=False) == 1
    monkeypatch.setattr(threads, "_load_average", lambda: 12.0)
    assert runners(long_pieces=True) == 1
