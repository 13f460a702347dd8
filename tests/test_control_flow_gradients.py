"""Gradients through cond, while_loop, scan and TensorArrays: against central finite
differences of the forward graph (float64, JAX's inner-product check along a random
direction) and against the gradients of the same computation unrolled into a static
graph."""
import numpy as np
import pytest

import graphc as tf

F64 = tf.float64


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as graph:
        yield graph


def check_fd(objective, xs, feeds, eps=1e-6, rtol=1e-6, seed=0):
    """<grad, t> == (f(x + eps t) - f(x - eps t)) / 2eps for a random direction t."""
    grads = tf.gradients(objective, xs)
    assert all(g is not None for g in grads)
    rng = np.random.default_rng(seed)
    with tf.Session() as sess:
        values = sess.run(grads, feeds)
        directions = [rng.normal(size=np.shape(feeds[x])) for x in xs]

        def f(sign):
            moved = dict(feeds)
            for x, d in zip(xs, directions):
                moved[x] = np.asarray(feeds[x]) + sign * eps * d
            return sess.run(objective, moved)
        numeric = (f(1) - f(-1)) / (2 * eps)
    analytic = sum(float(np.sum(v * d)) for v, d in zip(values, directions))
    assert abs(numeric - analytic) <= rtol * max(1.0, abs(numeric)), (numeric, analytic)
    return values


def rand(*shape, seed=1):
    return np.random.default_rng(seed).normal(size=shape)


def test_cond_gradient_is_the_taken_branchs_both_ways():
    x = tf.placeholder(F64, [3])
    w = tf.placeholder(F64, [])
    p = tf.placeholder(tf.bool, [])
    y = tf.reduce_sum(tf.cond(p, lambda: tf.sin(x) * w, lambda: x * x + w))
    for taken in (True, False):
        gx, gw = check_fd(y, [x, w], {x: rand(3), w: 0.7, p: taken})
        expected = np.cos(rand(3)) * 0.7 if taken else 2 * rand(3)
        np.testing.assert_allclose(gx, expected, rtol=1e-12)


def test_cond_second_order_gradient():
    x = tf.placeholder(F64, [])
    p = tf.placeholder(tf.bool, [])
    y = tf.cond(p, lambda: x ** 3, lambda: tf.exp(2 * x))
    [dx] = tf.gradients(y, [x])
    [ddx] = tf.gradients(dx, [x])
    with tf.Session() as sess:
        assert np.isclose(sess.run(ddx, {x: 1.5, p: True}), 6 * 1.5)
        assert np.isclose(sess.run(ddx, {x: 0.5, p: False}), 4 * np.exp(1.0))
    check_fd(dx, [x], {x: 0.3, p: True})


def test_while_gradient_matches_finite_differences_and_the_unrolled_graph():
    x = tf.placeholder(F64, [4])
    w = tf.placeholder(F64, [4])
    n = tf.placeholder(tf.int32, [])  # the iteration count is known only at run time
    _, s = tf.while_loop(lambda i, s: i < n, lambda i, s: (i + 1, tf.tanh(s * w + 0.1)),
                         [0, x])
    loss = tf.reduce_sum(s * s)
    feeds = {x: rand(4), w: rand(4, seed=2), n: 5}
    loop_grads = check_fd(loss, [x, w], feeds)
    unrolled = x
    for _ in range(5):
        unrolled = tf.tanh(unrolled * w + 0.1)
    static = tf.gradients(tf.reduce_sum(unrolled * unrolled), [x, w])
    with tf.Session() as sess:
        for got, want in zip(loop_grads, sess.run(static, feeds)):
            np.testing.assert_allclose(got, want, rtol=1e-12)
        zero = sess.run(tf.gradients(loss, [x, w]), {**feeds, n: 0})
    np.testing.assert_allclose(zero[0], 2 * feeds[x])  # no iteration: the identity
    np.testing.assert_allclose(zero[1], 0)


def test_while_gradient_with_maximum_iterations_integer_vars_and_several_outputs():
    x = tf.placeholder(F64, [2])
    i, a, b = tf.while_loop(lambda i, a, b: tf.reduce_sum(a) < 100.0,
                            lambda i, a, b: (i + 2, a * 1.5 + b, b * 0.5),
                            [0, x, x * 2], maximum_iterations=6)
    check_fd(tf.reduce_sum(a) + tf.reduce_sum(b * b), [x], {x: np.array([0.4, 0.9])})


def test_nested_while_gradient():
    x = tf.placeholder(F64, [3])

    def outer(i, s):
        _, t = tf.while_loop(lambda j, t: j < i + 1, lambda j, t: (j + 1, tf.sin(t) + s * 0.1),
                             [0, s])
        return i + 1, t
    _, s = tf.while_loop(lambda i, s: i < 3, outer, [0, x])
    check_fd(tf.reduce_sum(s), [x], {x: rand(3)})


def test_gradient_of_a_cond_inside_a_loop():
    x = tf.placeholder(F64, [])

    def body(i, s):
        return i + 1, tf.cond(tf.equal(i % 2, 0), lambda: s * s, lambda: tf.sin(s))
    _, s = tf.while_loop(lambda i, s: i < 4, body, [0, x])
    check_fd(s, [x], {x: 0.8})


