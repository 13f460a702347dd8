"""TF1's queues: order, blocking, closing and cancelling, the four kinds, names, errors,
per-Session state, and passes that leave queue ops alone (semantics checked against
TensorFlow 2.21's tf.compat.v1 where they are TF's)."""
import numpy as np
import pytest

import graphc as gc
from graphc import registry
from tests.queue_threads import Background, no_thread_left  # noqa: F401 - autouse fixture


def test_fifo_order_names_and_shapes(graph):
    q = gc.FIFOQueue(10, [gc.int32, gc.float32], shapes=[[], [2]])
    assert q.name == "fifo_queue" and q.dtypes == [gc.int32, gc.float32]
    assert [s.as_list() for s in q.shapes] == [[], [2]] and q.names is None
    enqueue = q.enqueue_many([[1, 2, 3], np.arange(6, dtype=np.float32).reshape(3, 2)])
    x, y = q.dequeue()
    many = q.dequeue_many(2)
    assert (x.op.name, many[0].op.name) == ("fifo_queue_Dequeue", "fifo_queue_DequeueMany")
    assert many[1].shape.as_list() == [2, 2] and q.dequeue_up_to(2)[1].shape.as_list() == [
        None, 2]
    assert enqueue.name == "fifo_queue_EnqueueMany" and q.size().op.name == "fifo_queue_Size"
    with gc.Session() as sess:
        sess.run(enqueue)
        assert sess.run(q.size()) == 3
        first = sess.run([x, y])
        assert first[0] == 1 and first[1].tolist() == [0.0, 1.0]
        rest = sess.run(many)
        assert rest[0].tolist() == [2, 3] and rest[1].tolist() == [[2, 3], [4, 5]]


def test_single_component_gives_a_tensor_and_names_give_dicts(graph):
    single = gc.FIFOQueue(5, gc.int32)
    assert isinstance(single.dequeue(), gc.Tensor)
    named = gc.FIFOQueue(5, [gc.int32, gc.string], shapes=[[], []], names=["n", "s"])
    with pytest.raises(ValueError, match="must enqueue a dictionary"):
        named.enqueue([1, "a"])
    with pytest.raises(ValueError, match="Keys in dictionary to enqueue do not match"):
        named.enqueue({"n": 1})
    out = named.dequeue_many(2)
    with gc.Session() as sess:
        sess.run(named.enqueue_many({"n": [1, 2], "s": ["a", "b"]}))
        got = sess.run(out)
    assert got["n"].tolist() == [1, 2] and got["s"].tolist() == [b"a", b"b"]


def test_build_time_errors_name_the_queue_and_the_line(graph):
    q = gc.FIFOQueue(3, [gc.int32, gc.float32], shapes=[[], [2]])
    with pytest.raises(ValueError, match=r"Shapes \(3,\) and \(2,\) are incompatible.*"
                                         r"component_1 of queue 'fifo_queue'.*test_queues"):
        q.enqueue([1, [1.0, 2.0, 3.0]])
    with pytest.raises(TypeError, match="component_0 of queue 'fifo_queue'"):
        q.enqueue([1.5, [1.0, 2.0]])
    with pytest.raises(ValueError, match="has 2 components"):
        q.enqueue([1])
    with pytest.raises(ValueError, match="must have rank at least 1"):
        q.enqueue_many([1, [1.0, 2.0]])
    with pytest.raises(ValueError, match="fully defined"):
        gc.FIFOQueue(3, gc.int32, shapes=[[None]])
    with pytest.raises(ValueError, match="same length as dtypes"):
        gc.FIFOQueue(3, [gc.int32, gc.int32], shapes=[[], [], []])
    before = len(graph.get_operations())
    with pytest.raises(ValueError):
        q.enqueue([1, [1.0]])
    assert len(graph.get_operations()) == before  # a failed build adds no op


