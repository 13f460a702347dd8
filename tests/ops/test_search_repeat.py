"""searchsorted, unravel_index, repeat (its gradient sums the copies back) and the
tensor_scatter_nd_max/min gradient at ties; the TF1 documented examples."""
import numpy as np
import pytest

import graphc as gc


def _run(fetches, feeds=None):
    with gc.Session() as sess:
        return sess.run(fetches, feeds)


def test_tf1_examples():
    with gc.Graph().as_default():
        got = _run([gc.searchsorted([[0, 3, 9, 9, 10], [1, 2, 3, 4, 5]],
                                    [[2, 4, 9], [0, 2, 6]]),
                    gc.searchsorted([[0, 3, 9, 9, 10]], [[9]], side="right"),
                    gc.unravel_index([2, 5, 7], [3, 3]),
                    gc.repeat([[1, 2], [3, 4]], [1, 2], axis=0), gc.repeat(3, 4),
                    gc.tensor_scatter_nd_max([1.0, 5.0, 2.0], [[1], [2]], [3.0, 4.0])])
    np.testing.assert_array_equal(got[0], [[1, 2, 2], [0, 1, 5]])
    np.testing.assert_array_equal(got[1], [[4]])
    np.testing.assert_array_equal(got[2], [[0, 1, 2], [2, 2, 1]])
    np.testing.assert_array_equal(got[3], [[1, 2], [3, 4], [3, 4]])
    np.testing.assert_array_equal(got[4], [3, 3, 3, 3])
    np.testing.assert_array_equal(got[5], [1.0, 5.0, 4.0])


def test_repeat_gradient_sums_the_copies():
    with gc.Graph().as_default():
        x = gc.constant([[1.0, 2.0], [3.0, 4.0]])
        y = gc.repeat(x, [3, 1], axis=0)
        flat = gc.repeat(x, 2)
        grads = gc.gradients([gc.reduce_sum(y * [[1.0, 10.0]]), gc.reduce_sum(flat)], [x])
        np.testing.assert_array_equal(_run(grads[0]), [[5.0, 32.0], [3.0, 12.0]])


def test_scatter_max_gradient_splits_ties():
    with gc.Graph().as_default():
        tensor, updates = gc.constant([2.0, 1.0]), gc.constant([2.0, 0.5])
        out = gc.tensor_scatter_nd_max(tensor, [[0], [1]], updates)
        grads = _run(gc.gradients(gc.reduce_sum(out), [tensor, updates]))
    np.testing.assert_array_equal(grads[0], [0.5, 1.0])  # the tie at 0 is split evenly
    np.testing.assert_array_equal(grads[1], [0.5, 0.0])


@pytest.mark.parametrize("build,match", [
    (lambda v: gc.unravel_index(v, [2, 2]), r"UnravelIndex.*out of range"),
    (lambda v: gc.repeat([1, 2], v), r"Repeat.*non-negative"),
])
def test_bad_values_fail_naming_the_op(build, match):
    with gc.Graph().as_default():
        v = gc.placeholder(gc.int32, [None])
        with pytest.raises(gc.errors.InvalidArgumentError, match=match):
            _run(build(v), {v: np.array([-1, 4], np.int32)})
