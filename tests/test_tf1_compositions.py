"""The TF1 nn/math functions that are compositions of graphc ops, against NumPy."""
import math

import numpy as np
import pytest

import graphc as gc

RNG = np.random.default_rng(0)


def _run(fetches):
    with gc.Session() as sess:
        return sess.run(fetches)


def test_pool_and_conv_spellings_equal_the_tf1_ops():
    x = RNG.standard_normal((2, 6, 6, 3)).astype(np.float32)
    kernel = RNG.standard_normal((3, 3, 3, 4)).astype(np.float32)
    signal = RNG.standard_normal((2, 8, 3)).astype(np.float32)
    kernel_1d = RNG.standard_normal((3, 3, 2)).astype(np.float32)
    with gc.Graph().as_default():
        got = _run([gc.nn.max_pool2d(x, 2, 2, "VALID"),
                    gc.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID"),
                    gc.nn.avg_pool_v2(x, [3, 3], 1, "SAME"),
                    gc.nn.avg_pool(x, [1, 3, 3, 1], [1, 1, 1, 1], "SAME"),
                    gc.nn.convolution(x, kernel, "SAME", strides=[2, 2]),
                    gc.nn.conv2d(x, kernel, [1, 2, 2, 1], "SAME"),
                    gc.nn.convolution(signal, kernel_1d, "VALID"),
                    gc.nn.conv1d(signal, kernel_1d, 1, "VALID"),
                    gc.nn.max_pool_v2(signal, 2, 2, "VALID")])
    for spelled, plain in ((0, 1), (2, 3), (4, 5), (6, 7)):
        np.testing.assert_allclose(got[spelled], got[plain], rtol=1e-6)
    np.testing.assert_allclose(got[8], signal.reshape(2, 4, 2, 3).max(2))


def test_layers_sparsity_and_moments():
    x = RNG.standard_normal((5, 4)).astype(np.float32)
    w = RNG.standard_normal((4, 3)).astype(np.float32)
    b = RNG.standard_normal(3).astype(np.float32)
    with gc.Graph().as_default():
        count, s, ss, shift = gc.nn.sufficient_statistics(x, [0], shift=0.5)
        mean, variance = gc.nn.normalize_moments(count, s, ss, shift)
        got = _run([gc.nn.relu_layer(x, w, b), gc.nn.xw_plus_b(x, w, b),
                    gc.nn.zero_fraction(np.maximum(x, 0)), mean, variance, count])
    np.testing.assert_allclose(got[0], np.maximum(x @ w + b, 0), rtol=1e-5)
    np.testing.assert_allclose(got[1], x @ w + b, rtol=1e-5)
    assert got[2] == pytest.approx(np.mean(x <= 0))
    np.testing.assert_allclose(got[3], x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(got[4], x.var(0), rtol=1e-4, atol=1e-6)
    assert got[5] == 5


def test_math_helpers():
    with gc.Graph().as_default():
        got = _run([gc.math.polyval([2.0, 0.0, 1.0], 3.0),
                    gc.math.reduce_euclidean_norm([[3.0, 4.0]], axis=1),
                    gc.math.is_non_decreasing([1, 1, 2]), gc.math.is_strictly_increasing([1, 1, 2]),
                    gc.math.is_strictly_increasing([5]),
                    gc.math.scalar_mul(2.0, [1.0, -1.0]),
                    gc.math.unsorted_segment_sqrt_n([1.0, 2.0, 3.0, 4.0], [0, 0, 2, 0], 3),
                    gc.math.cumulative_logsumexp([0.0, 0.0, 1000.0]),
                    gc.math.cumulative_logsumexp([-np.inf, -np.inf]),
                    gc.math.multiply_no_nan([np.inf], [0.0])])
    assert got[0] == 19.0
    np.testing.assert_allclose(got[1], [5.0])
    assert got[2] and not got[3] and got[4]
    np.testing.assert_array_equal(got[5], [2.0, -2.0])
    np.testing.assert_allclose(got[6], [7.0 / math.sqrt(3.0), 0.0, 3.0], rtol=1e-6)
    np.testing.assert_allclose(got[7], [0.0, math.log(2.0), 1000.0], rtol=1e-6)
    np.testing.assert_array_equal(got[8], [-np.inf, -np.inf])
    np.testing.assert_array_equal(got[9], [0.0])
