"""A CS20-style linear regression (Stanford CS 20, lecture 3): one sample per step fed as
scalars, ``w`` and ``b`` scalar variables, trained for many epochs; the Huber loss written
by hand with ``tf.where`` (the course builds it with ``tf.cond``) and through
``tf.losses.huber_loss``, both of which ignore the outliers that pull the squared-error fit
away. Unchanged but for the import line."""
import numpy as np

import graphc as tf

EPOCHS = 40


def huber_loss(labels, predictions, delta=1.0):
    residual = tf.abs(labels - predictions)
    small_res = 0.5 * tf.square(residual)
    large_res = delta * residual - 0.5 * tf.square(delta)
    return tf.where(residual < delta, small_res, large_res)


def make_data(rng):
    x = rng.uniform(0, 10, 60).astype(np.float32)
    y = (2.0 * x + 1.0 + 0.3 * rng.randn(60)).astype(np.float32)
    y[::10] -= 25.0  # a few gross outliers
    return x, y


def train(loss_name, data):
    tf.reset_default_graph()
    X = tf.placeholder(tf.float32, name="X")
    Y = tf.placeholder(tf.float32, name="Y")
    w = tf.get_variable("weights", initializer=tf.constant(0.0))
    b = tf.get_variable("bias", initializer=tf.constant(0.0))
    Y_predicted = w * X + b
    if loss_name == "squared":
        loss = tf.square(Y - Y_predicted, name="loss")
    elif loss_name == "huber_where":
        loss = huber_loss(Y, Y_predicted)
    else:
        loss = tf.losses.huber_loss(Y, Y_predicted, delta=1.0)
    optimizer = tf.train.GradientDescentOptimizer(learning_rate=0.002).minimize(loss)

    epoch_losses = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(EPOCHS):
            total_loss = 0
            for x, y in zip(*data):
                _, l = sess.run([optimizer, loss], feed_dict={X: x, Y: y})
                total_loss += l
            epoch_losses.append(total_loss / len(data[0]))
        w_out, b_out = sess.run([w, b])
    assert [v.name for v in tf.global_variables()] == ["weights:0", "bias:0"]
    return float(w_out), float(b_out), epoch_losses


def test_huber_loss_fits_through_outliers_where_squared_error_does_not():
    data = make_data(np.random.RandomState(1))
    w_sq, b_sq, _ = train("squared", data)
    w_where, b_where, where_losses = train("huber_where", data)
    w_tf, b_tf, tf_losses = train("huber_losses", data)

    assert abs(w_where - 2.0) < 0.1 and abs(b_where - 1.0) < 0.5
    assert abs(b_sq - 1.0) > 1.5  # the outliers drag the squared-error line down
    assert where_losses[-1] < 0.5 * where_losses[0]
    # the same formula, so the same training: tf.losses reduces a scalar loss to itself
    np.testing.assert_allclose([w_tf, b_tf], [w_where, b_where], rtol=1e-5)
    np.testing.assert_allclose(tf_losses, where_losses, rtol=1e-5)
