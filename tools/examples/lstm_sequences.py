"""Sequence classification with an LSTM: is the sum of a variable-length sequence positive?

    python tools/examples/lstm_sequences.py [STEPS] [PICTURE.png]
    graphc render tools/examples/lstm_sequences.py -o lstm.png    # the loop as a cluster

``dynamic_rnn`` runs a BasicLSTMCell over each sequence in one ``while_loop`` (its body
compiled once), ``sequence_length`` stops every sequence at its own end, and the final
state feeds a softmax classifier trained with Adam.
"""
import sys

import numpy as np

import graphc as tf

MAX_TIME, HIDDEN = 12, 24


def batch(rng, size=64):
    lengths = rng.integers(3, MAX_TIME + 1, size)
    values = rng.standard_normal((size, MAX_TIME, 1)).astype(np.float32)
    values[np.arange(MAX_TIME)[None, :] >= lengths[:, None]] = 0.0  # padding
    labels = (values.sum(axis=(1, 2)) > 0).astype(np.int32)
    return values, lengths.astype(np.int32), labels


def build():
    """The model's graph and its fetches (for graphc render / inspect)."""
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        x = tf.placeholder(tf.float32, [None, MAX_TIME, 1], name="x")
        lengths = tf.placeholder(tf.int32, [None], name="lengths")
        labels = tf.placeholder(tf.int32, [None], name="labels")
        cell = tf.nn.rnn_cell.BasicLSTMCell(HIDDEN)
        _, state = tf.nn.dynamic_rnn(cell, x, sequence_length=lengths, dtype=tf.float32)
        with tf.variable_scope("classifier"):
            w = tf.get_variable("w", [HIDDEN, 2])
            b = tf.get_variable("b", [2], initializer=tf.zeros_initializer())
            logits = tf.matmul(state.h, w) + b
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=logits), name="loss")
        accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1, output_type=tf.int32),
                                                   labels), tf.float32), name="accuracy")
        train = tf.train.AdamOptimizer(0.02).minimize(loss)
        init = tf.global_variables_initializer()
    return graph, [loss, accuracy, train, init]


def main(steps: int = 300, picture: str = "") -> float:
    graph, (loss, accuracy, train, init) = build()
    names = ("x", "lengths", "labels")
    feeds = [graph.get_tensor_by_name(f"{n}:0") for n in names]
    rng = np.random.default_rng(1)
    test = dict(zip(feeds, batch(rng, 512)))
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        for step in range(int(steps)):
            sess.run(train, dict(zip(feeds, batch(rng))))
            if step % 100 == 0 or step == int(steps) - 1:
                test_loss, test_accuracy = sess.run([loss, accuracy], test)
                print(f"step {step:4d}: test loss {test_loss:.3f}, accuracy {test_accuracy:.3f}")
    if picture:
        print("wrote", tf.render(graph, picture, collapse_depth=3, hide_constants=True))
    return float(test_accuracy)


if __name__ == "__main__":
    main(*(sys.argv[1:2] or [300]), *(sys.argv[2:3]))
