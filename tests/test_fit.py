"""gc.training: minibatches, fit/evaluate/predict over a Session, callbacks, progress bar."""
import io

import numpy as np
import pytest

import graphc as gc
from graphc.training.progress import bar_wanted, progress_bar


def _blobs(n=300, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[2.0, 0.0], [-2.0, 1.0], [0.0, -2.5]])
    labels = rng.integers(0, 3, n).astype(np.int32)
    return (centers[labels] + rng.normal(0, 0.6, (n, 2))).astype(np.float32), labels


def _classifier(learning_rate=0.1, extra_metric=None):
    g = gc.Graph()
    with g.as_default():
        gc.set_random_seed(0)
        x = gc.placeholder(gc.float32, [None, 2], name="x")
        y = gc.placeholder(gc.int32, [None], name="y")
        hidden = gc.layers.Dropout(0.1)(gc.layers.Dense(16, "relu")(x))
        logits = gc.layers.Dense(3)(hidden)
        metrics = {"loss": gc.training.sparse_softmax_loss(y, logits),
                   "accuracy": gc.training.accuracy(y, logits)}
        if extra_metric:
            metrics[extra_metric] = gc.cast(gc.layers.learning_phase(), gc.float32)
        step = gc.training.train_op(metrics["loss"],
                                    gc.train.GradientDescentOptimizer(learning_rate))
        init = gc.global_variables_initializer()
    return g, x, y, logits, metrics, step, init


def test_minibatches_cover_every_example_once_in_a_seeded_order():
    data = [np.arange(10), np.arange(10) * 2]
    first = list(gc.training.minibatches(data, 4, seed=7))
    again = list(gc.training.minibatches(data, 4, seed=7))
    assert [len(b[0]) for b in first] == [4, 4, 2]
    assert sorted(np.concatenate([b[0] for b in first]).tolist()) == list(range(10))
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(first, again))
    assert all(np.array_equal(b[1], 2 * b[0]) for b in first)
    other = np.concatenate([b[0] for b in gc.training.minibatches(data, 4, seed=8)])
    assert not np.array_equal(other, np.concatenate([b[0] for b in first]))
    assert [len(b[0]) for b in gc.training.minibatches(data, 4, shuffle=False,
                                                       drop_remainder=True)] == [4, 4]
    with pytest.raises(ValueError, match="different numbers of examples"):
        list(gc.training.minibatches([np.arange(3), np.arange(4)], 2))


def test_fit_trains_evaluate_and_predict_agree():
    g, x, y, logits, metrics, step, init = _classifier()
    features, labels = _blobs()
    test_x, test_y = _blobs(120, seed=1)
    with gc.Session(graph=g) as sess:
        sess.run(init)
        history = gc.training.fit(sess, step, [x, y], [features, labels], epochs=8,
                                  batch_size=32, metrics=metrics, seed=0,
                                  validation_data=[test_x, test_y], verbose=False)
        scores = gc.training.evaluate(sess, metrics, [x, y], [test_x, test_y], batch_size=7)
        whole = sess.run(metrics, {x: test_x, y: test_y})
        predicted = gc.training.predict(sess, logits, x, test_x, batch_size=50)
    assert history.epochs == list(range(1, 9))
    assert history["loss"][-1] < history["loss"][0] / 2 and history["accuracy"][-1] > 0.95
    assert history["val_accuracy"][-1] == pytest.approx(scores["accuracy"])
    assert all(rate > 0 for rate in history["steps_per_second"])
    assert scores["loss"] == pytest.approx(whole["loss"], rel=1e-5)
    assert scores["accuracy"] == pytest.approx(np.mean(predicted.argmax(1) == test_y))
    assert predicted.shape == (120, 3)


def test_fit_feeds_the_learning_phase_only_while_training():
    g, x, y, _, metrics, step, init = _classifier(extra_metric="phase")
    features, labels = _blobs(64)
    with gc.Session(graph=g) as sess:
        sess.run(init)
        history = gc.training.fit(sess, step, [x, y], [features, labels], epochs=1,
                                  batch_size=16, metrics=metrics,
                                  validation_data=[features, labels], verbose=False)
    assert history["phase"] == [1.0] and history["val_phase"] == [0.0]


def test_early_stopping_stops_and_restores_the_best_weights():
    g, x, y, _, metrics, step, init = _classifier(learning_rate=0.2)
    features, labels = _blobs()
    seen = []

    class Weights(gc.training.Callback):
        def on_epoch_end(self, state):
            seen.append(state.session.run(g.get_tensor_by_name("dense/kernel:0")))

    # "loss" only falls, so in mode max the first epoch stays the best one
    stop = gc.training.EarlyStopping("loss", mode="max", patience=2, restore_best_weights=True)
    with gc.Session(graph=g) as sess:
        sess.run(init)
        history = gc.training.fit(sess, step, [x, y], [features, labels], epochs=20,
                                  metrics=metrics, callbacks=[Weights(), stop], verbose=False)
        final = sess.run(g.get_tensor_by_name("dense/kernel:0"))
    assert history.epochs == [1, 2, 3, 4] and stop.best_epoch == 1 and stop.stopped_epoch == 4
    np.testing.assert_array_equal(final, seen[0])
    assert not np.array_equal(final, seen[-1])
    with pytest.raises(KeyError, match="no 'val_loss' in the logs"):
        with gc.Session(graph=g) as sess:
            sess.run(init)
            gc.training.fit(sess, step, [x, y], [features, labels], metrics=metrics,
                            callbacks=[gc.training.EarlyStopping()], verbose=False)


def test_epoch_logger_prints_metrics_and_steps_per_second():
    g, x, y, _, metrics, step, init = _classifier()
    features, labels = _blobs(64)
    lines = []
    with gc.Session(graph=g) as sess:
        sess.run(init)
        gc.training.fit(sess, step, [x, y], [features, labels], epochs=2, batch_size=16,
                        metrics=metrics, verbose=False,
                        callbacks=[gc.training.EpochLogger(lines.append)])
    assert len(lines) == 2 and lines[1].startswith("epoch 2/2  loss ")
    assert " accuracy " in lines[0] and lines[0].endswith(" steps/s")
    with pytest.raises(ValueError, match="2 input placeholders .* but 1 arrays"):
        with gc.Session(graph=g) as sess:
            gc.training.fit(sess, step, [x, y], features)


def test_the_progress_bar_is_drawn_only_when_wanted():
    quiet = io.StringIO()
    assert not bar_wanted(False) and not bar_wanted(None, quiet)
    with progress_bar(5, "epoch 1/1", enabled=None, stream=quiet) as bar:
        bar.update(1, loss=0.5)
    assert quiet.getvalue() == ""
    pytest.importorskip("tqdm")
    shown = io.StringIO()
    with progress_bar(5, "epoch 1/1", enabled=True, stream=shown, every=1) as bar:
        for _ in range(5):
            bar.update(1, loss=0.25)
    assert "epoch 1/1" in shown.getvalue() and "step/s" in shown.getvalue()
