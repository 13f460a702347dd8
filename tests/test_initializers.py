"""Initializers against TF1's formulas: fan arithmetic, statistics of large draws, bounds,
orthogonality, seeds (graph and op level), the spellings TF1 code uses, and bad input."""
import math

import numpy as np
import pytest

import graphc as gc
from graphc import initializers as init

TRUNCATED_STD = 0.87962566103423978  # std of a standard normal cut at +-2


def _values(make, shape, dtype=gc.float32, seed=None, graph_seed=None):
    g = gc.Graph()
    with g.as_default():
        if graph_seed is not None:
            gc.set_random_seed(graph_seed)
        tensor = make()(shape, dtype=dtype)
    with gc.Session(graph=g) as sess:
        return sess.run(tensor)


@pytest.mark.parametrize("shape,fans", [
    ([], (1, 1)), ([7], (7, 7)), ([20, 30], (20, 30)),
    ([3, 3, 16, 32], (144, 288)), ([2, 3, 4, 5, 6], (120, 144))])
def test_fans_follow_tf1(shape, fans):
    assert init.compute_fans(shape) == fans


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("distribution", ["truncated_normal", "normal", "untruncated_normal",
                                          "uniform"])
@pytest.mark.parametrize("shape", [[400, 250], [5, 5, 16, 24]])
def test_variance_scaling_has_variance_scale_over_n(mode, distribution, shape):
    fan_in, fan_out = init.compute_fans(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    std = math.sqrt(2.0 / n)
    values = _values(lambda: gc.variance_scaling_initializer(2.0, mode, distribution, seed=3),
                     shape)
    assert values.shape == tuple(shape) and values.dtype == np.float32
    assert abs(values.mean()) < 0.02 * std * 3 and values.std() == pytest.approx(std, rel=0.03)
    if distribution == "uniform":
        assert np.abs(values).max() <= math.sqrt(3) * std
        assert np.abs(values).max() > 0.99 * math.sqrt(3) * std
    elif distribution != "untruncated_normal":  # cut at two stddevs of the wider normal
        assert np.abs(values).max() <= 2 * std / TRUNCATED_STD


@pytest.mark.parametrize("make,scale,mode,uniform", [
    (gc.glorot_uniform_initializer, 1.0, "fan_avg", True),
    (init.glorot_normal, 1.0, "fan_avg", False),
    (init.he_normal, 2.0, "fan_in", False), (init.he_uniform, 2.0, "fan_in", True),
    (init.lecun_normal, 1.0, "fan_in", False), (init.lecun_uniform, 1.0, "fan_in", True),
    (gc.keras.initializers.GlorotUniform, 1.0, "fan_avg", True),
    (gc.keras.initializers.he_normal, 2.0, "fan_in", False)])
def test_presets_are_variance_scaling(make, scale, mode, uniform):
    made = make()
    assert (made.scale, made.mode, made.distribution) == (
        scale, mode, "uniform" if uniform else "truncated_normal")
    values = _values(make, [300, 200])
    n = {"fan_in": 300, "fan_avg": 250}[mode]
    assert values.std() == pytest.approx(math.sqrt(scale / n), rel=0.03)


@pytest.mark.parametrize("make,mean,std,low,high", [
    (lambda: gc.random_normal_initializer(1.0, 2.0, seed=1), 1.0, 2.0, None, None),
    (lambda: gc.truncated_normal_initializer(0.0, 0.5, seed=1), 0.0, 0.5 * TRUNCATED_STD,
     -1.0, 1.0),
    (lambda: gc.random_uniform_initializer(-3.0, 1.0, seed=1), -1.0, 4 / math.sqrt(12), -3, 1),
    (lambda: gc.random_uniform_initializer(seed=1), 0.5, 1 / math.sqrt(12), 0.0, 1.0),
    (lambda: gc.keras.initializers.RandomNormal(seed=1), 0.0, 0.05, None, None),
    (lambda: gc.keras.initializers.RandomUniform(seed=1), 0.0, 0.1 / math.sqrt(12), -.05, .05),
    (lambda: gc.uniform_unit_scaling_initializer(1.5, seed=1), 0.0, 1.5 / math.sqrt(400),
     -1.5 * math.sqrt(3 / 400), 1.5 * math.sqrt(3 / 400))])
def test_distribution_statistics(make, mean, std, low, high):
    values = _values(make, [400, 100], dtype=gc.float64)
    assert values.dtype == np.float64
    assert values.mean() == pytest.approx(mean, abs=0.05 * std + 1e-12)
    assert values.std() == pytest.approx(std, rel=0.03)
    if low is not None:
        assert values.min() >= low and values.max() <= high


def test_constant_zeros_ones_and_identity():
    assert _values(gc.zeros_initializer, [2, 2]).tolist() == [[0, 0], [0, 0]]
    assert _values(gc.ones_initializer, [3], dtype=gc.int32).tolist() == [1, 1, 1]
    assert _values(gc.zeros_initializer, [2], dtype=gc.bool).tolist() == [False, False]
    assert _values(lambda: gc.constant_initializer(7), [2]).tolist() == [7, 7]
    assert _values(lambda: gc.constant_initializer([1, 2, 3, 4]), [2, 2]).tolist() == [
        [1, 2], [3, 4]]
    assert _values(lambda: gc.constant_initializer([1, 2]), [5]).tolist() == [1, 2, 2, 2, 2]
    np.testing.assert_array_equal(_values(lambda: init.identity(3.0), [2, 3]),
                                  3 * np.eye(2, 3))
    with pytest.raises(ValueError, match="5 values given for shape"):
        _values(lambda: gc.constant_initializer([1, 2, 3, 4, 5]), [2, 2])
    with pytest.raises(ValueError, match="2 values given for shape"):
        _values(lambda: gc.constant_initializer([1, 2], verify_shape=True), [4])
    with pytest.raises(TypeError, match="without losing information"):
        _values(lambda: gc.constant_initializer(0.5), [2], dtype=gc.int32)
    with pytest.raises(TypeError, match="invalid type for the initial value"):
        gc.constant_initializer(gc.constant(1.0))


@pytest.mark.parametrize("shape", [[6, 4], [4, 6], [3, 3, 4, 8], [5, 5]])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    gain = 2.0
    values = _values(lambda: gc.orthogonal_initializer(gain, seed=5), shape, gc.float64)
    assert values.shape == tuple(shape)
    flat = values.reshape(-1, shape[-1])
    small = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
    np.testing.assert_allclose(small, gain ** 2 * np.eye(len(small)), atol=1e-10)
    with pytest.raises(ValueError, match="at least two-dimensional"):
        _values(gc.orthogonal_initializer, [4])


def test_orthogonal_matrices_are_uniform_not_biased_by_the_qr_signs():
    """LAPACK's QR makes R's diagonal negative, so without moving its signs into Q the
    corner Q[0, 0] would always be negative."""
    g = gc.Graph()
    with g.as_default():
        tensors = [gc.orthogonal_initializer(seed=i)([8, 8]) for i in range(100)]
    with gc.Session(graph=g) as sess:
        corners = np.array([m[0, 0] for m in sess.run(tensors)])
    assert 0.3 < np.mean(corners > 0) < 0.7


def test_seeds_reproduce_values_as_tf1_random_ops_do():
    make = gc.glorot_uniform_initializer
    same = _values(make, [50], graph_seed=7), _values(make, [50], graph_seed=7)
    np.testing.assert_array_equal(*same)
    assert not np.array_equal(same[0], _values(make, [50], graph_seed=8))
    with_op_seed = [_values(lambda: init.he_normal(seed=11), [50]) for _ in range(2)]
    np.testing.assert_array_equal(*with_op_seed)
    g = gc.Graph()  # the op seed does not depend on what else the graph holds
    with g.as_default():
        gc.constant(1.0)
        shifted = init.he_normal(seed=11)([50])
    with gc.Session(graph=g) as sess:
        np.testing.assert_array_equal(sess.run(shifted), with_op_seed[0])
    assert not np.array_equal(_values(make, [50]), _values(make, [50]))  # no seed at all


def test_spellings_name_the_same_classes():
    assert gc.initializers.glorot_uniform is gc.glorot_uniform_initializer is init.GlorotUniform
    assert gc.initializers.zeros is gc.zeros_initializer
    assert init.Zeros is gc.keras.initializers.Zeros
    assert gc.initializers.variance_scaling is gc.variance_scaling_initializer
    assert gc.initializers.global_variables is gc.global_variables_initializer
    assert gc.initializers.local_variables is gc.local_variables_initializer
    assert isinstance(gc.keras.initializers.get("glorot_uniform"), init.GlorotUniform)
    assert isinstance(gc.keras.initializers.get("HeNormal"), init.HeNormal)
    made = gc.keras.initializers.RandomNormal(stddev=0.2, seed=4)
    config = gc.keras.initializers.serialize(made)
    assert config == {"class_name": "RandomNormal",
                      "config": {"mean": 0.0, "stddev": 0.2, "seed": 4, "dtype": "float32"}}
    again = gc.keras.initializers.get(config)
    assert type(again) is type(made) and again.get_config() == made.get_config()
    with pytest.raises(ValueError, match="unknown initializer 'nope'"):
        gc.keras.initializers.get("nope")


def test_contrib_initializers_follow_contrib_formulas():
    xavier = _values(lambda: gc.contrib.layers.xavier_initializer(seed=1), [300, 200])
    limit = math.sqrt(6.0 / 500)
    assert np.abs(xavier).max() <= limit and xavier.std() == pytest.approx(limit / math.sqrt(3),
                                                                            rel=0.03)
    # contrib's normal: a truncated normal of stddev sqrt(1.3 factor / n), n = fan_in here
    he = _values(lambda: gc.contrib.layers.variance_scaling_initializer(seed=2), [3, 3, 64, 32])
    stddev = math.sqrt(1.3 * 2.0 / (9 * 64))
    assert np.abs(he).max() <= 2 * stddev
    assert he.std() == pytest.approx(stddev * TRUNCATED_STD, rel=0.03)
    avg = _values(lambda: gc.contrib.layers.variance_scaling_initializer(
        1.0, "FAN_AVG", uniform=True, seed=3), [100, 300])
    assert np.abs(avg).max() <= math.sqrt(3.0 / 200)
    with pytest.raises(TypeError, match="unknown mode 'fan_in'"):
        gc.contrib.layers.variance_scaling_initializer(mode="fan_in")
    with pytest.raises(TypeError, match="non-floating point type int32"):
        gc.contrib.layers.xavier_initializer(dtype=gc.int32)


def test_bad_arguments_are_clear():
    with pytest.raises(ValueError, match="scale must be a positive float"):
        gc.variance_scaling_initializer(scale=0.0)
    with pytest.raises(ValueError, match="invalid mode 'fan_sum'"):
        gc.variance_scaling_initializer(mode="fan_sum")
    with pytest.raises(ValueError, match="invalid distribution 'cauchy'"):
        gc.variance_scaling_initializer(distribution="cauchy")
    with pytest.raises(ValueError, match="GlorotUniform: expected a floating point dtype, got "
                       "int32"):
        gc.glorot_uniform_initializer()([2, 2], dtype=gc.int32)
    with pytest.raises(ValueError, match="shape to initialize must be fully defined"):
        gc.glorot_uniform_initializer()([None, 2])


def test_config_round_trip_and_repr():
    made = gc.variance_scaling_initializer(2.0, "fan_out", "uniform", seed=9, dtype=gc.float64)
    assert type(made).from_config(made.get_config()).get_config() == made.get_config()
    assert repr(made) == ("VarianceScaling(scale=2.0, mode='fan_out', distribution='uniform', "
                          "seed=9, dtype='float64')")
