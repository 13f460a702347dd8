"""The arena's shared buffers (graphc.runtime.arena): results whose lifetimes do not overlap
share one buffer, and no sharing (not even every result forced into one buffer) ever
changes a result, a fetched value, a variable or a view someone holds."""
import numpy as np
import pytest

import graphc as gc
from graphc.runtime import arena
from graphc.runtime.state import RunContext

F = gc.float64


def _chain():
    """A chain of matmuls whose intermediates die one after another, a fetched view of an
    early one, a variable assigned from a late one, and a split into copied pieces."""
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(F, (None, 64), name="x")
        w = gc.Variable(np.random.default_rng(0).normal(size=(64, 64)) / 8, name="w")
        kept = gc.Variable(np.zeros((1, 64)), name="kept", validate_shape=False)
        first = gc.matmul(x, w)
        view = gc.reshape(first, [-1])[::3]  # a view of first's buffer, fetched
        h = gc.tanh(first)
        for _ in range(4):
            h = gc.tanh(gc.matmul(h, w))
        pieces = gc.split(gc.concat([h, h * 2.0], axis=1), [40, 88], axis=1)
        total = gc.matmul(pieces[0], gc.transpose(pieces[0])) + gc.reduce_sum(pieces[1])
        assign = gc.assign(kept, gc.matmul(h, w), validate_shape=False)
        init = gc.global_variables_initializer()
    return g, x, kept, view, total, assign, init


def _runs(share_buffers, batches):
    g, x, kept, view, total, assign, init = _chain()
    original = arena._share_buffers
    arena._share_buffers = share_buffers
    try:
        with gc.Session(graph=g, optimize=False) as sess:
            sess.run(init)
            got, held = [], []
            for batch in batches:
                values = sess.run([view, total, assign], {x: batch})
                held.append(values)  # kept by the caller: never written again
                got.append([v.copy() for v in values] + [sess.run(kept).copy()])
            plan = max(sess._plans.values(), key=lambda p: len(p.steps))
            arena_values = [v for v in plan._arenas[0][0] if v is not None]
            for values, copies in zip(held, got):
                for value, copy in zip(values, copies):
                    np.testing.assert_array_equal(value, copy)
            return got, plan, arena_values
    finally:
        arena._share_buffers = original


def _one_buffer(steps, ends):
    """Every result of every arena step in buffer 0, but a step's own results (which live
    at once) in buffers of their own: the most a wrong lifetime could share."""
    for step in steps:
        if step.arena:
            step.arena_buffers = tuple(range(len(step.outputs)))
    return max([len(s.outputs) for s in steps if s.arena] or [0])


def _own_buffers(steps, ends):
    count = 0
    for step in steps:
        if step.arena:
            step.arena_buffers = tuple(range(count, count + len(step.outputs)))
            count += len(step.outputs)
    return count


BATCHES = [np.random.default_rng(k).normal(size=(size, 64))
           for k, size in enumerate([50, 50, 50, 20, 80, 80, 50])]


def test_results_with_disjoint_lifetimes_share_buffers():
    got, plan, _ = _runs(arena._share_buffers, BATCHES[:3])
    steps = [s for s in plan.steps if s.arena]
    used = [b for s in steps for b in s.arena_buffers]
    assert plan.arena_buffers < len(used)  # some buffer is written by several steps
    assert len(set(used)) == plan.arena_buffers
    for step in steps:  # a step's own results never share a buffer
        assert len(set(step.arena_buffers)) == len(step.arena_buffers)


@pytest.mark.parametrize("share", [arena._share_buffers, _one_buffer],
                         ids=["planned", "all-in-one-buffer"])
def test_sharing_never_changes_a_result_a_held_value_or_a_variable(share):
    """Batches change size between runs (buffers grow, keys change) and every result of
    every run is compared with a plan whose steps have buffers of their own."""
    expected, _, _ = _runs(_own_buffers, BATCHES)
    got, plan, _ = _runs(share, BATCHES)
    for values, wanted in zip(got, expected):
        for value, want in zip(values, wanted):
            np.testing.assert_array_equal(value, want)


@pytest.mark.usefixtures("without_batch_regions")
def test_shared_buffers_are_written_again_from_run_to_run():
    g, x, kept, view, total, assign, init = _chain()
    with gc.Session(graph=g, optimize=False) as sess:
        sess.run(init)
        for _ in range(3):
            sess.run(total, {x: BATCHES[0]})
        plan = max(sess._plans.values(), key=lambda p: len(p.steps))
        buffers = [id(b) for b in plan._arenas[0][0]]
        carved = plan.source.count("out=ndarray(")
        assert carved == plan.arena_steps
        sess.run(total, {x: BATCHES[0]})
        assert [id(b) for b in plan._arenas[0][0]] == buffers
        values = [BATCHES[1]]
        np.testing.assert_array_equal(plan.run(values, RunContext(sess._state))[0],
                                      plan.run_interpreted(values, RunContext(sess._state))[0])


def test_a_kernel_error_in_a_shared_step_names_the_op():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(F, (None, None), name="x")
        w = gc.placeholder(F, (None, None), name="w")
        h = gc.tanh(gc.matmul(x, w, name="first"))
        out = gc.matmul(h, w, name="second")
    with gc.Session(graph=g, optimize=False) as sess:
        sess.run(out, {x: np.ones((30, 30)), w: np.ones((30, 30))})
        with pytest.raises(gc.errors.InvalidArgumentError, match="first"):
            sess.run(out, {x: np.ones((30, 30)), w: np.ones((20, 30))})
        np.testing.assert_allclose(sess.run(out, {x: np.ones((30, 30)), w: np.eye(30)}),
                                   np.tanh(np.ones((30, 30))))


def test_remember_refuses_results_it_cannot_place():
    buffers = [None, None]
    assert arena.remember(buffers, (0,), ((2,),), (np.array([object(), 1]),)) is None
    key = arena.remember(buffers, (0, 1), ((3,),), (np.ones((2, 3)), np.zeros(0, np.int8)))
    assert key[0] == ((3,),) and key[1:4] == ((2, 3), np.dtype(float), 48)
    assert buffers[0].nbytes >= 48 and buffers[1] is not None
