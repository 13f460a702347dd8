"""Two TF1 gaps of issue 11: ``tf.Dimension`` (``x.get_shape()[1].value``) and
``Graph.gradient_override_map`` for ordinary ops (straight-through estimators)."""
import pickle

import numpy as np
import pytest

import graphc as tf


def test_known_dims_answer_tf1_value_and_stay_ints():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 784])
        assert x.get_shape()[1].value == 784 and x.shape[1].value == 784
        assert x.shape[0] is None  # unknown dims read as None, as before
        assert int(x.shape[1]) == 784 and x.shape[1] == 784 and repr(x.shape[1]) == "784"
        assert x.shape.as_list() == [None, 784] and type(x.shape.as_list()[1]) is int
        w = tf.zeros([x.get_shape()[1].value, 10])
        assert w.shape.as_list() == [784, 10]
        assert tf.reshape(x, [-1, x.shape[1]]).shape.as_list() == [None, 784]
        assert tf.convert_to_tensor([x.shape[1], 2]).dtype is tf.int32
        assert pickle.loads(pickle.dumps(x.shape[1])) == 784
        assert [d.value for d in tf.zeros([2, 3]).get_shape()] == [2, 3]
        assert list(x.shape) == [None, 784]


def test_dimension_class_follows_tf1():
    known, unknown = tf.Dimension(3), tf.Dimension(None)
    assert known.value == 3 and unknown.value is None and int(known) == 3
    assert (known + 2).value == 5 and (known * unknown).value is None
    assert known == 3 and (unknown == 3) is None and repr(known) == "Dimension(3)"
    assert known.merge_with(unknown).value == 3 and known.is_compatible_with(unknown)
    with pytest.raises(ValueError, match="not compatible"):
        known.merge_with(4)
    assert tf.TensorShape([known, unknown, 5]).as_list() == [3, None, 5]
    assert tf.dimension_value(known) == 3 and tf.dimension_value(None) is None
    with tf.Graph().as_default():
        assert tf.dimension_value(tf.zeros([2, 7]).shape[1]) == 7


def _gradient(build):
    graph = tf.Graph()
    with graph.as_default():
        x = tf.constant([0.4, -1.6, 2.5])
        y = build(graph, x)
        grad = tf.gradients(tf.reduce_sum(y * [1.0, 2.0, 3.0]), x)[0]
    if grad is None:
        return None
    with tf.Session(graph=graph) as sess:
        return sess.run(grad).tolist()


def test_override_map_gives_ordinary_ops_another_ops_gradient():
    """The straight-through estimator: round and sign pass the gradient through."""
    def build(graph, x):
        with graph.gradient_override_map({"Round": "Identity", "Sign": "Identity"}):
            return tf.round(x) + tf.sign(x)
    assert _gradient(build) == [2.0, 4.0, 6.0]
    assert _gradient(lambda graph, x: tf.round(x)) is None  # no scope: round's own (none)


@tf.RegisterGradient("opsarray_triple_grad")
def _triple_grad(op, dy):
    return [3.0 * dy]


def test_override_map_with_a_registered_function_applies_inside_the_scope_only():
    def build(graph, x):
        with graph.gradient_override_map({"Square": "opsarray_triple_grad"}):
            inside = tf.square(x)
        return inside + tf.square(x)  # the second square keeps its own gradient
    assert _gradient(build) == pytest.approx([3.0 + 0.8, 6.0 - 6.4, 9.0 + 15.0])


def test_override_map_gradient_reversal_layer():
    """DANN's flip-gradient layer: identity forward, -scale * dy backward."""
    def build(graph, x):
        with graph.gradient_override_map({"Identity": "opsarray_triple_grad",
                                          "StopGradient": "Identity"}):
            return tf.identity(x) + tf.stop_gradient(x)
    assert _gradient(build) == pytest.approx([4.0, 8.0, 12.0])


def test_override_returning_too_few_gradients_names_the_op():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.constant([[1.0, 2.0]])
        with graph.gradient_override_map({"MatMul": "opsarray_triple_grad"}):
            y = tf.matmul(x, tf.ones([2, 1]), name="mm")
        with pytest.raises(ValueError, match=r"gradient_override_map function of .*mm.* "
                                             r"returned 1 gradients for its 2 inputs"):
            tf.gradients(y, x)


def test_override_map_names_unknown_types_and_gradients():
    graph = tf.Graph()
    with pytest.raises(NotImplementedError, match=r"no graphc op type matches \['Sqare'\].*"
                                                  r"close: square"):
        with graph.gradient_override_map({"Sqare": "Identity"}):
            pass
    with pytest.raises(LookupError, match="'Square' to 'nothing_registered'"):
        with graph.gradient_override_map({"Square": "nothing_registered"}):
            pass
    assert not graph._gradient_overrides  # neither scope opened


def test_override_map_keeps_stabilized_gradients_out_of_the_way():
    def build(graph, x):
        with graph.gradient_override_map({"Log": "opsarray_triple_grad"}):
            return tf.log(tf.nn.softmax(x))  # a stabilizing rule would differentiate log_softmax
    value = np.asarray(_gradient(build))
    graph = tf.Graph()
    with graph.as_default():
        x = tf.constant([0.4, -1.6, 2.5])
        probs = tf.nn.softmax(x)
        manual = tf.gradients(probs, x, grad_ys=3.0 * tf.constant([1.0, 2.0, 3.0]))[0]
    with tf.Session(graph=graph) as sess:
        np.testing.assert_allclose(value, sess.run(manual), rtol=1e-6)
