"""The classic TF1 TensorBoard tutorial: softmax logistic regression with its graph in
``Model``/``Loss``/``SGD``/``Accuracy`` name scopes, ``tf.summary.scalar`` for loss and
accuracy, a histogram per weight, ``merge_all`` and a ``FileWriter`` given the graph,
``add_summary`` every batch; the log is read back with TensorBoard's own reader.
Unchanged but for the import line."""
import numpy as np
import pytest

import graphc as tf

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa

LEARNING_RATE = 0.5
EPOCHS = 5
BATCH_SIZE = 50


def blobs(rng, n):
    centers = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    labels = rng.randint(0, 3, n)
    points = centers[labels] + 0.6 * rng.randn(n, 2)
    return points.astype(np.float32), np.eye(3, dtype=np.float32)[labels]


def test_logistic_regression_logs_what_tensorboard_reads(tmp_path):
    rng = np.random.RandomState(3)
    train_x, train_y = blobs(rng, 500)
    logs_path = str(tmp_path / "logistic")
    tf.reset_default_graph()

    x = tf.placeholder(tf.float32, [None, 2], name="InputData")
    y = tf.placeholder(tf.float32, [None, 3], name="LabelData")
    W = tf.Variable(tf.zeros([2, 3]), name="Weights")
    b = tf.Variable(tf.zeros([3]), name="Bias")

    with tf.name_scope("Model"):
        pred = tf.nn.softmax(tf.matmul(x, W) + b)
    with tf.name_scope("Loss"):
        cost = tf.reduce_mean(-tf.reduce_sum(y * tf.log(pred), reduction_indices=1))
    with tf.name_scope("SGD"):
        optimizer = tf.train.GradientDescentOptimizer(LEARNING_RATE).minimize(cost)
    with tf.name_scope("Accuracy"):
        acc = tf.equal(tf.argmax(pred, 1), tf.argmax(y, 1))
        acc = tf.reduce_mean(tf.cast(acc, tf.float32))

    init = tf.global_variables_initializer()
    tf.summary.scalar("loss", cost)
    tf.summary.scalar("accuracy", acc)
    for var in tf.trainable_variables():
        tf.summary.histogram(var.name.replace(":", "_"), var)
    merged_summary_op = tf.summary.merge_all()

    costs = []
    with tf.Session() as sess:
        sess.run(init)
        summary_writer = tf.summary.FileWriter(logs_path, graph=tf.get_default_graph())
        total_batch = len(train_x) // BATCH_SIZE
        for epoch in range(EPOCHS):
            for i in range(total_batch):
                batch = slice(i * BATCH_SIZE, (i + 1) * BATCH_SIZE)
                _, c, summary = sess.run([optimizer, cost, merged_summary_op],
                                         feed_dict={x: train_x[batch], y: train_y[batch]})
                summary_writer.add_summary(summary, epoch * total_batch + i)
                costs.append(float(c))
        final_accuracy = sess.run(acc, {x: train_x, y: train_y})
        summary_writer.close()

    events = EventAccumulator(logs_path, size_guidance={"scalars": 0, "histograms": 0})
    events.Reload()
    # TF1 makes names unique ignoring case: the scopes Loss and Accuracy take loss, accuracy
    assert sorted(events.Tags()["scalars"]) == ["accuracy_1", "loss_1"]
    assert sorted(events.Tags()["histograms"]) == ["Bias_0", "Weights_0"]
    losses = events.Scalars("loss_1")
    assert [e.step for e in losses] == list(range(EPOCHS * total_batch))
    assert [e.value for e in losses] == pytest.approx(costs, rel=1e-6)
    assert np.mean(costs[-10:]) < 0.3 * np.mean(costs[:3])
    assert events.Scalars("accuracy_1")[-1].value > 0.9 and final_accuracy > 0.9
    assert [e.histogram_value.num for e in events.Histograms("Weights_0")][:2] == [6, 6]
    names = {node.name for node in events.Graph().node}
    assert {"InputData", "LabelData", "Weights", "Bias"} <= names
    scopes = {name.split("/")[0] for name in names}
    assert {"Model", "Loss", "SGD", "Accuracy"} <= scopes
