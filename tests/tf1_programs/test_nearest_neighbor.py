"""The classic TF1 nearest-neighbour tutorial: the L1 distance from one test point to every
training point, ``tf.arg_min`` over it, one ``sess.run`` per test point, and accuracy
counted in Python. Unchanged but for the import line; the answers are checked against a
NumPy 1-NN."""
import numpy as np

import graphc as tf


def make_digits(rng, prototypes, per_class, noise):
    """Noisy copies of ten 64-pixel prototypes, with one-hot labels (a stand-in for MNIST)."""
    labels = np.repeat(np.arange(10), per_class)
    images = prototypes[labels] + noise * rng.randn(len(labels), 64)
    return np.clip(images, 0, 1).astype(np.float32), np.eye(10)[labels]


def test_nearest_neighbor_with_l1_distance_and_arg_min():
    rng = np.random.RandomState(0)
    prototypes = rng.uniform(0, 1, (10, 64))
    Xtr, Ytr = make_digits(rng, prototypes, 20, 0.35)
    Xte, Yte = make_digits(rng, prototypes, 5, 0.35)
    tf.reset_default_graph()

    xtr = tf.placeholder("float", [None, 64])
    xte = tf.placeholder("float", [64])
    distance = tf.reduce_sum(tf.abs(tf.add(xtr, tf.negative(xte))), reduction_indices=1)
    pred = tf.arg_min(distance, 0)

    accuracy = 0.
    predictions = []
    init = tf.global_variables_initializer()
    with tf.Session() as sess:
        sess.run(init)
        for i in range(len(Xte)):
            nn_index = sess.run(pred, feed_dict={xtr: Xtr, xte: Xte[i, :]})
            predictions.append(int(nn_index))
            if np.argmax(Ytr[nn_index]) == np.argmax(Yte[i]):
                accuracy += 1. / len(Xte)

    assert pred.dtype == tf.int64 and xte.dtype == tf.float32
    l1 = np.abs(Xtr[None, :, :] - Xte[:, None, :]).sum(axis=2)
    assert predictions == list(np.argmin(l1, axis=1))
    assert accuracy > 0.9
