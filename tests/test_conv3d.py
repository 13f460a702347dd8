"""3-D convolution and pooling (NDHWC) against values TensorFlow (tf.compat.v1 of 2.21)
computed, written here as literals: SAME padding with strides, the gradients, and TF's
MaxPool3DGrad rule that every element tied with a window's maximum gets its gradient."""
import numpy as np
import pytest

import graphc as gc

X = (np.arange(2 * 3 * 3 * 3, dtype=np.float32).reshape(1, 3, 3, 3, 2) % 7) / 4
W = (np.arange(2 * 2 * 2 * 2 * 1, dtype=np.float32).reshape(2, 2, 2, 2, 1) - 7) / 8

CONV = ((1, 2, 3, 2, 1), [
    3.34375, -2., 2., -0.78125, -1.09375, -0.8125, -1.6875, -2.90625, -1.46875, -2.34375,
    -1.71875, -1.40625])

MAX = ((1, 3, 2, 3, 2), [
    1.5, 1.5, 1.5, 1.5, 1., 1.25, 1.25, 1.5, 1.5, 1.25, 1.5, 0.75, 1.5, 1.5, 1.5, 1.5, 1.25,
    1.5, 1.5, 1.25, 1.5, 1.25, 1.5, 1., 0.75, 1., 1.25, 1.5, 1.25, 1.5, 1.5, 0.5, 0.75, 1.,
    0.75, 1.])

AVG = ((1, 3, 2, 3, 2), [
    0.84375, 0.65625, 0.6875, 0.71875, 0.5, 0.75, 0.6875, 0.9375, 0.75, 0.5625, 1., 0.375,
    0.75, 0.78125, 0.8125, 0.84375, 0.625, 0.875, 0.8125, 0.625, 0.875, 0.6875, 1.125, 0.5,
    0.375, 0.625, 0.875, 1.125, 1.125, 1.375, 0.875, 0.25, 0.5, 0.75, 0.75, 1.])

CONV_DX = ((1, 3, 3, 3, 2), [
    0., 0., 0., 0., -0.875, -0.75, -1.75, -1.5, -1.25, -1., -3., -2.5, -4.25, -3.5, -2.75, -2.,
    -5.5, -4.5, 0., 0., 0., 0., 0.125, 0.25, 0.25, 0.5, 0.75, 1., 1., 1.5, 1.75, 2.5, 3.25, 4.,
    2.5, 3.5, -5.25, -4.5, -3.75, -3., -6.125, -5.25, -9.25, -7.5, -5.75, -4., -10.5, -8.5,
    -11.75, -9.5, -7.25, -5., -13., -10.5])

CONV_DW = ((2, 2, 2, 2, 1), [
    56.25, 51.75, 11.5, 19., 30.5, 25.5, 5., 9., 11.25, 6.25, 6.5, 8., 5.5, 1.75, 2., 2.5])

MAX_DX = ((1, 3, 3, 3, 2), [
    0., 0., 0., 0., 4., 5., 0., 0., 0., 0., 0., 0., 6., 7., 0., 0., 0., 11., 0., 0., 28., 0.,
    0., 0., 0., 0., 0., 32., 0., 0., 0., 0., 0., 49., 60., 0., 0., 0., 24., 25., 70., 88., 0.,
    0., 0., 0., 0., 0., 48., 0., 0., 31., 66., 91.])

AVG_DX = ((1, 3, 3, 3, 2), [
    0., 0.125, 0.25, 0.5, 1.25, 1.625, 0., 0.125, 0.25, 0.5, 1.25, 1.625, 1.5, 1.75, 3.5, 4.,
    7., 7.75, 1.5, 1.75, 3.5, 4., 7., 7.75, 1.5, 1.75, 3.5, 4., 7., 7.75, 6., 6.5, 13., 14.,
    23., 24.5, 7.5, 7.875, 15.75, 16.5, 26.25, 27.375, 7.5, 7.875, 15.75, 16.5, 26.25, 27.375,
    19.5, 20.25, 40.5, 42., 66., 68.25])


def _weights(shape):
    return np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)


def _check(tensor, expected):
    shape, values = expected
    assert tensor.shape.as_list() == list(shape)
    return values


def test_conv3d_and_its_gradients_match_tensorflow():
    with gc.Graph().as_default():
        x, w = gc.constant(X), gc.constant(W)
        y = gc.nn.conv3d(x, w, [1, 2, 1, 2, 1], "SAME")
        dx, dw = gc.gradients(gc.reduce_sum(y * _weights(CONV[0])), [x, w])
        with gc.Session() as sess:
            got = sess.run([y, dx, dw])
        for value, tensor, expected in zip(got, [y, dx, dw], [CONV, CONV_DX, CONV_DW]):
            np.testing.assert_allclose(value.ravel(), _check(tensor, expected), rtol=1e-6,
                                       atol=1e-6)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool3d_and_its_gradient_match_tensorflow(kind):
    expected, expected_dx = (MAX, MAX_DX) if kind == "max" else (AVG, AVG_DX)
    with gc.Graph().as_default():
        x = gc.constant(X)
        y = getattr(gc.nn, kind + "_pool3d")(x, [1, 2, 2, 2, 1], [1, 1, 2, 1, 1], "SAME")
        (dx,) = gc.gradients(gc.reduce_sum(y * _weights(expected[0])), [x])
        with gc.Session() as sess:
            value, grad = sess.run([y, dx])
    np.testing.assert_allclose(value.ravel(), _check(y, expected), rtol=1e-6)
    np.testing.assert_allclose(grad.ravel(), _check(dx, expected_dx), rtol=1e-6)


def test_conv3d_errors_name_the_op():
    with gc.Graph().as_default():
        with pytest.raises(ValueError, match="conv3d: filter, strides and padding"):
            gc.nn.conv3d(X, W)
        with pytest.raises(ValueError, match="only data_format 'NDHWC'"):
            gc.nn.max_pool3d(X, [1, 2, 2, 2, 1], [1] * 5, "SAME", data_format="NCDHW")


def test_conv3d_transpose_matches_tensorflow():
    x = (np.arange(16, dtype=np.float32).reshape(1, 2, 2, 2, 2) % 5) / 4
    w = (np.arange(48, dtype=np.float32).reshape(2, 2, 2, 3, 2) % 7 - 3) / 8
    with gc.Graph().as_default():
        y = gc.nn.conv3d_transpose(gc.constant(x), gc.constant(w), [1, 3, 4, 2, 3],
                                   [1, 2, 2, 1, 1], "SAME")
        assert y.shape.as_list() == [1, 3, 4, 2, 3]
        with gc.Session() as sess:
            value = sess.run(y)
    np.testing.assert_allclose(value.ravel()[::5], [
        -0.0625, 0.28125, -0.46875, 0.15625, -0.125, 0.09375, -0.03125, 0.46875, 0.375, -0.5,
        0.34375, -0.53125, -0.375, 0.21875, -0.46875], rtol=1e-6)
