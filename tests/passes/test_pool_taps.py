"""pool_taps: a max_pool with the max_pool_grad of its input, output and window records its
taps and the gradient reads them; results stay bitwise the unoptimized ones (ties, NaN,
-Inf under SAME padding), and pools without a gradient, gradients of another window, or
ops with control edges stay."""
import numpy as np
import pytest

import graphc as tf
from graphc.ops.conv_grads import max_pool_grad
from graphc.passes import Interface, pool_taps

from .tools import fresh_graph, op_types  # noqa: F401 - a fixture

pytestmark = [pytest.mark.usefixtures("fresh_graph"),
              pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")]


def _images(shape=(3, 6, 6, 4), seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(-1, 2, shape).astype(np.float32)  # ties everywhere
    x[(x == 0) & (rng.random(shape) < 0.5)] = -0.0
    x.reshape(-1)[rng.choice(x.size, 4, replace=False)] = np.nan
    x[0, :2, :2, 0] = -np.inf  # windows whose first tap is padding under SAME
    return x


def _bits(values):
    return [np.asarray(v).tobytes() for v in values]


@pytest.mark.parametrize("ksize,strides,padding", [(3, 1, "SAME"), (2, 2, "VALID"),
                                                   (3, 2, "SAME")])
def test_a_pool_and_its_gradient_read_the_taps_bitwise(ksize, strides, padding):
    x = tf.placeholder(tf.float32, [None, 6, 6, 4], name="x")
    pooled = tf.nn.max_pool(x, ksize, strides, padding)
    loss = tf.reduce_sum(pooled * pooled)
    [grad] = tf.gradients(loss, [x])
    fetches = (pooled, grad)
    result = pool_taps.run(tf.get_default_graph(), Interface(fetches, (), (x,)))
    types = op_types(result.graph)
    assert types.count("max_pool_taps") == 1 and "max_pool_grad_taps" in types
    assert "max_pool" not in types and "max_pool_grad" not in types
    assert not pool_taps.run(result.graph, result.interface).changed  # idempotent
    feeds = {x: _images()}
    with tf.Session() as sess, tf.Session(optimize=False) as plain:
        got = sess.run(list(fetches), feeds)
        assert _bits(got) == _bits(plain.run(list(fetches), feeds))
        records = sess.optimization_records(list(fetches), feeds)
        rules = [r.rule for r in next(r for r in records if r.name == "pool_taps").rewrites]
        assert rules == ["record_taps", "record_taps"]


def test_a_conv_net_step_trains_bitwise_as_unoptimized_pools():
    x = tf.placeholder(tf.float32, [None, 8, 8, 2], name="x")
    w = tf.Variable(np.linspace(-1, 1, 3 * 3 * 2 * 4, dtype=np.float32).reshape(3, 3, 2, 4))
    h = tf.nn.relu(tf.nn.conv2d(x, w, 1, "SAME"))
    pooled = tf.nn.max_pool(tf.nn.max_pool(h, 3, 1, "SAME"), 2, 2, "VALID")
    loss = tf.reduce_mean(pooled)
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    feeds = {x: np.round(np.random.default_rng(1).normal(size=(2, 8, 8, 2)), 1)
             .astype(np.float32)}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, feeds)
        records = sess.optimization_records([loss, train], feeds)
        assert len(next(r for r in records if r.name == "pool_taps").rewrites) == 4
        pool_grad_with_taps = sess.run(w)
    with tf.Session(optimize=tf.OptimizerConfig(disabled=("pool_taps",))) as other:
        other.run(tf.global_variables_initializer())
        other.run(train, feeds)
        assert _bits([other.run(w)]) == _bits([pool_grad_with_taps])


def test_pools_without_their_gradient_or_with_control_edges_stay():
    x = tf.placeholder(tf.float32, [None, 6, 6, 4], name="x")
    alone = tf.nn.max_pool(x, 2, 2, "VALID")  # no gradient
    pooled = tf.nn.max_pool(x, 3, 1, "SAME")
    other_window = max_pool_grad(x, pooled, tf.ones_like(pooled), 3, 2, "SAME")
    doubled = x * 2.0
    with tf.control_dependencies([alone]):
        gated = tf.nn.max_pool(doubled, 3, 1, "SAME")
    gated_grad = max_pool_grad(doubled, gated, tf.ones_like(gated), 3, 1, "SAME")
    fetches = (alone, pooled, other_window, gated, gated_grad)
    result = pool_taps.run(tf.get_default_graph(), Interface(fetches, (), (x,)))
    assert not result.changed
    assert "max_pool_taps" not in op_types(result.graph)
