"""A TF1 tutorial-style cubic regression: ``tf.losses.mean_squared_error``, an exponentially
decaying learning rate on the global step, gradients clipped by their global norm, and
moving averages of the weights (read through a custom getter) for evaluation; unchanged
but for the import line."""
import numpy as np

import graphc as tf

BATCH_SIZE = 32
STEPS = 300


def cubic_features(x):
    return np.concatenate([x, x ** 2, x ** 3], axis=1)


def model(inputs, reuse=None, custom_getter=None):
    with tf.variable_scope("regression", reuse=reuse, custom_getter=custom_getter):
        weights = tf.get_variable("weights", [3, 1],
                                  initializer=tf.random_normal_initializer(stddev=0.1))
        bias = tf.get_variable("bias", [1], initializer=tf.zeros_initializer())
        return tf.matmul(inputs, weights) + bias


def test_regression_with_decay_clipping_and_averaged_weights():
    rng = np.random.RandomState(42)
    x_data = rng.uniform(-1.0, 1.0, size=(512, 1)).astype(np.float32)
    y_data = (0.5 * x_data ** 3 - x_data + 0.2 + 0.05 * rng.randn(512, 1)).astype(np.float32)
    features = cubic_features(x_data)

    tf.reset_default_graph()
    tf.set_random_seed(1)
    X = tf.placeholder(tf.float32, [None, 3], name="X")
    Y = tf.placeholder(tf.float32, [None, 1], name="Y")
    prediction = model(X)
    loss = tf.losses.mean_squared_error(labels=Y, predictions=prediction)

    global_step = tf.Variable(0, trainable=False, name="global_step")
    learning_rate = tf.train.exponential_decay(0.2, global_step, decay_steps=100,
                                               decay_rate=0.5, staircase=True)
    optimizer = tf.train.MomentumOptimizer(learning_rate, momentum=0.9)
    tvars = tf.trainable_variables()
    grads, grad_norm = tf.clip_by_global_norm(tf.gradients(loss, tvars), 0.25)
    apply_op = optimizer.apply_gradients(zip(grads, tvars), global_step=global_step)

    ema = tf.train.ExponentialMovingAverage(decay=0.99, num_updates=global_step)
    with tf.control_dependencies([apply_op]):
        train_op = ema.apply(tvars)

    def ema_getter(getter, name, *args, **kwargs):
        return ema.average(getter(name, *args, **kwargs))

    eval_prediction = model(X, reuse=True, custom_getter=ema_getter)
    eval_loss = tf.losses.mean_squared_error(Y, eval_prediction, loss_collection=None)

    assert [v.op.name for v in tf.global_variables()] == [
        "regression/weights", "regression/bias", "global_step", "regression/weights/Momentum",
        "regression/bias/Momentum", "regression/weights/ExponentialMovingAverage",
        "regression/bias/ExponentialMovingAverage"]
    assert tf.losses.get_losses() == [loss]

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        start = sess.run(loss, {X: features, Y: y_data})
        norms = []
        for step in range(STEPS):
            batch = rng.randint(0, len(features), BATCH_SIZE)
            _, norm = sess.run([train_op, grad_norm], {X: features[batch], Y: y_data[batch]})
            norms.append(norm)
        final, averaged, rate, step = sess.run(
            [loss, eval_loss, learning_rate, global_step], {X: features, Y: y_data})
        weights, bias = sess.run([ema.average(tvars[0]), ema.average(tvars[1])])
        averaged_prediction = sess.run(eval_prediction, {X: features})

    assert step == STEPS and rate == np.float32(0.2 * 0.5 ** 3)
    assert max(norms) > 0.25  # the clip was active early on
    assert final < 0.01 and final < start / 20
    assert averaged < 0.01  # the averaged weights fit as well as the raw ones
    np.testing.assert_allclose(averaged_prediction, features @ weights + bias, rtol=1e-4,
                               atol=1e-5)
