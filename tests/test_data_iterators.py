"""tf.data iterators as ops on Session state: get_next advances once per run, ends with
OutOfRangeError (changing no variable), initializers with feeds, from_structure switching,
independent Sessions, errors named by the get_next op."""
import threading

import numpy as np
import pytest

import graphc as gc
from tests.data_helpers import plain, run_to_end

Dataset = gc.data.Dataset


def test_get_next_advances_once_per_run_however_many_fetches_use_it(graph):
    x = Dataset.range(10).make_one_shot_iterator().get_next()
    doubled, squared = x * 2, x * x
    total = doubled + squared + x
    with gc.Session() as sess:
        assert plain(sess.run([x, doubled, squared, total])) == [0, 0, 0, 0]
        assert plain(sess.run({"a": total, "b": [x, (x,)]})) == {"a": 4, "b": [1, (1,)]}
        assert plain(sess.run(doubled)) == 4
        assert plain(sess.run([squared, squared])) == [9, 9]


def test_each_get_next_op_advances_on_its_own(graph):
    iterator = Dataset.range(10).make_one_shot_iterator()
    a, b = iterator.get_next(), iterator.get_next()
    with gc.Session() as sess:
        first, second = sess.run([a, b])
        assert sorted([int(first), int(second)]) == [0, 1]
        assert int(sess.run(a)) == 2


def test_out_of_range_at_the_end_and_after(graph):
    x = Dataset.range(2).make_one_shot_iterator().get_next()
    with gc.Session() as sess:
        assert run_to_end(sess, x) == [0, 1]
        with pytest.raises(gc.errors.OutOfRangeError, match="End of sequence") as info:
            sess.run(x)
        assert info.value.op is x.op and info.value.error_code == gc.errors.OUT_OF_RANGE
        assert isinstance(info.value, gc.errors.OpError)


def test_an_exhausted_iterator_changes_no_variable(graph):
    """The run that hits the end raises after ``bump`` ran (it comes first in the plan) but
    before the run's staged writes are published."""
    counter = gc.Variable(0, name="counter")
    total = gc.Variable(0.0, name="total")
    bump = gc.assign_add(counter, 1)  # runs in the same run, before the element is taken
    value = Dataset.from_tensor_slices(np.array([1.0, 2.0], np.float32)) \
        .make_one_shot_iterator().get_next()
    step = gc.group(bump, gc.assign_add(total, value))
    with gc.Session() as sess:
        sess.run(gc.global_variables_initializer())
        sess.run(step)
        sess.run(step)
        with pytest.raises(gc.errors.OutOfRangeError):
            sess.run(step)
        assert plain(sess.run([counter, total])) == [2, 3.0]


def test_initializable_iterator_with_a_new_feed(graph):
    data = gc.placeholder(gc.float32, [None, 2], name="data")
    iterator = Dataset.from_tensor_slices(data).batch(2).make_initializable_iterator()
    batch = iterator.get_next()
    assert batch.shape.as_list() == [None, 2]
    with gc.Session() as sess:
        with pytest.raises(gc.errors.FailedPreconditionError, match="not been initialized"):
            sess.run(batch)
        sess.run(iterator.initializer, {data: np.ones((3, 2))})
        assert run_to_end(sess, batch) == [[[1, 1], [1, 1]], [[1, 1]]]
        sess.run(iterator.initializer, {data: np.full((1, 2), 5.0)})
        assert run_to_end(sess, batch) == [[[5, 5]]]
        sess.run(iterator.initializer, {data: np.arange(4.0).reshape(2, 2)})
        assert plain(sess.run(batch)) == [[0, 1], [2, 3]]  # mid-stream re-initialization
        sess.run(iterator.initializer, {data: np.zeros((2, 2))})
        assert plain(sess.run(batch)) == [[0, 0], [0, 0]]
        with pytest.raises(gc.errors.InvalidArgumentError, match="must feed"):
            sess.run(iterator.initializer)


def test_from_structure_switches_between_datasets(graph):
    train = Dataset.range(100).batch(4)
    test = Dataset.range(1000, 1003).batch(4)
    iterator = gc.data.Iterator.from_structure(train.output_types, train.output_shapes)
    batch = iterator.get_next()
    train_init, test_init = iterator.make_initializer(train), iterator.make_initializer(test)
    with gc.Session() as sess:
        sess.run(train_init)
        assert plain(sess.run(batch)) == [0, 1, 2, 3]
        sess.run(test_init)
        assert run_to_end(sess, batch) == [[1000, 1001, 1002]]
        sess.run(train_init)  # starts over
        assert plain(sess.run(batch)) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="does not have an initializer"):
        iterator.initializer
    with pytest.raises(NotImplementedError, match="no string tensors"):
        iterator.string_handle()


