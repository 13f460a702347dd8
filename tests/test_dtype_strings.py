"""TF's dtype strings: "float" is float32 (not NumPy's float64) wherever a dtype is accepted,
and a dtype mismatch says when a dtype came from a string."""
import numpy as np
import pytest

import graphc as tf


@pytest.mark.parametrize("name,expected", [
    ("float", tf.float32), ("double", tf.float64), ("half", tf.float16),
    ("float32", tf.float32), ("int64", tf.int64), ("bool", tf.bool), ("uint8", tf.uint8),
    ("float_ref", tf.float32), ("int32_ref", tf.int32),
])
def test_tf_dtype_strings(name, expected):
    assert tf.as_dtype(name) is expected


@pytest.mark.parametrize("name,hint", [("int", "int64"), ("long", "int64"), ("f4", "float32"),
                                       ("floatx", "'float' (float32)")])
def test_strings_tf_does_not_know_are_refused_with_the_names_it_knows(name, hint):
    with pytest.raises(TypeError, match="dtype strings are TF's names") as info:
        tf.as_dtype(name)
    assert hint in str(info.value)


def test_tf_dtypes_graphc_lacks_are_named_as_such():
    with pytest.raises(TypeError, match="'complex64' is a TensorFlow dtype graphc does not"):
        tf.placeholder("complex64")


def test_float_means_float32_everywhere_a_dtype_is_accepted():
    g = tf.Graph()
    with g.as_default():
        made = [tf.placeholder("float", [None, 3]), tf.cast([1, 2], "float"),
                tf.constant(1, dtype="float"), tf.Variable([1.0, 2.0], dtype="float"),
                tf.zeros([2], "float"), tf.ones([2], dtype="float"),
                tf.random_normal([2], dtype="float"), tf.random_uniform([2], dtype="float"),
                tf.convert_to_tensor(1.5, dtype="float"), tf.range(3, dtype="float"),
                tf.zeros_like(tf.constant([1, 2]), dtype="float")]
        assert [t.dtype for t in made] == [tf.float32] * len(made)
        assert tf.argmax([[1.0, 2.0]], 1, output_type="int32").dtype is tf.int32


def test_a_tf1_program_with_float_placeholders_trains_with_float32_variables():
    """The pattern 4 of 15 tutorial programs stopped at: "float" placeholders meeting
    float32 variables in the first matmul."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder("float", [None, 2])
        y = tf.placeholder("float", [None, 1])
        W = tf.Variable(tf.zeros([2, 1]))
        b = tf.Variable(tf.zeros([1]))
        loss = tf.reduce_mean(tf.square(tf.matmul(x, W) + b - y))
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    data = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], np.float32)
    target = data @ np.array([[2.0], [-1.0]], np.float32) + 0.5
    with tf.Session(graph=g) as sess:
        sess.run(tf.variables_initializer([W, b]))
        for _ in range(300):
            sess.run(train, {x: data, y: target})
        assert sess.run(loss, {x: data, y: target}) < 1e-3


def test_a_mismatch_says_which_dtype_came_from_a_string():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder("double", [None, 3], name="x")
        W = tf.Variable(np.ones((3, 2), np.float32), name="W")
        with pytest.raises(TypeError) as info:
            tf.matmul(x, W)
        assert ("'x:0' is float64 because its dtype was given as the string 'double' "
                "(to placeholder 'x')") in str(info.value)
        V = tf.Variable(np.ones((3, 2)), dtype="float", name="V")
        with pytest.raises(TypeError, match="'V/read:0' is float32 because its dtype was "
                                            "given as the string 'float' .to variable 'V'"):
            tf.matmul(tf.placeholder(tf.float64, [None, 3]), V)
        with pytest.raises(TypeError, match=r"dtype float32 \(dtype 'float' given as a "
                                            r"string means float32\) for Tensor 'x:0'"):
            tf.convert_to_tensor(x, dtype="float")
        with pytest.raises(TypeError) as plain:  # no strings involved: no note
            tf.matmul(tf.placeholder(tf.float64, [1, 3]), tf.constant(np.ones((3, 1),
                                                                             np.float32)))
        assert "given as the string" not in str(plain.value)
