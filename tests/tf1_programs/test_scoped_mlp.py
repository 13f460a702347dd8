"""A TF1 tutorial-style MLP built from a ``layer(x, n, scope)`` helper with variable_scope,
get_variable and a regularizer, trained a few steps; unchanged but for the import line."""
import numpy as np
import pytest

import graphc as tf


def layer(x, n, scope, activation=tf.nn.relu, weight_decay=1e-3):
    with tf.variable_scope(scope):
        W = tf.get_variable("W", [x.get_shape()[1], n],
                            initializer=tf.contrib.layers.xavier_initializer(),
                            regularizer=tf.contrib.layers.l2_regularizer(weight_decay))
        b = tf.get_variable("b", [n], initializer=tf.constant_initializer(0.0))
        out = tf.nn.bias_add(tf.matmul(x, W), b)
        return activation(out) if activation is not None else out


def mlp(x, reuse=None):
    with tf.variable_scope("mlp", reuse=reuse):
        hidden = layer(x, 16, "hidden")
        return layer(hidden, 2, "logits", activation=None)


def test_scoped_mlp_trains_and_shares_weights_with_the_eval_tower():
    rng = np.random.RandomState(0)
    points = rng.randn(200, 2).astype(np.float32)
    labels = (points[:, 0] * points[:, 1] > 0).astype(np.int64)  # XOR of the signs

    tf.reset_default_graph()
    tf.set_random_seed(0)
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    x_eval = tf.placeholder(tf.float32, [None, 2], name="x_eval")

    logits = mlp(x)
    eval_logits = mlp(x_eval, reuse=True)
    data_loss = tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    reg_loss = tf.losses.get_regularization_loss()
    loss = data_loss + reg_loss
    train_op = tf.train.AdamOptimizer(0.05).minimize(loss)
    accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(eval_logits, 1), y), tf.float32))

    assert [v.name for v in tf.trainable_variables()] == [
        "mlp/hidden/W:0", "mlp/hidden/b:0", "mlp/logits/W:0", "mlp/logits/b:0"]
    assert len(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)) == 2
    assert eval_logits.op.name.startswith("mlp_1/logits/")

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, {x: points, y: labels})
        for _ in range(150):
            sess.run(train_op, {x: points, y: labels})
        last, reg, acc = sess.run([loss, reg_loss, accuracy],
                                  {x: points, y: labels, x_eval: points})
        weights = sess.run([v for v in tf.trainable_variables() if v.name.endswith("/W:0")])
    assert last < first / 3 and acc > 0.9
    assert reg > 0 and reg == pytest.approx(sum(1e-3 * np.sum(w ** 2) / 2 for w in weights),
                                            rel=1e-5)
