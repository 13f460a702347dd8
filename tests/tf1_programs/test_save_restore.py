"""TF1's classic save/restore tutorial: train a small model, save a checkpoint, then in a fresh
graph either rebuild the model in code or import the meta graph, restore, and predict the same;
unchanged but for the import line."""
import os

import numpy as np

import graphc as tf


def build_model():
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    with tf.variable_scope("hidden"):
        W1 = tf.get_variable("W", [4, 16], initializer=tf.glorot_uniform_initializer(seed=1))
        b1 = tf.get_variable("b", [16], initializer=tf.zeros_initializer())
        hidden = tf.nn.relu(tf.matmul(x, W1) + b1)
    with tf.variable_scope("logits"):
        W2 = tf.get_variable("W", [16, 3], initializer=tf.glorot_uniform_initializer(seed=2))
        b2 = tf.get_variable("b", [3], initializer=tf.zeros_initializer())
        logits = tf.add(tf.matmul(hidden, W2), b2, name="logits")
    predictions = tf.argmax(logits, axis=1, name="predictions")
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y,
                                                                         logits=logits))
    global_step = tf.train.get_or_create_global_step()
    train_op = tf.train.AdamOptimizer(0.05).minimize(loss, global_step=global_step)
    tf.add_to_collection("train_op", train_op)
    return x, y, predictions, train_op


def test_train_save_then_restore_in_a_new_graph_predicts_the_same(tmp_path):
    rng = np.random.RandomState(0)
    features = rng.randn(120, 4).astype(np.float32)
    labels = (features[:, 0] > 0).astype(np.int64) + (features[:, 1] > 0).astype(np.int64)
    checkpoint_dir = str(tmp_path)

    tf.reset_default_graph()
    x, y, predictions, train_op = build_model()
    saver = tf.train.Saver(max_to_keep=3)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(60):
            sess.run(train_op, feed_dict={x: features, y: labels})
            if step % 20 == 19:
                saver.save(sess, os.path.join(checkpoint_dir, "model.ckpt"),
                           global_step=tf.train.get_global_step())
        trained = sess.run(predictions, feed_dict={x: features})
    assert (trained == labels).mean() > 0.9

    # 1. rebuild the same model in code, restore the latest checkpoint
    tf.reset_default_graph()
    x, y, predictions, _ = build_model()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        saver.restore(sess, tf.train.latest_checkpoint(checkpoint_dir))
        np.testing.assert_array_equal(sess.run(predictions, feed_dict={x: features}), trained)
        assert sess.run(tf.train.get_global_step()) == 60

    # 2. no model code: import the meta graph, look tensors up by name, keep training
    tf.reset_default_graph()
    latest = tf.train.get_checkpoint_state(checkpoint_dir).model_checkpoint_path
    saver = tf.train.import_meta_graph(latest + ".meta")
    graph = tf.get_default_graph()
    with tf.Session() as sess:
        saver.restore(sess, latest)
        x = graph.get_tensor_by_name("x:0")
        y = graph.get_tensor_by_name("y:0")
        predictions = graph.get_tensor_by_name("predictions:0")
        np.testing.assert_array_equal(sess.run(predictions, feed_dict={x: features}), trained)
        sess.run(tf.get_collection("train_op")[0], feed_dict={x: features, y: labels})
        assert sess.run(tf.train.get_global_step()) == 61
