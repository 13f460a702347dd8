"""TF1 spellings tutorials use that map onto graphc's own: contrib.layers' layer functions,
tf.train.SummaryWriter/summary_iterator, keras.Sequential, tables_initializer."""
import numpy as np

import graphc as tf


def test_contrib_layer_functions_have_contrib_defaults_and_names():
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        images = tf.placeholder(tf.float32, [None, 6, 6, 1])
        labels = tf.placeholder(tf.int32, [None])
        conv = tf.contrib.layers.conv2d(images, 4, 3)
        flat = tf.contrib.layers.flatten(conv)
        hidden = tf.contrib.layers.fully_connected(flat, 16)
        logits = tf.contrib.layers.fully_connected(hidden, 2, activation_fn=None, scope="out")
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=logits))
        train = tf.train.AdamOptimizer(0.01).minimize(loss)
        init = [tf.global_variables_initializer(), tf.tables_initializer()]
        names = [v.op.name for v in tf.trainable_variables()]
    assert names == ["Conv/weights", "Conv/biases", "fully_connected/weights",
                     "fully_connected/biases", "out/weights", "out/biases"]
    assert conv.shape.as_list() == [None, 6, 6, 4] and flat.shape.as_list() == [None, 144]
    rng = np.random.RandomState(0)
    x = rng.rand(64, 6, 6, 1).astype(np.float32)
    y = (x[:, :3].sum(axis=(1, 2, 3)) > x[:, 3:].sum(axis=(1, 2, 3))).astype(np.int32)
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        first = sess.run(loss, {images: x, labels: y})
        assert sess.run(conv, {images: x}).min() >= 0  # ReLU by default
        for _ in range(60):
            sess.run(train, {images: x, labels: y})
        assert sess.run(loss, {images: x, labels: y}) < first / 2


def test_summary_writer_names_and_keras_sequential(tmp_path):
    assert tf.train.SummaryWriter is tf.summary.FileWriter
    assert tf.train.summary_iterator is tf.summary.summary_iterator
    graph = tf.Graph()
    with graph.as_default():
        model = tf.keras.Sequential([tf.keras.layers.Dense(3, activation=tf.nn.relu),
                                     tf.keras.layers.Dense(1)])
        out = model(tf.placeholder(tf.float32, [None, 2]))
    assert out.shape.as_list() == [None, 1]
