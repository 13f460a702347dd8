"""div_no_nan, mul_no_nan, xdivy, xlogy, xlog1py at the zeros where they differ from the
plain ops (the registry samples check them at smooth points): values and TF1's gradients."""
import numpy as np
import pytest

import graphc as gc

INF, NAN = np.inf, np.nan


def _run(fetches, feeds=None):
    with gc.Session() as sess:
        return sess.run(fetches, feeds)


@pytest.mark.parametrize("op,x,y,want", [
    (gc.div_no_nan, [0.0, 1.0, -2.0, INF, NAN, 3.0], [0.0, 0.0, 0.0, 0.0, 0.0, 2.0],
     [0.0, 0.0, 0.0, 0.0, 0.0, 1.5]),
    (gc.math.mul_no_nan, [INF, NAN, 2.0, INF], [0.0, 0.0, 3.0, 2.0], [0.0, 0.0, 6.0, INF]),
    (gc.xdivy, [0.0, 0.0, 1.0, 0.0], [0.0, INF, 0.0, NAN], [0.0, 0.0, INF, 0.0]),
    (gc.xlogy, [0.0, 0.0, 2.0, 0.0, 1.0], [0.0, -1.0, 1.0, NAN, 0.0],
     [0.0, 0.0, 0.0, 0.0, -INF]),
    (gc.math.xlog1py, [0.0, 0.0, 2.0, 1.0], [-1.0, -3.0, 0.0, -1.0], [0.0, 0.0, 0.0, -INF]),
])
def test_values_at_the_zeros(op, x, y, want):
    graph = gc.Graph()
    with graph.as_default():
        got = _run(op(np.array(x, np.float32), np.array(y, np.float32)))
    np.testing.assert_array_equal(got, np.array(want, np.float32))
    assert got.dtype == np.float32


def test_div_no_nan_gradient_is_zero_where_the_denominator_is_zero():
    graph = gc.Graph()
    with graph.as_default():
        x = gc.constant([1.0, 2.0, 3.0])
        y = gc.constant([0.0, 4.0, 0.0])
        dx, dy = _run(gc.gradients(gc.reduce_sum(gc.div_no_nan(x, y)), [x, y]))
        where_gives_nan = _run(gc.gradients(gc.reduce_sum(
            gc.where(gc.equal(y, 0.0), gc.zeros_like(x), x / y)), [y]))[0]
    np.testing.assert_array_equal(dx, [0.0, 0.25, 0.0])
    np.testing.assert_array_equal(dy, [0.0, -2.0 / 16.0, 0.0])
    assert np.isnan(where_gives_nan[0])  # why the op exists


def test_xlogy_gradients_follow_tf1_at_x_zero():
    graph = gc.Graph()
    with graph.as_default():
        x = gc.constant([0.0, 2.0])
        y = gc.constant([0.5, 4.0])
        dx, dy = _run(gc.gradients(gc.reduce_sum(gc.xlogy(x, y)), [x, y]))
    # TF1: d/dx is xlogy(x != 0, y), so 0 at x == 0; d/dy is xdivy(x, y)
    np.testing.assert_allclose(dx, [0.0, np.log(4.0)], rtol=1e-6)
    np.testing.assert_allclose(dy, [0.0, 0.5], rtol=1e-6)


def test_reciprocal_no_nan_and_broadcasting():
    graph = gc.Graph()
    with graph.as_default():
        got = _run([gc.math.reciprocal_no_nan([0.0, 4.0]),
                    gc.div_no_nan(np.ones((2, 1), np.float32), np.array([0.0, 2.0], np.float32))])
    np.testing.assert_array_equal(got[0], [0.0, 0.25])
    np.testing.assert_array_equal(got[1], [[0.0, 0.5], [0.0, 0.5]])


def test_integer_inputs_are_refused_naming_the_op():
    graph = gc.Graph()
    with graph.as_default(), pytest.raises(TypeError, match="div_no_nan"):
        gc.div_no_nan(gc.constant([1, 2]), gc.constant([0, 1]))