def test_make_initializer_checks_types_shapes_and_structure(graph):
    iterator = gc.data.Iterator.from_structure((gc.int64, gc.float32), ([None], [None, 2]))
    with pytest.raises(TypeError, match="Expected output types"):
        iterator.make_initializer(Dataset.from_tensors((np.zeros(2, np.int64),
                                                        np.zeros((1, 2), np.float64))))
    with pytest.raises(TypeError, match="Expected output shapes compatible"):
        iterator.make_initializer(Dataset.from_tensors((np.zeros(2, np.int64),
                                                        np.zeros((1, 3), np.float32))))
    with pytest.raises(TypeError, match="structure"):
        iterator.make_initializer(Dataset.range(3))
    compatible = Dataset.from_tensors((np.zeros(2, np.int64), np.zeros((5, 2), np.float32)))
    assert iterator.make_initializer(compatible).type == "make_iterator"
    assert iterator.output_shapes == ((None,), (None, 2))


def test_one_shot_iterators_capture_only_constants(graph):
    data = gc.placeholder(gc.float32, [None])
    with pytest.raises(ValueError, match="make_initializable_iterator"):
        Dataset.from_tensor_slices(data).make_one_shot_iterator()
    constant = gc.constant([1.0, 2.0])
    x = gc.data.make_one_shot_iterator(Dataset.from_tensor_slices(constant)).get_next()
    with gc.Session() as sess:
        assert run_to_end(sess, x) == [1.0, 2.0]


def test_sessions_iterate_independently(graph):
    x = Dataset.range(5).make_one_shot_iterator().get_next()
    first, second = gc.Session(), gc.Session()
    assert [int(first.run(x)) for _ in range(3)] == [0, 1, 2]
    assert [int(second.run(x)) for _ in range(2)] == [0, 1]
    assert int(first.run(x)) == 3
    first.close()
    second.close()


def test_closing_the_session_releases_its_iterators(graph):
    """A generator's ``finally`` runs when the Session holding its stream closes (TF1 frees
    iterator resources with the Session)."""
    events = []

    def gen():
        try:
            yield from range(100)
        finally:
            events.append("closed")

    x = Dataset.from_generator(gen, gc.int64, []).make_one_shot_iterator().get_next()
    sess = gc.Session()
    assert int(sess.run(x)) == 0 and events == []
    sess.close()
    assert events == ["closed"]


def test_threads_sharing_an_iterator_take_distinct_elements(graph):
    x = Dataset.range(400).make_one_shot_iterator().get_next()
    seen, lock = [], threading.Lock()
    with gc.Session() as sess:
        def worker():
            for _ in range(100):
                value = int(sess.run(x))
                with lock:
                    seen.append(value)
        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(seen) == list(range(400))


def test_a_failing_map_function_names_get_next_and_the_function(graph):
    ds = Dataset.from_tensor_slices(np.arange(4.0)).map(
        lambda v: gc.check_numerics(gc.log(v - 1.0), "bad log"))
    x = ds.make_one_shot_iterator().get_next()
    with gc.Session() as sess:
        with pytest.raises(gc.errors.InvalidArgumentError) as info:
            sess.run(x)
    assert info.value.op is x.op
    assert "Dataset.map()" in info.value.message and "bad log" in info.value.message


def test_fetched_elements_are_the_callers_own(graph):
    """Rows of a dataset's array and cached elements are copied before a run sees them."""
    x = Dataset.from_tensor_slices(np.zeros((3, 2))).cache().repeat(2) \
        .make_one_shot_iterator().get_next()
    with gc.Session() as sess:
        for _ in range(6):
            value = sess.run(x)
            assert value.tolist() == [0.0, 0.0]
            value += 1.0  # changing what was fetched changes nothing in the pipeline


@pytest.mark.usefixtures("without_batch_regions")
def test_plans_hand_out_get_next_results_without_another_copy(graph):
    """get_next's results are new arrays (fresh_output): unlike other stateful ops' results,
    which are session state, the plan neither copies them for the caller nor keeps them from
    being overwritten in place by an op they die at."""
    from graphc.runtime.plan import Plan  # noqa: E402 - the plan's memory decisions
    x = Dataset.from_tensor_slices(np.zeros((8, 1024), np.float32)).batch(4, True) \
        .make_one_shot_iterator().get_next()
    y = (x + 1.0) * 2.0
    assert Plan(graph, [x], [], []).fetch_aliases == [()]
    plan = Plan(graph, [y], [], [])
    assert [step.in_place for step in plan.steps if step.op.type == "add"] == [0]


def test_iterator_ops_in_the_text_ir_and_names(graph):
    iterator = Dataset.range(3).batch(2).make_initializable_iterator()
    x = iterator.get_next(name="next_batch")
    assert x.op.name == "next_batch" and iterator.initializer.name == "MakeIterator"
    text = graph.as_text()
    assert "iterator_get_next() {iterator='Iterator'" in text
    assert "dataset=<BatchDataset shapes: (?,), types: tf.int64>" in text


def test_optimizer_keeps_iterator_ops(graph):
    """Stateful ops: never folded, merged or dropped when needed, even with every pass on."""
    x = Dataset.range(3).make_one_shot_iterator().get_next()
    y = gc.identity(x) * 1 + 0
    with gc.Session(optimize=True) as sess:
        assert [int(sess.run(y)) for _ in range(3)] == [0, 1, 2]
    with gc.Session(optimize=False) as sess:
        assert [int(sess.run(y)) for _ in range(3)] == [0, 1, 2]
