"""SparseTensor: construction, fetching (SparseTensorValue) and feeding (sparse_placeholder),
to_dense/sparse_to_dense (index validation), from_dense, reorder, reshape, reduce_sum and
sparse_dense_matmul against dense NumPy, with gradients against central differences."""
import numpy as np
import pytest

import graphc as gc
from tests.data_helpers import arrays

INDICES = [[0, 1], [1, 0], [2, 2]]
VALUES = [1.5, -2.0, 3.0]
SHAPE = [3, 4]
DENSE = np.zeros(SHAPE)
DENSE[tuple(np.array(INDICES).T)] = VALUES


def _run(fetches, feeds=None):
    with gc.Session() as sess:
        return sess.run(fetches, feeds)


def test_fetching_a_sparse_tensor_gives_a_sparse_tensor_value():
    with gc.Graph().as_default():
        st = gc.SparseTensor(INDICES, VALUES, SHAPE)
        assert st.shape.as_list() == SHAPE and st.dtype is gc.float32
        assert st.indices.dtype is gc.int64 and st.dense_shape.dtype is gc.int64
        value, (again,) = _run([st, (st,)])
        with gc.Session():
            evaluated = st.eval()
    assert isinstance(value, gc.SparseTensorValue) and again.values.tolist() == VALUES
    assert value.indices.tolist() == INDICES and value.dense_shape.tolist() == SHAPE
    assert evaluated.values.tolist() == VALUES


@pytest.mark.parametrize("args, match", [
    (([0, 1], VALUES, SHAPE), r"indices must be \[N, rank\]"),
    ((INDICES, VALUES[:2], SHAPE), "3 indices but 2 values"),
    ((INDICES, VALUES, [3, 4, 5]), "indices of rank 2 but a dense_shape of 3 dims"),
])
def test_parts_that_do_not_fit_are_refused(args, match):
    with gc.Graph().as_default():
        with pytest.raises(ValueError, match=match):
            gc.SparseTensor(*args)


@pytest.mark.parametrize("shape", [None, [None, 4], [3, 4]])
def test_sparse_placeholder_is_fed_a_sparse_tensor_value(shape):
    with gc.Graph().as_default():
        sp = gc.sparse_placeholder(gc.float64, shape)
        dense = gc.sparse.to_dense(sp)
        total = gc.sparse.reduce_sum(sp)
        fed = gc.SparseTensorValue(np.array(INDICES), np.array(VALUES), np.array(SHAPE))
        out, sum_ = _run([dense, total], {sp: fed})
        assert out.tolist() == DENSE.tolist() and sum_ == sum(VALUES)
        out = _run(dense, {sp: (INDICES, VALUES, SHAPE)})  # a plain triple too
        assert out.tolist() == DENSE.tolist()
        with pytest.raises(TypeError, match="fed a SparseTensorValue"):
            _run(dense, {sp: DENSE})


def test_to_dense_and_sparse_to_dense():
    with gc.Graph().as_default():
        st = gc.SparseTensor(INDICES, np.array(VALUES), SHAPE)
        dense = gc.sparse.to_dense(st, default_value=7.0)
        legacy = gc.sparse_tensor_to_dense(st)
        vector = gc.sparse_to_dense([1, 3], [5], 1.0)                  # a vector of indices
        scalar = gc.sparse_to_dense(2, [4], 9, default_value=-1)       # one index
        matrix = gc.sparse_to_dense(INDICES, SHAPE, np.array(VALUES))
        out = _run([dense, legacy, vector, scalar, matrix])
    assert out[0].tolist() == np.where(DENSE != 0, DENSE, 7.0).tolist()
    assert out[1].tolist() == DENSE.tolist() and out[4].tolist() == DENSE.tolist()
    assert out[2].tolist() == [0, 1, 0, 1, 0] and out[3].tolist() == [-1, -1, 9, -1]


@pytest.mark.parametrize("indices, match", [
    ([[1, 0], [0, 1]], r"indices\[1\] = \[0, 1\] is out of order; .*gc.sparse.reorder"),
    ([[0, 1], [0, 1]], r"indices\[1\] = \[0, 1\] is repeated"),
    ([[0, 1], [3, 0]], r"indices\[1\] = \[3, 0\] is out of bounds: need 0 <= index < \[3, 4\]"),
])
def test_to_dense_checks_the_indices(indices, match):
    with gc.Graph().as_default():
        st = gc.SparseTensor(indices, [1.0, 2.0], SHAPE)
        with pytest.raises(gc.errors.InvalidArgumentError, match=match):
            _run(gc.sparse.to_dense(st))
        if "bounds" not in match:  # without validation the last value at an index wins
            dense = _run(gc.sparse.to_dense(st, validate_indices=False))
            assert dense[tuple(indices[1])] == 2.0


