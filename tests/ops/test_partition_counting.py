"""dynamic_partition / dynamic_stitch, setdiff1d, invert_permutation, bincount and
histogram_fixed_width: TF1's documented examples, gradients through repeated stitch
indices, and run-time errors naming the op."""
import numpy as np
import pytest

import graphc as gc


def _run(fetches, feeds=None):
    with gc.Session() as sess:
        return sess.run(fetches, feeds)


def test_tf1_examples():
    with gc.Graph().as_default():
        parts = gc.dynamic_partition([10, 20, 30, 40, 50], [0, 0, 1, 1, 0], 2)
        merged = gc.dynamic_stitch([[6], [4, 1], [[5, 2], [0, 3]]],
                                   [[61.0], [41.0, 11.0], [[51.0, 21.0], [1.0, 31.0]]])
        got = _run([parts, merged, gc.setdiff1d([1, 2, 3, 4, 5, 6], [1, 3, 5]),
                    gc.invert_permutation([3, 4, 0, 2, 1]),
                    gc.bincount([1, 1, 2, 3, 2, 4, 4, 5]),
                    gc.bincount([1, 7, 2], minlength=10, maxlength=5),
                    gc.histogram_fixed_width([-1.0, 0.0, 1.5, 2.0, 5.0, 15], [0.0, 5.0], 5)])
    np.testing.assert_array_equal(got[0][0], [10, 20, 50])
    np.testing.assert_array_equal(got[0][1], [30, 40])
    np.testing.assert_array_equal(got[1], [1, 11, 21, 31, 41, 51, 61])
    np.testing.assert_array_equal(got[2].out, [2, 4, 6])
    np.testing.assert_array_equal(got[2].idx, [1, 3, 5])
    np.testing.assert_array_equal(got[3], [2, 4, 3, 0, 1])
    np.testing.assert_array_equal(got[4], [0, 2, 2, 1, 2, 1])
    np.testing.assert_array_equal(got[5], [0, 1, 1, 0, 0])
    np.testing.assert_array_equal(got[6], [2, 1, 1, 0, 2])


def test_stitch_gradient_skips_the_elements_a_later_list_overwrote():
    with gc.Graph().as_default():
        first, second = gc.constant([1.0, 2.0]), gc.constant([3.0])
        merged = gc.dynamic_stitch([[0, 1], [1]], [first, second])  # second wins index 1
        grads = gc.gradients(gc.reduce_sum(merged * [10.0, 100.0]), [first, second])
        got = _run([merged] + grads)
    np.testing.assert_array_equal(got[0], [1.0, 3.0])
    np.testing.assert_array_equal(got[1], [10.0, 0.0])
    np.testing.assert_array_equal(got[2], [100.0])


def test_partition_gradient_routes_back_to_the_rows():
    with gc.Graph().as_default():
        data = gc.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        low, high = gc.dynamic_partition(data, [1, 0, 1], 2)
        grad, = gc.gradients(gc.reduce_sum(high) * 2.0, [data])  # low gets no gradient
        np.testing.assert_array_equal(_run(grad), [[2.0, 2.0], [0.0, 0.0], [2.0, 2.0]])


@pytest.mark.parametrize("build,match", [
    (lambda v: gc.dynamic_partition([1.0, 2.0], v, 2), r"DynamicPartition.*holds 2, not in"),
    (lambda v: gc.invert_permutation(v), r"InvertPermutation.*not a permutation"),
    (lambda v: gc.bincount(v - 3), r"bincount.*non-negative"),
])
def test_bad_values_fail_the_run_naming_the_op(build, match):
    with gc.Graph().as_default():
        values = gc.placeholder(gc.int32, [None])
        out = build(values)
        with pytest.raises(gc.errors.InvalidArgumentError, match=match):
            _run(out, {values: np.array([0, 2], np.int32)})
