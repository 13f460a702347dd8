"""tf.data sources and transformations: the elements, static structures and TF1's epoch
semantics of batch/repeat/take/skip, padded_batch, filter and the traced map function."""
import numpy as np
import pytest

import graphc as gc
from tests.data_helpers import elements

Dataset = gc.data.Dataset


def test_range_forms_and_int64_scalars(graph):
    assert elements(Dataset.range(4)) == [0, 1, 2, 3]
    assert elements(Dataset.range(2, 5)) == [2, 3, 4]
    assert elements(Dataset.range(10, 0, -4)) == [10, 6, 2]
    ds = Dataset.range(3)
    assert ds.output_types is gc.int64 and ds.output_shapes == ()
    with pytest.raises(ValueError, match="step"):
        Dataset.range(0, 3, 0)


def test_from_tensor_slices_structures_and_dtypes(graph):
    """Tuples and dicts are structures; a Python list is one component (TF1); NumPy arrays
    keep their dtype, Python floats become float32."""
    x, y = np.arange(6.0).reshape(3, 2), np.array([7, 8, 9])
    ds = Dataset.from_tensor_slices((x, y))
    assert ds.output_types == (gc.float64, gc.int64)
    assert ds.output_shapes == ((2,), ())
    assert elements(ds) == [([0.0, 1.0], 7), ([2.0, 3.0], 8), ([4.0, 5.0], 9)]
    ds = Dataset.from_tensor_slices({"b": [1.5, 2.5], "a": [[1, 2], [3, 4]]})
    assert ds.output_types == {"a": gc.int32, "b": gc.float32}
    assert elements(ds) == [{"a": [1, 2], "b": 1.5}, {"a": [3, 4], "b": 2.5}]
    assert Dataset.from_tensor_slices([[1, 2], [3, 4]]).output_shapes == (2,)


def test_from_tensor_slices_copies_the_array_and_checks_dims(graph):
    data = np.arange(3)
    ds = Dataset.from_tensor_slices(data)
    data[0] = 100  # TF1 embeds a copy: later changes to the array do not show
    assert elements(ds) == [0, 1, 2]
    with pytest.raises(ValueError, match="dimension 0"):
        Dataset.from_tensor_slices((np.zeros(3), np.zeros(4)))
    with pytest.raises(ValueError, match="rank >= 1"):
        Dataset.from_tensor_slices(np.float32(1.0))


def test_from_tensors_is_one_element(graph):
    ds = Dataset.from_tensors((np.arange(3), 5))
    assert ds.output_shapes == ((3,), ())
    assert elements(ds) == [([0, 1, 2], 5)]


def test_zip_nested_and_concatenate(graph):
    a, b = Dataset.range(3), Dataset.range(10, 20)
    assert elements(Dataset.zip((a, {"b": b}))) == [(0, {"b": 10}), (1, {"b": 11}),
                                                   (2, {"b": 12})]
    assert elements(a.concatenate(Dataset.range(5, 7))) == [0, 1, 2, 5, 6]
    with pytest.raises(TypeError, match="different types"):
        a.concatenate(Dataset.from_tensor_slices(np.zeros(2, np.float32)))


def test_batch_shapes_and_drop_remainder(graph):
    ds = Dataset.from_tensor_slices(np.arange(10).reshape(5, 2))
    assert ds.batch(2).output_shapes == (None, 2)
    assert ds.batch(2, drop_remainder=True).output_shapes == (2, 2)
    assert elements(ds.batch(2)) == [[[0, 1], [2, 3]], [[4, 5], [6, 7]], [[8, 9]]]
    assert elements(ds.batch(2, drop_remainder=True)) == [[[0, 1], [2, 3]], [[4, 5], [6, 7]]]
    with pytest.raises(ValueError, match="batch_size must be > 0"):
        ds.batch(0)


@pytest.mark.parametrize("chain, expected", [
    (lambda d: d.repeat(2).batch(3), [[0, 1, 2], [3, 4, 0], [1, 2, 3], [4]]),
    (lambda d: d.batch(3).repeat(2), [[0, 1, 2], [3, 4], [0, 1, 2], [3, 4]]),
    (lambda d: d.batch(3, drop_remainder=True).repeat(2), [[0, 1, 2], [0, 1, 2]]),
    (lambda d: d.repeat(3).batch(4, drop_remainder=True), [[0, 1, 2, 3], [4, 0, 1, 2],
                                                            [3, 4, 0, 1]]),
    (lambda d: d.take(2).repeat(2), [0, 1, 0, 1]),
    (lambda d: d.repeat().take(7), [0, 1, 2, 3, 4, 0, 1]),
    (lambda d: d.skip(3).repeat(2), [3, 4, 3, 4]),
    (lambda d: d.take(-1), [0, 1, 2, 3, 4]),
    (lambda d: d.skip(-1), []),
    (lambda d: d.repeat(0), []),
    (lambda d: d.skip(1).take(3).batch(2), [[1, 2], [3]]),
    (lambda d: d.shard(2, 1), [1, 3]),
    (lambda d: d.batch(2).unbatch(), [0, 1, 2, 3, 4]),
])
def test_epoch_boundaries(graph, chain, expected):
    """repeat before batch fills batches across epochs; after batch, each epoch ends with
    its own short batch (unless dropped), as in TF1."""
    assert elements(chain(Dataset.range(5))) == expected
    slices = Dataset.from_tensor_slices(np.arange(5, dtype=np.int64))  # the chunked path
    assert elements(chain(slices)) == expected


