"""TF1's queue-based input pipelines: limit_epochs and count_up_to, the input producers,
batching (batch, shuffle_batch, the _join and maybe_ forms), queue runners with a
Coordinator and in MonitoredTrainingSession, and a CIFAR-10-style pipeline that trains."""
import numpy as np
import pytest

import graphc as gc
from tests.queue_threads import WAIT, no_thread_left  # noqa: F401 - autouse fixture


def _drain(sess, fetch, limit=1000) -> list:
    """Run ``fetch`` until the input ends (OutOfRangeError)."""
    values = []
    for _ in range(limit):
        try:
            values.append(sess.run(fetch))
        except gc.errors.OutOfRangeError:
            return values
    raise AssertionError("the input did not end")


class _Runners:
    """Queue runners started with a Coordinator, stopped and joined on exit."""

    def __init__(self, sess):
        self.sess, self.coord = sess, gc.train.Coordinator()

    def __enter__(self):
        self.threads = gc.train.start_queue_runners(self.sess, self.coord)
        return self.coord

    def __exit__(self, *exc):
        self.coord.request_stop()
        self.coord.join(self.threads, stop_grace_period_secs=WAIT)


def test_count_up_to_and_limit_epochs(graph):
    counter = gc.Variable(0, name="counter")
    step = gc.count_up_to(counter, 2)
    data = gc.train.limit_epochs(gc.constant([1, 2]), num_epochs=2)
    assert data.op.name == "limit_epochs"
    assert [v.name for v in gc.local_variables()] == ["limit_epochs/epochs:0"]
    with gc.Session() as sess:
        sess.run([gc.global_variables_initializer(), gc.local_variables_initializer()])
        assert [sess.run(step), sess.run(step)] == [0, 1]
        with pytest.raises(gc.errors.OutOfRangeError, match="Reached limit of 2"):
            sess.run(step)
        assert sess.run(counter) == 2
        assert [sess.run(data).tolist() for _ in range(2)] == [[1, 2], [1, 2]]
        with pytest.raises(gc.errors.OutOfRangeError):
            sess.run(data)
    with pytest.raises(ValueError, match="num_epochs must be > 0 not 0"):
        gc.train.limit_epochs(gc.constant([1]), 0)
    with pytest.raises(TypeError, match="int32 or int64"):
        gc.count_up_to(gc.Variable(0.5), 3)


def test_string_input_producer_epochs_and_names(graph):
    q = gc.train.string_input_producer(["a", "b", "c"], num_epochs=2, shuffle=False)
    assert q.name == "input_producer" and q.dtypes == [gc.string]
    [runner] = gc.get_collection(gc.GraphKeys.QUEUE_RUNNERS)
    assert [op.name for op in runner.enqueue_ops] == ["input_producer/input_producer_EnqueueMany"]
    assert runner.close_op.name == "input_producer/input_producer_Close"
    assert runner.cancel_op.name == "input_producer/input_producer_Close_1"
    name = q.dequeue()
    with gc.Session() as sess:
        sess.run(gc.local_variables_initializer())
        with _Runners(sess):
            got = _drain(sess, name)
    assert got == [b"a", b"b", b"c"] * 2
    with pytest.raises(ValueError, match="requires a non-null input tensor"):
        gc.train.string_input_producer([])


def test_shuffled_producers_shuffle_each_epoch_reproducibly(graph):
    def epochs(seed):
        g = gc.Graph()
        with g.as_default():
            index = gc.train.range_input_producer(8, num_epochs=3, seed=seed).dequeue()
            with gc.Session() as sess:
                sess.run(gc.local_variables_initializer())
                with _Runners(sess):
                    return [int(i) for i in _drain(sess, index)]

    got = epochs(5)
    assert [sorted(got[k:k + 8]) for k in (0, 8, 16)] == [list(range(8))] * 3
    assert got[:8] != got[8:16] and epochs(5) == got


def test_slice_input_producer_keeps_rows_together(graph):
    images, labels = np.arange(12.0).reshape(6, 2), np.arange(6)
    image, label = gc.train.slice_input_producer([images, labels], num_epochs=1, seed=2)
    with gc.Session() as sess:
        sess.run(gc.local_variables_initializer())
        with _Runners(sess):
            pairs = _drain(sess, [image, label])
    assert sorted(int(lab) for _, lab in pairs) == list(range(6))
    assert all(img.tolist() == images[lab].tolist() for img, lab in pairs)


