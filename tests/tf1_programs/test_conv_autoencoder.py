"""A TF1 tutorial-style convolutional autoencoder: strided ``tf.nn.conv2d`` + ``leaky_relu``
down, ``tf.nn.conv2d_transpose`` with a batch-sized ``output_shape`` back up (the DCGAN
generator's building block), trained on reconstruction; unchanged but for the import line
(small images of bars stand in for MNIST)."""
import numpy as np

import graphc as tf


def make_images(rng, n, size=8):
    images = np.zeros((n, size, size, 1), np.float32)
    for image in images:
        rows = rng.choice(size, 2, replace=False)
        image[rows, :, 0] = 1.0
        image[:, rng.randint(size), 0] = 1.0
    return images


def weight(name, shape):
    return tf.get_variable(name, shape, initializer=tf.truncated_normal_initializer(stddev=0.1))


def autoencoder(x):
    batch_size = tf.shape(x)[0]
    with tf.variable_scope("encoder"):
        h1 = tf.nn.leaky_relu(tf.nn.conv2d(x, weight("w1", [3, 3, 1, 16]), [1, 2, 2, 1],
                                           "SAME") + tf.get_variable("b1", [16]), alpha=0.2)
        code = tf.nn.leaky_relu(tf.nn.conv2d(h1, weight("w2", [3, 3, 16, 8]), [1, 2, 2, 1],
                                             "SAME"), alpha=0.2)
    with tf.variable_scope("decoder"):
        d1 = tf.nn.conv2d_transpose(code, weight("w1", [3, 3, 16, 8]),
                                    tf.stack([batch_size, 4, 4, 16]), [1, 2, 2, 1], "SAME")
        d1 = tf.nn.leaky_relu(d1, alpha=0.2)
        logits = tf.nn.conv2d_transpose(d1, weight("w2", [3, 3, 1, 16]),
                                        output_shape=[batch_size, 8, 8, 1],
                                        strides=[1, 2, 2, 1], padding="SAME")
    return code, logits


def test_conv_autoencoder_reconstructs_through_conv2d_transpose():
    rng = np.random.RandomState(7)
    train = make_images(rng, 256)

    tf.reset_default_graph()
    tf.set_random_seed(3)
    x = tf.placeholder(tf.float32, [None, 8, 8, 1], name="x")
    code, logits = autoencoder(x)
    loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits))
    train_op = tf.train.AdamOptimizer(0.01).minimize(loss)
    reconstruction = tf.nn.sigmoid(logits)

    assert code.shape.as_list() == [None, 2, 2, 8]
    assert logits.shape.as_list() == [None, 8, 8, 1]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, {x: train})
        for step in range(200):
            batch = train[rng.randint(0, len(train), 32)]
            sess.run(train_op, {x: batch})
        last, images = sess.run([loss, reconstruction], {x: train[:5]})
    assert last < first / 10, (first, last)
    assert images.shape == (5, 8, 8, 1)
    # the bars come back: lit pixels read brighter than dark ones
    assert images[train[:5] == 1].mean() > images[train[:5] == 0].mean() + 0.5
