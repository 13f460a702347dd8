"""tf.train.Supervisor as TF1 scripts use it (the PTB tutorial's ``managed_session``):
restore or initialize, background checkpoint and summary threads, a clean stop on
OutOfRangeError, errors re-raised after the threads stopped."""
import time

import numpy as np
import pytest

import graphc as tf


def model():
    tf.reset_default_graph()
    w = tf.Variable(np.float32(0.0), name="w")
    step = tf.train.get_or_create_global_step()
    loss = tf.square(w - 3.0)
    tf.summary.scalar("loss_value", loss)
    train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
    return w, step, train_op


def wait_until(condition, seconds=60):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the supervisor's thread did not run"
        time.sleep(0.001)


def events_of(folder):
    return [e for f in sorted(folder.glob("events.out.tfevents.*"))
            for e in tf.train.summary_iterator(f)]


def test_managed_session_initializes_saves_summarizes_and_restores(tmp_path):
    w, step, train_op = model()
    sv = tf.train.Supervisor(logdir=str(tmp_path), save_model_secs=600, save_summaries_secs=600)
    with sv.managed_session() as sess:
        # the checkpoint thread saves at once when it starts
        wait_until(lambda: tf.train.latest_checkpoint(str(tmp_path)) is not None)
        for _ in range(5):
            sess.run(train_op)
        saved_w = sess.run(w)
        sv.saver.save(sess, sv.save_path, global_step=sv.global_step)
        sv.summary_computed(sess, sess.run(sv.summary_op))
    assert sv.should_stop()
    steps = sorted(int(p.rsplit("-", 1)[1]) for p in
                   tf.train.get_checkpoint_state(str(tmp_path)).all_model_checkpoint_paths)
    assert steps == [0, 5]  # the checkpoint thread's first save, then the script's own
    events = events_of(tmp_path)
    logs = [e.session_log.status for e in events if e.HasField("session_log")]
    session_log = tf.summary.SessionLog
    assert logs[0] == session_log.START and logs[-1] == session_log.STOP
    assert session_log.CHECKPOINT in logs
    summaries = [(v.tag, e.step) for e in events if e.HasField("summary")
                 for v in e.summary.value]
    # the summary thread's and the script's values, and the step counter thread's
    assert sorted(tag for tag, _ in summaries) == ["global_step/sec", "loss_value",
                                                   "loss_value"]
    assert ("loss_value", 5) in summaries
    assert any(e.HasField("graph_def") for e in events)

    w, step, train_op = model()
    sv = tf.train.Supervisor(logdir=str(tmp_path), save_model_secs=0, save_summaries_secs=0)
    with sv.managed_session() as sess:
        assert sess.run(step) == 5 and sess.run(w) == saved_w
        assert not sv.should_stop()


def test_out_of_range_is_a_clean_stop_and_other_errors_are_re_raised(tmp_path):
    w, step, train_op = model()
    sv = tf.train.Supervisor(logdir=None)
    with sv.managed_session() as sess:
        sess.run(train_op)
        raise tf.errors.OutOfRangeError(None, None, "End of sequence")
    assert sv.should_stop()
    sv = tf.train.Supervisor(logdir=None, graph=tf.get_default_graph())
    with pytest.raises(ValueError, match="bad batch"):
        with sv.managed_session():
            raise ValueError("bad batch")


def test_loop_threads_stop_with_the_supervisor_and_bad_logdir_is_an_error(tmp_path):
    w, step, train_op = model()
    calls = []
    sv = tf.train.Supervisor(logdir=None)
    with sv.managed_session() as sess:
        looper = sv.loop(0.001, lambda: calls.append(sess.run(step)))
        wait_until(lambda: calls)
    assert not looper.is_alive() and calls[0] == 0
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    w, step, train_op = model()
    with pytest.raises(ValueError, match="not a directory"):
        tf.train.Supervisor(logdir=str(not_a_dir))
    assert not tf.get_default_graph().finalized and not_a_dir.read_text() == "x"
