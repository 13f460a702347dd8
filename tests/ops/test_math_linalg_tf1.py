"""TF1 semantics of the math and linear-algebra ops of issue 11: TF's integer division
rules, norms, moments, grids, diagonals, and the linalg ops' values and gradients.
Expected values are TensorFlow 2.21's (tf.compat.v1 semantics)."""
import numpy as np
import pytest

import graphc as tf
from tests.ops.test_array_ops_tf1 import run, values

A = [[4.0, 2.0, 0.6], [2.0, 5.0, 1.0], [0.6, 1.0, 3.0]]  # symmetric positive definite
W = [[1.0, -2.0, 0.5], [0.3, 1.0, -1.0], [2.0, 0.1, 1.5]]
B = [[1.0, 2.0], [0.5, -1.0], [3.0, 0.0]]


def test_truncating_and_flooring_integer_division():
    x, y = [7, -7, 7, -7], [2, 2, -2, -2]
    got = run(lambda: [tf.truncatediv(x, y), tf.truncatemod(x, y), tf.floordiv(x, y),
                       tf.floor_div(x, y), tf.floormod(x, y),
                       tf.truncatediv([7.5, -7.5], [2.0, 2.0]),
                       tf.truncatemod([7.5, -7.5], [2.0, -2.0])])
    assert values(*got) == [[3, -3, -3, 3], [1, -1, 1, -1], [3, -4, -4, 3], [3, -4, -4, 3],
                            [1, 1, -1, -1], [3.0, -3.0], [1.5, -1.5]]


@pytest.mark.parametrize("divide", [tf.truncatediv, tf.truncatemod, tf.floordiv, tf.floormod])
def test_integer_division_by_zero_fails_as_in_tf(divide):
    graph = tf.Graph()
    with graph.as_default():
        y = tf.placeholder(tf.int32, [2])
        z = divide(tf.constant([7, 1]), y)
    with tf.Session(graph=graph) as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="Integer division by zero"):
            sess.run(z, {y: [1, 0]})


def test_add_n_and_accumulate_n_over_many_inputs():
    terms = [np.full((2, 3), float(i)) for i in range(150)]

    def build():
        inputs = [tf.placeholder(tf.float64, [None, 3], name=f"term{i}") for i in range(150)]
        return [tf.add_n(inputs), tf.accumulate_n(inputs, shape=[2, 3])]
    got = run(build, lambda g: {g.get_tensor_by_name(f"term{i}:0"): t
                                for i, t in enumerate(terms)})
    np.testing.assert_array_equal(got[0], np.full((2, 3), sum(range(150))))
    np.testing.assert_array_equal(got[1], got[0])
    with tf.Graph().as_default():
        with pytest.raises(TypeError, match=r"add_n.*one dtype.*float32.*float64"):
            tf.add_n([tf.zeros([2]), tf.zeros([2], tf.float64)])
        with pytest.raises(ValueError, match=r"add_n.*one shape"):
            tf.add_n([tf.zeros([2])] * 120 + [tf.zeros([3])])
        with pytest.raises(ValueError, match="accumulate_n: shape"):
            tf.accumulate_n([tf.zeros([2])], shape=[3])


def test_norms():
    m = [[1.0, -2.0], [3.0, 4.0]]
    got = run(lambda: [tf.norm(m, ord=1, axis=[0, 1]), tf.norm(m, ord=np.inf, axis=[0, 1]),
                       tf.norm([1.0, -2.0, 3.0], ord=3), tf.norm(m),
                       tf.norm(m, axis=1, keepdims=True), tf.linalg.norm(m, "fro", [0, 1])])
    np.testing.assert_allclose(got[0], 6.0)
    np.testing.assert_allclose(got[1], 7.0)
    np.testing.assert_allclose(got[2], 3.3019273, rtol=1e-6)
    np.testing.assert_allclose(got[3], 5.477226, rtol=1e-6)
    np.testing.assert_allclose(got[4], [[2.236068], [5.0]], rtol=1e-6)
    np.testing.assert_allclose(got[5], got[3])
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="supported vector norm.*got 'fro'"):
            tf.norm([1.0, 2.0], ord="fro")


def test_moments_counts_grids_and_spacing():
    got = run(lambda: [tf.math.reduce_std([[1.0, 2.0], [3.0, 5.0]], axis=0),
                       tf.math.reduce_variance([[1.0, 2.0], [3.0, 5.0]]),
                       tf.count_nonzero([[0, 1, 2], [0, 0, 3]], axis=1),
                       *tf.meshgrid([1, 2, 3], [4, 5]),
                       *tf.meshgrid([1, 2, 3], [4, 5], indexing="ij"),
                       tf.lin_space(0.0, 1.0, 7)])
    assert values(*got[:7]) == [[1.0, 1.5], 2.1875, [2, 1], [[1, 2, 3], [1, 2, 3]],
                                [[4, 4, 4], [5, 5, 5]], [[1, 1], [2, 2], [3, 3]],
                                [[4, 5], [4, 5], [4, 5]]]
    assert got[2].dtype == np.int64
    np.testing.assert_allclose(got[7], np.linspace(0, 1, 7), rtol=1e-7)
    assert got[7][-1] == 1.0 and got[7].dtype == np.float32