def test_reorder_sorts_row_major_and_passes_the_gradient_back():
    with gc.Graph().as_default():
        values = gc.constant([3.0, 1.0, 2.0], gc.float64)
        st = gc.SparseTensor([[2, 2], [0, 1], [1, 0]], values, SHAPE)
        ordered = gc.sparse.reorder(st)
        weights = gc.constant(np.arange(12.0).reshape(SHAPE))
        loss = gc.reduce_sum(gc.sparse.to_dense(ordered) * weights)
        (grad,) = gc.gradients(loss, [values])
        out, grad = _run([ordered, grad])
    assert out.indices.tolist() == [[0, 1], [1, 0], [2, 2]] and out.values.tolist() == [1, 2, 3]
    assert grad.tolist() == [10.0, 1.0, 4.0]  # the weights at each value's own index


def test_reshape_keeps_row_major_positions():
    with gc.Graph().as_default():
        st = gc.SparseTensor(INDICES, VALUES, SHAPE)
        flat = gc.sparse.reshape(st, [-1])
        wide = gc.sparse.reshape(st, [2, 6])
        out = _run([gc.sparse.to_dense(flat), gc.sparse.to_dense(wide), wide.dense_shape])
        with pytest.raises(gc.errors.InvalidArgumentError, match="cannot reshape"):
            _run(gc.sparse.reshape(st, [5, -1]).indices)
        with pytest.raises(gc.errors.InvalidArgumentError, match="at most one dim"):
            _run(gc.sparse.reshape(st, [-1, -1]).indices)
    assert out[0].tolist() == DENSE.reshape(-1).tolist()
    assert out[1].tolist() == DENSE.reshape(2, 6).tolist() and out[2].tolist() == [2, 6]


def test_from_dense_round_trip_and_gradient():
    with gc.Graph().as_default():
        x = gc.constant(DENSE)
        st = gc.sparse.from_dense(x)
        (grad,) = gc.gradients(gc.reduce_sum(st.values * st.values), [x])
        out, back, grad = _run([st, gc.sparse.to_dense(st), grad])
    assert out.indices.tolist() == INDICES and out.values.tolist() == VALUES
    assert back.tolist() == DENSE.tolist() and grad.tolist() == (2 * DENSE).tolist()


@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (1, True), (-1, False),
                                            ((0, 1), True)])
def test_reduce_sum_matches_dense_and_its_gradient(axis, keepdims):
    with gc.Graph().as_default():
        values = gc.constant(VALUES, gc.float64)
        st = gc.SparseTensor(INDICES, values, SHAPE)
        total = gc.sparse.reduce_sum(st, axis=axis, keepdims=keepdims)
        expected = DENSE.sum(axis=axis, keepdims=keepdims)
        assert total.shape.as_list() == list(expected.shape)
        weights = np.random.default_rng(0).normal(size=expected.shape)
        (grad,) = gc.gradients(gc.reduce_sum(total * weights), [values])
        out, grad = _run([total, grad])
    np.testing.assert_allclose(out, expected)
    weights_full = np.broadcast_to(weights if keepdims else np.expand_dims(
        weights, axis if axis is not None else (0, 1)), SHAPE)
    np.testing.assert_allclose(grad, weights_full[tuple(np.array(INDICES).T)])
    assert gc.sparse_reduce_sum is gc.sparse.reduce_sum


def _matmul_case(adjoint_a, adjoint_b):
    rng = np.random.default_rng(int(adjoint_a) * 2 + int(adjoint_b))
    a_shape = [4, 3] if adjoint_a else [3, 4]
    dense_a = np.zeros(a_shape)
    indices = np.array([[0, 1], [1, 0], [2, 2], [2, 3]] if not adjoint_a else
                       [[0, 1], [1, 0], [2, 2], [3, 2]])
    values = rng.normal(size=len(indices))
    dense_a[tuple(indices.T)] = values
    b = rng.normal(size=(5, 4) if adjoint_b else (4, 5))
    return indices, values, a_shape, dense_a, b


