"""gc.linalg.expm (graphc/linalg_expm.py) against SciPy's expm, with finite-difference
gradients, batches, run-time shapes and non-finite input."""
import numpy as np
import pytest
import scipy.linalg

import graphc as gc

RNG = np.random.default_rng(11)


def run(tensor, feeds=None):
    with gc.Session() as sess:
        return sess.run(tensor, feeds)


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 2e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("scale", [0.0, 0.001, 0.1, 1.0, 3.0, 8.0])
def test_matches_scipy_at_every_pade_degree_and_scaling(dtype, rtol, scale):
    a = (RNG.standard_normal((3, 5, 5)) * scale).astype(dtype)
    with gc.Graph().as_default():
        got = run(gc.linalg.expm(a))
    want = np.stack([scipy.linalg.expm(m.astype(np.float64)) for m in a])
    assert got.dtype == dtype and got.shape == a.shape
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * np.abs(want).max())


def test_batches_and_run_time_shapes():
    a = RNG.standard_normal((2, 3, 4, 4))
    with gc.Graph().as_default():
        x = gc.placeholder(gc.float64, [None, None, None, None])
        got = run(gc.linalg.expm(x), {x: a})
        rotation = run(gc.linalg.expm(np.array([[0.0, 1.0], [-1.0, 0.0]])))
        empty = gc.linalg.expm(np.zeros((2, 0, 0)))
        assert run(empty).shape == (2, 0, 0)
    want = np.array([[[scipy.linalg.expm(m) for m in row] for row in a]])[0]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(rotation, [[np.cos(1), np.sin(1)], [-np.sin(1), np.cos(1)]],
                               rtol=1e-14)


def test_non_finite_input_gives_nan():
    a = np.eye(3)[None].repeat(2, 0)
    a[1, 0, 1] = np.inf
    with gc.Graph().as_default():
        got = run(gc.linalg.expm(a))
    assert np.isnan(got).all()  # TF's rule: one non-finite matrix makes the batch NaN


@pytest.mark.parametrize("scale", [0.05, 4.0])  # without and with squarings
def test_gradient_matches_finite_differences(scale):
    a = RNG.standard_normal((4, 4)) * scale
    weights = RNG.standard_normal((4, 4))
    with gc.Graph().as_default():
        x = gc.placeholder(gc.float64, [4, 4])
        loss = gc.reduce_sum(gc.linalg.expm(x) * weights)
        (grad,) = gc.gradients(loss, [x])
        with gc.Session() as sess:
            g = sess.run(grad, {x: a})
            direction = RNG.standard_normal((4, 4))
            eps = 1e-6
            numeric = (sess.run(loss, {x: a + eps * direction}) -
                       sess.run(loss, {x: a - eps * direction})) / (2 * eps)
    np.testing.assert_allclose(np.sum(g * direction), numeric, rtol=1e-6)


def test_other_dtypes_are_refused():
    with gc.Graph().as_default():
        with pytest.raises(ValueError, match="dtype int32 are not supported"):
            gc.linalg.expm(np.eye(2, dtype=np.int32))
