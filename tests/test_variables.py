"""Variables: initialization, reads, assignments, collections, all-or-nothing runs."""
import numpy as np
import pytest

import graphc as gc


def test_variable_ops_have_tf1_names(graph):
    w = gc.Variable(np.zeros((2, 3), np.float32), name="W")
    assert w.name == "W:0" and w.op.name == "W"
    assert w.initializer.name == "W/Assign" and w.value().name == "W/read:0"
    assert w.shape == (2, 3) and w.dtype == gc.float32
    assert gc.global_variables() == [w] and gc.trainable_variables() == [w]


def test_initial_values_from_array_tensor_and_callable(graph):
    a = gc.Variable([1.0, 2.0], name="a")
    b = gc.Variable(gc.ones([2]) * 3.0, name="b")
    c = gc.Variable(lambda: gc.fill([2], 5), dtype=gc.float64, name="c")
    frozen = gc.Variable(0, trainable=False, name="step")
    assert gc.trainable_variables() == [a, b, c] and frozen in gc.global_variables()
    with gc.Session() as sess:
        sess.run(gc.global_variables_initializer())
        np.testing.assert_allclose(sess.run([a, b, c])[2], [5.0, 5.0])
        assert sess.run(c).dtype == np.float64 and sess.run(frozen) == 0


def test_uninitialized_read_fails_with_the_variable_named(graph):
    w = gc.Variable([1.0], name="weights")
    y = w * 2.0
    with gc.Session() as sess:
        with pytest.raises(gc.errors.FailedPreconditionError,
                           match="uninitialized value weights"):
            sess.run(y)


def test_assign_family(graph):
    v = gc.Variable([1.0, 2.0], name="v")
    with gc.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_allclose(sess.run(v.assign([5.0, 6.0])), [5.0, 6.0])
        np.testing.assert_allclose(sess.run(gc.assign_add(v, [1.0, 1.0])), [6.0, 7.0])
        np.testing.assert_allclose(sess.run(v.assign_sub([6.0, 7.0])), [0.0, 0.0])
        np.testing.assert_allclose(sess.run(v), [0.0, 0.0])


def test_assign_checks_shape_and_dtype_at_build(graph):
    v = gc.Variable([1.0, 2.0], name="v")
    ints = gc.constant([1, 2])
    before = len(graph.get_operations())
    with pytest.raises(ValueError, match=r"shape \(3,\) does not match the variable's shape"):
        v.assign([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="does not match the variable's dtype"):
        gc.assign(v, ints)
    assert len(graph.get_operations()) == before


def test_failed_run_leaves_every_variable_unchanged(graph):
    """Two assignments succeed, then a later op fails: neither write may land."""
    a = gc.Variable([1.0, 1.0], name="a")
    b = gc.Variable(10.0, name="b")
    idx = gc.placeholder(gc.int32, (1,), name="idx")
    set_a = a.assign([7.0, 7.0])
    bump_b = b.assign_add(5.0)
    with gc.control_dependencies([set_a, bump_b]):
        picked = gc.gather(a.read_value(), idx)
    with gc.Session() as sess:
        sess.run(gc.global_variables_initializer())
        with pytest.raises(gc.errors.InvalidArgumentError, match="gather"):
            sess.run(picked, {idx: [5]})  # out of range: fails after both writes
        np.testing.assert_allclose(sess.run(a), [1.0, 1.0])
        assert sess.run(b) == 10.0
        np.testing.assert_allclose(sess.run(picked, {idx: [0]}), [7.0])  # a valid run commits
        assert sess.run(b) == 15.0


def test_run_failing_on_an_uninitialized_read_after_writes_commits_nothing(graph):
    a = gc.Variable(1.0, name="a")
    late = gc.Variable(0.0, name="late")
    bump = a.assign_add(1.0)
    with gc.control_dependencies([bump]):
        total = a.read_value() + late
    with gc.Session() as sess:
        sess.run(a.initializer)
        with pytest.raises(gc.errors.FailedPreconditionError, match="uninitialized value late"):
            sess.run(total)
        assert sess.run(a) == 1.0
        sess.run(late.initializer)
        assert sess.run(total) == 2.0 and sess.run(a) == 2.0


def test_read_value_sees_writes_ordered_before_it(graph):
    v = gc.Variable(1.0, name="v")
    with gc.control_dependencies([v.assign(4.0)]):
        after = v.read_value() * 1.0
    with gc.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(after) == 4.0


def test_initialized_value_and_load(graph):
    a = gc.Variable([2.0, 3.0], name="a")
    b = gc.Variable(a.initialized_value() * 2.0, name="b")
    with gc.Session() as sess:
        sess.run(b.initializer)  # runs a's initializer first
        np.testing.assert_allclose(sess.run(b), [4.0, 6.0])
        a.load([9.0, 9.0], sess)
        np.testing.assert_allclose(sess.run(a), [9.0, 9.0])
        with pytest.raises(ValueError, match="shape"):
            a.load([1.0], sess)


def test_variables_initializer_subset(graph):
    a = gc.Variable(1.0, name="a")
    b = gc.Variable(2.0, name="b")
    with gc.Session() as sess:
        sess.run(gc.variables_initializer([a]))
        assert sess.run(a) == 1.0
        with pytest.raises(gc.errors.FailedPreconditionError):
            sess.run(b)


def test_values_live_in_the_session(graph):
    v = gc.Variable(1.0, name="v")
    inc = v.assign_add(1.0)
    with gc.Session() as one, gc.Session() as two:
        one.run(v.initializer)
        two.run(v.initializer)
        one.run(inc)
        assert one.run(v) == 2.0 and two.run(v) == 1.0


def test_fetched_values_cannot_corrupt_the_session(graph):
    v = gc.Variable([1.0, 2.0], name="v")
    with gc.Session() as sess:
        sess.run(v.initializer)
        value = sess.run(v)
        value[0] = 99.0  # the caller's own copy (TF1): writable, and the session keeps its own
        np.testing.assert_allclose(sess.run(v), [1.0, 2.0])


def test_variable_operators(graph):
    v = gc.Variable([[1.0, 2.0]], name="v")
    exprs = [v + 1.0, 2.0 * v, v @ gc.transpose(v), -v, v[0, 1]]
    with gc.Session() as sess:
        sess.run(v.initializer)
        out = sess.run(exprs)
    assert out[2][0, 0] == 5.0 and out[4] == 2.0


def test_updates_reuse_the_previous_value_buffer_when_nobody_holds_it(graph):
    """assign/assign_sub write into the variable's retired buffer (no allocation per step),
    but never into an array someone still holds (a run reading it), or a view of one."""
    v = gc.Variable(np.zeros(1000), name="v")
    step = v.assign_sub(np.ones(1000))
    reset = v.assign(np.full(1000, 5.0))
    with gc.Session() as sess:
        sess.run(v.initializer)
        state = sess._state
        sess.run(step.op)
        sess.run(step.op)
        buffers = {id(state.variables["v"])}
        for _ in range(4):
            sess.run(step.op)
            buffers.add(id(state.variables["v"]))
        assert len(buffers) == 2  # two buffers take turns
        held = state.variables["v"]  # what a read hands to a run still in flight
        view = held[::2]
        kept = held.copy()
        for _ in range(3):
            sess.run(step.op)
            sess.run(reset.op)
        np.testing.assert_array_equal(held, kept)
        np.testing.assert_array_equal(view, kept[::2])
        np.testing.assert_array_equal(sess.run(v), np.full(1000, 5.0))
