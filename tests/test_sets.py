"""tf.sets (graphc/sets.py, graphc/ops/sets.py) against Python's sets, row by row."""
import itertools

import numpy as np
import pytest

import graphc as gc

RNG = np.random.default_rng(9)
PYTHON = {"intersection": lambda a, b: a & b, "union": lambda a, b: a | b,
          "a-b": lambda a, b: a - b, "b-a": lambda a, b: b - a}


def rows_of_sparse(value, leading):
    """Each row's set of a SparseTensorValue, by leading index."""
    rows = {index: set() for index in itertools.product(*map(range, leading))}
    for index, v in zip(value.indices.tolist(), value.values.tolist()):
        rows[tuple(index[:-1])].add(v)
    return rows


def check_result(value, want_rows, leading):
    """Sorted rows from column 0, the width of the largest, int64 parts."""
    assert value.indices.dtype == np.int64 and value.dense_shape.dtype == np.int64
    width = max((len(r) for r in want_rows.values()), default=0)
    assert value.dense_shape.tolist() == [*leading, width]
    got = {}
    for index, v in zip(value.indices.tolist(), value.values.tolist()):
        got.setdefault(tuple(index[:-1]), []).append((index[-1], v))
    for row, want in want_rows.items():
        entries = got.get(row, [])
        assert [c for c, _ in entries] == list(range(len(want)))
        assert [v for _, v in entries] == sorted(want)


def dense_rows(array):
    leading = array.shape[:-1]
    return {index: set(array[index].tolist()) for index in itertools.product(*map(range, leading))}


def call(operation, a, b):
    if operation in ("a-b", "b-a"):
        return gc.sets.difference(a, b, aminusb=operation == "a-b")
    return getattr(gc.sets, operation)(a, b)


@pytest.mark.parametrize("operation", list(PYTHON))
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 6), (3, 1), (2, 0)])
def test_dense_operands(operation, shape):
    a = RNG.integers(0, 6, size=shape).astype(np.int32)
    b = RNG.integers(0, 6, size=shape[:-1] + (3,)).astype(np.int32)
    with gc.Graph().as_default():
        result = call(operation, a, b)
        with gc.Session() as sess:
            value = sess.run(result)
    want = {row: PYTHON[operation](dense_rows(a)[row], dense_rows(b)[row])
            for row in dense_rows(a)}
    assert value.values.dtype == np.int32
    check_result(value, want, shape[:-1])


def random_sparse(leading, width, dtype=np.int64):
    cells = [index for index in itertools.product(*map(range, leading + (width,)))
             if RNG.random() < 0.5]
    indices = np.array(cells, np.int64).reshape(-1, len(leading) + 1)
    values = RNG.integers(0, 5, size=len(cells)).astype(dtype)
    return gc.SparseTensorValue(indices, values, np.array(leading + (width,), np.int64))


@pytest.mark.parametrize("operation", list(PYTHON))
@pytest.mark.parametrize("kinds", ["sparse-sparse", "dense-sparse", "sparse-dense"])
def test_sparse_operands_and_the_swap(operation, kinds):
    leading = (3, 2)
    a_sparse, b_sparse = (k == "sparse" for k in kinds.split("-"))
    a = random_sparse(leading, 4) if a_sparse else RNG.integers(0, 5, (3, 2, 4)).astype(np.int64)
    b = random_sparse(leading, 5) if b_sparse else RNG.integers(0, 5, (3, 2, 5)).astype(np.int64)
    a_rows = rows_of_sparse(a, leading) if a_sparse else dense_rows(a)
    b_rows = rows_of_sparse(b, leading) if b_sparse else dense_rows(b)
    with gc.Graph().as_default():
        result = call(operation, a, b)
        with gc.Session() as sess:
            value = sess.run(result)
    check_result(value, {row: PYTHON[operation](a_rows[row], b_rows[row]) for row in a_rows},
                 leading)


def test_strings_and_sizes():
    a = np.array([[b"cat", b"dog", b"cat"], [b"ant", b"bee", b"cow"]], dtype=object)
    b = np.array([[b"dog", b"eel"], [b"fox", b"ant"]], dtype=object)
    with gc.Graph().as_default():
        union = gc.sets.set_union(a, b)
        sizes = gc.sets.set_size(union)
        common = gc.sets.set_intersection(a, b)
        with gc.Session() as sess:
            union_value, size_value, common_value = sess.run([union, sizes, common])
    assert size_value.tolist() == [3, 4] and size_value.dtype == np.int32
    assert common_value.values.tolist() == [b"dog", b"ant"]
    assert union_value.values.tolist() == [b"cat", b"dog", b"eel", b"ant", b"bee", b"cow",
                                           b"fox"]


def test_size_counts_distinct_values_of_a_sparse_tensor():
    st = gc.SparseTensorValue(np.array([[0, 0, 0], [0, 0, 2], [1, 1, 0], [1, 1, 1]]),
                              np.array([7, 7, 1, 2], np.int32), np.array([2, 2, 3]))
    with gc.Graph().as_default():
        with gc.Session() as sess:
            assert sess.run(gc.sets.size(st)).tolist() == [[1, 0], [0, 2]]
        with pytest.raises(TypeError, match="expected a SparseTensor"):
            gc.sets.size(np.ones((2, 2), np.int32))


def test_bad_operands_are_named():
    with gc.Graph().as_default():
        with pytest.raises(TypeError, match="invalid dtype float32"):
            gc.sets.union(np.ones((2, 2), np.float32), np.ones((2, 2), np.float32))
        with pytest.raises(TypeError, match="types don't match, int32 vs int64"):
            gc.sets.union(np.ones((2, 2), np.int32), np.ones((2, 2), np.int64))
        with pytest.raises(ValueError, match="rank 2 or more"):
            gc.sets.intersection(np.ones(3, np.int32), np.ones(3, np.int32))
        mismatched = gc.sets.union(np.ones((2, 2), np.int32), np.ones((3, 2), np.int32))
        unordered = gc.sets.union(gc.SparseTensor([[1, 0], [0, 0]], [1, 2], [2, 2]),
                                  gc.SparseTensor([[0, 0]], [1], [2, 2]))
        with gc.Session() as sess:
            with pytest.raises(gc.errors.InvalidArgumentError, match="same dimensions"):
                sess.run(mismatched)
            with pytest.raises(gc.errors.InvalidArgumentError, match="out of order"):
                sess.run(unordered)