def test_experimental_transformations_and_enumerate(graph):
    experimental = gc.data.experimental
    assert elements(Dataset.range(3).apply(experimental.enumerate_dataset(5))) == \
        [(5, 0), (6, 1), (7, 2)]
    assert elements(Dataset.range(4).apply(experimental.map_and_batch(
        lambda x: x * 10, 3))) == [[0, 10, 20], [30]]
    shuffled = elements(Dataset.range(4).apply(experimental.shuffle_and_repeat(4, 2, seed=1)))
    assert sorted(shuffled[:4]) == sorted(shuffled[4:]) == [0, 1, 2, 3]
    assert elements(Dataset.range(4).batch(3).apply(experimental.unbatch())) == [0, 1, 2, 3]
    with pytest.raises(TypeError, match="must return a Dataset"):
        Dataset.range(2).apply(lambda ds: 3)


def test_repeat_forever_of_an_empty_dataset_ends(graph):
    assert elements(Dataset.range(0).repeat()) == []


def test_padded_batch_pads_to_the_longest_or_the_given_shape(graph):
    def gen():
        for n in (1, 3, 2):
            yield np.arange(1, n + 1), n

    ds = Dataset.from_generator(gen, (gc.int32, gc.int32), ([None], []))
    longest = ds.padded_batch(2, padded_shapes=([None], []), padding_values=(-1, 0))
    assert longest.output_shapes == ((None, None), (None,))
    assert elements(longest) == [([[1, -1, -1], [1, 2, 3]], [1, 3]), ([[1, 2]], [2])]
    fixed = ds.padded_batch(3, padded_shapes=([4], []), drop_remainder=True)
    assert fixed.output_shapes == ((3, 4), (3,))
    assert elements(fixed) == [([[1, 0, 0, 0], [1, 2, 3, 0], [1, 2, 0, 0]], [1, 3, 2])]
    too_small = ds.padded_batch(3, padded_shapes=([2], []))
    with pytest.raises(gc.errors.InvalidArgumentError, match="smaller size"):
        elements(too_small)
    with pytest.raises(ValueError, match="not compatible"):
        Dataset.from_tensor_slices(np.zeros((2, 5))).padded_batch(2, padded_shapes=[3])


def test_batch_of_different_shapes_names_the_component(graph):
    ds = Dataset.from_generator(lambda: iter([[1, 2], [3]]), gc.int32, [None]).batch(2)
    with pytest.raises(gc.errors.InvalidArgumentError,
                       match=r"different shapes in component 0. First element had shape \[2\] "
                             r"and element 1 had shape \[1\]"):
        elements(ds)


def test_filter_with_a_traced_predicate(graph):
    ds = Dataset.range(10).filter(lambda x: gc.equal(x % 3, 0))
    assert elements(ds) == [0, 3, 6, 9]
    pairs = Dataset.from_tensor_slices((np.arange(6), np.arange(6) * 1.5))
    kept = pairs.filter(lambda i, v: v > 4.0)  # a tuple element: positional arguments
    assert elements(kept) == [(3, 4.5), (4, 6.0), (5, 7.5)]
    with pytest.raises(ValueError, match="scalar boolean"):
        Dataset.range(3).filter(lambda x: x + 1)


def test_map_of_tuple_and_dict_elements(graph):
    pairs = Dataset.from_tensor_slices((np.arange(3.0), np.arange(3)))
    mapped = pairs.map(lambda x, y: (x * 2.0, gc.cast(y, gc.float32) + 0.5))
    assert mapped.output_types == (gc.float64, gc.float32)
    assert elements(mapped) == [(0.0, 0.5), (2.0, 1.5), (4.0, 2.5)]
    records = Dataset.from_tensor_slices({"x": np.arange(3), "y": np.arange(3) * 10})
    summed = records.map(lambda r: {"sum": r["x"] + r["y"], "x": r["x"]})
    assert elements(summed) == [{"sum": 0, "x": 0}, {"sum": 11, "x": 1}, {"sum": 22, "x": 2}]
    as_list = Dataset.range(2).map(lambda x: [x, x * 2])  # a returned list becomes a tuple
    assert elements(as_list) == [(0, 0), (1, 2)]


def test_map_traces_once_into_its_own_graph(graph):
    calls = []

    def scale(x):
        calls.append(x)
        return gc.reduce_sum(x) * 2.0

    before = len(graph.get_operations())
    ds = Dataset.from_tensor_slices(np.ones((4, 3), np.float32)).map(scale)
    assert len(calls) == 1 and calls[0].shape == (3,) and calls[0].graph is not graph
    assert len(graph.get_operations()) == before  # nothing added to the user's graph
    assert elements(ds) == [6.0] * 4 and len(calls) == 1


