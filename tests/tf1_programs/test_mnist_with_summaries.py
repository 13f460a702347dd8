"""TensorFlow's ``mnist_with_summaries.py`` tutorial, on small synthetic digits: layers built
in nested name scopes with ``variable_summaries`` (mean, stddev, max, min, histogram) for
weights and biases, activation histograms, an input image summary, dropout, train and test
FileWriters, traced runs recorded with ``add_run_metadata``. Unchanged but for the import
line and the data; the tags read back are the ones TF1 gives this program, ``_1`` suffixes
included (``stddev_1``, ``accuracy_1``: those name scopes exist when the summary is made)."""
import numpy as np
import pytest

import graphc as tf

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa

MAX_STEPS = 120
LEARNING_RATE = 0.005
DROPOUT = 0.9


def make_digits(rng, n):
    """8x8 noisy copies of ten random prototypes, as flat rows with integer labels."""
    prototypes = np.random.RandomState(0).uniform(0, 1, (10, 64))
    labels = rng.randint(0, 10, n)
    images = np.clip(prototypes[labels] + 0.3 * rng.randn(n, 64), 0, 1)
    return images.astype(np.float32), labels.astype(np.int64)


def test_mnist_with_summaries_logs_tf1s_tags(tmp_path):
    rng = np.random.RandomState(1)
    train_x, train_y = make_digits(rng, 600)
    test_x, test_y = make_digits(rng, 200)
    log_dir = str(tmp_path)
    tf.reset_default_graph()
    tf.set_random_seed(1)
    sess = tf.InteractiveSession()

    with tf.name_scope("input"):
        x = tf.placeholder(tf.float32, [None, 64], name="x-input")
        y_ = tf.placeholder(tf.int64, [None], name="y-input")
    with tf.name_scope("input_reshape"):
        image_shaped_input = tf.reshape(x, [-1, 8, 8, 1])
        tf.summary.image("input", image_shaped_input, 10)

    def weight_variable(shape):
        initial = tf.truncated_normal(shape, stddev=0.1)
        return tf.Variable(initial)

    def bias_variable(shape):
        initial = tf.constant(0.1, shape=shape)
        return tf.Variable(initial)

    def variable_summaries(var):
        with tf.name_scope("summaries"):
            mean = tf.reduce_mean(var)
            tf.summary.scalar("mean", mean)
            with tf.name_scope("stddev"):
                stddev = tf.sqrt(tf.reduce_mean(tf.square(var - mean)))
            tf.summary.scalar("stddev", stddev)
            tf.summary.scalar("max", tf.reduce_max(var))
            tf.summary.scalar("min", tf.reduce_min(var))
            tf.summary.histogram("histogram", var)

    def nn_layer(input_tensor, input_dim, output_dim, layer_name, act=tf.nn.relu):
        with tf.name_scope(layer_name):
            with tf.name_scope("weights"):
                weights = weight_variable([input_dim, output_dim])
                variable_summaries(weights)
            with tf.name_scope("biases"):
                biases = bias_variable([output_dim])
                variable_summaries(biases)
            with tf.name_scope("Wx_plus_b"):
                preactivate = tf.matmul(input_tensor, weights) + biases
                tf.summary.histogram("pre_activations", preactivate)
            activations = act(preactivate, name="activation")
            tf.summary.histogram("activations", activations)
            return activations

    hidden1 = nn_layer(x, 64, 50, "layer1")
    with tf.name_scope("dropout"):
        keep_prob = tf.placeholder(tf.float32)
        tf.summary.scalar("dropout_keep_probability", keep_prob)
        dropped = tf.nn.dropout(hidden1, keep_prob)
    y = nn_layer(dropped, 50, 10, "layer2", act=tf.identity)

    with tf.name_scope("cross_entropy"):
        with tf.name_scope("total"):
            cross_entropy = tf.losses.sparse_softmax_cross_entropy(labels=y_, logits=y)
    tf.summary.scalar("cross_entropy", cross_entropy)
    with tf.name_scope("train"):
        train_step = tf.train.AdamOptimizer(LEARNING_RATE).minimize(cross_entropy)
    with tf.name_scope("accuracy"):
        with tf.name_scope("correct_prediction"):
            correct_prediction = tf.equal(tf.argmax(y, 1), y_)
        with tf.name_scope("accuracy"):
            accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
    tf.summary.scalar("accuracy", accuracy)

    merged = tf.summary.merge_all()
    train_writer = tf.summary.FileWriter(log_dir + "/train", sess.graph)
    test_writer = tf.summary.FileWriter(log_dir + "/test")
    tf.global_variables_initializer().run()

    def feed_dict(train):
        if train:
            batch = rng.randint(0, len(train_x), 100)
            return {x: train_x[batch], y_: train_y[batch], keep_prob: DROPOUT}
        return {x: test_x, y_: test_y, keep_prob: 1.0}

    test_accuracies = []
    for i in range(MAX_STEPS):
        if i % 10 == 0:
            summary, acc = sess.run([merged, accuracy], feed_dict=feed_dict(False))
            test_writer.add_summary(summary, i)
            test_accuracies.append(float(acc))
        elif i % 100 == 99:
            run_options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
            run_metadata = tf.RunMetadata()
            summary, _ = sess.run([merged, train_step], feed_dict=feed_dict(True),
                                  options=run_options, run_metadata=run_metadata)
            train_writer.add_run_metadata(run_metadata, "step%03d" % i)
            train_writer.add_summary(summary, i)
        else:
            summary, _ = sess.run([merged, train_step], feed_dict=feed_dict(True))
            train_writer.add_summary(summary, i)
    train_writer.close()
    test_writer.close()
    sess.close()

    assert test_accuracies[-1] > 0.9 and test_accuracies[0] < 0.5
    train = EventAccumulator(log_dir + "/train", size_guidance={"scalars": 0, "images": 0})
    test = EventAccumulator(log_dir + "/test", size_guidance={"scalars": 0})
    train.Reload()
    test.Reload()
    per_variable = [f"{layer}/{kind}/summaries/{name}" for layer in ("layer1", "layer2")
                    for kind in ("weights", "biases")
                    for name in ("mean", "stddev_1", "max", "min")]
    assert sorted(train.Tags()["scalars"]) == sorted(
        per_variable + ["dropout/dropout_keep_probability", "cross_entropy_1", "accuracy_1"])
    assert sorted(train.Tags()["histograms"]) == sorted(
        [f"{layer}/{kind}/summaries/histogram" for layer in ("layer1", "layer2")
         for kind in ("weights", "biases")] +
        [f"{layer}/{name}" for layer in ("layer1", "layer2")
         for name in ("Wx_plus_b/pre_activations", "activations")])
    assert train.Tags()["images"] == [f"input_reshape/input/image/{i}" for i in range(10)]
    assert train.Tags()["run_metadata"] == ["step099"]
    assert [e.step for e in test.Scalars("accuracy_1")] == list(range(0, MAX_STEPS, 10))
    assert [e.value for e in test.Scalars("accuracy_1")] == pytest.approx(test_accuracies)
    assert [e.step for e in train.Scalars("cross_entropy_1")] == [
        i for i in range(MAX_STEPS) if i % 10]
    assert {e.value for e in train.Scalars("dropout/dropout_keep_probability")} == {
        np.float32(DROPOUT)}
    nodes = {node.name for node in train.Graph().node}
    assert {"input/x-input", "input/y-input", "layer1/activation"} <= nodes
    assert not test.Tags()["graph"]