def test_run_time_shape_mismatch_is_an_invalid_argument(graph):
    values = gc.placeholder(gc.int32, [None])
    q = gc.FIFOQueue(5, gc.int32, shapes=[[2]])
    enqueue = q.enqueue(values)
    with gc.Session() as sess:
        with pytest.raises(gc.errors.InvalidArgumentError,
                           match=r"Shape mismatch in tuple component 0. Expected \[2\], "
                                 r"got \[3\].*fifo_queue"):
            sess.run(enqueue, {values: [1, 2, 3]})
        assert sess.run(q.size()) == 0


def test_dequeue_waits_for_an_element(graph):
    q = gc.FIFOQueue(5, gc.int32, shapes=[[]])
    dequeue, enqueue = q.dequeue_many(2), q.enqueue(7)
    with gc.Session() as sess:
        run = Background(lambda: sess.run(dequeue))
        assert run.blocked()
        sess.run(enqueue)
        assert run.blocked()  # one of two
        sess.run(enqueue)
        assert run.result().tolist() == [7, 7]


def test_capacity_blocks_enqueues_and_a_large_batch_goes_through(graph):
    q = gc.FIFOQueue(2, gc.int32, shapes=[[]])
    enqueue = q.enqueue_many([[1, 2, 3, 4, 5]])
    dequeue = q.dequeue()
    with gc.Session() as sess:
        run = Background(lambda: sess.run(enqueue))
        assert run.blocked() and sess.run(q.size()) == 2
        got = [sess.run(dequeue) for _ in range(3)]
        run.result()
        got += [sess.run(dequeue) for _ in range(2)]
        assert got == [1, 2, 3, 4, 5]


def test_close_ends_dequeues_and_enqueues(graph):
    q = gc.FIFOQueue(5, gc.int32, shapes=[[]])
    enqueue, close = q.enqueue_many([[1, 2, 3]]), q.close()
    with gc.Session() as sess:
        sess.run(enqueue)
        sess.run(close)
        assert sess.run(q.is_closed())
        with pytest.raises(gc.errors.CancelledError, match="FIFOQueue 'fifo_queue' is closed"):
            sess.run(q.enqueue(4))
        assert sess.run(q.dequeue()) == 1  # what is left still comes out
        with pytest.raises(gc.errors.OutOfRangeError, match=r"closed and has insufficient "
                                                            r"elements \(requested 3, current "
                                                            r"size 2\)"):
            sess.run(q.dequeue_many(3))
        assert sess.run(q.dequeue_up_to(3)).tolist() == [2, 3]  # the smaller last batch
        with pytest.raises(gc.errors.OutOfRangeError):
            sess.run(q.dequeue_up_to(3))


def test_close_wakes_a_waiting_dequeue_with_out_of_range(graph):
    q = gc.FIFOQueue(5, gc.int32, shapes=[[]])
    dequeue, close = q.dequeue(), q.close()
    with gc.Session() as sess:
        run = Background(lambda: sess.run(dequeue))
        assert run.blocked()
        sess.run(close)
        with pytest.raises(gc.errors.OutOfRangeError):
            run.result()


def test_pending_enqueues_survive_close_unless_cancelled(graph):
    q = gc.FIFOQueue(1, gc.int32, shapes=[[]])
    enqueue, dequeue = q.enqueue_many([[1, 2]]), q.dequeue()
    close, cancel = q.close(), q.close(cancel_pending_enqueues=True)
    assert (close.name, cancel.name) == ("fifo_queue_Close", "fifo_queue_Close_1")
    with gc.Session() as sess:
        run = Background(lambda: sess.run(enqueue))
        assert run.blocked()
        sess.run(close)
        assert run.blocked()  # still pending: a dequeue makes room for it
        assert sess.run(dequeue) == 1
        run.result()
        assert sess.run(dequeue) == 2
    with gc.Session() as sess:
        run = Background(lambda: sess.run(enqueue))
        assert run.blocked()
        sess.run(cancel)
        with pytest.raises(gc.errors.CancelledError, match="Enqueue operation was cancelled"):
            run.result()


