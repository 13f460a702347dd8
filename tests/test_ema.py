"""``tf.train.ExponentialMovingAverage``: TF1's shadow names, collections and update rule
(with ``num_updates`` and zero-debiasing), averages that follow a training step when built
under its control dependency, tensors' averages (the batch-norm idiom), and
``variables_to_restore``."""
import numpy as np
import pytest

import graphc as gc

F32 = np.float32


def _rate(decay):
    """What TF1 multiplies by: ``1 - decay`` computed in float32 (decay is a float32
    tensor), then cast to the average's dtype."""
    return np.float64(F32(1.0) - F32(decay))


def test_apply_creates_tf1_named_shadow_variables(graph):
    with gc.variable_scope("layer"):
        w = gc.get_variable("W", [2, 3])
        b = gc.get_variable("b", [3], initializer=gc.zeros_initializer())
    ema = gc.train.ExponentialMovingAverage(0.99)
    assert ema.name == "ExponentialMovingAverage" and ema.average(w) is None
    assert ema.average_name(w) == "layer/W/ExponentialMovingAverage"  # before apply, too
    update = ema.apply([w, b])
    shadow = ema.average(w)
    assert update.name == "ExponentialMovingAverage" and update.type == "no_op"
    assert shadow.name == "layer/W/ExponentialMovingAverage:0"
    assert ema.average_name(w) == "layer/W/ExponentialMovingAverage"
    assert not shadow.trainable and shadow in gc.global_variables()
    assert shadow not in gc.trainable_variables()
    # TF1 collects the averaged variables, not their shadows
    assert gc.moving_average_variables() == [w, b]
    ema.apply([w])  # a variable is averaged once
    assert ema.average(w) is shadow and len(gc.global_variables()) == 4
    other = gc.train.ExponentialMovingAverage(0.9, name="slow")
    other.apply([w])
    assert other.average(w).name == "layer/W/slow:0"
    assert gc.moving_average_variables() == [w, b, w]  # as TF1: once per apply that made one


@pytest.mark.parametrize("with_num_updates", [False, True])
def test_update_rule_and_num_updates_step_by_step(with_num_updates, graph):
    values = np.random.default_rng(0).normal(size=(6, 3))
    v = gc.Variable(values[0], name="v")
    new_value = gc.placeholder(gc.float64, [3])
    step = gc.Variable(0, dtype=gc.int64, trainable=False, name="step")
    ema = gc.train.ExponentialMovingAverage(0.9, num_updates=step if with_num_updates else None)
    update = ema.apply([v])
    with gc.control_dependencies([update]):
        bump = gc.assign_add(step, 1)
    shadow = values[0].copy()
    with gc.Session() as sess:
        sess.run(gc.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(ema.average(v)), values[0])  # starts at v
        for n, value in enumerate(values[1:]):
            sess.run(v.assign(new_value), {new_value: value})
            sess.run(bump)
            decay = min(F32(0.9), F32((1.0 + n) / (10.0 + n))) if with_num_updates else 0.9
            shadow = shadow - (shadow - value) * _rate(decay)
            np.testing.assert_allclose(sess.run(ema.average(v)), shadow, rtol=1e-12)


def test_averages_follow_the_training_step_they_depend_on(graph):
    """``with control_dependencies([opt_op]): ema.apply(...)`` reads the updated weights."""
    w = gc.Variable([1.0, -2.0], dtype=gc.float64, name="w")
    loss = gc.reduce_sum(gc.square(w))  # gradient 2 w
    opt_op = gc.train.GradientDescentOptimizer(0.1).minimize(loss)
    ema = gc.train.ExponentialMovingAverage(0.5)
    with gc.control_dependencies([opt_op]):
        train_op = ema.apply([w])
    theta = np.array([1.0, -2.0])
    shadow = theta.copy()
    with gc.Session() as sess:
        sess.run(gc.global_variables_initializer())
        for _ in range(4):
            sess.run(train_op)
            theta = theta - 0.1 * 2 * theta
            shadow = shadow - (shadow - theta) * _rate(0.5)
            np.testing.assert_allclose(sess.run(w), theta, rtol=1e-12)
            np.testing.assert_allclose(sess.run(ema.average(w)), shadow, rtol=1e-12)


