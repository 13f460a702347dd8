"""Random ops: shapes, dtypes, TF1 seed semantics, distributions; dropout."""
import numpy as np
import pytest

import graphc as gc


def _draw(build, runs=1, sessions=1):
    g = gc.Graph()
    with g.as_default():
        tensor = build()
    values = []
    for _ in range(sessions):
        with gc.Session(graph=g) as sess:
            values.append([sess.run(tensor) for _ in range(runs)])
    return tensor, values


def test_shapes_dtypes_and_dynamic_shape():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float32, (None, 3))
        n = gc.random_normal([2, 5], dtype=gc.float64, seed=1)
        u = gc.random_uniform(gc.shape(x), seed=2)
        k = gc.random_uniform([4], minval=0, maxval=10, dtype=gc.int32, seed=3)
    assert n.shape == (2, 5) and n.dtype == gc.float64
    assert u.shape.as_list() == [None, 3] and k.dtype == gc.int32
    with gc.Session(graph=g) as sess:
        nv, uv, kv = sess.run([n, u, k], {x: np.zeros((7, 3))})
    assert nv.dtype == np.float64 and uv.shape == (7, 3) and kv.dtype == np.int32
    assert np.all((kv >= 0) & (kv < 10))


def test_op_seed_is_reproducible_across_sessions_and_advances_across_runs():
    _, values = _draw(lambda: gc.random_normal([3], seed=5), runs=2, sessions=2)
    (first_a, second_a), (first_b, second_b) = values
    np.testing.assert_array_equal(first_a, first_b)
    np.testing.assert_array_equal(second_a, second_b)
    assert not np.array_equal(first_a, second_a)


def test_graph_seed_makes_unseeded_ops_deterministic_and_distinct():
    def build():
        gc.set_random_seed(11)
        return gc.stack([gc.random_uniform([4]), gc.random_uniform([4])])
    _, values = _draw(build, sessions=2)
    np.testing.assert_array_equal(values[0][0], values[1][0])
    assert not np.array_equal(values[0][0][0], values[0][0][1])


def test_no_seed_differs_between_sessions():
    _, values = _draw(lambda: gc.random_normal([16]), sessions=2)
    assert not np.array_equal(values[0][0], values[1][0])


def test_distributions():
    _, values = _draw(lambda: gc.stack([
        gc.random_normal([20000], mean=2.0, stddev=3.0, seed=1),
        gc.random_uniform([20000], minval=-1.0, maxval=3.0, seed=2),
        gc.truncated_normal([20000], stddev=2.0, seed=3)]))
    normal, uniform, truncated = values[0][0]
    assert abs(normal.mean() - 2.0) < 0.1 and abs(normal.std() - 3.0) < 0.1
    assert uniform.min() >= -1.0 and uniform.max() < 3.0 and abs(uniform.mean() - 1.0) < 0.05
    assert np.abs(truncated).max() <= 4.0 and truncated.std() < 2.0


def test_dropout_scales_and_is_seeded():
    g = gc.Graph()
    with g.as_default():
        x = gc.ones([1000])
        dropped = gc.nn.dropout(x, rate=0.25, seed=4)
        kept = gc.nn.dropout(x, keep_prob=0.75, seed=4)
    with gc.Session(graph=g) as sess:
        a, b = sess.run([dropped, kept])
    assert set(np.unique(a)) <= {0.0, np.float32(1 / 0.75)}
    assert 0.65 < np.mean(a > 0) < 0.85
    np.testing.assert_array_equal(a, b)  # same seed and rate: same mask
    with g.as_default(), pytest.raises(ValueError, match="rate must be in"):
        gc.nn.dropout(x, rate=1.5)
    with g.as_default(), pytest.raises(ValueError, match="exactly one"):
        gc.nn.dropout(x)


def test_random_ops_are_flagged_for_the_passes():
    for name in ("random_standard_normal", "random_uniform", "truncated_normal",
                 "random_uniform_int"):
        opdef = gc.registry.get(name)
        assert opdef.random and not opdef.foldable
