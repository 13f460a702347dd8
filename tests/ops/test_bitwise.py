"""tf.bitwise: the documented examples and out-of-range shift amounts (TF's values)."""
import numpy as np
import pytest

import graphc as gc


def test_bitwise_ops_and_out_of_range_shifts():
    with gc.Graph().as_default(), gc.Session() as sess:
        got = sess.run([gc.bitwise.bitwise_and([12, 10], [10, 6]),
                        gc.bitwise.bitwise_or([12, 10], [10, 6]),
                        gc.bitwise.bitwise_xor([12, 10], [10, 6]), gc.bitwise.invert([0, 5]),
                        gc.bitwise.left_shift([1, 1, 1, -8], [3, 32, -1, 33]),
                        gc.bitwise.right_shift(np.array([-8, 8, -8, 8], np.int32),
                                               [1, 40, 40, -1]),
                        gc.bitwise.right_shift(np.array([200], np.uint8),
                                               np.array([9], np.uint8))])
    # TF 2.21's values: amounts clamped into [0, bits - 1]
    assert [g.tolist() for g in got] == [[8, 2], [14, 14], [6, 12], [-1, -6],
                                         [8, -2 ** 31, 1, 0], [-4, 0, -1, 8], [1]]


def test_floats_are_refused():
    with gc.Graph().as_default(), pytest.raises(TypeError, match="bitwise_and"):
        gc.bitwise.bitwise_and([1.0], [2.0])