def test_closing_the_session_cancels_a_waiting_run(graph):
    q = gc.FIFOQueue(1, gc.int32, shapes=[[]])
    dequeue = q.dequeue()
    sess = gc.Session()
    run = Background(lambda: sess.run(dequeue))
    assert run.blocked()
    sess.close()
    with pytest.raises(gc.errors.CancelledError, match="Dequeue operation was cancelled"):
        run.result()


def test_two_sessions_have_separate_queues_and_shared_names_share_one(graph):
    a = gc.FIFOQueue(5, gc.int32, shapes=[[]], shared_name="common")
    b = gc.FIFOQueue(5, gc.int32, shapes=[[]], shared_name="common")
    own = gc.FIFOQueue(5, gc.int32, shapes=[[]])
    with gc.Session() as first, gc.Session() as second:
        first.run([a.enqueue(1), own.enqueue(2)])
        assert first.run([b.size(), own.size()]) == [1, 1]  # a and b: one queue
        assert second.run([a.size(), own.size()]) == [0, 0]
        assert first.run(b.dequeue()) == 1
    other = gc.FIFOQueue(9, gc.int32, shapes=[[]], shared_name="common")
    with gc.Session() as sess:
        sess.run(a.size())
        with pytest.raises(gc.errors.InvalidArgumentError, match="shared queue 'common'"):
            sess.run(other.size())


def test_random_shuffle_queue_keeps_min_after_dequeue_and_seeds_its_order(graph):
    def orders(seed):
        g = gc.Graph()
        with g.as_default():
            q = gc.RandomShuffleQueue(20, 3, gc.int32, shapes=[[]], seed=seed)
            enqueue, dequeue, close = q.enqueue_many([list(range(10))]), q.dequeue(), q.close()
            assert q.name == "random_shuffle_queue"
            with gc.Session() as sess:
                sess.run(enqueue)
                head = [int(sess.run(dequeue)) for _ in range(7)]
                run = Background(lambda: sess.run(dequeue))
                assert run.blocked()  # 3 left: min_after_dequeue holds them back
                sess.run(close)  # ... until the queue is closed
                tail = [int(run.result())] + sess.run(q.dequeue_up_to(5)).tolist()
        return head + tail

    first = orders(7)
    assert sorted(first) == list(range(10)) and first != list(range(10))
    assert orders(7) == first  # the same order in another graph and Session
    assert orders(8) != first


def test_padding_fifo_queue_pads_batches(graph):
    q = gc.PaddingFIFOQueue(10, [gc.int32, gc.string], shapes=[[None], [None]])
    ints, strings = gc.placeholder(gc.int32, [None]), gc.placeholder(gc.string, [None])
    enqueue = q.enqueue([ints, strings])
    batch = q.dequeue_many(3)
    assert batch[0].shape.as_list() == [3, None]
    with gc.Session() as sess:
        for n in (1, 3, 2):
            sess.run(enqueue, {ints: np.arange(1, n + 1), strings: ["s"] * n})
        padded, words = sess.run(batch)
    assert padded.tolist() == [[1, 0, 0], [1, 2, 3], [1, 2, 0]]
    assert words.tolist() == [[b"s", b"", b""], [b"s", b"s", b"s"], [b"s", b"s", b""]]
    with pytest.raises(ValueError, match="defined rank"):
        gc.PaddingFIFOQueue(3, gc.int32, shapes=[gc.TensorShape(None)])
    with pytest.raises(ValueError, match="needs shapes"):
        gc.PaddingFIFOQueue(3, gc.int32, shapes=None)


def test_priority_queue_gives_smallest_priority_first(graph):
    q = gc.PriorityQueue(10, [gc.string], shapes=[[]])
    assert q.dtypes == [gc.int64, gc.string]
    with gc.Session() as sess:
        sess.run(q.enqueue_many([[5, 1, 3, 1], [b"e", b"a", b"c", b"a2"]]))
        priorities, values = sess.run(q.dequeue_many(4))
    assert priorities.tolist() == [1, 1, 3, 5] and values.tolist() == [b"a", b"a2", b"c", b"e"]
    with pytest.raises(TypeError, match="component_0"):
        q.enqueue([gc.constant(2, gc.int32), "x"])


