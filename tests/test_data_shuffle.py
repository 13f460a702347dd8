"""Dataset.shuffle: TF's buffer semantics, reproducible orders from the op and graph seeds,
reshuffle_each_iteration, and the same order on the element and chunk paths."""
import numpy as np
import pytest

import graphc as gc
from graphc.data.transforms import shuffled
from tests.data_helpers import elements, run_to_end

Dataset = gc.data.Dataset


def test_same_seed_same_order_in_every_session(graph):
    ds = Dataset.range(20).shuffle(8, seed=3)
    first, second = elements(ds), elements(ds)
    assert first == second and sorted(first) == list(range(20)) and first != list(range(20))
    assert elements(Dataset.range(20).shuffle(8, seed=4)) != first


def test_graph_seed_alone_makes_orders_reproducible():
    def order():
        with gc.Graph().as_default():
            gc.set_random_seed(11)
            return elements(Dataset.range(30).shuffle(30))
    assert order() == order()


def test_seedless_shuffles_under_a_graph_seed_differ_from_each_other():
    """TF1 gives each op its own seed from the graph seed; two datasets' shuffles too."""
    def orders():
        with gc.Graph().as_default():
            gc.set_random_seed(5)
            first, second = Dataset.range(30).shuffle(30), Dataset.range(30).shuffle(30)
            return elements(first), elements(second)
    first, second = orders()
    assert first != second and orders() == (first, second)
    with gc.Graph().as_default():  # the same op seed gives the same order (as TF1)
        assert elements(Dataset.range(30).shuffle(30, seed=1)) == \
            elements(Dataset.range(30).shuffle(30, seed=1))


def test_without_any_seed_orders_differ(graph):
    ds = Dataset.range(50).shuffle(50)
    assert elements(ds) != elements(ds)  # equal by chance with probability 1/50!


def test_buffer_semantics():
    """A buffer of 1 keeps the order; with a buffer of k, element i is out only after i-k+1
    others, so the first output is among the first k elements."""
    with gc.Graph().as_default():
        assert elements(Dataset.range(10).shuffle(1, seed=1)) == list(range(10))
        for seed in range(5):
            order = elements(Dataset.range(100).shuffle(4, seed=seed))
            assert order[0] < 4
            assert all(order.index(i) >= i - 3 for i in range(100))


def test_reshuffle_each_iteration_across_repeat_epochs(graph):
    again = elements(Dataset.range(10).shuffle(10, seed=5).repeat(3))
    epochs = [again[i:i + 10] for i in range(0, 30, 10)]
    assert all(sorted(e) == list(range(10)) for e in epochs)
    assert len({tuple(e) for e in epochs}) == 3
    fixed = elements(Dataset.range(10).shuffle(10, seed=5, reshuffle_each_iteration=False)
                     .repeat(3))
    assert fixed[:10] == fixed[10:20] == fixed[20:]
    assert fixed[:10] == epochs[0]  # the first epoch's order is the same either way


def test_reinitialized_iterator_reshuffles_reproducibly(graph):
    """Each initialization is a new pass (a new epoch's order); a new Session starts the
    sequence of orders again."""
    iterator = Dataset.range(10).shuffle(10, seed=2).make_initializable_iterator()
    next_element = iterator.get_next()

    def two_passes():
        with gc.Session() as sess:
            passes = []
            for _ in range(2):
                sess.run(iterator.initializer)
                passes.append(run_to_end(sess, next_element))
            return passes
    first = two_passes()
    assert first[0] != first[1] and sorted(first[1]) == list(range(10))
    assert two_passes() == first


def test_shuffle_before_repeat_stays_within_epochs_and_after_crosses_them(graph):
    within = elements(Dataset.range(6).shuffle(6, seed=1).repeat(2))
    assert sorted(within[:6]) == sorted(within[6:]) == list(range(6))
    across = elements(Dataset.range(6).repeat(2).shuffle(12, seed=1))
    assert sorted(across) == sorted(list(range(6)) * 2)


@pytest.mark.parametrize("batch", [1, 7, 64])
def test_chunked_path_gives_the_element_path_order(graph, batch):
    """from_tensor_slices(...).shuffle(...).batch(...) gathers rows by shuffled index; a
    generator source moves elements one by one; the orders and batches agree."""
    data = np.arange(300, dtype=np.int64)
    by_index = Dataset.from_tensor_slices(data).shuffle(50, seed=9).batch(batch)
    by_element = Dataset.from_generator(lambda: iter(data), gc.int64, []).shuffle(
        50, seed=9).batch(batch)
    assert elements(by_index) == elements(by_element)
    mapped = Dataset.from_tensor_slices(data).map(lambda x: x * 2).shuffle(50, seed=9)
    assert elements(mapped.batch(batch)) == [[2 * v for v in b] for b in elements(by_element)]


def test_shuffled_is_a_permutation_for_every_buffer_size():
    rng = np.random.default_rng(0)
    for size in (1, 2, 5, 1024, 5000):
        order = list(shuffled(range(3000), size, rng))
        assert sorted(order) == list(range(3000))


def test_buffer_size_must_be_positive(graph):
    with pytest.raises(ValueError, match="buffer_size must be > 0"):
        Dataset.range(3).shuffle(0)
    size = gc.placeholder(gc.int64, [])
    with pytest.raises(gc.errors.InvalidArgumentError, match="buffer_size must be > 0"):
        elements(Dataset.range(3).shuffle(size), {size: 0})