def test_map_captures_tensors_of_the_graph(graph):
    """A placeholder used inside the function is captured: its value is taken when the
    iterator is initialized (TF1)."""
    offset = gc.placeholder(gc.float32, [], name="offset")
    ds = Dataset.from_tensor_slices(np.arange(3, dtype=np.float32)).map(lambda x: x + offset)
    assert elements(ds, {offset: 10.0}) == [10.0, 11.0, 12.0]
    with pytest.raises(ValueError, match="cannot create or assign variables"):
        Dataset.range(3).map(lambda x: gc.Variable(1.0) + 1.0)


def test_map_with_a_random_op_draws_per_element(graph):
    gc.set_random_seed(7)
    ds = Dataset.from_tensor_slices(np.zeros(6, np.float32)).map(
        lambda x: x + gc.random_uniform([])).batch(6)
    (batch,) = elements(ds)
    assert len(set(batch)) == 6 and all(0 <= v < 1 for v in batch)


def test_flat_map_and_interleave(graph):
    ds = Dataset.range(4).flat_map(lambda x: Dataset.from_tensors(x).repeat(x))
    assert elements(ds) == [1, 2, 2, 3, 3, 3]
    rows = Dataset.from_tensor_slices(np.arange(6).reshape(3, 2)).flat_map(
        lambda row: Dataset.from_tensor_slices(row * 10))
    assert elements(rows) == [0, 10, 20, 30, 40, 50]
    # the example of TF's documentation of interleave
    il = Dataset.range(1, 6).interleave(lambda x: Dataset.from_tensors(x).repeat(6),
                                        cycle_length=2, block_length=4)
    assert elements(il) == [1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 3,
                            3, 4, 4, 5, 5, 5, 5, 5, 5]
    with pytest.raises(TypeError, match="must return a Dataset"):
        Dataset.range(2).flat_map(lambda x: x)


def test_from_generator_structures_shapes_and_errors(graph):
    def gen():
        for i in range(3):
            yield {"n": i, "v": [float(i)] * i}

    ds = Dataset.from_generator(gen, {"n": gc.int64, "v": gc.float32},
                                {"n": [], "v": [None]})
    assert ds.output_shapes == {"n": (), "v": (None,)}
    assert elements(ds) == [{"n": 0, "v": []}, {"n": 1, "v": [1.0]}, {"n": 2, "v": [2.0, 2.0]}]
    assert Dataset.from_generator(gen, {"n": gc.int64, "v": gc.float32}).output_shapes == \
        {"n": gc.TensorShape(None), "v": gc.TensorShape(None)}
    wrong_shape = Dataset.from_generator(lambda: iter([[1, 2, 3]]), gc.int32, [2])
    with pytest.raises(gc.errors.InvalidArgumentError, match=r"shape \[3\]"):
        elements(wrong_shape)
    wrong_structure = Dataset.from_generator(lambda: iter([1]), (gc.int32, gc.int32))
    with pytest.raises(gc.errors.InvalidArgumentError, match="did not match the expected"):
        elements(wrong_structure)
    with_args = Dataset.from_generator(lambda n: iter(range(int(n))), gc.int64, [], args=(3,))
    assert elements(with_args) == [0, 1, 2]


def test_cache_replays_the_first_complete_pass(graph):
    made = []

    def gen():
        for i in range(3):
            made.append(i)
            yield i

    ds = Dataset.from_generator(gen, gc.int64, []).cache().repeat(3)
    assert elements(ds) == [0, 1, 2] * 3
    assert made == [0, 1, 2]  # generated once, replayed twice
    assert elements(Dataset.range(3).prefetch(gc.data.experimental.AUTOTUNE)) == [0, 1, 2]


def test_output_structure_properties_and_repr(graph):
    ds = Dataset.from_tensor_slices((np.zeros((4, 3), np.float32), np.zeros(4, np.int64)))
    batched = ds.batch(2)
    assert gc.data.get_output_types(batched) == (gc.float32, gc.int64)
    assert gc.data.get_output_shapes(batched) == ((None, 3), (None,))
    assert gc.data.get_output_classes(batched) == (gc.Tensor, gc.Tensor)
    assert repr(batched) == "<BatchDataset shapes: ((?, 3), (?,)), types: (tf.float32, " \
                            "tf.int64)>"
    with pytest.raises(RuntimeError, match="only supported inside of tf.function"):
        iter(ds)


def test_scalar_arguments_may_be_tensors(graph):
    """batch_size, counts and buffer sizes may be tensors, read at initialization."""
    size = gc.placeholder(gc.int64, [], name="size")
    count = gc.placeholder(gc.int64, [], name="count")
    ds = Dataset.range(5).take(count).batch(size)
    assert ds.output_shapes == (None,)
    assert elements(ds, {size: 2, count: 3}) == [[0, 1], [2]]
    assert elements(ds, {size: 3, count: 5}) == [[0, 1, 2], [3, 4]]
