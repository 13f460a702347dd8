"""A TF1 tutorial-style logistic regression fed by tf.data: an initializable iterator over
fed arrays, re-initialized every epoch, trained until OutOfRangeError; then a reinitializable
iterator switching between the training and the test set. Unchanged but for the import."""
import numpy as np

import graphc as tf


def make_data(rng, n):
    features = rng.randn(n, 4).astype(np.float32)
    true_w = np.array([[1.5], [-2.0], [0.5], [1.0]], np.float32)
    labels = (features.dot(true_w) + 0.3 > 0).astype(np.float32)
    return features, labels


def model(x, y):
    W = tf.Variable(tf.zeros([4, 1]), name="weights")
    b = tf.Variable(tf.zeros([1]), name="bias")
    logits = tf.matmul(x, W) + b
    loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits))
    prediction = tf.cast(tf.greater(tf.sigmoid(logits), 0.5), tf.float32)
    accuracy = tf.reduce_mean(tf.cast(tf.equal(prediction, y), tf.float32))
    return loss, accuracy


def test_logistic_regression_trains_epoch_by_epoch_until_out_of_range():
    features, labels = make_data(np.random.RandomState(0), 512)
    tf.reset_default_graph()
    tf.set_random_seed(1)

    features_placeholder = tf.placeholder(features.dtype, features.shape)
    labels_placeholder = tf.placeholder(labels.dtype, labels.shape)
    dataset = tf.data.Dataset.from_tensor_slices((features_placeholder, labels_placeholder))
    dataset = dataset.map(lambda f, l: (f * 1.0, l)).shuffle(buffer_size=100).batch(32)
    iterator = dataset.make_initializable_iterator()
    x, y = iterator.get_next()

    loss, accuracy = model(x, y)
    global_step = tf.train.get_or_create_global_step()
    train_op = tf.train.GradientDescentOptimizer(0.5).minimize(loss, global_step=global_step)

    losses = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for epoch in range(5):
            sess.run(iterator.initializer, feed_dict={features_placeholder: features,
                                                      labels_placeholder: labels})
            epoch_loss = []
            while True:
                try:
                    _, batch_loss = sess.run([train_op, loss])
                    epoch_loss.append(batch_loss)
                except tf.errors.OutOfRangeError:
                    break
            losses.append(np.mean(epoch_loss))
        steps = sess.run(global_step)
    # 16 batches an epoch; the runs that hit the end advanced no step
    assert steps == 5 * 16
    assert losses[-1] < losses[0] / 2


def test_reinitializable_iterator_switches_between_train_and_test():
    rng = np.random.RandomState(1)
    train_x, train_y = make_data(rng, 400)
    test_x, test_y = make_data(rng, 100)
    tf.reset_default_graph()

    train_data = tf.data.Dataset.from_tensor_slices((train_x, train_y)).shuffle(400, seed=3) \
        .repeat(3).batch(50)
    test_data = tf.data.Dataset.from_tensor_slices((test_x, test_y)).batch(100)
    iterator = tf.data.Iterator.from_structure(train_data.output_types,
                                               train_data.output_shapes)
    x, y = iterator.get_next()
    train_init = iterator.make_initializer(train_data)
    test_init = iterator.make_initializer(test_data)
    loss, accuracy = model(x, y)
    train_op = tf.train.AdamOptimizer(0.1).minimize(loss)

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(test_init)
        before = sess.run(accuracy)
        sess.run(train_init)
        steps = 0
        while True:
            try:
                sess.run(train_op)
                steps += 1
            except tf.errors.OutOfRangeError:
                break
        sess.run(test_init)
        after = sess.run(accuracy)
    assert steps == 3 * 400 // 50
    assert after > 0.9 and after > before
