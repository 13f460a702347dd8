"""The modified Bessel functions and erfcinv against TensorFlow 2.21's values and gradients
(float64, printed by tf.math.bessel_* under a GradientTape)."""
import numpy as np
import pytest

import graphc as gc

X = [0.0, -1.5, 0.3, 4.0]
TF = {  # name: (values, gradients)
    "bessel_i0": ([1.0, 1.6467231897728907, 1.0226268793515971, 11.30192195213633],
                  [0.0, -0.9816664285779079, 0.15169384000359282, 9.759465153704449]),
    "bessel_i0e": ([1.0, 0.36743360905415834, 0.7575806251825479, 0.20700192122398672],
                   [0.0, 0.1483942216332326, -0.645203064542709, -0.028251081721551413]),
    # TF 2.21 imputes 1.0 for I1'(0); the derivative is (I0(0) + I2(0)) / 2 = 0.5
    "bessel_i1": ([0.0, -0.9816664285779079, 0.15169384000359282, 9.759465153704449],
                  [0.5, 0.9922789040542854, 0.5169807460062877, 8.862055663710219]),
    "bessel_i1e": ([0.0, -0.21903938742092574, 0.11237756063983881, 0.1787508395024353],
                   [0.5, 0.0023679633526154653, 0.2706111957432463, -0.016436628154057414]),
}


@pytest.mark.parametrize("name", sorted(TF))
def test_values_and_gradients(name):
    x = gc.constant(X, gc.float64)
    y = getattr(gc.math, name)(x)
    (dx,) = gc.gradients(y, [x])
    with gc.Session() as sess:
        values, grads = sess.run([y, dx])
    want_values, want_grads = TF[name]
    np.testing.assert_allclose(values, want_values, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grads, want_grads, rtol=1e-12, atol=1e-15)


def test_i1_gradient_at_zero_is_the_derivative():
    x = gc.constant([0.0], gc.float64)
    (dx,) = gc.gradients(gc.math.bessel_i1(x), [x])
    step = 1e-6
    with gc.Session() as sess:
        slope = (sess.run(gc.math.bessel_i1(gc.constant([step], gc.float64)))[0] -
                 sess.run(gc.math.bessel_i1(gc.constant([-step], gc.float64)))[0]) / (2 * step)
        assert sess.run(dx)[0] == pytest.approx(slope, rel=1e-9)


def test_erfcinv_inverts_erfc():
    x = gc.constant([0.1, 0.4, 1.0, 1.7], gc.float64)
    with gc.Session() as sess:
        np.testing.assert_allclose(sess.run(gc.erfc(gc.math.erfcinv(x))), [0.1, 0.4, 1.0, 1.7],
                                   rtol=1e-12)
        assert sess.run(gc.math.erfcinv(gc.constant(0.4, gc.float64))) == pytest.approx(
            0.5951160814499948, rel=1e-13)