def test_dequeue_many_needs_shapes(graph):
    q = gc.FIFOQueue(5, gc.int32)
    dequeue = q.dequeue_many(1)
    with gc.Session() as sess:
        sess.run(q.enqueue(1))
        with pytest.raises(gc.errors.InvalidArgumentError, match="require the components to "
                                                                 "have specified shapes"):
            sess.run(dequeue)


def test_queue_ops_are_stateful_for_the_passes(graph):
    """Two dequeues of one queue are neither merged nor folded, and a run of both takes two
    elements; an enqueue fetched as a target is never dropped."""
    queue_ops = [registry.get(name) for name in (
        "queue", "queue_enqueue", "queue_enqueue_many", "queue_dequeue",
        "queue_dequeue_many", "queue_dequeue_up_to", "queue_close", "queue_size",
        "queue_is_closed")]
    assert all(op.stateful and not op.foldable for op in queue_ops)
    q = gc.FIFOQueue(5, gc.int32, shapes=[[]])
    a, b = q.dequeue(), q.dequeue()
    difference = a - a  # x - x -> 0 must still run the dequeue
    with gc.Session() as sess:
        sess.run(q.enqueue_many(gc.constant([1, 2, 3, 4])))
        assert sorted(sess.run([a, b])) == [1, 2]
        assert sess.run(difference) == 0
        assert sess.run(q.size()) == 1
        records = sess.optimization_records([a, b, difference])
    kinds = [op.type for op in records[-1].graph.get_operations()]
    assert kinds.count("queue_dequeue") == 2 and kinds.count("queue") == 1


def test_concurrent_enqueue_many_keep_their_batches_together(graph):
    """Pending enqueues are served in order, so each batch stays contiguous even when four
    threads push into a queue smaller than a batch."""
    q = gc.FIFOQueue(3, gc.int32, shapes=[[]])
    ops = [q.enqueue_many([list(range(10 * k, 10 * k + 10))]) for k in range(4)]
    dequeue = q.dequeue_many(10)
    with gc.Session() as sess:
        runs = [Background(lambda op=op: sess.run(op)) for op in ops]
        batches = sorted(sess.run(dequeue).tolist() for _ in range(4))
        for run in runs:
            run.result()
    assert batches == [list(range(10 * k, 10 * k + 10)) for k in range(4)]


def test_from_list_picks_a_queue_at_run_time(graph):
    train = gc.FIFOQueue(5, gc.int32, shapes=[[]])
    test = gc.FIFOQueue(5, gc.int32, shapes=[[]])
    which = gc.placeholder(gc.int32, [])
    chosen = gc.QueueBase.from_list(which, [train, test])
    value = chosen.dequeue()
    with gc.Session() as sess:
        sess.run([train.enqueue(1), test.enqueue(2)])
        assert [sess.run(value, {which: 1}), sess.run(value, {which: 0})] == [2, 1]
    with pytest.raises(TypeError, match="from_list needs them equal"):
        gc.QueueBase.from_list(which, [train, gc.FIFOQueue(5, gc.float32, shapes=[[]])])


def test_strings_keep_their_bytes_and_dtype(graph):
    """Rows of a string batch stay object arrays of bytes (a NumPy "S" array would drop the
    trailing NUL of a binary record)."""
    q = gc.FIFOQueue(5, gc.string, shapes=[[]])
    records = [b"ab\x00", b"\x00", b"c"]
    with gc.Session() as sess:
        sess.run(q.enqueue_many([records]))
        first = sess.run(q.dequeue())
        rest = sess.run(q.dequeue_many(2))
    assert first == b"ab\x00" and rest.dtype == object and rest.tolist() == [b"\x00", b"c"]
