"""xent_pairs: a sparse cross-entropy and its backprop of the same labels and logits become
one pair op computing one softmax; results stay bitwise the unpaired ones (labels out of
range still fail), and ops of other inputs, or with control edges, stay."""
import numpy as np
import pytest

import graphc as tf
from graphc.ops.sparse_xent import sparse_softmax_cross_entropy_backprop
from graphc.passes import Interface, xent_pairs

from .tools import fresh_graph, op_types  # noqa: F401 - a fixture


pytestmark = pytest.mark.usefixtures("fresh_graph")


def feeds_for(labels, logits, rows=6, classes=5):
    rng = np.random.default_rng(3)
    values = rng.normal(size=(rows, classes)).astype(np.float32)
    values[0, 1] = np.inf  # a row whose loss and softmax are NaN: bits must match too
    values[1, :] = -np.inf
    return {labels: rng.integers(0, classes, rows).astype(np.int32), logits: values}


def run_both(result, fetches, feeds):
    with tf.Session(graph=result.graph, optimize=False) as paired, \
            tf.Session(optimize=False) as plain:
        moved = {result.graph.get_tensor_by_name(t.name): v for t, v in feeds.items()}
        return (paired.run(list(result.interface.fetches), moved),
                plain.run(list(fetches), feeds))


@pytest.mark.parametrize("backprop_first", [False, True])
def test_a_loss_and_its_backprop_share_one_softmax_bitwise(backprop_first):
    labels = tf.placeholder(tf.int32, [None], name="labels")
    logits = tf.placeholder(tf.float32, [None, 5], name="logits")

    def backprop():
        return sparse_softmax_cross_entropy_backprop(labels=labels, logits=logits)

    def loss():
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    if backprop_first:
        d, per_row = backprop(), loss()
    else:
        per_row, d = loss(), backprop()
    fetches = (tf.reduce_mean(per_row), d * 2.0)
    result = xent_pairs.run(tf.get_default_graph(), Interface(fetches, (), (labels, logits)))
    assert [r.rule for r in result.rewrites] == ["share_softmax"] * 2
    assert op_types(result.graph).count("sparse_softmax_cross_entropy_pair") == 1
    assert "sparse_softmax_cross_entropy_backprop" not in op_types(result.graph)
    assert not xent_pairs.run(result.graph, result.interface).changed  # idempotent
    feeds = feeds_for(labels, logits)
    for got, want in zip(*run_both(result, fetches, feeds)):
        np.testing.assert_array_equal(got, want)
        assert np.asarray(got).tobytes() == np.asarray(want).tobytes()


def test_a_training_step_computes_the_softmax_once_and_checks_the_labels():
    labels = tf.placeholder(tf.int32, [None], name="labels")
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    w = tf.Variable(np.arange(12, dtype=np.float32).reshape(3, 4) / 10)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels, logits=tf.matmul(x, w)))
    [grad] = tf.gradients(loss, [w])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        feeds = {labels: np.array([0, 3], np.int32), x: np.ones((2, 3), np.float32)}
        records = sess.optimization_records([loss, grad], feeds)
        assert [r.rule for r in next(r for r in records if r.name == "xent_pairs").rewrites]
        got = sess.run([loss, grad], feeds)
        with tf.Session(optimize=False) as plain:
            plain.run(tf.global_variables_initializer())
            want = plain.run([loss, grad], feeds)
        for g, e in zip(got, want):
            assert np.asarray(g).tobytes() == np.asarray(e).tobytes()
        with pytest.raises(tf.errors.InvalidArgumentError, match="label value of 4"):
            sess.run([loss, grad], {labels: np.array([0, 4], np.int32), x: feeds[x]})


def test_ops_of_other_logits_or_with_control_edges_stay():
    labels = tf.placeholder(tf.int32, [None], name="labels")
    logits = tf.placeholder(tf.float32, [None, 5], name="logits")
    per_row = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    other = sparse_softmax_cross_entropy_backprop(labels=labels, logits=logits * 2.0)
    shifted = logits + 1.0
    with tf.control_dependencies([per_row]):
        gated = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=shifted)
    gated_backprop = sparse_softmax_cross_entropy_backprop(labels=labels, logits=shifted)
    fetches = (per_row, other, gated, gated_backprop)
    result = xent_pairs.run(tf.get_default_graph(), Interface(fetches, (), (labels, logits)))
    assert not result.changed


def logits_gradient(reduce, weights=None):
    labels = tf.placeholder(tf.int32, [None], name="labels")
    logits = tf.placeholder(tf.float32, [None, 5], name="logits")
    per_row = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    loss = reduce(per_row if weights is None else per_row * weights)
    [grad] = tf.gradients(loss * 3.0, [logits])
    return labels, logits, loss, grad


@pytest.mark.parametrize("reduce", [tf.reduce_mean, tf.reduce_sum])
def test_a_mean_or_sum_of_the_losses_scales_the_backprop_by_one_scalar_bitwise(reduce):
    labels, logits, loss, grad = logits_gradient(reduce)
    fetches = (loss, grad)
    result = xent_pairs.run(tf.get_default_graph(), Interface(fetches, (), (labels, logits)))
    assert "scalar_row_gradient" in [r.rule for r in result.rewrites]
    kinds = op_types(result.graph)
    assert "expand_dims" not in kinds and "broadcast_to" not in kinds
    feeds = feeds_for(labels, logits, rows=7)
    for got, want in zip(*run_both(result, fetches, feeds)):
        assert np.asarray(got).tobytes() == np.asarray(want).tobytes()


def test_row_gradients_that_differ_per_row_keep_their_vector():
    weights = tf.placeholder(tf.float32, [None], name="weights")
    labels, logits, loss, grad = logits_gradient(tf.reduce_mean, weights)
    result = xent_pairs.run(tf.get_default_graph(),
                            Interface((grad,), (), (labels, logits, weights)))
    assert "scalar_row_gradient" not in [r.rule for r in result.rewrites]
    assert "expand_dims" in op_types(result.graph)


def test_a_row_gradient_op_another_op_waits_for_stays_in_the_graph():
    labels, logits, loss, grad = logits_gradient(tf.reduce_mean)
    graph = tf.get_default_graph()
    [expand] = [op for op in graph.get_operations() if op.type == "expand_dims"]
    with tf.control_dependencies([expand]):
        marker = tf.identity(loss)
    result = xent_pairs.run(graph, Interface((grad, marker), (), (labels, logits)))
    assert "scalar_row_gradient" in [r.rule for r in result.rewrites]
    assert "expand_dims" in op_types(result.graph)
    feeds = feeds_for(labels, logits)
    for got, want in zip(*run_both(result, (grad, marker), feeds)):
        assert np.asarray(got).tobytes() == np.asarray(want).tobytes()
