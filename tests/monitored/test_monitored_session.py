"""MonitoredTrainingSession and its hooks, as TF1 programs use them: the session
initializes or restores, saves checkpoints and summaries on schedule, calls the hooks in
TF1's order with their fetches merged into the caller's run, and ends cleanly on
OutOfRangeError."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import graphc as tf


def linear_model():
    """A one-weight regression with a global step, in a fresh default graph."""
    tf.reset_default_graph()
    x = tf.constant(np.arange(4, dtype=np.float32).reshape(4, 1))
    w = tf.Variable(tf.zeros([1, 1]), name="W")
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - 1.0), name="loss")
    step = tf.train.get_or_create_global_step()
    train_op = tf.train.GradientDescentOptimizer(0.05).minimize(loss, global_step=step)
    return w, loss, step, train_op


class RecordingHook(tf.train.SessionRunHook):
    def __init__(self, log, name, fetches=None, stop_at=None):
        self.log, self.name, self.fetches, self.stop_at = log, name, fetches, stop_at
        self.results = []

    def begin(self):
        self.log.append((self.name, "begin", tf.get_default_graph().finalized))

    def after_create_session(self, session, coord):
        self.log.append((self.name, "after_create_session", session.graph.finalized))

    def before_run(self, run_context):
        self.log.append((self.name, "before_run"))
        return tf.train.SessionRunArgs(self.fetches) if self.fetches is not None else None

    def after_run(self, run_context, run_values):
        self.log.append((self.name, "after_run"))
        self.results.append(run_values.results)
        if self.stop_at is not None and len(self.results) >= self.stop_at:
            run_context.request_stop()

    def end(self, session):
        self.log.append((self.name, "end"))


def test_hooks_are_called_in_tf1_order_with_their_fetches_merged_into_the_run(tmp_path):
    w, loss, step, train_op = linear_model()
    log = []
    first = RecordingHook(log, "first", fetches={"step": step, "loss": loss})
    second = RecordingHook(log, "second", stop_at=2)
    caller_losses = []
    with tf.train.MonitoredSession(hooks=[first, second]) as sess:
        while not sess.should_stop():
            caller_losses.append(sess.run([loss, train_op])[0])
    per_step = [("first", "before_run"), ("second", "before_run"), ("first", "after_run"),
                ("second", "after_run")]
    assert log == [("first", "begin", False), ("second", "begin", False),
                   ("first", "after_create_session", True),
                   ("second", "after_create_session", True)] + per_step * 2 + \
        [("first", "end"), ("second", "end")]
    # the hook's values come from the caller's own run: the step before the increment
    assert [r["step"] for r in first.results] == [0, 1]
    np.testing.assert_allclose([r["loss"] for r in first.results], caller_losses)
    assert second.results == [None, None]
    assert not tf.get_default_graph().finalized  # unfinalized again on close, as TF1


def test_run_after_stop_and_after_close_raise():
    w, loss, step, train_op = linear_model()
    sess = tf.train.MonitoredSession(hooks=[tf.train.StopAtStepHook(num_steps=1)])
    sess.run(train_op)
    assert sess.should_stop()
    with pytest.raises(RuntimeError, match="should_stop"):
        sess.run(train_op)
    sess.close()
    assert sess.should_stop()
    with pytest.raises(RuntimeError, match="already closed"):
        sess.run(train_op)


def test_stop_at_step_hook_counts_from_the_restored_step_and_checks_its_arguments(tmp_path):
    w, loss, step, train_op = linear_model()
    with tf.train.MonitoredTrainingSession(
            checkpoint_dir=str(tmp_path), hooks=[tf.train.StopAtStepHook(last_step=4)]) as sess:
        while not sess.should_stop():
            sess.run(train_op)
    w, loss, step, train_op = linear_model()
    with tf.train.MonitoredTrainingSession(
            checkpoint_dir=str(tmp_path), hooks=[tf.train.StopAtStepHook(num_steps=3)]) as sess:
        assert sess.run(step) == 4
        runs = 0
        while not sess.should_stop():
            sess.run(train_op)
            runs += 1
        assert runs == 3 and sess._tf_sess().run(step) == 7
    with pytest.raises(ValueError, match="One of num_steps or last_step"):
        tf.train.StopAtStepHook()
    with pytest.raises(ValueError, match="Only one of"):
        tf.train.StopAtStepHook(num_steps=1, last_step=2)
    tf.reset_default_graph()
    with pytest.raises(RuntimeError, match="Global step should be created"):
        tf.train.StopAtStepHook(num_steps=1).begin()


TRAIN_SCRIPT = textwrap.dedent("""
    import os, sys
    import numpy as np
    import graphc as tf
    x = tf.constant(np.arange(4, dtype=np.float32).reshape(4, 1))
    w = tf.Variable(tf.zeros([1, 1]), name="W")
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - 1.0))
    step = tf.train.get_or_create_global_step()
    train_op = tf.train.GradientDescentOptimizer(0.05).minimize(loss, global_step=step)
    kill_at = int(sys.argv[2])
    with tf.train.MonitoredTrainingSession(checkpoint_dir=sys.argv[1], save_checkpoint_steps=3,
                                           save_summaries_steps=None, log_step_count_steps=None,
                                           hooks=[tf.train.StopAtStepHook(last_step=12)]) as sess:
        print("start", sess.run(step), flush=True)
        while not sess.should_stop():
            if sess.run(step) == kill_at:
                os._exit(3)  # killed: no hook's end, no final checkpoint
            sess.run(train_op)
    print("done", flush=True)