def test_slice_input_producer_of_file_names_and_labels(graph):
    """TF1's idiom for image files: a string row is one bytes value (the gather of one
    element of a string vector failed: 'bytes' object has no attribute 'copy')."""
    name, label = gc.train.slice_input_producer([["a.png", "b.png"], [0, 1]], num_epochs=1,
                                                shuffle=False)
    with gc.Session() as sess:
        sess.run(gc.local_variables_initializer())
        with _Runners(sess):
            assert _drain(sess, [name, label]) == [[b"a.png", 0], [b"b.png", 1]]


def test_batch_forms_shapes_and_the_smaller_final_batch(graph):
    values = gc.train.limit_epochs(gc.constant([[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]), 1)
    one = gc.train.batch([values], batch_size=2, enqueue_many=True,
                         allow_smaller_final_batch=True)
    assert isinstance(one, gc.Tensor) and one.shape.as_list() == [None, 2]  # TF1's quirk
    named = gc.train.batch({"x": gc.constant(1.0), "y": gc.constant([1, 2])}, batch_size=4)
    assert sorted(named) == ["x", "y"] and named["y"].shape.as_list() == [4, 2]
    with pytest.raises(ValueError, match="All shapes must be fully defined"):
        gc.train.batch([gc.placeholder(gc.float32, [None])], 4)
    with pytest.raises(ValueError, match="Expected at least one tensor in batch"):
        gc.train.batch([], 4)
    with gc.Session() as sess:
        sess.run(gc.local_variables_initializer())
        with _Runners(sess):
            batches = [b.tolist() for b in _drain(sess, one)]
    assert batches == [[[1, 2], [3, 4]], [[5, 6], [7, 8]], [[9, 10]]]


def test_dynamic_pad_and_maybe_batch(graph):
    lengths = gc.train.range_input_producer(5, num_epochs=1, shuffle=False).dequeue()
    ragged = gc.range(lengths)
    padded = gc.train.batch([ragged], batch_size=5, dynamic_pad=True,
                            allow_smaller_final_batch=True)
    assert padded.shape.as_list() == [None, None]
    evens = gc.train.range_input_producer(6, num_epochs=1, shuffle=False).dequeue()
    kept = gc.train.maybe_batch([evens], gc.equal(evens % 2, 0), batch_size=3,
                                allow_smaller_final_batch=True)
    with gc.Session() as sess:
        sess.run(gc.local_variables_initializer())
        with _Runners(sess):
            [rows] = _drain(sess, padded)
            assert _drain(sess, kept)[0].tolist() == [0, 2, 4]
    assert rows.tolist() == [[0, 0, 0, 0], [0, 0, 0, 0], [0, 1, 0, 0], [0, 1, 2, 0],
                             [0, 1, 2, 3]]


def test_shuffle_batch_join_mixes_inputs(graph):
    a = gc.train.limit_epochs(gc.constant([1, 2, 3, 4]), 1)
    b = gc.train.limit_epochs(gc.constant([10, 20, 30, 40]), 1)
    mixed = gc.train.shuffle_batch_join([[a], [b]], batch_size=2, capacity=10,
                                        min_after_dequeue=2, enqueue_many=True, seed=1,
                                        allow_smaller_final_batch=True)
    joined = gc.train.batch_join([[gc.constant(1)], [gc.constant(2)]], batch_size=4)
    assert joined.shape.as_list() == [4]
    assert len(gc.get_collection(gc.GraphKeys.QUEUE_RUNNERS)[-2].enqueue_ops) == 2
    with pytest.raises(ValueError, match="capacity 10 must be bigger than min_after_dequeue"):
        gc.train.shuffle_batch([gc.constant(1)], 2, capacity=10, min_after_dequeue=10)
    with pytest.raises(TypeError, match="expected types"):
        gc.train.batch_join([[gc.constant(1)], [gc.constant(1.0)]], batch_size=2)
    with gc.Session() as sess:
        sess.run(gc.local_variables_initializer())
        with _Runners(sess):
            got = np.concatenate(_drain(sess, mixed)).tolist()
    assert sorted(got) == [1, 2, 3, 4, 10, 20, 30, 40]


def _cifar_file(path, count, size):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, count).astype(np.uint8)
    pixels = rng.integers(0, 256, (count, 3, size, size)).astype(np.uint8)
    pixels[labels == 1, 0] = 255  # a learnable difference between the classes
    with open(path, "wb") as handle:
        for label, image in zip(labels, pixels):
            handle.write(bytes([label]) + image.tobytes())