@pytest.mark.parametrize("zero_debias", [False, True])
def test_tensor_averages_in_the_batch_norm_idiom(zero_debias, graph):
    x = gc.placeholder(gc.float32, [None, 2], name="x")
    batch_mean = gc.reduce_mean(x, axis=0, name="batch_mean")
    ema = gc.train.ExponentialMovingAverage(0.8, zero_debias=zero_debias)
    update = ema.apply([batch_mean])
    with gc.control_dependencies([update]):
        mean = gc.identity(batch_mean)  # the training-mode mean, updating the average
    average = ema.average(batch_mean)
    assert average.name == "batch_mean/ExponentialMovingAverage:0"
    assert gc.moving_average_variables() == []  # tensors are not collected
    names = {v.op.name for v in gc.global_variables()}
    debias_vars = {"batch_mean/ExponentialMovingAverage/biased",
                   "batch_mean/ExponentialMovingAverage/local_step"}
    assert debias_vars <= names if zero_debias else not debias_vars & names
    batches = np.random.default_rng(1).normal(size=(5, 4, 2)).astype(F32)
    shadow, biased = np.zeros(2), np.zeros(2)
    rate = F32(1.0) - F32(0.8)
    averages = []
    with gc.Session() as sess:
        sess.run(gc.global_variables_initializer())
        for t, batch in enumerate(batches, start=1):
            got_mean = sess.run(mean, {x: batch})
            np.testing.assert_allclose(got_mean, batch.mean(axis=0), rtol=1e-6)
            if zero_debias:
                biased = biased - (biased - batch.mean(axis=0)) * rate
                shadow = biased / (1 - (1 - rate) ** t)
            else:
                shadow = shadow - (shadow - batch.mean(axis=0)) * rate
            averages.append(sess.run(average))
            np.testing.assert_allclose(averages[-1], shadow, rtol=1e-5)
    first = batches[0].mean(axis=0)
    # debiased, the first average is the first batch mean; biased, a fifth of it
    np.testing.assert_allclose(averages[0], first if zero_debias else first * rate, rtol=1e-5)


def test_variables_to_restore_maps_averages_to_their_variables(graph):
    w = gc.Variable(np.ones((2, 2), F32), name="w")
    b = gc.Variable(np.zeros(2, F32), name="b")
    frozen = gc.Variable(3.0, trainable=False, name="frozen")
    step = gc.train.get_or_create_global_step()
    ema = gc.train.ExponentialMovingAverage(0.9, num_updates=step)
    ema.apply([w])
    restore = ema.variables_to_restore()
    # w's average is in the collection, b is trainable: both restore from averages
    assert restore == {"w/ExponentialMovingAverage": w, "b/ExponentialMovingAverage": b,
                       "frozen": frozen, "global_step": step}
    assert ema.variables_to_restore([frozen]) == {
        "frozen/ExponentialMovingAverage": frozen, "w": w, "b": b, "global_step": step,
        "w/ExponentialMovingAverage": ema.average(w)}


def test_bad_inputs_raise_and_change_nothing(graph):
    counter = gc.Variable(0, name="counter")
    w = gc.Variable([1.0], name="w")
    ema = gc.train.ExponentialMovingAverage(0.9)
    before = len(graph.get_operations())
    with pytest.raises(TypeError, match="The variables must be half, float, or double: "
                                        "counter:0"):
        ema.apply([w, counter])
    with pytest.raises(TypeError, match="neither a Variable nor a Tensor"):
        ema.apply([w, "w"])
    assert len(graph.get_operations()) == before and ema.average(w) is None
    assert gc.moving_average_variables() == []
