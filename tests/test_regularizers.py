"""Regularizers (contrib and Keras formulas), their collection, and tf.losses' sums."""
import numpy as np
import pytest

import graphc as gc

W = np.array([[1.0, -2.0], [3.0, -4.0]])


@pytest.fixture
def graph():
    g = gc.Graph()
    with g.as_default():
        yield g


def _run(fetches):
    with gc.Session() as sess:
        sess.run(gc.global_variables_initializer())
        return sess.run(fetches)


@pytest.mark.parametrize("make,expected", [
    (lambda: gc.contrib.layers.l1_regularizer(0.5), 0.5 * 10),
    (lambda: gc.contrib.layers.l2_regularizer(0.5), 0.5 * 30 / 2),
    (lambda: gc.contrib.layers.l1_l2_regularizer(0.5, 0.25), 0.5 * 10 + 0.25 * 15),
    (lambda: gc.contrib.layers.l1_l2_regularizer(0.0, 0.25), 0.25 * 15),
    (lambda: gc.contrib.layers.sum_regularizer(
        [gc.contrib.layers.l1_regularizer(1.0), None]), 10.0),
    (lambda: gc.keras.regularizers.l2(0.5), 0.5 * 30),
    (lambda: gc.keras.regularizers.l1_l2(0.5, 0.25), 0.5 * 10 + 0.25 * 30),
    (lambda: gc.keras.regularizers.L1(0.1), 0.1 * 10),
    (lambda: gc.keras.regularizers.get("l2"), 0.01 * 30)])
def test_penalties_follow_tf1_formulas(graph, make, expected):
    w = gc.get_variable("w", initializer=W)
    penalty = make()(w)
    assert penalty.shape == () and penalty.dtype == gc.float64
    assert _run(penalty) == pytest.approx(expected)


def test_get_variable_collects_penalties_named_under_the_variable(graph):
    with gc.variable_scope("enc", regularizer=gc.contrib.layers.l2_regularizer(0.1)):
        gc.get_variable("w", initializer=np.ones((2, 2), np.float32))
        gc.get_variable("b", [2], regularizer=gc.contrib.layers.l1_regularizer(0.0))  # off
    with gc.variable_scope("dec"):
        gc.get_variable("w", initializer=np.ones(3, np.float32),
                        regularizer=gc.keras.regularizers.l1(2.0))
    losses = gc.get_collection(gc.GraphKeys.REGULARIZATION_LOSSES)
    assert losses[0].name == "enc/w/Regularizer/l2_regularizer:0"
    assert len(losses) == 2 and losses[1].name.startswith("dec/w/Regularizer/")
    assert gc.losses.get_regularization_losses() == losses
    assert gc.losses.get_regularization_losses(scope="dec") == losses[1:]
    total = gc.losses.get_regularization_loss()
    enc = gc.losses.get_regularization_loss(scope="enc", name="enc_penalty")
    assert total.op.name == "total_regularization_loss" and enc.op.name == "enc_penalty"
    assert _run([total, enc]) == pytest.approx([0.1 * 4 / 2 + 2.0 * 3, 0.2])


def test_regularization_loss_is_zero_without_penalties(graph):
    total = gc.losses.get_regularization_loss()
    assert total.dtype == gc.float32 and _run(total) == 0.0


def test_regularizer_gets_gradients_into_training(graph):
    w = gc.get_variable("w", initializer=np.array([3.0, -1.0]),
                        regularizer=gc.contrib.layers.l2_regularizer(1.0))
    (grad,) = gc.gradients(gc.losses.get_regularization_loss(), [w])
    np.testing.assert_allclose(_run(grad), [3.0, -1.0])  # d/dw of sum(w^2)/2


def test_apply_regularization(graph):
    a = gc.get_variable("a", initializer=np.array([1.0, 2.0]))
    b = gc.get_variable("b", initializer=np.array([3.0]))
    gc.add_to_collection(gc.GraphKeys.WEIGHTS, a)
    gc.add_to_collection(gc.GraphKeys.WEIGHTS, b)
    penalty = gc.contrib.layers.apply_regularization(gc.contrib.layers.l1_regularizer(2.0))
    assert penalty.op.name == "get_regularization_penalty"
    assert gc.losses.get_regularization_losses() == [penalty]
    assert _run(penalty) == pytest.approx(12.0)
    with pytest.raises(ValueError, match="must return a scalar"):
        gc.contrib.layers.apply_regularization(lambda w: w * 2.0, [a])


def test_bad_scales(graph):
    with pytest.raises(ValueError, match="scale cannot be an integer: 1"):
        gc.contrib.layers.l2_regularizer(1)
    with pytest.raises(ValueError, match="scale less than 0"):
        gc.contrib.layers.l1_regularizer(-0.5)
    with pytest.raises(ValueError, match="scale_l2 cannot be an integer"):
        gc.contrib.layers.l1_l2_regularizer(0.5, 2)
    assert gc.contrib.layers.l2_regularizer(0.0)(gc.constant([1.0])) is None
    assert gc.contrib.layers.l1_l2_regularizer(0.0, 0.0)(gc.constant([1.0])) is None
    with pytest.raises(ValueError, match="unknown regularizer 'l3'"):
        gc.keras.regularizers.get("l3")
