"""Concurrent ``session.run``: read-modify-write updates are atomic per run, failed runs change
nothing, lock order cannot deadlock, and read-only runs take no variable lock
(the model is described in ``graphc/runtime/state.py``)."""
import sys
import threading

import numpy as np
import pytest

import graphc as gc

THREADS, RUNS = 8, 50
TIMEOUT = 120  # seconds: only reached when something deadlocked


@pytest.fixture
def fast_switching():
    """Switch threads as often as possible, so that unprotected updates interleave."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


def _run_threads(target, count=THREADS):
    """Run ``target(k)`` in ``count`` threads; re-raise the first failure of any of them."""
    errors = []

    def guarded(k):
        try:
            target(k)
        except BaseException as err:  # noqa: BLE001 - reported in the test's own thread
            errors.append(err)
    threads = [threading.Thread(target=guarded, args=(k,)) for k in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a run deadlocked"
    if errors:
        raise errors[0]


def _counter_graph():
    g = gc.Graph()
    with g.as_default():
        V = gc.Variable(np.zeros(1000, np.float32), name="V")
        count = gc.Variable(0, name="count")
        step = gc.group(gc.assign_add(V, np.ones(1000, np.float32)), gc.assign_add(count, 1))
        init = gc.global_variables_initializer()
    return g, V, count, step, init


@pytest.mark.parametrize("optimize", [True, False], ids=["optimized", "unoptimized"])
@pytest.mark.parametrize("repeat", range(3))
def test_concurrent_increments_are_never_lost(fast_switching, optimize, repeat):
    g, V, count, step, init = _counter_graph()
    with gc.Session(graph=g, optimize=optimize) as sess:
        sess.run(init)
        _run_threads(lambda k: [sess.run(step) for _ in range(RUNS)])
        values, total = sess.run([V, count])
    assert total == THREADS * RUNS
    np.testing.assert_array_equal(values, np.full(1000, THREADS * RUNS, np.float32))


def test_failed_runs_in_the_mix_change_nothing(fast_switching):
    """Every other run of some threads fails after staging both increments."""
    g, V, count, step, init = _counter_graph()
    with g.as_default():
        gate = gc.placeholder(gc.float32, (), name="gate")
        with gc.control_dependencies([step]):
            checked = gc.check_numerics(gate * 2.0, "gate")
    successes = [0] * THREADS
    with gc.Session(graph=g) as sess:
        sess.run(init)

        def work(k):
            for run in range(RUNS):
                if k % 2 and run % 2:
                    with pytest.raises(gc.errors.InvalidArgumentError, match="gate"):
                        sess.run(checked, {gate: np.nan})
                else:
                    sess.run(checked, {gate: 1.0})
                    successes[k] += 1
        _run_threads(work)
        values, total = sess.run([V, count])
    assert total == sum(successes) == THREADS * RUNS * 3 // 4
    np.testing.assert_array_equal(values, np.full(1000, sum(successes), np.float32))


def test_plans_updating_overlapping_variables_in_opposite_orders_do_not_deadlock(
        fast_switching):
    g = gc.Graph()
    with g.as_default():
        a, b, c = (gc.Variable(np.zeros(500), name=n) for n in ("a", "b", "c"))
        one = np.ones(500)
        inc_a = gc.assign_add(a, one)
        with gc.control_dependencies([inc_a]):
            forward = gc.group(inc_a, gc.assign_add(b, one))  # a, then b
        inc_b = gc.assign_add(b, one)
        with gc.control_dependencies([inc_b]):
            backward = gc.group(inc_b, gc.assign_add(a, one), gc.assign_add(c, one))  # b first
        init = gc.global_variables_initializer()
    with gc.Session(graph=g) as sess:
        sess.run(init)
        _run_threads(lambda k: [sess.run(forward if (k + i) % 2 else backward)
                                for i in range(RUNS)])
        got_a, got_b, got_c = sess.run([a, b, c])
    runs = THREADS * RUNS
    np.testing.assert_array_equal(got_a, np.full(500, runs))
    np.testing.assert_array_equal(got_b, np.full(500, runs))
    np.testing.assert_array_equal(got_c, np.full(500, runs // 2))


def test_read_only_runs_and_disjoint_updates_take_no_lock_of_a_busy_variable():
    """While V's lock is held (as by a long update), runs that only read V, and runs that
    update other variables, still complete; an update of V waits for it."""
    g = gc.Graph()
    with g.as_default():
        V = gc.Variable(np.arange(3.0), name="V")
        other = gc.Variable(0.0, name="other")
        read = V * 2.0
        bump_other = gc.assign_add(other, 1.0)
        bump_V = gc.assign_add(V, np.ones(3))
        init = gc.global_variables_initializer()
    with gc.Session(graph=g) as sess:
        sess.run(init)
        (lock,) = sess._state.update_locks(("V",))
        results = {}
        with lock:
            _run_threads(lambda k: results.update(read=sess.run(read), V=sess.run(V),
                                                  other=sess.run(bump_other)), count=1)
            waiting = threading.Thread(target=lambda: results.update(bumped=sess.run(bump_V)))
            waiting.start()
            waiting.join(0.5)  # it cannot finish while the lock is held
            assert waiting.is_alive() and "bumped" not in results
        waiting.join(TIMEOUT)
        assert not waiting.is_alive()
    np.testing.assert_array_equal(results["read"], [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(results["V"], [0.0, 1.0, 2.0])
    assert results["other"] == 1.0
    np.testing.assert_array_equal(results["bumped"], [1.0, 2.0, 3.0])


def test_load_takes_the_variable_lock():
    g = gc.Graph()
    with g.as_default():
        V = gc.Variable(np.zeros(2), name="V")
        init = gc.global_variables_initializer()
    with gc.Session(graph=g) as sess:
        sess.run(init)
        (lock,) = sess._state.update_locks(("V",))
        with lock:
            loader = threading.Thread(target=lambda: V.load(np.ones(2), sess))
            loader.start()
            loader.join(0.5)  # it cannot finish while the lock is held
            assert loader.is_alive()
            np.testing.assert_array_equal(sess.run(V), [0.0, 0.0])
        loader.join(TIMEOUT)
        np.testing.assert_array_equal(sess.run(V), [1.0, 1.0])
