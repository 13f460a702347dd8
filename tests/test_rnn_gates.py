"""The LSTM gate ops (graphc/rnn/gates.py): bitwise the separate ops forward, the chain rule
backward (against the separate ops' gradients and finite differences), clear errors."""
import numpy as np
import pytest

import graphc as tf
from graphc.rnn import gate_loops
from graphc.rnn.gates import lstm_gates

RNG = np.random.default_rng(12)
BATCH, UNITS = 5, 7


def separate_ops(z, c, forget_bias):
    """BasicLSTMCell's gate arithmetic as separate graph ops (TF1's)."""
    i, j, f, o = tf.split(z, 4, axis=1)
    new_c = c * tf.sigmoid(f + forget_bias) + tf.sigmoid(i) * tf.tanh(j)
    return new_c, tf.tanh(new_c) * tf.sigmoid(o)


def both(dtype, forget_bias=1.0):
    graph = tf.Graph()
    with graph.as_default():
        z = tf.placeholder(dtype, [BATCH, 4 * UNITS])
        c = tf.placeholder(dtype, [BATCH, UNITS])
        fused = lstm_gates(z, c, forget_bias)
        separate = separate_ops(z, c, forget_bias)
    np_dtype = tf.as_dtype(dtype).np
    # large pre-activations too: exp(-z) overflows to inf where the sigmoid is 0
    feeds = {z: (RNG.standard_normal((BATCH, 4 * UNITS)) * 4).astype(np_dtype),
             c: RNG.standard_normal((BATCH, UNITS)).astype(np_dtype)}
    feeds[z][0, :3] = [-200.0, 200.0, 0.0]
    return graph, z, c, fused, separate, feeds


def check_finite_differences(sess, loss, tensors, grads, feeds, eps=1e-6):
    """Each gradient along a random direction against central differences of ``loss``."""
    for tensor, grad in zip(tensors, sess.run(grads, feeds)):
        direction = RNG.standard_normal(feeds[tensor].shape)
        up, down = dict(feeds), dict(feeds)
        up[tensor] = feeds[tensor] + eps * direction
        down[tensor] = feeds[tensor] - eps * direction
        numeric = (sess.run(loss, up) - sess.run(loss, down)) / (2 * eps)
        np.testing.assert_allclose(np.sum(grad * direction), numeric, rtol=1e-6)


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
@pytest.mark.parametrize("forget_bias", [1.0, 0.0, -0.5])
def test_forward_is_bitwise_the_separate_ops(dtype, forget_bias, monkeypatch):
    # the NumPy kernel (the compiled float32 loop's bound is checked in test_gate_loops.py)
    monkeypatch.setattr(gate_loops, "forward_loop", lambda: None)
    graph, _, _, fused, separate, feeds = both(dtype, forget_bias)
    with tf.Session(graph=graph) as sess:
        got, want = sess.run([fused, separate], feeds)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and np.array_equal(g, w)


def test_gradients_match_the_separate_ops_and_finite_differences():
    graph, z, c, fused, separate, feeds = both(tf.float64)
    with graph.as_default():
        weights = [tf.constant(RNG.standard_normal((BATCH, UNITS))) for _ in range(2)]

        def loss(pair):
            return tf.reduce_sum(pair[0] * weights[0]) + tf.reduce_sum(
                tf.sin(pair[1]) * weights[1])
        fused_loss = loss(fused)
        grads = tf.gradients(fused_loss, [z, c])
        want = tf.gradients(loss(separate), [z, c])
        # only h' asked for: the gradient of c' enters as zeros
        h_only = tf.gradients(tf.reduce_sum(fused[1]), [z, c])
        h_only_want = tf.gradients(tf.reduce_sum(separate[1]), [z, c])
    with tf.Session(graph=graph) as sess:
        for got, expected in zip(sess.run(grads + h_only, feeds),
                                 sess.run(want + h_only_want, feeds)):
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
        check_finite_differences(sess, fused_loss, [z, c], grads, feeds)


def test_basic_lstm_cell_uses_the_gate_ops_unless_its_activation_is_another():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [BATCH, 3])
        state = tf.nn.rnn_cell.LSTMStateTuple(tf.zeros([BATCH, UNITS]), tf.zeros([BATCH, UNITS]))
        tf.nn.rnn_cell.BasicLSTMCell(UNITS)(x, state, scope="plain")
        tf.nn.rnn_cell.BasicLSTMCell(UNITS, activation=tf.nn.relu)(x, state, scope="relu")
    types = {op.name.split("/")[0]: set() for op in graph.get_operations()}
    for op in graph.get_operations():
        types[op.name.split("/")[0]].add(op.type)
    assert "lstm_gates" in types["plain"] and "split" not in types["plain"]
    assert "lstm_gates" not in types["relu"] and "relu" in types["relu"]


def test_mismatched_shapes_and_dtypes_are_named():
    graph = tf.Graph()
    with graph.as_default():
        z = tf.placeholder(tf.float32, [BATCH, 4 * UNITS])
        with pytest.raises(ValueError, match=r"lstm_gates.*\[batch, 4 \* units\]"):
            lstm_gates(z, tf.placeholder(tf.float32, [BATCH, UNITS + 1]))
        with pytest.raises(TypeError, match="lstm_gates.*float"):
            lstm_gates(z, tf.placeholder(tf.float64, [BATCH, UNITS]))
        unknown = tf.placeholder(tf.float32, [None, None])
        new_c, _ = lstm_gates(unknown, tf.placeholder(tf.float32, [None, UNITS]))
    with tf.Session(graph=graph) as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="lstm_gates.*do not fit"):
            sess.run(new_c, {unknown: np.zeros((2, 5), np.float32),
                             new_c.op.inputs[1]: np.zeros((2, UNITS), np.float32)})


def test_gradients_through_the_kept_activations_match_finite_differences():
    """The op's other outputs (the activations and tanh(c') its gradient reads) are
    differentiable too, should anything read them."""
    graph, z, c, fused, _, feeds = both(tf.float64)
    with graph.as_default():
        _, _, act, tanh_c = fused[0].op.outputs
        loss = (tf.reduce_sum(tf.sin(act) * tf.constant(RNG.standard_normal((4, BATCH, UNITS))))
                + tf.reduce_sum(tf.cos(tanh_c)) + tf.reduce_sum(fused[1]))
        grads = tf.gradients(loss, [z, c])
    with tf.Session(graph=graph) as sess:
        check_finite_differences(sess, loss, [z, c], grads, feeds)


def test_second_order_gradients_match_the_separate_ops():
    graph, z, c, fused, separate, feeds = both(tf.float64)
    with graph.as_default():
        def hessian_vector(pair):
            loss = tf.reduce_sum(tf.sin(pair[0])) + tf.reduce_sum(tf.square(pair[1]))
            gz, gc_ = tf.gradients(loss, [z, c])
            return tf.gradients(tf.reduce_sum(tf.sin(gz)) + tf.reduce_sum(gc_ * gc_), [z, c])
        got, want = hessian_vector(fused), hessian_vector(separate)
    with tf.Session(graph=graph) as sess:
        for g, w in zip(*sess.run([got, want], feeds)):
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
