"""Fetched results belong to the caller (TF1): no fetched array shares memory with a feed, a
variable's storage or a constant, whatever the optimizer made of the graph, on the first run
and on the fast path of repeated runs; buffers kept across runs are never handed out while
the caller holds a result or a view of it."""
import numpy as np
import pytest

import graphc as gc
from graphc.runtime.state import RunContext

MODES = [pytest.param(True, id="optimized"), pytest.param(False, id="unoptimized")]

VIEWS_OF_A_FEED = {  # name: (graph, NumPy); each is a view of x in NumPy or once optimized
    "fed_tensor_itself": (lambda x: x, lambda a: a),
    "identity": (gc.identity, lambda a: a),
    "stop_gradient": (gc.stop_gradient, lambda a: a),
    "reshape": (lambda x: gc.reshape(x, [3, 4]), lambda a: a.reshape(3, 4)),
    "slice": (lambda x: x[1:], lambda a: a[1:]),
    "strided": (lambda x: x[::2], lambda a: a[::2]),
    "transpose": (lambda x: gc.transpose(gc.reshape(x, [3, 4])), lambda a: a.reshape(3, 4).T),
    "expand_dims": (lambda x: gc.expand_dims(x, 0), lambda a: a[None]),
    "times_one": (lambda x: x * 1.0, lambda a: a),
    "plus_zero": (lambda x: x + 0.0, lambda a: a),
    "reshape_of_identity": (lambda x: gc.reshape(gc.identity(x), [2, 6]),
                            lambda a: a.reshape(2, 6)),
}


@pytest.mark.parametrize("optimize", MODES)
@pytest.mark.parametrize("name", list(VIEWS_OF_A_FEED))
def test_refilling_the_feed_buffer_never_changes_returned_results(name, optimize):
    build, reference = VIEWS_OF_A_FEED[name]
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float32, (12,), name="x")
        out = build(x)
        doubled = x * 2.0  # a new array: returned as is
    buffer = np.arange(12, dtype=np.float32)
    with gc.Session(graph=g, optimize=optimize) as sess:
        held = []
        for batch in range(4):  # the first run, then the fast path of repeated runs
            buffer[:] = np.arange(12) + 100 * batch
            held.append((sess.run(out, {x: buffer}), reference(buffer.copy())))
            single, twice = sess.run([out, doubled], {x: buffer})
            assert not np.shares_memory(single, buffer) and single.flags.writeable
            assert not np.shares_memory(twice, buffer)
        assert len(sess._fast) == 2  # both signatures ran on the fast path after their first
        buffer[:] = -1.0  # the next batch goes into the same buffer
        for result, expected in held:
            np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("optimize", MODES)
def test_fetched_variable_values_are_the_callers_own(optimize):
    """Views of a variable, its read and its update's output: writable copies, unchanged
    by later updates (which recycle the variable's buffers)."""
    g = gc.Graph()
    with g.as_default():
        v = gc.Variable(np.arange(6.0), name="v")
        views = [v.value(), gc.identity(v), gc.reshape(v, [2, 3]), v.value()[2:], v * 1.0]
        bump = v.assign_add(np.ones(6))
        init = gc.global_variables_initializer()
    with gc.Session(graph=g, optimize=optimize) as sess:
        sess.run(init)
        held = sess.run(views) + [sess.run(v), sess.run(v.op.outputs[0])]
        updated = sess.run(bump)
        for _ in range(3):
            sess.run(bump.op)
        for value in held:
            np.testing.assert_array_equal(np.ravel(value)[-2:], [4.0, 5.0])
            value[...] = -7.0  # the caller's own array: writable, and nothing else changes
        np.testing.assert_array_equal(updated, np.arange(6.0) + 1)
        updated[...] = 0.0
        np.testing.assert_array_equal(sess.run(v), np.arange(6.0) + 4)


def test_a_variable_buffer_is_not_recycled_while_a_reader_still_holds_it():
    """Later updates recycle a variable's previous buffer only when nothing else refers to
    it; a run still reading the old value (here: a held reference to the stored array, as
    a concurrent read-only run has) must keep seeing it unchanged."""
    g = gc.Graph()
    with g.as_default():
        v = gc.Variable(np.zeros(1000), name="v")
        bump = v.assign_add(np.ones(1000))
        init = gc.global_variables_initializer()
    with gc.Session(graph=g) as sess:
        sess.run(init)
        tail = sess._state.variables["v"][500:]  # a view of what a read hands to a run
        for _ in range(4):
            sess.run(bump.op)
        np.testing.assert_array_equal(tail, np.zeros(500))
        np.testing.assert_array_equal(sess.run(v), np.full(1000, 4.0))
        del tail
        addresses = set()
        for _ in range(4):  # with no outside reader the two buffers alternate
            sess.run(bump.op)
            addresses.add(sess._state.variables["v"].__array_interface__["data"][0])
        assert len(addresses) == 2


