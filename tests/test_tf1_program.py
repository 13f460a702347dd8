"""A classic TF1 graph-mode training script, unchanged but for the import line."""
import numpy as np

import graphc as tf


def test_tf1_convnet_script_runs_with_graphc_as_tf():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(64, 8, 8, 1)).astype(np.float32)
    labels = (images.mean(axis=(1, 2, 3)) > 0).astype(np.int64)
    onehot = np.eye(2, dtype=np.float32)[labels]

    tf.reset_default_graph()
    tf.set_random_seed(1)
    x = tf.placeholder(tf.float32, [None, 8, 8, 1], name="x")
    y_ = tf.placeholder(tf.float32, [None, 2], name="y_")
    keep_prob = tf.placeholder(tf.float32, name="keep_prob")

    def weight_variable(shape):
        return tf.Variable(tf.truncated_normal(shape, stddev=0.1))

    def bias_variable(shape):
        return tf.Variable(tf.constant(0.1, shape=shape))

    with tf.name_scope("conv1"):
        W_conv1 = weight_variable([3, 3, 1, 8])
        b_conv1 = bias_variable([8])
        h_conv1 = tf.nn.relu(tf.nn.conv2d(x, W_conv1, strides=[1, 1, 1, 1], padding="SAME")
                             + b_conv1)
        h_pool1 = tf.nn.max_pool(h_conv1, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1],
                                 padding="SAME")
    with tf.name_scope("fc"):
        flat = tf.reshape(h_pool1, [-1, 4 * 4 * 8])
        W_fc = weight_variable([4 * 4 * 8, 2])
        b_fc = bias_variable([2])
        y_conv = tf.matmul(tf.nn.dropout(flat, keep_prob), W_fc) + b_fc
    cross_entropy = tf.reduce_mean(
        tf.nn.softmax_cross_entropy_with_logits_v2(labels=y_, logits=y_conv))
    train_step = tf.train.AdamOptimizer(1e-2).minimize(cross_entropy)
    correct = tf.equal(tf.argmax(y_conv, 1), tf.argmax(y_, 1))
    accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(cross_entropy, {x: images, y_: onehot, keep_prob: 1.0})
        for _ in range(60):
            train_step.run(feed_dict={x: images, y_: onehot, keep_prob: 0.8})
        last, acc = sess.run([cross_entropy, accuracy], {x: images, y_: onehot, keep_prob: 1.0})
        assert accuracy.eval(feed_dict={x: images, y_: onehot, keep_prob: 1.0}) == acc
    assert last < first / 2 and acc > 0.9
    assert tf.get_default_graph().get_tensor_by_name("x:0") is x
    tf.reset_default_graph()
