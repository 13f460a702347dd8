"""scaled_updates: ``assign_sub(v, scale * delta)`` (an SGD step) becomes one
scaled_assign_sub op; variables end bitwise where the two ops leave them (NaN, infinities
and signed zeros included), the train op still runs every update, and products read
elsewhere, of other dtypes or non-scalar scales stay."""
import numpy as np
import pytest

import graphc as tf
from graphc.passes import Interface, scaled_updates

from .tools import fresh_graph, op_types  # noqa: F401 - a fixture


pytestmark = pytest.mark.usefixtures("fresh_graph")


def sgd_graph(dtype=np.float32):
    x = tf.placeholder(dtype, [None, 3], name="x")
    w = tf.Variable(np.linspace(-1, 1, 12).reshape(3, 4).astype(dtype), name="w")
    b = tf.Variable(np.zeros(4, dtype), name="b")
    loss = tf.reduce_sum(tf.tanh(tf.matmul(x, w) + b))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    return x, (w, b), loss, train


def steps(optimize, feeds, runs=3):
    x, variables, loss, train = sgd_graph()
    with tf.Session(optimize=optimize) as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(runs):
            sess.run(train, {x: feeds})
        return sess.run(list(variables)), sess


def test_an_sgd_step_updates_each_variable_in_one_op_bitwise():
    feeds = np.array([[0.5, -1.0, 2.0], [1e-3, 0.0, -0.0]], np.float32)
    got, sess = steps(True, feeds)
    want, _ = steps(False, feeds)
    for g, w in zip(got, want):
        assert g.tobytes() == w.tobytes()


def test_the_pass_replaces_the_update_and_its_product_and_keeps_the_train_op():
    x, variables, loss, train = sgd_graph()
    graph = tf.get_default_graph()
    result = scaled_updates.run(graph, Interface((), (train,), (x,)))
    assert [r.rule for r in result.rewrites] == ["fold_scale"] * 2
    kinds = op_types(result.graph)
    assert kinds.count("scaled_assign_sub") == 2 and "assign_sub" not in kinds
    [group] = result.interface.targets
    assert sorted(op.type for op in group.control_inputs) == ["scaled_assign_sub"] * 2
    assert not scaled_updates.run(result.graph, result.interface).changed  # idempotent


@pytest.mark.parametrize("delta", [np.nan, np.inf, -np.inf, -0.0])
def test_special_values_update_as_the_two_ops_do(delta):
    v = tf.Variable(np.array([1.0, -0.0, np.inf, 3.0], np.float32))
    d = tf.placeholder(tf.float32, [4], name="d")
    scale = tf.placeholder(tf.float32, [], name="scale")
    update = tf.assign_sub(v, scale * d)
    results = []
    for optimize in (True, False):
        with tf.Session(optimize=optimize) as sess:
            sess.run(tf.global_variables_initializer())
            for value in (0.5, -0.0, np.inf):
                sess.run(update, {d: np.full(4, delta, np.float32), scale: value})
            results.append(sess.run(v))
    assert results[0].tobytes() == results[1].tobytes()


def test_a_broadcast_delta_and_a_bad_shape_take_assign_subs_path():
    v = tf.Variable(np.ones((2, 3), np.float32), validate_shape=False)
    d = tf.placeholder(tf.float32, None, name="d")
    update = tf.assign_sub(v, 2.0 * d)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        [record] = [r for r in sess.optimization_records(update, {d: np.float32(1)})
                    if r.name == "scaled_updates"]
        assert record.histogram_after["scaled_assign_sub"] == 1
        np.testing.assert_array_equal(sess.run(update, {d: np.float32(0.25)}),
                                      np.full((2, 3), 0.5, np.float32))
        with pytest.raises(tf.errors.InvalidArgumentError, match="does not match the variable's shape"):
            sess.run(update, {d: np.ones((4, 2, 3), np.float32)})
        np.testing.assert_array_equal(sess.run(v), np.full((2, 3), 0.5, np.float32))


def test_products_read_elsewhere_of_other_dtypes_or_non_scalar_scales_stay():
    v = tf.Variable(np.ones(3, np.float32))
    n = tf.Variable(np.ones(3, np.int32))
    d = tf.placeholder(tf.float32, [3], name="d")
    read_twice = 0.5 * d
    updates = [tf.assign_sub(v, read_twice), tf.assign_sub(v, d * d),
               tf.assign_sub(n, 2 * tf.cast(d, tf.int32))]
    fetches = (read_twice,)
    result = scaled_updates.run(tf.get_default_graph(),
                                Interface(fetches, tuple(u.op for u in updates), (d,)))
    assert not result.changed
