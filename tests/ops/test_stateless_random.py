"""TF's stateless random ops (graphc.ops.stateless_random): TensorFlow's own values for the
same seeds, determinism, shapes, errors. The expected arrays below were printed by
TensorFlow 2.21 (``tf.random.stateless_*``, CPU) for the seeds shown."""
import numpy as np
import pytest

import graphc as gc
from graphc.errors import InvalidArgumentError
from graphc.ops import philox

R = gc.random


def run(*tensors, feed_dict=None):
    with gc.Session() as sess:
        return sess.run(list(tensors), feed_dict=feed_dict)


# (call, TF's values) for seed [1, 2] unless given
TF_VALUES = [
    (lambda: R.stateless_uniform([6], seed=[1, 2]),
     np.float32([0.8440604, 0.19204533, 0.9962232, 0.1603874, 0.27199018, 0.649346])),
    (lambda: R.stateless_uniform([6], seed=[1, 2], dtype=gc.float64),
     [0.7524837538451801, 0.9697857725627486, 0.17592233912897481, 0.8555556648693279,
      0.514811871731222, 0.6077450497806227]),
    (lambda: R.stateless_uniform([6], seed=[1, 2], dtype=gc.float16),
     np.float16([0.543, 0.2354, 0.06055, 0.8936, 0.1436, 0.4424])),
    (lambda: R.stateless_uniform([6], seed=[1, 2], minval=0, maxval=10, dtype=gc.int32),
     [0, 9, 4, 9, 7, 5]),
    (lambda: R.stateless_uniform([6], seed=[1, 2], minval=0, maxval=10, dtype=gc.int64),
     [4, 8, 7, 3, 3, 4]),
    (lambda: R.stateless_uniform([6], seed=[1, 2], minval=-5, maxval=1000000, dtype=gc.int32),
     [982610, 44154, 371494, 442324, 670172, 735920]),
    (lambda: R.stateless_uniform([6], seed=[1, 2], minval=None, maxval=None, dtype=gc.int64),
     [7464880146280614444, 1591045637757961278, -1057468755545501549,
      2524363516007002203, 6884554327646026923, -2336856294065325742]),
    (lambda: R.stateless_uniform([6], seed=[1, 2], minval=None, maxval=None, dtype=gc.uint32),
     [1105988140, 1738052849, 3959391294, 370444179, 10670227, 4048756165]),
    (lambda: R.stateless_normal([6], seed=[1, 2]),
     [0.5441101, 0.20738031, 0.07356432, 0.04643455, -1.3015898, -0.9538565]),
    (lambda: R.stateless_normal([6], seed=[1, 2], dtype=gc.float64),
     [-0.1423118100189212, 0.7406072461585091, -1.469047669443883, 1.147747453689489,
      -0.7218813856153005, -0.898217540706226]),
    (lambda: R.stateless_normal([6], seed=[1, 2], dtype=gc.float16),
     np.float16([0.544, 0.2074, 0.07355, 0.04645, -1.302, -0.9536])),
    # the 5th and 6th come from the second group's own stretch of the stream
    (lambda: R.stateless_truncated_normal([6], seed=[1, 2]),
     [0.5441101, 0.20738031, 0.07356432, 0.04643455, 0.16820592, -1.6850333]),
    (lambda: R.stateless_truncated_normal([6], seed=[1, 2], dtype=gc.float64),
     [-0.1423118100189212, 0.7406072461585091, -0.552387756244845, -0.734450092480207,
      -0.39842023956588357, 0.1899654040344941]),
    (lambda: R.stateless_categorical([[0.0, 1.0, 2.0], [1.0, 1.0, -1.0]], 7, seed=[1, 2]),
     [[2, 2, 1, 2, 2, 2, 2], [0, 1, 1, 1, 0, 0, 0]]),
    (lambda: R.split([1, 2], 3),
     [[1105988140, 1738052849], [-335576002, 370444179], [10670227, -246211131]]),
    (lambda: R.fold_in([1, 2], 5), [1105988140, 5]),
]


@pytest.mark.parametrize("index", range(len(TF_VALUES)))
def test_values_are_tensorflows(index):
    build, expected = TF_VALUES[index]
    (actual,) = run(build())
    expected = np.asarray(expected)
    if actual.dtype.kind == "f":
        # uniform draws are exact; normals may differ in the last ulps (libm's log/sin/cos)
        np.testing.assert_allclose(actual, expected, rtol=4 * np.finfo(actual.dtype).eps,
                                   atol=2e-7 if actual.dtype == np.float32 else 0)
    else:
        np.testing.assert_array_equal(actual, expected.astype(actual.dtype))


