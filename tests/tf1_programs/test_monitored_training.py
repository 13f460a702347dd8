"""A TF1 tutorial-style training script on MonitoredTrainingSession: a logistic regression
fed by a repeating tf.data pipeline, with the logging, NaN, stop-at-step and summary hooks,
a custom hook that tracks accuracy through SessionRunArgs, chief-only hooks, and a second
run that resumes from the checkpoint. Unchanged but for the import."""
import logging

import numpy as np

import graphc as tf


class AccuracyHook(tf.train.SessionRunHook):
    """Collects the accuracy of every run alongside the training op."""

    def __init__(self, accuracy):
        self._accuracy = accuracy
        self.history = []

    def before_run(self, run_context):
        return tf.train.SessionRunArgs({"accuracy": self._accuracy})

    def after_run(self, run_context, run_values):
        self.history.append(run_values.results["accuracy"])


def build(features, labels):
    tf.reset_default_graph()
    tf.set_random_seed(0)
    dataset = tf.data.Dataset.from_tensor_slices((features, labels)).repeat().batch(64)
    x, y = dataset.make_one_shot_iterator().get_next()
    with tf.variable_scope("logreg"):
        w = tf.get_variable("weights", [4, 1], initializer=tf.zeros_initializer())
        b = tf.get_variable("bias", [1], initializer=tf.zeros_initializer())
    logits = tf.matmul(x, w) + b
    loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits))
    accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.cast(logits > 0, tf.float32), y),
                                      tf.float32))
    tf.summary.scalar("cross_entropy", loss)
    global_step = tf.train.get_or_create_global_step()
    train_op = tf.train.AdamOptimizer(0.05).minimize(loss, global_step=global_step)
    return loss, accuracy, global_step, train_op, w


def train(logdir, last_step, features, labels):
    loss, accuracy, global_step, train_op, w = build(features, labels)
    accuracy_hook = AccuracyHook(accuracy)
    hooks = [tf.train.StopAtStepHook(last_step=last_step), tf.train.NanTensorHook(loss),
             tf.train.LoggingTensorHook({"loss": loss, "step": global_step}, every_n_iter=50),
             accuracy_hook]
    with tf.train.MonitoredTrainingSession(checkpoint_dir=logdir, hooks=hooks,
                                           chief_only_hooks=[tf.train.CheckpointSaverHook(
                                               logdir, save_steps=100)],
                                           save_checkpoint_secs=None,
                                           save_summaries_steps=25) as sess:
        first_step = sess.run(global_step)
        while not sess.should_stop():
            sess.run(train_op)
    return first_step, accuracy_hook.history


def test_monitored_training_trains_logs_summarizes_and_resumes(tmp_path, caplog):
    rng = np.random.RandomState(0)
    features = rng.randn(512, 4).astype(np.float32)
    labels = (features.dot([[1.5], [-2.0], [0.5], [1.0]]) > 0).astype(np.float32)
    tf.logging.set_verbosity(tf.logging.INFO)
    try:
        with caplog.at_level(logging.INFO, logger="graphc"):
            first_step, history = train(str(tmp_path), 200, features, labels)
    finally:
        tf.logging.set_verbosity(tf.logging.WARN)
    assert first_step == 0 and len(history) == 201  # the step's run, then 200 train runs
    assert np.mean(history[-20:]) > 0.95 > np.mean(history[:5])
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("loss = ")]
    assert len(logged) == 5 and "step = 199" in logged[-1]  # runs 0, 50, ..., 200
    saves = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Saving")]
    assert [int(m.split()[3]) for m in saves] == [0, 100, 200]
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("model.ckpt-200")
    steps = [e.step for f in tmp_path.glob("events.out.tfevents.*")
             for e in tf.train.summary_iterator(f)
             if e.HasField("summary") and e.summary.value[0].tag == "cross_entropy"]
    assert sorted(steps) == list(range(0, 201, 25))  # the first run, then every 25 steps

    first_step, history = train(str(tmp_path), 250, features, labels)
    assert first_step == 200 and len(history) == 51  # resumed from the checkpoint
    assert np.mean(history) > 0.95  # trained weights came back
