"""Feeding: dtype/shape validation, missing feeds, foreign keys; all refused before running."""
import numpy as np
import pytest

import graphc as gc


@pytest.fixture
def setup():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float32, (None, 3), name="x")
        n = gc.placeholder(gc.int32, (), name="n")
        flag = gc.placeholder(gc.bool, (2,), name="flag")
        y = gc.reduce_sum(x, name="y")
    return g, x, n, flag, y


def test_wrong_shape_is_refused(setup):
    g, x, n, flag, y = setup
    with gc.Session(graph=g) as sess:
        with pytest.raises(ValueError, match=r"Cannot feed value of shape \(2, 4\) for Tensor "
                                             r"'x:0', which has shape \(\?, 3\)"):
            sess.run(y, {x: np.zeros((2, 4))})


@pytest.mark.parametrize("value", [1.5, np.array(2.0), [1, 2**40], "text", np.array([True])])
def test_lossy_or_foreign_values_are_refused(setup, value):
    g, x, n, flag, y = setup
    with gc.Session(graph=g) as sess:
        with pytest.raises((TypeError, ValueError), match="n:0"):
            sess.run(n, {n: value})


def test_safe_conversions_are_accepted(setup):
    g, x, n, flag, y = setup
    with gc.Session(graph=g) as sess:
        assert sess.run(y, {x: [[1, 2, 3]]}) == 6.0  # ints to float32
        assert sess.run(y, {x: np.ones((1, 3), np.float64)}) == 3.0  # float64 to float32
        assert sess.run(n, {n: np.int64(7)}) == 7
        with pytest.raises(TypeError, match="flag:0"):
            sess.run(flag, {flag: [1, 0]})  # ints are not bools


def test_missing_feed_names_placeholder_and_fetch(setup):
    g, x, n, flag, y = setup
    with gc.Session(graph=g) as sess:
        with pytest.raises(gc.errors.InvalidArgumentError) as info:
            sess.run(y)
    message = str(info.value)
    assert "You must feed a value for placeholder tensor 'x:0'" in message
    assert "float32" in message and "(?, 3)" in message and "'y:0'" in message


def test_feed_keys_must_be_tensors_of_this_graph(setup):
    g, x, n, flag, y = setup
    other = gc.Graph()
    with other.as_default():
        foreign = gc.placeholder(gc.float32, ())
    with gc.Session(graph=g) as sess:
        with pytest.raises(ValueError, match="not an element of this graph"):
            sess.run(y, {foreign: 1.0, x: np.ones((1, 3))})
        with pytest.raises(TypeError, match="feed_dict key"):
            sess.run(y, {42: 1.0})
        with pytest.raises(TypeError, match="feed_dict key"):  # an op is not a tensor
            sess.run(y, {y.op: 1.0, x: np.ones((1, 3))})
        with pytest.raises(TypeError, match="cannot be a gc.Tensor"):
            sess.run(y, {x: y})


def test_feeds_are_not_modified(setup):
    g, x, n, flag, y = setup
    data = np.ones((2, 3), np.float32)
    with gc.Session(graph=g) as sess:
        sess.run(y, {x: data})
    assert data.flags.writeable and np.all(data == 1)


def test_placeholder_with_default_and_unknown_rank():
    g = gc.Graph()
    with g.as_default():
        rate = gc.placeholder_with_default(0.5, shape=[])
        anything = gc.placeholder(gc.float32, name="anything")
        doubled = anything * 2.0
    assert anything.shape.rank is None and doubled.shape.rank is None
    with gc.Session(graph=g) as sess:
        assert sess.run(rate) == 0.5 and sess.run(rate, {rate: 0.1}) == pytest.approx(0.1)
        assert sess.run(doubled, {anything: np.ones((2, 2, 2))}).shape == (2, 2, 2)


@pytest.mark.parametrize("value", [[[1, 2], [3]], [[1.0, 2.0, 3.0], [4.0, [5.0], 6.0]]])
def test_ragged_list_feed_names_the_placeholder_dtype_and_shape(setup, value):
    """A ragged nested list is refused naming the tensor, its dtype and shape (not NumPy's raw
    "setting an array element with a sequence"); nothing runs."""
    g, x, n, flag, y = setup
    with gc.Session(graph=g) as sess:
        with pytest.raises(ValueError, match=r"'x:0' \(float32, shape \(\?, 3\)\).*ragged"):
            sess.run(y, {x: value})