def test_philox_block_matches_the_paper_known_answer():
    # Random123's known-answer test for philox4x32-10 with counter and key all ones
    ones = [0xFFFFFFFF] * 4
    expected = [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]
    assert philox.philox_block_reference(ones, (0xFFFFFFFF, 0xFFFFFFFF)) == expected
    vectorized = philox.blocks((0xFFFFFFFF, 0xFFFFFFFF), ones, 1)
    assert vectorized[0].tolist() == expected


def test_counter_carries_into_the_high_words():
    key, counter = (5, 9), (0xFFFFFFFF, 0xFFFFFFFF, 7, 0)
    wrapped = philox.blocks(key, counter, 2)
    assert wrapped[1].tolist() == philox.philox_block_reference([0, 0, 8, 0], key)


def test_same_seed_same_values_in_every_session_and_run():
    draws = R.stateless_normal([3, 4], seed=[11, 12])
    with gc.Session() as first:
        a, b = first.run(draws), first.run(draws)
    with gc.Session() as second:
        c = second.run(draws)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    (other,) = run(R.stateless_normal([3, 4], seed=[11, 13]))
    assert not np.array_equal(a, other)


def test_seed_and_shape_may_be_fed():
    seed = gc.placeholder(gc.int64, [2])
    shape = gc.placeholder(gc.int32, [None])
    draws = R.stateless_uniform(shape, seed=seed)
    assert draws.shape.rank is None or draws.shape.as_list() == [None] * draws.shape.rank
    (fed,) = run(draws, feed_dict={seed: [1, 2], shape: [2, 3]})
    (static,) = run(R.stateless_uniform([2, 3], seed=[1, 2]))
    np.testing.assert_array_equal(fed, static)


def test_static_shape_and_scaling():
    draws = R.stateless_uniform([4, 5], seed=[1, 2], minval=-3.0, maxval=3.0)
    assert draws.shape.as_list() == [4, 5] and draws.dtype == gc.float32
    (values,) = run(draws)
    assert values.min() >= -3.0 and values.max() < 3.0
    (normal,) = run(R.stateless_normal([1000], seed=[3, 4], mean=5.0, stddev=0.5))
    (standard,) = run(R.stateless_normal([1000], seed=[3, 4]))
    np.testing.assert_allclose(normal, standard * 0.5 + 5.0, rtol=1e-6)


def test_truncated_normal_stays_within_two_and_is_normal_inside():
    (values,) = run(R.stateless_truncated_normal([20000], seed=[9, 9]))
    assert np.abs(values).max() < 2.0
    # the standard normal restricted to (-2, 2) has variance ~0.774
    assert abs(values.mean()) < 0.03 and abs(values.var() - 0.774) < 0.03


def test_size_zero():
    for build in (lambda: R.stateless_uniform([0, 3], seed=[1, 2]),
                  lambda: R.stateless_truncated_normal([0], seed=[1, 2]),
                  lambda: R.stateless_uniform([0], seed=[1, 2], minval=0, maxval=3,
                                              dtype=gc.int64),
                  lambda: R.stateless_categorical(np.zeros((0, 3), np.float32), 4, seed=[1, 2])):
        (values,) = run(build())
        assert values.size == 0


def test_categorical_ignores_non_finite_logits():
    (picks,) = run(R.stateless_categorical([[-np.inf, 0.0, -np.inf, 0.0]], 200, seed=[4, 4]))
    assert set(np.unique(picks)) == {1, 3}


def test_seed_of_wrong_shape_is_refused_when_built():
    with pytest.raises(ValueError, match=r"seed must have shape \[2\]"):
        R.stateless_uniform([3], seed=[1, 2, 3])


def test_integer_dtypes_need_both_bounds():
    with pytest.raises(ValueError, match="needs both minval and maxval"):
        R.stateless_uniform([3], seed=[1, 2], maxval=None, dtype=gc.int32)


def test_empty_integer_range_fails_the_run_naming_the_op():
    low = gc.placeholder(gc.int32, [])
    draws = R.stateless_uniform([3], seed=[1, 2], minval=low, maxval=4, dtype=gc.int32)
    with pytest.raises(InvalidArgumentError, match="minval < maxval") as info:
        run(draws, feed_dict={low: 4})
    assert "stateless_random_uniform_int" in str(info.value)


def test_bad_dtype_is_refused():
    with pytest.raises(TypeError, match="dtype must be one of"):
        R.stateless_normal([3], seed=[1, 2], dtype=gc.int32)


def test_two_equal_stateless_ops_may_be_merged_and_still_agree():
    first = R.stateless_uniform([5], seed=[1, 2])
    second = R.stateless_uniform([5], seed=[1, 2])
    a, b = run(first, second)
    np.testing.assert_array_equal(a, b)


def test_eager_gives_the_same_values():
    (graph_values,) = run(R.stateless_truncated_normal([7], seed=[2, 3]))
    with gc.eager():
        eager_values = R.stateless_truncated_normal([7], seed=[2, 3]).numpy()
    np.testing.assert_array_equal(eager_values, graph_values)
