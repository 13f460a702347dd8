"""histogram_fixed_width_bins, cross and add_check_numerics_ops (graphc.tf1_helpers), with
TensorFlow 2.21's results where they are given."""
import numpy as np
import pytest

import graphc as gc
from graphc.errors import InvalidArgumentError


def run(*fetches, feed_dict=None):
    with gc.Session() as sess:
        return sess.run(list(fetches), feed_dict=feed_dict)


def test_histogram_bins_as_tensorflow():
    bins = gc.histogram_fixed_width_bins([-1.0, 0.0, 1.5, 2.0, 5.0, 15], [0.0, 5.0], nbins=5)
    (values,) = run(bins)
    assert values.tolist() == [0, 0, 1, 2, 4, 4] and values.dtype == np.int32


def test_histogram_bins_keep_the_shape():
    values = gc.placeholder(gc.float64, [None, 2])
    (bins,) = run(gc.histogram_fixed_width_bins(values, [0.0, 1.0], nbins=4),
                  feed_dict={values: [[0.1, 0.9], [0.5, 2.0]]})
    assert bins.tolist() == [[0, 3], [2, 3]]


def test_cross_values_and_gradients():
    a = gc.constant(np.random.default_rng(1).normal(size=(4, 3)))
    b = gc.constant(np.random.default_rng(2).normal(size=(4, 3)))
    c = gc.linalg.cross(a, b)
    grads = gc.gradients(gc.reduce_sum(c * c), [a, b])
    values, ga, gb, av, bv = run(c, *grads, a, b)
    np.testing.assert_allclose(values, np.cross(av, bv), rtol=1e-12)
    # d/da sum|a x b|^2 = 2 (b x (a x b)) ... checked by finite differences
    step = 1e-6
    for grad, which in ((ga, 0), (gb, 1)):
        numeric = np.zeros_like(av)
        for index in np.ndindex(av.shape):
            shifted = [av.copy(), bv.copy()]
            shifted[which][index] += step
            plus = np.sum(np.cross(*shifted) ** 2)
            shifted[which][index] -= 2 * step
            numeric[index] = (plus - np.sum(np.cross(*shifted) ** 2)) / (2 * step)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


def test_cross_refuses_other_than_three_components():
    with pytest.raises(ValueError, match="3 components"):
        gc.cross([1.0, 2.0], [3.0, 4.0])


def test_check_numerics_ops_name_the_first_bad_tensor():
    with gc.Graph().as_default():  # it checks every tensor of the default graph
        x = gc.placeholder(gc.float32, [2], name="x")
        y = gc.log(x, name="logx")
        z = gc.multiply(y, 2.0, name="scaled")
        checks = gc.add_check_numerics_ops()
        assert run(z, checks, feed_dict={x: [1.0, 2.0]})[0].tolist() == pytest.approx(
            [0.0, 2 * np.log(2.0)])
        with pytest.raises(InvalidArgumentError, match="logx") as info:
            run(z, checks, feed_dict={x: [-1.0, 2.0]})
        assert "scaled" not in str(info.value).split("failed")[0]