@pytest.mark.parametrize("adjoint_a", [False, True])
@pytest.mark.parametrize("adjoint_b", [False, True])
def test_sparse_dense_matmul_and_its_gradients_match_finite_differences(adjoint_a, adjoint_b):
    indices, values, a_shape, dense_a, b = _matmul_case(adjoint_a, adjoint_b)
    expected = (dense_a.T if adjoint_a else dense_a) @ (b.T if adjoint_b else b)
    cotangent = np.random.default_rng(7).normal(size=expected.shape)

    def loss(values_now, b_now):  # the same product in NumPy, for central differences
        a = np.zeros(a_shape)
        a[tuple(indices.T)] = values_now
        product = (a.T if adjoint_a else a) @ (b_now.T if adjoint_b else b_now)
        return float((product * cotangent).sum())

    with gc.Graph().as_default():
        v, w = gc.constant(values), gc.constant(b)
        product = gc.sparse.sparse_dense_matmul(gc.SparseTensor(indices, v, a_shape), w,
                                                adjoint_a=adjoint_a, adjoint_b=adjoint_b)
        assert product.shape.as_list() == list(expected.shape)
        grads = gc.gradients(gc.reduce_sum(product * cotangent), [v, w])
        out, grad_values, grad_b = _run([product] + grads)
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    eps = 1e-6
    for grad, point, name in ((grad_values, values, "values"), (grad_b, b, "b")):
        numeric = np.zeros_like(point)
        for flat in range(point.size):
            step = np.zeros(point.size)
            step[flat] = eps
            step = step.reshape(point.shape)
            plus = loss(values + step, b) if name == "values" else loss(values, b + step)
            minus = loss(values - step, b) if name == "values" else loss(values, b - step)
            numeric.reshape(-1)[flat] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8, err_msg=name)


def test_matmul_refuses_mismatched_operands():
    with gc.Graph().as_default():
        st = gc.SparseTensor(INDICES, VALUES, SHAPE)
        with pytest.raises(TypeError, match="one numeric dtype"):
            gc.sparse.sparse_dense_matmul(st, gc.constant(np.ones((4, 2))))  # float64 b
        with pytest.raises(ValueError, match="b must be a matrix"):
            gc.sparse.matmul(st, np.ones(4, np.float32))
        with pytest.raises(gc.errors.InvalidArgumentError, match="cannot multiply A of shape"):
            _run(gc.sparse_tensor_dense_matmul(st, np.ones((3, 2), np.float32)))
        with pytest.raises(TypeError, match="expected a SparseTensor"):
            gc.sparse.to_dense(DENSE)


def test_sparse_tensors_in_a_dataset_become_dense_before_batching():
    with gc.Graph().as_default():
        rows = gc.data.Dataset.from_tensor_slices(DENSE.astype(np.float32)).map(
            gc.sparse.from_dense).map(lambda st: gc.sparse.to_dense(st) * 2.0).batch(3)
        element = gc.data.make_one_shot_iterator(rows).get_next()
        out = _run(element)
    assert out.tolist() == (2 * DENSE).tolist()


def test_batching_sparse_elements_as_tensorflow_does():
    with gc.Graph().as_default():
        rows = gc.data.Dataset.from_tensor_slices(DENSE).map(gc.sparse.from_dense).batch(2)
        first, second = arrays(rows)
        whole = _run(gc.sparse.from_dense(DENSE[:2]))
    assert first.indices.tolist() == whole.indices.tolist()
    assert first.values.tolist() == whole.values.tolist()
    assert first.dense_shape.tolist() == [2, 4] and second.dense_shape.tolist() == [1, 4]
    assert second.indices.tolist() == [[0, 2]] and second.values.tolist() == [3.0]


def test_a_dense_shape_stacked_from_an_int64_tensor_and_python_ints():
    with gc.Graph().as_default():
        st = gc.SparseTensor(INDICES, VALUES, SHAPE)
        shape = gc.stack([st.dense_shape[0], 4])  # TF packs the 4 as int64
        assert shape.dtype is gc.int64
        assert _run(shape).tolist() == SHAPE


def test_sparse_times_or_over_a_broadcast_dense_tensor():
    with gc.Graph().as_default():
        st = gc.SparseTensor(INDICES, np.array(VALUES), SHAPE)
        scale = np.arange(1.0, 5.0)                      # [4], broadcast over the rows
        out = _run([st * 2.0, st / scale, st * scale[None, :]])
        with pytest.raises(TypeError, match="SparseTensor \\* SparseTensor is not supported"):
            st * st  # noqa: B018
    assert out[0].values.tolist() == [3.0, -4.0, 6.0]
    np.testing.assert_allclose(out[1].values, np.array(VALUES) / scale[[1, 0, 2]])
    assert out[2].indices.tolist() == INDICES and out[2].dense_shape.tolist() == SHAPE


def test_sparse_matmul_is_the_dense_matmul():
    with gc.Graph().as_default():
        a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(4, 3)
        out = _run(gc.sparse_matmul(a, b, transpose_b=True, a_is_sparse=True))
    np.testing.assert_allclose(out, a @ b.T)