def _cifar_inputs(path, size, num_epochs, batch_size):
    """The CIFAR-10 tutorial's input pipeline, as TF1 code writes it."""
    filename_queue = gc.train.string_input_producer([path], num_epochs=num_epochs)
    reader = gc.FixedLengthRecordReader(record_bytes=1 + size * size * 3)
    _, value = reader.read(filename_queue)
    record = gc.decode_raw(value, gc.uint8)
    label = gc.cast(gc.strided_slice(record, [0], [1]), gc.int32)
    depth_major = gc.reshape(gc.strided_slice(record, [1], [1 + size * size * 3]),
                             [3, size, size])
    image = gc.cast(gc.transpose(depth_major, [1, 2, 0]), gc.float32) / 255.0
    label.set_shape([1])
    return gc.train.shuffle_batch([image, label], batch_size=batch_size, num_threads=2,
                                  capacity=40, min_after_dequeue=10, seed=3)


def _model(images, labels, size):
    logits = gc.layers.dense(gc.reshape(images, [-1, size * size * 3]), 2)
    loss = gc.reduce_mean(gc.nn.sparse_softmax_cross_entropy_with_logits(
        labels=gc.reshape(labels, [-1]), logits=logits))
    return loss, gc.train.GradientDescentOptimizer(0.5).minimize(
        loss, global_step=gc.train.get_or_create_global_step())


def test_cifar10_style_pipeline_trains_and_stops_cleanly(graph, tmp_path):
    path = str(tmp_path / "data_batch_1.bin")
    _cifar_file(path, count=50, size=4)
    images, labels = _cifar_inputs(path, size=4, num_epochs=3, batch_size=8)
    assert images.shape.as_list() == [8, 4, 4, 3] and labels.shape.as_list() == [8, 1]
    loss, train = _model(images, labels, 4)
    losses = []
    with gc.Session() as sess:
        sess.run([gc.global_variables_initializer(), gc.local_variables_initializer()])
        coord = gc.train.Coordinator()
        threads = gc.train.start_queue_runners(sess, coord)
        try:
            while not coord.should_stop():
                losses.append(sess.run([loss, train])[0])
        except gc.errors.OutOfRangeError:
            pass  # 3 epochs of 50 records: 18 batches of 8, 6 records left over
        finally:
            coord.request_stop()
        coord.join(threads, stop_grace_period_secs=WAIT)
    assert len(losses) == 18 and np.all(np.isfinite(losses))
    assert np.mean(losses[-5:]) < np.mean(losses[:5])


def test_monitored_training_session_starts_and_stops_the_runners(graph, tmp_path):
    path = str(tmp_path / "data_batch_1.bin")
    _cifar_file(path, count=20, size=2)
    images, labels = _cifar_inputs(path, size=2, num_epochs=None, batch_size=4)
    loss, train = _model(images, labels, 2)
    hooks = [gc.train.StopAtStepHook(last_step=6)]
    steps = 0
    with gc.train.MonitoredTrainingSession(hooks=hooks) as sess:
        while not sess.should_stop():
            sess.run(train)
            steps += 1
    assert steps == 6  # the runners still fill the queues (no epoch limit) when it stops


def test_a_runner_error_stops_the_coordinator_and_join_raises_it(graph, tmp_path):
    filenames = gc.train.string_input_producer([str(tmp_path / "missing.bin")])
    _, contents = gc.WholeFileReader().read(filenames)
    gc.train.batch([contents], batch_size=1)
    with gc.Session() as sess:
        coord = gc.train.Coordinator()
        threads = gc.train.start_queue_runners(sess, coord)
        assert coord.wait_for_stop(WAIT)
        with pytest.raises(gc.errors.NotFoundError, match="missing.bin; No such file"):
            coord.join(threads, stop_grace_period_secs=WAIT)


def test_match_filenames_once_feeds_string_input_producer(graph, tmp_path):
    for name, text in [("a.csv", b"1\n2\n"), ("b.csv", b"3\n"), ("skip.txt", b"x\n")]:
        (tmp_path / name).write_bytes(text)
    files = gc.train.match_filenames_once(str(tmp_path / "*.csv"))
    assert files.name == "matching_filenames:0" and files in gc.local_variables()
    queue = gc.train.string_input_producer(files, num_epochs=1, shuffle=False)
    _, line = gc.TextLineReader().read(queue)
    with gc.Session() as sess:
        sess.run(gc.local_variables_initializer())
        with _Runners(sess):
            assert _drain(sess, line) == [b"1", b"2", b"3"]


def test_an_empty_file_list_fails_its_runner(graph, tmp_path):
    files = gc.train.match_filenames_once(str(tmp_path / "*.none"))
    gc.train.string_input_producer(files)
    with gc.Session() as sess:
        sess.run(gc.local_variables_initializer())
        with pytest.raises(gc.errors.InvalidArgumentError, match="requires a non-null input"):
            with _Runners(sess) as coord:
                assert coord.wait_for_stop(WAIT)
