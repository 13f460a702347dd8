"""What a loop gradient keeps and what the optimizer drops from loops: the forward loop
saves the body values the backward loop reads (no second run of the body), random draws
get the gradient of the values actually drawn, loop variables nobody needs go
(loop_dead_values) while effects stay, and the TensorArray gradient is updated in place.
Differential checks: optimized vs unoptimized (and vs the pass disabled) on random inputs,
sequence_length masking included."""
import numpy as np
import pytest

import graphc as tf
from graphc.passes import OptimizerConfig

F64 = tf.float64


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as graph:
        yield graph


def loops(graph):
    return [op for op in graph.get_operations() if op.type == "while_loop"]


def body_op_types(loop):
    return [op.type for op in loop.attrs["body"].ops()]


def plan_loops(sess):
    plan = list(sess._plans.values())[-1]  # of the last new fetch signature run
    return [step for step in plan.steps if step.op.type == "while_loop"]


def rnn_loss(lengths=True, time=6, batch=3, depth=4, units=5):
    x = tf.placeholder(F64, [batch, time, depth], name="x")
    seq = tf.placeholder(tf.int32, [batch], name="seq") if lengths else None
    cell = tf.nn.rnn_cell.BasicLSTMCell(units)
    out, state = tf.nn.dynamic_rnn(cell, x, sequence_length=seq, dtype=F64)
    loss = tf.reduce_sum(tf.sin(out[:, -1])) + tf.reduce_sum(state.c * state.c)
    return x, seq, cell, loss


def test_the_backward_loop_reads_saved_values_instead_of_running_the_body_again():
    x = tf.placeholder(F64, [2, 3])
    w = tf.placeholder(F64, [3, 3])
    _, h = tf.while_loop(lambda i, h: i < 4, lambda i, h: (i + 1, tf.tanh(tf.matmul(h, w))),
                         [0, x])
    [gw] = tf.gradients(tf.reduce_sum(h), [w])
    forward, backward = loops(tf.get_default_graph())
    assert "tanh" not in body_op_types(backward)  # tanh's gradient reads the saved result
    assert body_op_types(backward).count("matmul") == 2  # the VJP's two, not the forward's
    # counter, i, h, and the saved tanh (the same tensor as h's next value)
    body = forward.attrs["body"]
    assert len(body.outputs) == 4 and body.outputs[3] is body.outputs[2]
    xs, ws = np.random.default_rng(0).normal(size=(2, 3)), np.random.default_rng(1).normal(
        size=(3, 3)) * 0.5
    unrolled = tf.constant(xs)
    for _ in range(4):
        unrolled = tf.tanh(tf.matmul(unrolled, w))
    [g_static] = tf.gradients(tf.reduce_sum(unrolled), [w])
    with tf.Session() as sess:
        got, want = sess.run([gw, g_static], {x: xs, w: ws})
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_a_random_draw_in_a_body_gets_the_gradient_of_the_value_drawn():
    """s_T = s_0 * u_1 * ... * u_T: ds_T/ds_0 = s_T / s_0 for the u drawn in this run
    (running the body again for the gradient would draw other u)."""
    s0 = tf.placeholder(F64, [4])
    _, s = tf.while_loop(lambda i, s: i < 5,
                         lambda i, s: (i + 1, s * tf.random_uniform([4], 0.5, 1.5, F64)),
                         [0, s0])
    [grad] = tf.gradients(tf.reduce_sum(s), [s0])
    start = np.array([1.0, 2.0, -1.0, 0.5])
    for optimize in (True, False):
        with tf.Session(optimize=optimize) as sess:
            final, got = sess.run([s, grad], {s0: start})
        np.testing.assert_allclose(got, final / start, rtol=1e-12)


