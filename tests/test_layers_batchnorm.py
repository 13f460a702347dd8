"""BatchNormalization: batch statistics while training, moving averages at inference, and the
moving-average updates in UPDATE_OPS that gc.training.train_op runs."""
import numpy as np

import graphc as gc

EPS, MOMENTUM = 1e-3, 0.9


def _data():
    rng = np.random.default_rng(0)
    return (rng.normal(3.0, 2.0, (16, 4, 4, 3)) * [1.0, 0.5, 2.0]).astype(np.float32)


def _reference(x, mean, variance, gamma=1.0, beta=0.0):
    return (x - np.asarray(mean)) / np.sqrt(np.asarray(variance) + EPS) * gamma + beta


def _graph(training):
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float32, [None, 4, 4, 3], name="x")
        bn = gc.layers.BatchNormalization(momentum=MOMENTUM, epsilon=EPS,
                                          beta_initializer=gc.constant_initializer(0.5),
                                          gamma_initializer=gc.constant_initializer(2.0))
        y = bn(x, training=training)
        init = gc.global_variables_initializer()
    return g, x, bn, y, init


def test_training_uses_batch_statistics_and_updates_the_moving_averages():
    g, x, bn, y, init = _graph(True)
    updates = g.get_collection(gc.GraphKeys.UPDATE_OPS)
    assert len(updates) == 2 and bn.updates == updates
    value = _data()
    mean, variance = value.mean(axis=(0, 1, 2)), value.var(axis=(0, 1, 2))
    with gc.Session(graph=g) as sess:
        sess.run(init)
        np.testing.assert_allclose(sess.run(y, {x: value}),
                                   _reference(value, mean, variance, 2.0, 0.5),
                                   rtol=1e-4, atol=1e-4)
        np.testing.assert_array_equal(sess.run(bn.moving_mean), np.zeros(3))
        sess.run(updates, {x: value})
        np.testing.assert_allclose(sess.run(bn.moving_mean), (1 - MOMENTUM) * mean, rtol=1e-5)
        np.testing.assert_allclose(sess.run(bn.moving_variance),
                                   MOMENTUM + (1 - MOMENTUM) * variance, rtol=1e-5)


def test_inference_uses_the_moving_averages_and_adds_no_update():
    g, x, bn, y, init = _graph(False)
    assert not g.get_collection(gc.GraphKeys.UPDATE_OPS)
    value = _data()
    with gc.Session(graph=g) as sess:
        sess.run(init)
        bn.moving_mean.load(np.array([1.0, 2.0, 3.0], np.float32), sess)
        bn.moving_variance.load(np.array([4.0, 1.0, 0.25], np.float32), sess)
        np.testing.assert_allclose(sess.run(y, {x: value}),
                                   _reference(value, [1.0, 2.0, 3.0], [4.0, 1.0, 0.25], 2.0,
                                              0.5), rtol=1e-4, atol=1e-4)


def test_a_training_tensor_switches_statistics_and_freezes_the_averages_when_false():
    g, x, bn, y, init = _graph(None)  # the graph's learning phase
    phase = gc.layers.learning_phase(g)
    updates = g.get_collection(gc.GraphKeys.UPDATE_OPS)
    value = _data()
    mean, variance = value.mean(axis=(0, 1, 2)), value.var(axis=(0, 1, 2))
    with gc.Session(graph=g) as sess:
        sess.run(init)
        inference, _ = sess.run([y, updates], {x: value})
        np.testing.assert_allclose(inference, _reference(value, 0.0, 1.0, 2.0, 0.5), rtol=1e-4)
        np.testing.assert_array_equal(sess.run(bn.moving_mean), np.zeros(3))
        training, _ = sess.run([y, updates], {x: value, phase: True})
        np.testing.assert_allclose(training, _reference(value, mean, variance, 2.0, 0.5),
                                   rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(sess.run(bn.moving_mean), (1 - MOMENTUM) * mean, rtol=1e-5)


def test_train_op_runs_the_updates_the_loss_can_feed():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float32, [None, 4, 4, 3], name="x")
        other = gc.placeholder(gc.float32, [None, 4, 4, 3], name="other")
        bn = gc.layers.BatchNormalization(momentum=MOMENTUM)
        loss = gc.reduce_mean(gc.square(bn(x, training=True) - 1.0))
        bn(other, training=True)  # its updates need `other`: the train op leaves them out
        step = gc.training.train_op(loss, gc.train.GradientDescentOptimizer(0.1))
        init = gc.global_variables_initializer()
    assert len(g.get_collection(gc.GraphKeys.UPDATE_OPS)) == 4
    value = _data()
    with gc.Session(graph=g) as sess:
        sess.run(init)
        sess.run(step, {x: value})
        np.testing.assert_allclose(sess.run(bn.moving_mean),
                                   (1 - MOMENTUM) * value.mean(axis=(0, 1, 2)), rtol=1e-5)
        assert not np.allclose(sess.run(bn.gamma), 1.0)


def test_dense_features_normalize_over_the_batch_axis():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float32, [None, 5])
        y = gc.layers.batch_normalization(x, training=True, center=False, scale=False)
        channels_first = gc.layers.BatchNormalization(axis=1, epsilon=EPS)(
            gc.placeholder(gc.float32, [None, 3, 2], name="cf"), training=True)
    value = np.random.default_rng(2).normal(size=(8, 5)).astype(np.float32)
    cf = np.random.default_rng(3).normal(size=(4, 3, 2)).astype(np.float32)
    with g.as_default():
        init = gc.global_variables_initializer()
    with gc.Session(graph=g) as sess:
        sess.run(init)
        np.testing.assert_allclose(sess.run(y, {x: value}),
                                   _reference(value, value.mean(0), value.var(0)), rtol=1e-4,
                                   atol=1e-5)
        np.testing.assert_allclose(
            sess.run(channels_first, {"cf:0": cf}),
            _reference(cf, cf.mean((0, 2), keepdims=True), cf.var((0, 2), keepdims=True)),
            rtol=1e-4, atol=1e-5)