def test_scan_gradient_matches_finite_differences_and_the_unrolled_graph():
    xs = tf.placeholder(F64, [5, 3])
    h0 = tf.placeholder(F64, [3])
    w = tf.placeholder(F64, [3, 3])
    hs = tf.scan(lambda h, x: tf.tanh(tf.matmul(h[None], w)[0] + x), xs, initializer=h0)
    loss = tf.reduce_sum(hs * hs)
    feeds = {xs: rand(5, 3), h0: rand(3, seed=3), w: rand(3, 3, seed=4) * 0.5}
    got = check_fd(loss, [xs, h0, w], feeds)
    h, outs = h0, []
    for t in range(5):
        h = tf.tanh(tf.matmul(h[None], w)[0] + xs[t])
        outs.append(h)
    static = tf.gradients(tf.reduce_sum(tf.stack(outs) ** 2), [xs, h0, w])
    with tf.Session() as sess:
        for a, b in zip(got, sess.run(static, feeds)):
            np.testing.assert_allclose(a, b, rtol=1e-10)


def test_tensor_array_loop_gradient_like_dynamic_rnn():
    inputs = tf.placeholder(F64, [4, 2, 3])  # time, batch, features
    w = tf.placeholder(F64, [3, 3])
    steps = tf.TensorArray(F64, size=4).unstack(inputs)
    outs = tf.TensorArray(F64, size=4)

    def body(t, h, outs):
        h = tf.tanh(tf.matmul(h, w) + steps.read(t))
        return t + 1, h, outs.write(t, h)
    _, last, outs = tf.while_loop(lambda t, h, o: t < 4, body,
                                  [0, tf.zeros([2, 3], F64), outs])
    loss = tf.reduce_sum(outs.stack() * 0.5) + tf.reduce_sum(last)
    check_fd(loss, [inputs, w], {inputs: rand(4, 2, 3), w: rand(3, 3, seed=5) * 0.5})


def test_foldl_and_map_fn_gradients():
    xs = tf.placeholder(F64, [4])
    folded = tf.foldl(lambda a, x: a * x + 1.0, xs, initializer=tf.constant(1.0, F64))
    check_fd(folded, [xs], {xs: rand(4)})
    mapped = tf.reduce_sum(tf.map_fn(lambda x: tf.sin(x) * x, xs))
    check_fd(mapped, [xs], {xs: rand(4)})


def test_no_gradient_through_back_prop_false():
    x = tf.placeholder(F64, [])
    _, s = tf.while_loop(lambda i, s: i < 2, lambda i, s: (i + 1, s * 2), [0, x],
                         back_prop=False)
    assert tf.gradients(s, [x]) == [None]


def _recorded(session, fetches, feeds):
    """``recorded`` of the while_loop kernels of the plan running ``fetches``."""
    session.run(fetches, feeds)
    [plan] = session._plans.values()
    return [step.fn.recorded for step in plan.steps if step.op.type == "while_loop"]


def test_the_forward_loop_keeps_only_the_history_the_gradient_reads():
    inputs = tf.placeholder(F64, [4, 2, 3])
    w = tf.placeholder(F64, [3, 3])
    steps = tf.TensorArray(F64, size=4).unstack(inputs)

    def body(t, h, outs):
        h = tf.tanh(tf.matmul(h, w) + steps.read(t))
        return t + 1, h, outs.write(t, h)
    _, last, outs = tf.while_loop(lambda t, h, o: t < 4, body,
                                  [0, tf.zeros([2, 3], F64), tf.TensorArray(F64, size=4)])
    loss = tf.reduce_sum(outs.stack()) + tf.reduce_sum(last)
    grads = tf.gradients(loss, [w])
    feeds = {inputs: rand(4, 2, 3), w: rand(3, 3)}
    with tf.Session() as sess:
        assert _recorded(sess, loss, feeds) == [()]  # nobody differentiates: nothing kept
    with tf.Session() as sess:
        # the step t (read index), the state h (for matmul's gradient) and the saved
        # tanh result (history 3: the body's first saved value, for tanh's gradient);
        # not the output array (O(T^2) memory), which the gradient does not even need
        # computed (the loop no longer carries it: loop_dead_values)
        assert _recorded(sess, grads, feeds)[0] == (1, 2, 3)


def test_training_a_variable_used_inside_a_loop_matches_the_unrolled_graph():
    x = tf.placeholder(F64, [5, 2, 3])
    W = tf.Variable(rand(3, 3, seed=7) * 0.3, name="W")

    def body(t, h):
        return t + 1, tf.tanh(tf.matmul(h, W) + tf.gather(x, t))
    _, h = tf.while_loop(lambda t, h: t < 5, body, [0, tf.zeros([2, 3], F64)])
    loss = tf.reduce_sum(h * h)
    unrolled = tf.zeros([2, 3], F64)
    for t in range(5):
        unrolled = tf.tanh(tf.matmul(unrolled, W) + x[t])
    [g_loop] = tf.gradients(loss, [W])
    [g_static] = tf.gradients(tf.reduce_sum(unrolled * unrolled), [W])
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    feeds = {x: rand(5, 2, 3, seed=8)}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(*sess.run([g_loop, g_static], feeds), rtol=1e-12)
        before = sess.run(loss, feeds)
        for _ in range(10):
            sess.run(train, feeds)
        assert sess.run(loss, feeds) < before


def test_while_second_order_gradient():
    """d/dx of the backward loop reaches the forward loop's history outputs."""
    x = tf.placeholder(F64, [2])
    w = tf.placeholder(F64, [])
    _, s = tf.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, tf.sin(s) * s * w), [0, x])
    [dx] = tf.gradients(tf.reduce_sum(s), [x])
    check_fd(tf.reduce_sum(dx * dx), [x, w], {x: np.array([0.7, -0.4]), w: 1.1})
