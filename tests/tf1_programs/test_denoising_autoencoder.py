"""A TF1 tutorial-style denoising autoencoder: Gaussian noise added in the graph with
``tf.random_normal(tf.shape(x))``, a sigmoid encoder and decoder in name scopes, Adam on
the squared reconstruction error of the clean input, and TensorBoard summaries (loss,
weight histograms, input and reconstruction images) written every few steps to a
temporary logdir and read back. Unchanged but for the import line."""
import numpy as np
import pytest

import graphc as tf

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa

N_INPUT, N_HIDDEN = 36, 12
NOISE_FACTOR = 0.3
STEPS, LOG_EVERY = 300, 50


def make_images(rng, n):
    """6x6 images of a bright horizontal or vertical bar."""
    images = np.zeros((n, 6, 6), np.float32)
    for image, where in zip(images, rng.randint(0, 12, n)):
        if where < 6:
            image[where, :] = 1.0
        else:
            image[:, where - 6] = 1.0
    return images.reshape(n, N_INPUT)


def test_denoising_autoencoder_learns_and_logs_its_progress(tmp_path):
    rng = np.random.RandomState(2)
    data = make_images(rng, 400)
    tf.reset_default_graph()
    tf.set_random_seed(2)

    X = tf.placeholder("float", [None, N_INPUT], name="X")
    noisy = X + NOISE_FACTOR * tf.random_normal(tf.shape(X))
    with tf.name_scope("encoder"):
        W_enc = tf.Variable(tf.random_normal([N_INPUT, N_HIDDEN], stddev=0.1), name="W")
        b_enc = tf.Variable(tf.zeros([N_HIDDEN]), name="b")
        code = tf.nn.sigmoid(tf.add(tf.matmul(noisy, W_enc), b_enc))
    with tf.name_scope("decoder"):
        W_dec = tf.Variable(tf.random_normal([N_HIDDEN, N_INPUT], stddev=0.1), name="W")
        b_dec = tf.Variable(tf.zeros([N_INPUT]), name="b")
        reconstruction = tf.nn.sigmoid(tf.add(tf.matmul(code, W_dec), b_dec))
    cost = tf.reduce_mean(tf.pow(X - reconstruction, 2))
    optimizer = tf.train.AdamOptimizer(0.02).minimize(cost)

    tf.summary.scalar("cost", cost)
    tf.summary.histogram("encoder_weights", W_enc)
    tf.summary.image("noisy", tf.reshape(noisy, [-1, 6, 6, 1]), max_outputs=2)
    tf.summary.image("reconstruction", tf.reshape(reconstruction, [-1, 6, 6, 1]),
                     max_outputs=2)
    merged = tf.summary.merge_all()

    assert [v.name for v in tf.trainable_variables()] == [
        "encoder/W:0", "encoder/b:0", "decoder/W:0", "decoder/b:0"]
    logged = []
    with tf.Session() as sess:
        writer = tf.summary.FileWriter(str(tmp_path), sess.graph)
        sess.run(tf.global_variables_initializer())
        for step in range(STEPS + 1):
            batch = data[rng.randint(0, len(data), 32)]
            if step % LOG_EVERY == 0:
                summary, c = sess.run([merged, cost], {X: batch})
                writer.add_summary(summary, step)
                logged.append(float(c))
            sess.run(optimizer, {X: batch})
        writer.close()
        noisy_in, denoised = sess.run([noisy, reconstruction], {X: data[:50]})

    assert np.mean((denoised - data[:50]) ** 2) < 0.5 * np.mean((noisy_in - data[:50]) ** 2)
    events = EventAccumulator(str(tmp_path), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    costs = events.Scalars("cost")
    assert [e.step for e in costs] == list(range(0, STEPS + 1, LOG_EVERY))
    assert [e.value for e in costs] == pytest.approx(logged, rel=1e-6)
    assert costs[-1].value < 0.5 * costs[0].value
    assert sorted(events.Tags()["images"]) == ["noisy/image/0", "noisy/image/1",
                                               "reconstruction/image/0",
                                               "reconstruction/image/1"]
    assert {(e.width, e.height) for e in events.Images("reconstruction/image/1")} == {(6, 6)}
    assert events.Tags()["histograms"] == ["encoder_weights"]
