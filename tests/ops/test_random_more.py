"""random_shuffle, random_gamma and random_poisson: shapes, seeding (graph and op seeds as
every graphc random op), and the distributions' first moments."""
import numpy as np
import pytest

import graphc as gc


def _draw(build, seed=None, runs=1):
    graph = gc.Graph()
    with graph.as_default():
        if seed is not None:
            gc.set_random_seed(seed)
        out = build()
    with gc.Session(graph=graph) as sess:
        return [sess.run(out) for _ in range(runs)], out


def test_shuffle_permutes_the_first_dimension_reproducibly():
    (first, second), out = _draw(lambda: gc.random_shuffle(gc.reshape(gc.range(20), [10, 2])),
                                 seed=3, runs=2)
    assert out.shape.as_list() == [10, 2]
    assert sorted(first[:, 0].tolist()) == list(range(0, 20, 2))
    assert (first[:, 1] == first[:, 0] + 1).all()  # rows move whole
    assert not (first == second).all()  # the op's stream goes on between runs
    (again, _), _ = _draw(lambda: gc.random_shuffle(gc.reshape(gc.range(20), [10, 2])),
                          seed=3, runs=2)
    np.testing.assert_array_equal(first, again)


def test_gamma_shape_and_moments():
    (draws,), out = _draw(lambda: gc.random_gamma([20000], alpha=[0.5, 3.0], beta=[1.0, 2.0],
                                                   seed=1))
    assert out.shape.as_list() == [20000, 2] and draws.dtype == np.float32
    np.testing.assert_allclose(draws.mean(0), [0.5, 1.5], rtol=0.05)  # alpha / beta
    assert (draws > 0).all()


def test_poisson_shape_dtype_and_moments():
    (draws,), out = _draw(lambda: gc.random_poisson([1.0, 10.0], [20000], dtype=gc.int32,
                                                     seed=2))
    assert out.shape.as_list() == [20000, 2] and draws.dtype == np.int32
    np.testing.assert_allclose(draws.mean(0), [1.0, 10.0], rtol=0.05)


def test_bad_dtypes_are_named():
    with gc.Graph().as_default():
        with pytest.raises(TypeError, match="random_gamma requires a floating input, got int32"):
            gc.random_gamma([2], 1.0, dtype=gc.int32)
        with pytest.raises(ValueError, match="beta of shape"):
            gc.random_gamma([2], [1.0, 2.0], beta=[1.0, 2.0, 3.0])
