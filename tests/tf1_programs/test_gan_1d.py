"""A TF1 tutorial-style GAN on a 1-D Gaussian: generator and discriminator in their own
variable scopes, the discriminator applied twice with ``reuse=True``, and two Adam
optimizers each restricted by ``var_list`` to its network's variables, picked from
``tf.trainable_variables()`` by scope name. Unchanged but for the import line."""
import numpy as np

import graphc as tf

DATA_MEAN, DATA_STDDEV = 4.0, 0.5
BATCH_SIZE = 64
HIDDEN = 16


def dense(x, units, scope, activation=None):
    with tf.variable_scope(scope):
        W = tf.get_variable("W", [x.get_shape()[1], units],
                            initializer=tf.random_normal_initializer(stddev=0.5))
        b = tf.get_variable("b", [units], initializer=tf.constant_initializer(0.0))
        out = tf.matmul(x, W) + b
        return activation(out) if activation is not None else out


def generator(z):
    with tf.variable_scope("generator"):
        h = dense(z, HIDDEN, "h0", tf.nn.relu)
        return dense(h, 1, "out")


def discriminator(x, reuse=False):
    with tf.variable_scope("discriminator", reuse=reuse):
        h = dense(x, HIDDEN, "h0", tf.tanh)
        h = dense(h, HIDDEN, "h1", tf.tanh)
        return dense(h, 1, "out")


def test_gan_moves_the_generated_distribution_onto_the_data():
    tf.reset_default_graph()
    tf.set_random_seed(7)
    rng = np.random.RandomState(7)

    x = tf.placeholder(tf.float32, [None, 1], name="x")
    z = tf.placeholder(tf.float32, [None, 1], name="z")
    G = generator(z)
    D_real = discriminator(x)
    D_fake = discriminator(G, reuse=True)

    d_loss_real = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
        logits=D_real, labels=tf.ones_like(D_real)))
    d_loss_fake = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
        logits=D_fake, labels=tf.zeros_like(D_fake)))
    d_loss = d_loss_real + d_loss_fake
    g_loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
        logits=D_fake, labels=tf.ones_like(D_fake)))

    t_vars = tf.trainable_variables()
    d_vars = [var for var in t_vars if var.name.startswith("discriminator/")]
    g_vars = [var for var in t_vars if var.name.startswith("generator/")]
    d_optim = tf.train.AdamOptimizer(0.005, beta1=0.5).minimize(d_loss, var_list=d_vars)
    g_optim = tf.train.AdamOptimizer(0.005, beta1=0.5).minimize(g_loss, var_list=g_vars)

    assert [v.name for v in g_vars] == ["generator/h0/W:0", "generator/h0/b:0",
                                        "generator/out/W:0", "generator/out/b:0"]
    assert [v.name for v in d_vars] == [f"discriminator/{layer}/{p}:0"
                                        for layer in ("h0", "h1", "out") for p in ("W", "b")]
    assert tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope="discriminator") == d_vars
    assert D_fake.op.name.startswith("discriminator_1/")

    def noise(n):
        return rng.uniform(-1.0, 1.0, (n, 1)).astype(np.float32)

    def data(n):
        return rng.normal(DATA_MEAN, DATA_STDDEV, (n, 1)).astype(np.float32)

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        start = sess.run(G, {z: noise(1000)})
        g_before = sess.run(g_vars)
        sess.run(d_optim, {x: data(BATCH_SIZE), z: noise(BATCH_SIZE)})
        assert all(np.array_equal(a, b) for a, b in zip(g_before, sess.run(g_vars)))
        d_before = sess.run(d_vars)
        sess.run(g_optim, {z: noise(BATCH_SIZE)})
        assert all(np.array_equal(a, b) for a, b in zip(d_before, sess.run(d_vars)))
        for _ in range(600):
            sess.run(d_optim, {x: data(BATCH_SIZE), z: noise(BATCH_SIZE)})
            sess.run(g_optim, {z: noise(BATCH_SIZE)})
        samples = sess.run(G, {z: noise(1000)})
    assert abs(start.mean() - DATA_MEAN) > 3.0
    assert abs(samples.mean() - DATA_MEAN) < 0.5
    assert samples.std() < 2.0