""")


def test_a_killed_training_resumes_from_its_last_checkpoint(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(TRAIN_SCRIPT)
    run_dir = tmp_path / "run"

    def train(kill_at):
        return subprocess.run([sys.executable, str(script), str(run_dir), str(kill_at)],
                              capture_output=True, text=True, timeout=300)

    killed = train(kill_at=7)
    assert killed.returncode == 3, killed.stderr
    assert "start 0" in killed.stdout
    latest = tf.train.latest_checkpoint(str(run_dir))
    assert latest.endswith("model.ckpt-6")  # saved at 0, 3 and 6; killed before 9
    saved_w = tf.train.load_variable(latest, "W")
    w, loss, step, train_op = linear_model()
    with tf.train.MonitoredTrainingSession(checkpoint_dir=str(run_dir),
                                           save_summaries_steps=None) as sess:
        assert sess.run(step) == 6
        np.testing.assert_array_equal(sess.run(w), saved_w)
        assert saved_w[0, 0] != 0.0
    finished = train(kill_at=-1)
    assert finished.returncode == 0, finished.stderr
    assert "start 6" in finished.stdout and "done" in finished.stdout
    assert tf.train.latest_checkpoint(str(run_dir)).endswith("model.ckpt-12")


def test_checkpoint_and_summaries_are_written_on_schedule(tmp_path):
    w, loss, step, train_op = linear_model()
    tf.summary.scalar("train_loss", loss)
    with tf.train.MonitoredTrainingSession(
            checkpoint_dir=str(tmp_path), save_checkpoint_steps=2, save_summaries_steps=2,
            log_step_count_steps=None,
            hooks=[tf.train.StopAtStepHook(last_step=5)]) as sess:
        while not sess.should_stop():
            sess.run(train_op)
    state = tf.train.get_checkpoint_state(str(tmp_path))
    steps = sorted(int(p.rsplit("-", 1)[1]) for p in state.all_model_checkpoint_paths)
    assert steps == [0, 2, 4, 5]  # at creation, every 2 steps, and at the end
    assert (tmp_path / "graph.pbtxt").exists()
    tf.train.SummaryWriterCache.get(str(tmp_path)).flush()  # the end's events, queued
    events = [e for f in sorted(tmp_path.glob("events.out.tfevents.*"))
              for e in tf.train.summary_iterator(f)]
    loss_steps = [e.step for e in events if e.HasField("summary")
                  for v in e.summary.value if v.tag == "train_loss"]
    assert loss_steps == [1, 3, 5]  # the step after each run that fetched the summary
    checkpoints = [e.step for e in events if e.HasField("session_log") and
                   e.session_log.status == e.session_log.CHECKPOINT]
    assert checkpoints == [0, 2, 4, 5]


def test_nan_loss_raises_and_skips_the_hooks_end():
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [])
    step = tf.train.get_or_create_global_step()
    train_op = tf.assign_add(step, 1)
    log = []
    hook = RecordingHook(log, "watch")
    with pytest.raises(tf.train.NanLossDuringTrainingError, match="NaN loss"):
        with tf.train.MonitoredSession(hooks=[tf.train.NanTensorHook(x), hook]) as sess:
            sess.run(train_op, feed_dict={x: 1.0})
            sess.run(train_op, feed_dict={x: float("nan")})
    assert ("watch", "end") not in log
    stopping = tf.train.NanTensorHook(x, fail_on_nan_loss=False)
    with tf.train.MonitoredSession(hooks=[stopping]) as sess:
        sess.run(train_op, feed_dict={x: float("nan")})
        assert sess.should_stop()


def test_logging_tensor_hook_logs_every_n_iter_and_at_end_with_a_formatter():
    w, loss, step, train_op = linear_model()
    logged = []

    def formatter(values):
        logged.append(dict(values))
        return f"step {values['step']}"

    hook = tf.train.LoggingTensorHook({"step": step, "loss": "loss:0"}, every_n_iter=2,
                                      at_end=True, formatter=formatter)
    with tf.train.MonitoredSession(hooks=[hook]) as sess:
        for _ in range(5):
            sess.run(train_op)
    assert [d["step"] for d in logged] == [0, 2, 4, 5]  # runs 0, 2, 4, then at the end
    assert set(logged[0]) == {"step", "loss"}
    with pytest.raises(ValueError, match="exactly one of every_n_iter"):
        tf.train.LoggingTensorHook([loss])
    with pytest.raises(ValueError, match="invalid every_n_iter"):
        tf.train.LoggingTensorHook([loss], every_n_iter=0)


def test_out_of_range_from_a_dataset_ends_the_loop_and_the_session_cleanly(tmp_path):
    tf.reset_default_graph()
    data = tf.data.Dataset.from_tensor_slices(np.arange(5, dtype=np.float32)).batch(2)
    batch = data.make_one_shot_iterator().get_next()
    step = tf.train.get_or_create_global_step()
    total = tf.Variable(0.0, name="total")
    train_op = tf.group(tf.assign_add(total, tf.reduce_sum(batch)), tf.assign_add(step, 1))
    final = tf.train.FinalOpsHook({"total": total, "step": step})
    runs = 0
    with tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path), hooks=[final],
                                           save_summaries_steps=None) as sess:
        while not sess.should_stop():
            sess.run(train_op)
            runs += 1
    assert runs == 3
    assert final.final_ops_values == {"total": 10.0, "step": 3}
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("model.ckpt-3")  # end's save


def test_feed_fn_hook_feeds_and_feeding_a_tensor_twice_is_an_error():
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [])
    y = x * 2.0
    with tf.train.MonitoredSession(hooks=[tf.train.FeedFnHook(lambda: {x: 3.0})]) as sess:
        assert sess.run(y) == 6.0
        with pytest.raises(RuntimeError, match="fed by a SessionRunHook and user"):
            sess.run(y, feed_dict={x: 1.0})


def test_bad_input_gives_clear_errors_and_changes_nothing(tmp_path):
    w, loss, step, train_op = linear_model()
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    log = []
    with pytest.raises(ValueError, match="checkpoint_dir .* is not a directory"):
        tf.train.MonitoredTrainingSession(checkpoint_dir=str(not_a_dir),
                                          hooks=[RecordingHook(log, "h")])
    assert log == [] and not_a_dir.read_text() == "x"
    assert not tf.get_default_graph().finalized

    class BadFetch(tf.train.SessionRunHook):
        def before_run(self, run_context):
            return tf.train.SessionRunArgs("no_such_tensor:0")

    with tf.train.MonitoredSession(hooks=[BadFetch()]) as sess:
        with pytest.raises((KeyError, ValueError), match="BadFetch.before_run"):
            sess.run(train_op)
        assert sess._tf_sess().run(step) == 0  # nothing ran
    with pytest.raises(ValueError, match="saver and scaffold"):
        tf.train.CheckpointSaverHook(str(tmp_path), save_steps=1, saver=object(),
                                     scaffold=tf.train.Scaffold())
    with pytest.raises(ValueError, match="Exactly one of scaffold or summary_op"):
        tf.train.SummarySaverHook(save_steps=1)


def test_scaffold_init_fn_and_a_failing_init_close_the_session():
    w, loss, step, train_op = linear_model()
    calls = []

    def init_fn(scaffold, sess):
        calls.append(scaffold)
        w.load(np.full((1, 1), 5.0, np.float32), sess)

    scaffold = tf.train.Scaffold(init_fn=init_fn)
    with tf.train.SingularMonitoredSession(scaffold=scaffold) as sess:
        assert sess.raw_session().run(w)[0, 0] == 5.0
    assert calls == [scaffold]
    w, loss, step, train_op = linear_model()
    nothing = tf.train.Scaffold(init_op=tf.no_op())  # initializes no variable
    with pytest.raises(RuntimeError, match="did not make model ready.*W"):
        tf.train.SingularMonitoredSession(scaffold=nothing)
    assert not tf.get_default_graph().finalized


def test_run_step_fn_runs_with_hooks_and_request_stop_ends_the_with_block():
    w, loss, step, train_op = linear_model()
    log, values, after_stop = [], [], []

    def step_fn(step_context):
        if step_context.session.run(step) >= 2:  # the raw session: no hook sees this run
            step_context.request_stop()
        return step_context.run_with_hooks(train_op)

    with tf.train.MonitoredSession(hooks=[RecordingHook(log, "h")]) as sess:
        with pytest.raises(ValueError, match="step_context"):
            sess.run_step_fn(lambda context: None)
        while not sess.should_stop():
            values.append(sess.run_step_fn(step_fn))
        after_stop.append(True)  # not reached: StopIteration leaves the block
    assert values == [None, None] and after_stop == []
    assert log.count(("h", "before_run")) == 2 and log[-1] == ("h", "end")
    assert sess.should_stop() and sess.graph is None


def test_checkpoints_are_saved_without_tensorboard(tmp_path, monkeypatch):
    from graphc.monitored import saving_hooks

    def no_tensorboard():
        raise ImportError("No module named 'tensorboard'")

    monkeypatch.setattr(saving_hooks, "protos", no_tensorboard)
    w, loss, step, train_op = linear_model()
    with tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path), save_checkpoint_steps=2,
                                           hooks=[tf.train.StopAtStepHook(last_step=3)]) as sess:
        while not sess.should_stop():
            sess.run(train_op)
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("model.ckpt-3")
    assert not list(tmp_path.glob("events.out.tfevents.*"))


def test_an_aborted_run_recreates_the_session_from_the_checkpoint(tmp_path):
    w, loss, step, train_op = linear_model()

    class AbortOnce(tf.train.SessionRunHook):
        def __init__(self):
            self.sessions, self.aborted = [], False

        def after_create_session(self, session, coord):
            self.sessions.append(session)

        def before_run(self, run_context):
            if run_context.session.run(step) == 2 and not self.aborted:
                self.aborted = True
                raise tf.errors.AbortedError(None, None, "worker preempted")

    hook = AbortOnce()
    saver = tf.train.CheckpointSaverHook(str(tmp_path), save_steps=1)
    with tf.train.MonitoredSession(session_creator=tf.train.ChiefSessionCreator(
            checkpoint_dir=str(tmp_path)), hooks=[saver, hook]) as sess:
        for _ in range(3):
            sess.run(train_op)
        assert len(hook.sessions) == 2 and hook.sessions[0] is not hook.sessions[1]
        assert sess.run(step) == 3  # resumed at the checkpoint of step 2, then one more run
    w, loss, step, train_op = linear_model()
    hook = AbortOnce()
    with pytest.raises(tf.errors.AbortedError):
        with tf.train.SingularMonitoredSession(hooks=[hook]) as sess:
            for _ in range(3):
                sess.run(train_op)