def test_diagonals_bands_eye_and_trace():
    def build():
        batch_eye = tf.eye(2, 3, batch_shape=[2])
        assert batch_eye.shape.as_list() == [2, 2, 3]
        return [tf.diag([[1, 2], [3, 4]]), tf.diag_part(tf.reshape(tf.range(36), [2, 3, 2, 3])),
                tf.matrix_band_part(tf.reshape(tf.range(16), [4, 4]), 1, 0), batch_eye,
                tf.trace([[1.0, 2.0], [3.0, 4.0]]), tf.linalg.diag([1, 2]),
                tf.linalg.set_diag(tf.zeros([2, 3], tf.int32), [5, 6])]
    got = run(build)
    assert got[0].shape == (2, 2, 2, 2) and got[0][1, 0, 1, 0] == 3
    assert values(*got[1:3]) == [[[0, 7, 14], [21, 28, 35]],
                                 [[0, 0, 0, 0], [4, 5, 0, 0], [0, 9, 10, 0], [0, 0, 14, 15]]]
    np.testing.assert_array_equal(got[3], np.broadcast_to(np.eye(2, 3), (2, 2, 3)))
    assert values(*got[4:]) == [5.0, [[1, 0], [0, 2]], [[5, 0, 0], [0, 6, 0]]]


def test_linalg_values():
    got = run(lambda: [tf.linalg.cholesky(tf.constant(A, tf.float64)),
                       tf.linalg.det(tf.constant(A, tf.float64)),
                       *tf.linalg.slogdet(tf.constant([[1.0, 2.0], [3.0, 4.0]], tf.float64)),
                       tf.linalg.logdet(tf.constant(A, tf.float64)),
                       tf.matmul(tf.linalg.inv(tf.constant(A, tf.float64)),
                                 tf.constant(A, tf.float64)),
                       tf.linalg.solve(tf.constant(A, tf.float64), B)])
    np.testing.assert_allclose(got[0], [[2.0, 0.0, 0.0], [1.0, 2.0, 0.0],
                                        [0.3, 0.35, 1.6695807857]], rtol=1e-9)
    np.testing.assert_allclose(got[1], 44.6, rtol=1e-12)
    np.testing.assert_allclose(got[2:4], [-1.0, 0.6931471805599455], rtol=1e-12)
    np.testing.assert_allclose(got[4], np.log(44.6), rtol=1e-12)
    np.testing.assert_allclose(got[5], np.eye(3), atol=1e-12)
    np.testing.assert_allclose(np.asarray(A) @ got[6], B, atol=1e-12)


# TF 2.21's gradients of a scalar objective of each op at A (float64)
TF_GRADIENTS = {
    "cholesky": [[0.2044109944, -0.0466492157, 0.4594240899],
                 [-0.0466492157, 0.2593821959, -0.0536125482],
                 [0.4594240899, -0.0536125482, 0.4492145612]],
    "inv": [[-0.1585191739, 0.2395543848, -0.1296124997],
            [0.1036799453, -0.1761535523, 0.1765468841],
            [-0.1968770737, 0.1142150455, -0.1952583]],
    "det": [[14.0, -5.4, -1.0], [-5.4, 11.64, -2.8], [-1.0, -2.8, 16.0]],
    "slogdet": [[0.3139013453, -0.1210762332, -0.0224215247],
                [-0.1210762332, 0.2609865471, -0.0627802691],
                [-0.0224215247, -0.0627802691, 0.3587443946]],
    "solve": [[-0.5954523517, 0.4100876752, -0.2037040761],
              [0.4100876752, -0.2851625812, 0.1919604255],
              [-0.2037040761, 0.1919604255, -1.0456675179]],
    "triangular_solve": [[-0.3375, 0.0, 0.0], [0.125, -0.08, 0.0], [-0.25, 0.0, -0.95]],
}
OBJECTIVES = {
    "cholesky": lambda a: tf.reduce_sum(tf.linalg.cholesky(a) * W),
    "inv": lambda a: tf.reduce_sum(tf.linalg.inv(a) * W),
    "det": tf.linalg.det,
    "slogdet": lambda a: tf.linalg.slogdet(a)[1],
    "solve": lambda a: tf.reduce_sum(tf.linalg.solve(a, B) * B),
    "triangular_solve": lambda a: tf.reduce_sum(tf.linalg.triangular_solve(a, B) * B),
}


@pytest.mark.parametrize("op", sorted(OBJECTIVES))
def test_linalg_gradients_equal_tfs(op):
    def build():
        a = tf.constant(A, tf.float64)
        return tf.gradients(OBJECTIVES[op](a), a)[0]
    np.testing.assert_allclose(run(build), TF_GRADIENTS[op], atol=1e-9)


def test_singular_and_indefinite_matrices_fail_at_run_time_naming_the_op():
    graph = tf.Graph()
    with graph.as_default():
        a = tf.placeholder(tf.float64, [2, 2])
        inverse, factor = tf.matrix_inverse(a), tf.cholesky(a)
    with tf.Session(graph=graph) as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="matrix_inverse.*not invertible"):
            sess.run(inverse, {a: [[1.0, 2.0], [2.0, 4.0]]})
        with pytest.raises(tf.errors.InvalidArgumentError, match="cholesky.*positive definite"):
            sess.run(factor, {a: [[1.0, 2.0], [2.0, 1.0]]})


def test_linalg_namespace_transpose_swaps_the_innermost_dims():
    with tf.Graph().as_default():
        assert tf.linalg.transpose(tf.zeros([5, 2, 3])).shape.as_list() == [5, 3, 2]
        assert tf.matrix_transpose(tf.zeros([2, 3])).shape.as_list() == [3, 2]
        assert tf.linalg.matmul is tf.matmul and tf.linalg.band_part is tf.matrix_band_part
