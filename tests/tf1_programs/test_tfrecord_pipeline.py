"""A TF1 tutorial-style input pipeline over TFRecord files: convert arrays to tf.train.Example
records with TFRecordWriter, read them back with TFRecordDataset, parse_single_example (a
dense, a label and a variable-length sparse feature), shuffle, batch (the sparse feature
batched as a SparseTensor) and train a logistic regression whose token weights are applied
with sparse_tensor_dense_matmul. Unchanged but for the import."""
import numpy as np

import graphc as tf

VOCAB = 10


def make_data(rng, n):
    dense = rng.randn(n, 4).astype(np.float32)
    tokens = [rng.randint(0, VOCAB, size=rng.randint(0, 5)) for _ in range(n)]
    # tokens 0-4 push towards the positive class, 5-9 towards the negative one
    votes = np.array([np.sum(np.where(t < 5, 1.0, -1.0)) for t in tokens], np.float32)
    labels = (dense.dot([1.0, -1.0, 0.5, 0.0]) + votes > 0).astype(np.int64)
    return dense, tokens, labels


def write_tfrecords(path, dense, tokens, labels):
    with tf.python_io.TFRecordWriter(path) as writer:
        for x, t, y in zip(dense, tokens, labels):
            example = tf.train.Example(features=tf.train.Features(feature={
                "x": tf.train.Feature(float_list=tf.train.FloatList(value=x)),
                "tokens": tf.train.Feature(int64_list=tf.train.Int64List(value=t)),
                "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[y])),
            }))
            writer.write(example.SerializeToString())


def parse_fn(record):
    features = {
        "x": tf.FixedLenFeature([4], tf.float32),
        "tokens": tf.VarLenFeature(tf.int64),
        "label": tf.FixedLenFeature([], tf.int64),
    }
    parsed = tf.parse_single_example(record, features)
    return parsed["x"], parsed["tokens"], tf.cast(parsed["label"], tf.float32)


def test_logistic_regression_on_tfrecords_with_a_sparse_feature(tmp_path):
    dense, tokens, labels = make_data(np.random.RandomState(0), 600)
    path = str(tmp_path / "train.tfrecords")
    write_tfrecords(path, dense, tokens, labels)
    tf.reset_default_graph()

    filenames = tf.placeholder(tf.string, shape=[None])
    dataset = tf.data.TFRecordDataset(filenames).map(parse_fn)
    dataset = dataset.shuffle(buffer_size=200, seed=1).batch(50)
    iterator = dataset.make_initializable_iterator()
    x, token_ids, y = iterator.get_next()

    # the batch's tokens as a [batch, VOCAB] multi-hot SparseTensor
    one_hot = tf.SparseTensor(
        indices=tf.stack([token_ids.indices[:, 0], token_ids.values], axis=1),
        values=tf.ones_like(token_ids.values, dtype=tf.float32),
        dense_shape=tf.stack([token_ids.dense_shape[0], VOCAB]))
    W = tf.Variable(tf.zeros([4, 1]), name="weights")
    V = tf.Variable(tf.zeros([VOCAB, 1]), name="token_weights")
    b = tf.Variable(0.0, name="bias")
    logits = tf.squeeze(tf.matmul(x, W) + tf.sparse_tensor_dense_matmul(one_hot, V) + b, 1)
    loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits))
    accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.cast(logits > 0, tf.float32), y),
                                      tf.float32))
    train_op = tf.train.GradientDescentOptimizer(0.5).minimize(loss)

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        epoch_losses = []
        for epoch in range(6):
            sess.run(iterator.initializer, feed_dict={filenames: [path]})
            batch_losses, batch_accuracies = [], []
            while True:
                try:
                    _, batch_loss, batch_accuracy = sess.run([train_op, loss, accuracy])
                except tf.errors.OutOfRangeError:
                    break
                batch_losses.append(batch_loss)
                batch_accuracies.append(batch_accuracy)
            epoch_losses.append(np.mean(batch_losses))
        token_weights = sess.run(V)[:, 0]
    assert len(batch_losses) == 12  # 600 records in batches of 50
    assert epoch_losses[-1] < 0.6 * epoch_losses[0] and np.mean(batch_accuracies) > 0.9, (
        epoch_losses, np.mean(batch_accuracies))
    assert (token_weights[:5] > 0).all() and (token_weights[5:] < 0).all()


def test_inspecting_records_with_tf_record_iterator(tmp_path):
    dense, tokens, labels = make_data(np.random.RandomState(1), 5)
    path = str(tmp_path / "inspect.tfrecords")
    write_tfrecords(path, dense, tokens, labels)
    for record, x, t, y in zip(tf.python_io.tf_record_iterator(path), dense, tokens, labels):
        example = tf.train.Example()
        example.ParseFromString(record)
        feature = example.features.feature
        assert list(feature["tokens"].int64_list.value) == t.tolist()
        assert feature["label"].int64_list.value[0] == y
        np.testing.assert_array_equal(np.array(feature["x"].float_list.value, np.float32), x)
