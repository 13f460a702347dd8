"""The compositions of graphc.ops.special_math and TF1's None gradients (the registry tests
check every op's kernel against its reference and its gradient against finite differences)."""
import math

import numpy as np
import pytest

import graphc as gc


def _run(fetches):
    with gc.Session() as sess:
        return sess.run(fetches)


def test_log_sigmoid_is_finite_far_out_and_lbeta_is_log_beta():
    with gc.Graph().as_default():
        got, beta = _run([gc.math.log_sigmoid([-200.0, 0.0, 50.0]),
                          gc.lbeta([[2.0, 3.0], [0.5, 0.5]])])
    np.testing.assert_allclose(got, [-200.0, math.log(0.5), 0.0], atol=1e-6)
    np.testing.assert_allclose(beta, [math.log(1 / 12), math.log(math.pi)], rtol=1e-6)


@pytest.mark.parametrize("op,args,no_gradient", [
    (gc.polygamma, ([1.0, 2.0], [1.5, 2.5]), 0), (gc.igamma, ([1.0, 2.0], [0.5, 1.5]), 0),
    (gc.igammac, ([1.0, 2.0], [0.5, 1.5]), 0), (gc.zeta, ([2.0, 3.0], [1.0, 2.0]), 0)])
def test_the_arguments_tf1_does_not_differentiate_get_no_gradient(op, args, no_gradient):
    with gc.Graph().as_default():
        a, b = (gc.constant(v) for v in args)
        grads = gc.gradients(gc.reduce_sum(op(a, b)), [a, b])
    assert grads[no_gradient] is None and grads[1 - no_gradient] is not None


def test_values_tf1_gives():
    with gc.Graph().as_default():
        got = _run([gc.digamma([1.0]), gc.zeta([2.0], [1.0]), gc.polygamma([1.0], [1.0]),
                    gc.igamma([1.0], [1.0]), gc.rint([0.5, 1.5, -2.5]), gc.acosh([1.0])])
    np.testing.assert_allclose(got[0], [-0.5772157], rtol=1e-6)  # -Euler's gamma
    np.testing.assert_allclose(got[1], [math.pi ** 2 / 6], rtol=1e-6)
    np.testing.assert_allclose(got[2], [math.pi ** 2 / 6], rtol=1e-6)
    np.testing.assert_allclose(got[3], [1 - math.exp(-1)], rtol=1e-6)
    np.testing.assert_array_equal(got[4], [0.0, 2.0, -2.0])  # halves to even
    np.testing.assert_array_equal(got[5], [0.0])
