"""A TF1 tutorial-style variational autoencoder: weights drawn by a Glorot-style
``tf.random_normal`` with a tensor stddev, an encoder giving ``z_mean`` and ``z_std``
(log variance), the reparameterization trick with ``tf.random_normal(tf.shape(...))``, a
Bernoulli reconstruction loss plus the KL term, trained with RMSProp. Unchanged but for the
import line."""
import numpy as np

import graphc as tf

IMAGE_DIM, HIDDEN_DIM, LATENT_DIM = 16, 32, 2
LEARNING_RATE = 0.01
STEPS = 400
BATCH_SIZE = 32


def glorot_init(shape):
    return tf.random_normal(shape=shape, stddev=1. / tf.sqrt(shape[0] / 2.))


def make_images(rng, n):
    """Binary 4x4 "images": four patterns with 5% of the pixels flipped."""
    patterns = np.array([[1, 1, 0, 0] * 4, [0, 0, 1, 1] * 4, [1] * 8 + [0] * 8,
                         [0] * 8 + [1] * 8], np.float32)
    images = patterns[rng.randint(0, 4, n)]
    flips = rng.uniform(size=images.shape) < 0.05
    return np.where(flips, 1 - images, images).astype(np.float32), patterns


def test_vae_trains_with_the_reparameterization_trick():
    rng = np.random.RandomState(5)
    tf.reset_default_graph()
    tf.set_random_seed(5)

    weights = {
        "encoder_h1": tf.Variable(glorot_init([IMAGE_DIM, HIDDEN_DIM])),
        "z_mean": tf.Variable(glorot_init([HIDDEN_DIM, LATENT_DIM])),
        "z_std": tf.Variable(glorot_init([HIDDEN_DIM, LATENT_DIM])),
        "decoder_h1": tf.Variable(glorot_init([LATENT_DIM, HIDDEN_DIM])),
        "decoder_out": tf.Variable(glorot_init([HIDDEN_DIM, IMAGE_DIM])),
    }
    biases = {
        "encoder_b1": tf.Variable(glorot_init([HIDDEN_DIM])),
        "z_mean": tf.Variable(glorot_init([LATENT_DIM])),
        "z_std": tf.Variable(glorot_init([LATENT_DIM])),
        "decoder_b1": tf.Variable(glorot_init([HIDDEN_DIM])),
        "decoder_out": tf.Variable(glorot_init([IMAGE_DIM])),
    }

    input_image = tf.placeholder(tf.float32, shape=[None, IMAGE_DIM])
    encoder = tf.nn.tanh(tf.matmul(input_image, weights["encoder_h1"]) + biases["encoder_b1"])
    z_mean = tf.matmul(encoder, weights["z_mean"]) + biases["z_mean"]
    z_std = tf.matmul(encoder, weights["z_std"]) + biases["z_std"]

    eps = tf.random_normal(tf.shape(z_std), dtype=tf.float32, mean=0., stddev=1.0,
                           name="epsilon")
    z = z_mean + tf.exp(z_std / 2) * eps

    def decode(code):
        hidden = tf.nn.tanh(tf.matmul(code, weights["decoder_h1"]) + biases["decoder_b1"])
        return tf.nn.sigmoid(tf.matmul(hidden, weights["decoder_out"]) + biases["decoder_out"])
    decoder = decode(z)
    mean_decoder = decode(z_mean)

    def vae_loss(x_reconstructed, x_true):
        encode_decode_loss = x_true * tf.log(1e-10 + x_reconstructed) \
            + (1 - x_true) * tf.log(1e-10 + 1 - x_reconstructed)
        encode_decode_loss = -tf.reduce_sum(encode_decode_loss, 1)
        kl_div_loss = 1 + z_std - tf.square(z_mean) - tf.exp(z_std)
        kl_div_loss = -0.5 * tf.reduce_sum(kl_div_loss, 1)
        return tf.reduce_mean(encode_decode_loss + kl_div_loss), tf.reduce_mean(kl_div_loss)

    loss_op, kl_op = vae_loss(decoder, input_image)
    train_op = tf.train.RMSPropOptimizer(learning_rate=LEARNING_RATE).minimize(loss_op)
    assert eps.op.name == "epsilon"

    images, patterns = make_images(rng, 512)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss_op, {input_image: images})
        for step in range(STEPS):
            batch = images[rng.randint(0, len(images), BATCH_SIZE)]
            sess.run(train_op, feed_dict={input_image: batch})
        last, kl = sess.run([loss_op, kl_op], {input_image: images})
        # eps is drawn afresh each run; z_mean is not random
        draws = [sess.run([z, z_mean], {input_image: patterns}) for _ in range(2)]
        reconstructed = sess.run(mean_decoder, {input_image: patterns})

    assert last < 0.5 * first
    assert kl > 0.5  # the latent code carries information about the pattern
    assert not np.allclose(draws[0][0], draws[1][0])
    np.testing.assert_array_equal(draws[0][1], draws[1][1])
    np.testing.assert_array_equal(reconstructed > 0.5, patterns > 0.5)