@pytest.mark.parametrize("lengths", [True, False])
def test_rnn_gradients_agree_optimized_unoptimized_and_without_dropping_loop_values(lengths):
    x, seq, cell, loss = rnn_loss(lengths)
    grads = tf.gradients(loss, cell.variables)
    rng = np.random.default_rng(3)
    init = tf.variables_initializer(cell.variables)
    sessions = [tf.Session(optimize=True), tf.Session(optimize=False),
                tf.Session(optimize=OptimizerConfig(disabled=("loop_dead_values",)))]
    for sess in sessions:
        sess.run(init)
    values = sessions[0].run(cell.variables)
    for sess in sessions[1:]:
        for variable, value in zip(cell.variables, values):
            variable.load(value, sess)
    for _ in range(3):
        feeds = {x: rng.normal(size=x.shape.dims)}
        if lengths:
            feeds[seq] = rng.integers(0, 7, size=3)
        results = [sess.run(grads + [loss], feeds) for sess in sessions]
        for other in results[1:]:
            for a, b in zip(results[0], other):
                np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    # the backward loop no longer carries the gradient of x, which nobody asked for
    backward = [step for step in plan_loops(sessions[0]) if "grad" in step.op.name]
    [user_backward] = [op for op in loops(tf.get_default_graph()) if "grad" in op.name]
    assert backward[0].op.attrs["num_vars"] < user_backward.attrs["num_vars"]
    for sess in sessions:
        sess.close()


def test_an_unread_loop_variable_goes_but_its_effects_stay():
    counter = tf.Variable(0.0, dtype=F64, name="counter")
    x = tf.placeholder(F64, [3])

    def body(i, s, unused, effect):
        bump = tf.assign_add(counter, 1.0)
        return i + 1, s * 2.0, unused + tf.reduce_sum(tf.exp(s)), effect + bump
    _, s, _, _ = tf.while_loop(lambda i, *_: i < 3, body,
                               [0, x, tf.constant(0.0, F64), tf.constant(0.0, F64)])
    with tf.Session() as sess:
        sess.run(counter.initializer)
        np.testing.assert_allclose(sess.run(s, {x: np.ones(3)}), 8 * np.ones(3))
        [loop] = plan_loops(sess)
        # counter, i, s: not `unused` nor `effect`, whose assign_add runs as an effect
        assert loop.op.attrs["num_vars"] == 3
        assert sess.run(counter) == 3.0  # the assign_add of the unread variable still ran


def test_the_tensor_array_gradient_of_a_backward_loop_zeroes_its_rows_in_place():
    x, seq, cell, loss = rnn_loss(lengths=False)
    grads = tf.gradients(loss, cell.variables)
    with tf.Session() as sess:
        sess.run(tf.variables_initializer(cell.variables))
        sess.run(grads, {x: np.ones(x.shape.dims)})
        [backward] = [s for s in plan_loops(sess) if "grad" in s.op.name]
        steps = backward.fn.run_body.__self__.steps
    [unwritten] = [s for s in steps if s.op.type == "tensor_array_unwritten"]
    assert unwritten.in_place == 0


def test_histories_read_row_by_row_are_handed_over_as_the_arrays_kept():
    """No stacking after the forward loop, no copy per backward read (TF1's stacks); a
    history something else reads (a second-order gradient) is stacked as before."""
    x, seq, cell, loss = rnn_loss()
    grads = tf.gradients(loss, cell.variables)
    feeds = {x: np.ones(x.shape.dims), seq: np.array([6, 2, 0])}
    with tf.Session() as sess:
        sess.run(tf.variables_initializer(cell.variables))
        sess.run(grads, feeds)
        [forward] = [s for s in plan_loops(sess) if "grad" not in s.op.name]
    assert forward.fn.recorded and forward.fn.listed == forward.fn.recorded
    w = tf.placeholder(F64, [])
    s0 = tf.placeholder(F64, [2])
    _, s = tf.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, tf.sin(s) * s * w), [0, s0])
    [ds] = tf.gradients(tf.reduce_sum(s), [s0])
    [dw] = tf.gradients(tf.reduce_sum(ds * ds), [w])
    with tf.Session() as sess:
        sess.run(dw, {s0: np.array([0.7, -0.4]), w: 1.1})
        [first] = [s for s in plan_loops(sess) if "grad" not in s.op.name]
    assert first.fn.recorded and first.fn.listed != first.fn.recorded
