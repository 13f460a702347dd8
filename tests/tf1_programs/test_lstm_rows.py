"""The classic TF1 recurrent-network tutorial: an image read row by row by an LSTM
(``tf.contrib.rnn.BasicLSTMCell`` + ``rnn.static_rnn``, as in the MNIST RNN example), here on
small synthetic "images" whose class is which half of the rows is bright; then the same
model with ``tf.nn.dynamic_rnn`` sharing the weights. Unchanged but for the import line."""
import numpy as np

import graphc as tf
from graphc.contrib import rnn

TIMESTEPS, NUM_INPUT, NUM_HIDDEN, NUM_CLASSES = 8, 6, 16, 2


def images(rng, count):
    labels = rng.randint(0, NUM_CLASSES, count)
    x = rng.rand(count, TIMESTEPS, NUM_INPUT).astype(np.float32) * 0.5
    for i, label in enumerate(labels):
        rows = slice(0, TIMESTEPS // 2) if label == 0 else slice(TIMESTEPS // 2, TIMESTEPS)
        x[i, rows] += 0.5
    return x, np.eye(NUM_CLASSES, dtype=np.float32)[labels]


def RNN(x, weights, biases):
    x = tf.unstack(x, TIMESTEPS, 1)
    lstm_cell = rnn.BasicLSTMCell(NUM_HIDDEN, forget_bias=1.0)
    outputs, states = rnn.static_rnn(lstm_cell, x, dtype=tf.float32)
    return tf.matmul(outputs[-1], weights['out']) + biases['out'], lstm_cell


def test_lstm_reads_rows_and_learns_the_bright_half():
    tf.reset_default_graph()
    tf.set_random_seed(1)
    X = tf.placeholder("float", [None, TIMESTEPS, NUM_INPUT])
    Y = tf.placeholder("float", [None, NUM_CLASSES])
    weights = {'out': tf.Variable(tf.random_normal([NUM_HIDDEN, NUM_CLASSES]))}
    biases = {'out': tf.Variable(tf.random_normal([NUM_CLASSES]))}
    logits, cell = RNN(X, weights, biases)
    prediction = tf.nn.softmax(logits)
    loss_op = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=logits, labels=Y))
    train_op = tf.train.GradientDescentOptimizer(learning_rate=1.0).minimize(loss_op)
    correct_pred = tf.equal(tf.argmax(prediction, 1), tf.argmax(Y, 1))
    accuracy = tf.reduce_mean(tf.cast(correct_pred, tf.float32))
    # the same cell over the same rows with dynamic_rnn: one while_loop, the same weights
    outputs, _ = tf.nn.dynamic_rnn(cell, X, dtype=tf.float32)
    dynamic_logits = tf.matmul(outputs[:, -1], weights['out']) + biases['out']
    init = tf.global_variables_initializer()
    names = sorted(v.op.name for v in tf.trainable_variables())
    assert "rnn/basic_lstm_cell/kernel" in names and "rnn/basic_lstm_cell/bias" in names

    rng = np.random.RandomState(0)
    test_x, test_y = images(rng, 200)
    with tf.Session() as sess:
        sess.run(init)
        before = sess.run(loss_op, feed_dict={X: test_x, Y: test_y})
        for step in range(150):
            batch_x, batch_y = images(rng, 32)
            sess.run(train_op, feed_dict={X: batch_x, Y: batch_y})
        after, acc = sess.run([loss_op, accuracy], feed_dict={X: test_x, Y: test_y})
        static, dynamic = sess.run([logits, dynamic_logits], feed_dict={X: test_x})
    assert after < before * 0.5 and acc > 0.9
    np.testing.assert_allclose(static, dynamic, rtol=1e-5, atol=1e-5)