@pytest.mark.parametrize("optimize", MODES)
def test_fetched_constants_are_new_arrays_every_run(optimize):
    g = gc.Graph()
    with g.as_default():
        c = gc.constant(np.arange(4.0))
        folded = gc.reshape(c, [2, 2]) * 2.0  # folded into a constant when optimized
    with gc.Session(graph=g, optimize=optimize) as sess:
        first, first_folded = sess.run([c, folded])
        first[...] = -1.0
        first_folded[...] = -1.0
        second, second_folded = sess.run([c, folded])
        np.testing.assert_array_equal(second, np.arange(4.0))
        np.testing.assert_array_equal(second_folded, [[0.0, 2.0], [4.0, 6.0]])


def test_new_arrays_are_returned_without_a_copy():
    """The zero-copy path: a result the run allocated is returned as is (no copy code)."""
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float64, (None, 3), name="x")
        y = gc.tanh(x) * 2.0
        total = gc.reduce_sum(y)
    with gc.Session(graph=g) as sess:
        sess.run([y, total], {x: np.ones((2, 3))})
        plan = next(iter(sess._plans.values()))
        assert plan.fetch_aliases == [(), ()]
        assert "copy(" not in plan.source and "unshared(" not in plan.source


def test_interpreted_and_compiled_plans_both_return_owned_arrays():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float64, (4,), name="x")
        v = gc.Variable(np.ones(4), name="v")
        outs = [x, gc.reshape(x, [2, 2]), v.value(), gc.reduce_sum(x)]
        init = gc.global_variables_initializer()
    with gc.Session(graph=g, optimize=False) as sess:
        sess.run(init)
        sess.run(outs, {x: np.zeros(4)})
        plan = next(p for key, p in sess._plans.items() if len(key[0]) == 4)
        fed = np.arange(4.0)
        view = fed.view()
        view.flags.writeable = False
        for run in (plan.run, plan.run_interpreted):
            results = run([view], RunContext(sess._state))
            assert not any(np.shares_memory(r, fed) for r in results[:2])
            assert not np.shares_memory(results[2], sess._state.variables["v"])


@pytest.mark.parametrize("optimize", MODES)
def test_fetched_broadcasts_are_writeable_arrays_of_the_callers_own(optimize):
    """np.broadcast_to's result is a read-only view; TF1 hands out arrays the caller may
    write into, whatever the optimizer made of the graph (the algebraic pass divides by a
    scalar before the broadcast), from the compiled and the interpreted plan alike."""
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float64, (2, 1), name="x")
        outs = [gc.broadcast_to(x * 2.0, [2, 3]), gc.broadcast_to(x, [2, 3]) / 4.0]
    with gc.Session(graph=g, optimize=optimize) as sess:
        sess.run(outs, {x: np.ones((2, 1))})
        plan = next(iter(sess._plans.values()))
        for run in (plan.run, plan.run_interpreted):
            results = run([np.ones((2, 1))], RunContext(sess._state))
            for result, want in zip(results, (2.0, 0.25)):
                assert result.flags.writeable and result.shape == (2, 3)
                np.testing.assert_array_equal(result, np.full((2, 3), want))
                result[0, 0] = 7.0  # its own memory: the other elements stay
                assert result[1, 0] == want and result[0, 1] == want


def test_arena_buffers_are_not_reused_while_a_view_of_a_view_is_alive():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float64, (64, 64), name="x")
        product = gc.matmul(x, x)  # kept in the arena across runs
        rows = gc.reshape(product, [4096])[::2]  # a graph-level view of the arena buffer
    with gc.Session(graph=g, optimize=False) as sess:  # one plan, so one arena
        first, _ = sess.run([product, rows], {x: np.eye(64)})
        tail = first[32:][:, 10:]
        del first
        expected = tail.copy()
        _, held_rows = sess.run([product, rows], {x: np.eye(64) * 3})
        rows_copy = held_rows.copy()
        for scale in (2.0, 5.0):
            sess.run([product, rows], {x: np.eye(64) * scale})
        np.testing.assert_array_equal(tail, expected)
        np.testing.assert_array_equal(held_rows, rows_copy)
