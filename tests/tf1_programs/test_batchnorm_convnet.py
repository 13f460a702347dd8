"""A TF1 tutorial-style conv net with batch normalization: ``tf.nn.fused_batch_norm`` after
the convolution and ``tf.nn.moments`` + ``tf.nn.batch_normalization`` after the dense layer,
moving averages updated through ``tf.GraphKeys.UPDATE_OPS`` and used by an inference tower
that shares the variables; unchanged but for the import line (images of horizontal or
vertical bars stand in for MNIST)."""
import numpy as np

import graphc as tf

DECAY, EPSILON = 0.9, 1e-3


def make_bars(rng, n, size=8):
    """Noisy images with one horizontal (label 0) or vertical (label 1) bar."""
    images = rng.normal(0.0, 0.3, size=(n, size, size, 1)).astype(np.float32)
    labels = rng.randint(0, 2, size=n)
    where = rng.randint(0, size, size=n)
    for i in range(n):
        if labels[i] == 0:
            images[i, where[i], :, 0] += 2.0
        else:
            images[i, :, where[i], 0] += 2.0
    return images * 3.0 + 5.0, labels  # off-centre, badly scaled: what BN fixes


def moving_averages(depth):
    mean = tf.get_variable("moving_mean", [depth], initializer=tf.zeros_initializer(),
                           trainable=False)
    variance = tf.get_variable("moving_variance", [depth], initializer=tf.ones_initializer(),
                               trainable=False)
    return mean, variance


def update(moving, value):
    step = tf.assign(moving, moving * DECAY + value * (1 - DECAY))
    tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, step)


def conv_bn_relu(x, depth, is_training, scope):
    with tf.variable_scope(scope, reuse=tf.AUTO_REUSE):
        kernel = tf.get_variable("weights", [3, 3, x.get_shape()[-1], depth],
                                 initializer=tf.truncated_normal_initializer(stddev=0.1))
        gamma = tf.get_variable("gamma", [depth], initializer=tf.ones_initializer())
        beta = tf.get_variable("beta", [depth], initializer=tf.zeros_initializer())
        moving_mean, moving_variance = moving_averages(depth)
        conv = tf.nn.conv2d(x, kernel, strides=[1, 1, 1, 1], padding="SAME")
        if is_training:
            normed, mean, variance = tf.nn.fused_batch_norm(conv, gamma, beta,
                                                            epsilon=EPSILON, is_training=True)
            update(moving_mean, mean)
            update(moving_variance, variance)
        else:
            normed, _, _ = tf.nn.fused_batch_norm(conv, gamma, beta, moving_mean,
                                                  moving_variance, epsilon=EPSILON,
                                                  is_training=False)
        return tf.nn.relu(normed)


def dense_bn_relu(x, units, is_training, scope):
    with tf.variable_scope(scope, reuse=tf.AUTO_REUSE):
        weights = tf.get_variable("weights", [x.get_shape()[-1], units],
                                  initializer=tf.glorot_uniform_initializer())
        gamma = tf.get_variable("gamma", [units], initializer=tf.ones_initializer())
        beta = tf.get_variable("beta", [units], initializer=tf.zeros_initializer())
        moving_mean, moving_variance = moving_averages(units)
        h = tf.matmul(x, weights)
        if is_training:
            mean, variance = tf.nn.moments(h, axes=[0])
            update(moving_mean, mean)
            update(moving_variance, variance)
        else:
            mean, variance = moving_mean, moving_variance
        return tf.nn.relu(tf.nn.batch_normalization(h, mean, variance, beta, gamma, EPSILON))


def network(images, is_training):
    h = conv_bn_relu(images, 8, is_training, "conv1")
    h = tf.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="VALID")
    h = tf.reshape(h, [-1, 4 * 4 * 8])
    h = dense_bn_relu(h, 16, is_training, "fc1")
    with tf.variable_scope("logits", reuse=tf.AUTO_REUSE):
        weights = tf.get_variable("weights", [16, 2],
                                  initializer=tf.glorot_uniform_initializer())
        bias = tf.get_variable("bias", [2], initializer=tf.zeros_initializer())
        return tf.matmul(h, weights) + bias


def test_convnet_with_batch_norm_trains_and_infers_with_moving_averages():
    rng = np.random.RandomState(3)
    train_images, train_labels = make_bars(rng, 512)
    test_images, test_labels = make_bars(rng, 256)

    tf.reset_default_graph()
    tf.set_random_seed(2)
    x = tf.placeholder(tf.float32, [None, 8, 8, 1], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    logits = network(x, is_training=True)
    eval_logits = network(x, is_training=False)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y,
                                                                         logits=logits))
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    with tf.control_dependencies(update_ops):
        train_op = tf.train.AdamOptimizer(0.01).minimize(loss)
    correct = tf.equal(tf.argmax(eval_logits, 1), y)
    accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))

    assert len(update_ops) == 4
    assert len(tf.trainable_variables()) == 8  # the moving averages are not trained
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, {x: train_images[:64], y: train_labels[:64]})
        for step in range(120):
            batch = rng.randint(0, len(train_images), 64)
            sess.run(train_op, {x: train_images[batch], y: train_labels[batch]})
        last = sess.run(loss, {x: train_images, y: train_labels})
        test_accuracy = sess.run(accuracy, {x: test_images, y: test_labels})
        moving_mean, moving_variance = sess.run(["conv1/moving_mean:0",
                                                 "conv1/moving_variance:0"])
        conv = sess.run("conv1/Conv2D:0", {x: train_images})
    assert last < first / 4, (first, last)
    assert test_accuracy > 0.9, test_accuracy
    # the moving statistics track the conv outputs' (the weights move little at the end)
    np.testing.assert_allclose(moving_mean, conv.mean(axis=(0, 1, 2)), rtol=0.1, atol=0.05)
    np.testing.assert_allclose(moving_variance, conv.var(axis=(0, 1, 2)), rtol=0.2)
