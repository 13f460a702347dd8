"""tf.train.SessionManager and the worker session creator: prepare (restore or init, then
local init, then the ready check), recover, and wait with a deadline."""
import numpy as np
import pytest

import graphc as tf


def model():
    tf.reset_default_graph()
    w = tf.Variable(np.float32(2.0), name="w")
    count = tf.Variable(0, name="count", collections=[tf.GraphKeys.LOCAL_VARIABLES])
    return w, count


def test_prepare_session_initializes_then_restores(tmp_path):
    w, count = model()
    manager = tf.train.SessionManager(local_init_op=tf.local_variables_initializer(),
                                      ready_op=tf.report_uninitialized_variables())
    saver = tf.train.Saver()
    sess = manager.prepare_session("", init_op=tf.global_variables_initializer(), saver=saver,
                                   checkpoint_dir=str(tmp_path))
    assert sess.run([w, count]) == [2.0, 0]
    sess.run(tf.assign(w, 5.0))
    saver.save(sess, str(tmp_path / "model.ckpt"), global_step=1)
    sess.close()
    restored = manager.prepare_session("", init_op=tf.global_variables_initializer(),
                                       saver=saver, checkpoint_dir=str(tmp_path))
    assert restored.run([w, count]) == [5.0, 0]  # restored, and the local init ran
    again, ready = manager.recover_session("", saver=saver, checkpoint_dir=str(tmp_path))
    assert ready and again.run(w) == 5.0
    empty, ready = manager.recover_session("", saver=saver, checkpoint_dir=str(tmp_path / "x"))
    assert not ready


def test_prepare_session_without_init_or_readiness_is_a_clear_error():
    w, count = model()
    manager = tf.train.SessionManager(ready_op=tf.report_uninitialized_variables())
    with pytest.raises(RuntimeError, match="no init_op or init_fn"):
        manager.prepare_session("")
    with pytest.raises(RuntimeError, match="did not make model ready.*w, count"):
        manager.prepare_session("", init_op=tf.no_op())
    with pytest.raises(ValueError, match="both checkpoint_dir and"):
        manager.prepare_session("", saver=tf.train.Saver(), checkpoint_dir="a",
                                checkpoint_filename_with_path="b")


def test_a_worker_that_never_becomes_ready_times_out():
    w, count = model()
    manager = tf.train.SessionManager(ready_op=tf.report_uninitialized_variables(),
                                      recovery_wait_secs=0.01)
    with pytest.raises(tf.errors.DeadlineExceededError, match="not ready after waiting"):
        manager.wait_for_session("", max_wait_secs=0.05)
    with pytest.raises(tf.errors.DeadlineExceededError):
        tf.train.MonitoredTrainingSession(is_chief=False, max_wait_secs=0)
    assert not tf.get_default_graph().finalized
