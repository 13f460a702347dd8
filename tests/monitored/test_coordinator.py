"""tf.train.Coordinator, QueueRunner and start_queue_runners with TF1's semantics: a stop
request reaches every thread, the first error reaches join, OutOfRangeError is a clean
stop, and a runner's threads run its ops until the input ends."""
import threading

import numpy as np
import pytest

import graphc as tf


def test_stop_on_exception_reports_the_error_to_join_and_clean_errors_are_not_errors():
    coord = tf.train.Coordinator()
    started = threading.Event()

    def worker(fail):
        with coord.stop_on_exception():
            started.set()
            if fail:
                raise ValueError("worker broke")
            coord.wait_for_stop()

    threads = [threading.Thread(target=worker, args=(i == 1,)) for i in range(3)]
    for t in threads:
        t.start()
    with pytest.raises(ValueError, match="worker broke"):
        coord.join(threads, stop_grace_period_secs=10)
    assert coord.should_stop() and coord.joined
    assert not any(t.is_alive() for t in threads)

    clean = tf.train.Coordinator()
    with clean.stop_on_exception():
        raise tf.errors.OutOfRangeError(None, None, "End of sequence")
    assert clean.should_stop()
    clean.join([])  # no error to raise
    clean.clear_stop()
    assert not clean.should_stop()


def test_join_names_threads_that_outlive_the_grace_period():
    coord = tf.train.Coordinator()
    release = threading.Event()
    thread = threading.Thread(target=release.wait, name="stubborn")
    thread.start()
    coord.request_stop()
    try:
        with pytest.raises(RuntimeError, match="threads still running: stubborn"):
            coord.join([thread], stop_grace_period_secs=0.01)
    finally:
        release.set()
        thread.join()
    with pytest.raises(ValueError, match="exception"):
        tf.train.Coordinator().request_stop("not an exception")


def test_queue_runner_threads_run_their_op_until_out_of_range_and_then_close():
    tf.reset_default_graph()
    data = tf.data.Dataset.from_tensor_slices(np.arange(6, dtype=np.float32))
    item = data.make_one_shot_iterator().get_next()
    total = tf.Variable(0.0, name="total")
    closed = tf.Variable(False, name="closed")
    runner = tf.train.QueueRunner(enqueue_ops=[tf.assign_add(total, item).op],
                                  close_op=tf.assign(closed, True).op)
    tf.train.add_queue_runner(runner)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        assert len(threads) == 2  # the op's thread and the cancel-on-stop thread
        threads[0].join(30)
        assert sess.run([total, closed]) == [15.0, True]
        coord.request_stop()
        coord.join(threads)
    with pytest.raises(ValueError, match="enqueue_ops"):
        tf.train.QueueRunner()


def test_monitored_session_starts_the_graphs_queue_runners_and_joins_them():
    tf.reset_default_graph()
    counter = tf.Variable(0, name="counter")
    tf.train.add_queue_runner(tf.train.QueueRunner(enqueue_ops=[tf.assign_add(counter, 1).op]))
    with tf.train.MonitoredSession() as sess:
        while sess.run(counter) < 3:
            pass
        threads = list(sess._coord._registered_threads)
        assert threads and all(t.is_alive() for t in threads)
    assert not any(t.is_alive() for t in threads)


def test_a_runner_threads_error_reaches_should_stop_and_close():
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [])  # never fed: the runner's op fails
    tf.train.add_queue_runner(tf.train.QueueRunner(enqueue_ops=[tf.identity(x).op]))
    sess = tf.train.MonitoredSession()
    with pytest.raises(tf.errors.InvalidArgumentError):
        while not sess.should_stop():
            pass
    with pytest.raises(tf.errors.InvalidArgumentError):
        sess.close()
    assert sess.should_stop()


def test_looper_thread_calls_its_target_until_the_coordinator_stops():
    coord = tf.train.Coordinator()
    calls = []
    three = threading.Event()

    def tick(label):
        calls.append(label)
        if len(calls) == 3:
            three.set()

    looper = tf.train.LooperThread.loop(coord, 0.001, target=tick, args=("t",))
    assert three.wait(30)
    coord.request_stop()
    coord.join([looper])
    assert calls[:3] == ["t"] * 3 and not looper.is_alive()

    failing = tf.train.Coordinator()
    tf.train.LooperThread.loop(failing, None, target=lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        failing.join()
    assert tf.train.queue_runner.QueueRunner is tf.train.QueueRunner
