"""tf.py_func / tf.numpy_function: Python functions as stateful ops, with TF1's return
conventions, clear run-time errors, and a gradient only when one is registered."""
import numpy as np
import pytest

import graphc as tf


@pytest.fixture
def graph():
    g = tf.Graph()
    with g.as_default():
        yield g


def test_outputs_follow_tout_and_have_unknown_shapes(graph):
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    single = tf.py_func(lambda v: (v * 2).astype(np.float32), [x], tf.float32)
    pair = tf.py_func(lambda v: (v.sum(axis=1), np.int64(v.shape[0])), [x],
                      [tf.float32, tf.int64], name="stats")
    listed = tf.numpy_function(lambda v: [v.max()], [x], ["float"])
    nothing = tf.py_func(lambda v: None, [x], [])
    assert isinstance(single, tf.Tensor) and single.shape.rank is None
    assert [t.dtype for t in pair] == [tf.float32, tf.int64] and pair[0].op.name == "stats"
    assert isinstance(listed, list) and listed[0].dtype is tf.float32
    assert isinstance(nothing, tf.Operation)
    data = np.array([[1, 2], [3, 4]], np.float32)
    with tf.Session() as sess:
        got = sess.run([single, pair, listed, nothing], {x: data})
    np.testing.assert_array_equal(got[0], data * 2)
    np.testing.assert_array_equal(got[1][0], [3, 7])
    assert got[1][1] == 2 and got[2] == [4.0] and got[3] is None


def test_python_values_convert_without_loss_and_inputs_are_copies(graph):
    """As in TF1, a returned list or tuple holds one value per output."""
    x = tf.placeholder(tf.float32, [3], name="x")

    def scale_in_place(v):
        v *= 10  # the function's own copy: the feed and other readers are unaffected
        return float(v.sum())  # a Python float, converted to float32 (Tout)

    y = tf.py_func(scale_in_place, [x], tf.float32)
    both = [y, x + 0.0]
    data = np.array([1, 2, 3], np.float32)
    with tf.Session() as sess:
        got = sess.run(both, {x: data})
    assert got[0] == 60.0 and got[0].dtype == np.float32
    np.testing.assert_array_equal(got[1], [1, 2, 3])


def test_it_is_stateful_never_folded_or_merged(graph):
    calls = []

    def count(v):
        calls.append(int(v))
        return np.int32(len(calls))

    c = tf.constant(5)
    first, second = tf.py_func(count, [c], tf.int32), tf.py_func(count, [c], tf.int32)
    with tf.Session() as sess:
        assert sorted(sess.run([first, second])) == [1, 2]
        sess.run(first)
    assert calls == [5, 5, 5]
    assert tf.registry.get("py_func").stateful


def test_errors_in_the_function_name_the_op_and_the_users_line(graph):
    def broken(v):
        raise ValueError("bad value")

    y = tf.py_func(broken, [tf.constant(1.0)], tf.float32, name="mine")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(y)
    message = str(info.value)
    assert "op 'mine' (py_func, defined at " in message and "test_py_func.py:" in message
    assert "test_py_func.<locals>.broken raised ValueError: bad value" in message.replace(
        "test_errors_in_the_function_name_the_op_and_the_users_line", "test_py_func")
    assert isinstance(info.value.__cause__, ValueError)


def test_wrong_dtypes_and_counts_are_clear_errors(graph):
    x = tf.constant([1.0, 2.0])
    wrong_dtype = tf.py_func(lambda v: v.astype(np.float64), [x], tf.float32)
    wrong_count = tf.py_func(lambda v: (v, v), [x], [tf.float32])
    lossy = tf.py_func(lambda v: 1.5, [x], tf.int32)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="value 0 returned by .* has dtype float64, but Tout "
                                 "declares float32"):
            sess.run(wrong_dtype)
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="returned 2 values, but Tout declares 1"):
            sess.run(wrong_count)
        with pytest.raises(tf.errors.InvalidArgumentError, match="does not convert to int32"):
            sess.run(lossy)
    with pytest.raises(TypeError, match=r"Cannot convert the string 'floot'.*op 'PyFunc_3' "
                                        r"\(py_func"):
        tf.py_func(np.sum, [x], "floot")


def test_differentiating_through_it_without_a_gradient_is_a_lookup_error(graph):
    x = tf.placeholder(tf.float32, [2], name="x")
    y = tf.py_func(np.square, [x], tf.float32, name="square")
    with pytest.raises(LookupError, match=r"No gradient defined for op 'square' \(py_func.*"
                                          r"RegisterGradient"):
        tf.gradients(tf.reduce_sum(y), [x])


@tf.RegisterGradient("tf1basics_square_grad")
def _square_grad(op, dy):
    return [2.0 * op.inputs[0] * dy]


def test_a_registered_gradient_matches_finite_differences(graph):
    x = tf.placeholder(tf.float64, [3], name="x")
    with graph.gradient_override_map({"PyFunc": "tf1basics_square_grad"}):
        y = tf.py_func(np.square, [x], tf.float64)
    y.set_shape([3])
    loss = tf.reduce_sum(y * tf.constant([1.0, -2.0, 0.5], tf.float64))
    (grad,) = tf.gradients(loss, [x])
    point = np.array([0.3, -1.2, 2.0])
    with tf.Session() as sess:
        analytic = sess.run(grad, {x: point})
        eps = 1e-6
        numeric = [(sess.run(loss, {x: point + eps * e}) - sess.run(loss, {x: point - eps * e}))
                   / (2 * eps) for e in np.eye(3)]
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6)
    outside = tf.py_func(np.square, [x], tf.float64)  # the map no longer applies
    with pytest.raises(LookupError):
        tf.gradients(tf.reduce_sum(outside), [x])


def test_gradient_overrides_name_what_graphc_cannot_do(graph):
    with pytest.raises(NotImplementedError, match=r"no graphc op type matches \['NoSuchOp'\]"):
        with graph.gradient_override_map({"NoSuchOp": "tf1basics_square_grad"}):
            pass
    with pytest.raises(LookupError, match="no gradient is registered under that name"):
        with graph.gradient_override_map({"PyFunc": "never_registered"}):
            tf.py_func(np.square, [tf.constant(1.0)], tf.float32)
    with pytest.raises(KeyError, match="Registering two gradient"):
        tf.RegisterGradient("tf1basics_square_grad")(_square_grad)
