"""tf.sparse reductions over present values (reduce_max, reduce_*_sparse), softmax,
maximum/minimum and split; the expected values are TensorFlow 2.21's for the same inputs
(run once by hand), and the softmax gradient matches central differences."""
import numpy as np
import pytest

import graphc as gc

X = ([[0, 0], [1, 0], [1, 1]], [-7.0, 4.0, 3.0], [3, 2])  # [[-7, ?], [4, 3], [?, ?]]


def _run(fetches):
    with gc.Session() as sess:
        return sess.run(fetches)


def test_reduce_max_takes_present_values_only():
    with gc.Graph().as_default():
        x = gc.SparseTensor(*X)
        rows, columns, whole, kept = _run([gc.sparse.reduce_max(x, 1), gc.sparse_reduce_max(x, 0),
                                           gc.sparse.reduce_max(x),
                                           gc.sparse.reduce_max(x, 1, keepdims=True)])
        as_sparse = _run([gc.sparse.reduce_max_sparse(x, 1), gc.sparse.reduce_sum_sparse(x, 0)])
    assert rows.tolist() == [-7.0, 4.0, 0.0] and columns.tolist() == [4.0, 3.0]
    assert whole == 4.0 and kept.tolist() == [[-7.0], [4.0], [0.0]]
    assert as_sparse[0].indices.tolist() == [[0], [1]] and as_sparse[0].values.tolist() == [-7, 4]
    assert as_sparse[0].dense_shape.tolist() == [3]
    assert as_sparse[1].values.tolist() == [-3.0, 3.0]


def test_maximum_and_minimum_count_implicit_zeros():
    with gc.Graph().as_default():
        a = gc.SparseTensor([[0, 0], [1, 1]], [-1.0, 5.0], [2, 2])
        b = gc.SparseTensor([[0, 0], [0, 1]], [-3.0, -2.0], [2, 2])
        high, low = _run([gc.sparse.maximum(a, b), gc.sparse_minimum(a, b)])
    assert high.indices.tolist() == [[0, 0], [0, 1], [1, 1]]
    assert high.values.tolist() == [-1.0, 0.0, 5.0] and low.values.tolist() == [-3.0, -2.0, 0.0]


def test_softmax_per_row_and_its_gradient():
    indices, values = [[0, 0], [0, 2], [1, 1]], np.array([1.0, 2.0, 3.0])
    weights = np.array([0.5, -1.0, 2.0])
    with gc.Graph().as_default():
        v = gc.constant(values)
        probs = gc.sparse.softmax(gc.SparseTensor(indices, v, [2, 3]))
        (grad,) = gc.gradients(gc.reduce_sum(probs.values * weights), [v])
        out, grad = _run([probs, grad])
    np.testing.assert_allclose(out.values, [0.26894142, 0.73105858, 1.0], rtol=1e-7)

    def loss(x):
        first = np.exp(x[:2] - x[:2].max())
        return float((np.concatenate([first / first.sum(), [1.0]]) * weights).sum())
    eps = 1e-6
    numeric = [(loss(values + eps * e) - loss(values - eps * e)) / (2 * eps) for e in np.eye(3)]
    np.testing.assert_allclose(grad, numeric, atol=1e-8)


def test_split_gives_the_first_pieces_one_more():
    with gc.Graph().as_default():
        st = gc.SparseTensor([[0, 0], [0, 4], [1, 2]], [1.0, 2.0, 3.0], [2, 5])
        left, right = _run(gc.sparse.split(sp_input=st, num_split=2, axis=1))
        with pytest.raises(ValueError, match="keyword arguments"):
            gc.sparse_split(st, 2, 1)
    assert left.indices.tolist() == [[0, 0], [1, 2]] and left.dense_shape.tolist() == [2, 3]
    assert right.indices.tolist() == [[0, 1]] and right.dense_shape.tolist() == [2, 2]
