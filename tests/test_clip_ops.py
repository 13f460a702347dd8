"""Norm clipping (``clip_by_norm``, ``global_norm``, ``clip_by_global_norm``,
``clip_by_average_norm``) against NumPy formulas, with gradients against finite differences
and the classic clip-then-apply training pattern."""
import numpy as np
import pytest

import graphc as gc
from tests.reference_gradients import assert_gradient_matches_reference

RNG = np.random.default_rng(21)


def np_clip_by_norm(t, clip, axes=None):
    norm = np.sqrt(np.sum(t * t, axis=axes, keepdims=True))
    return t * clip / np.maximum(norm, clip)


@pytest.mark.parametrize("scale,axes", [(3.0, None), (0.1, None), (1.0, (1,)), (1.0, (0, 1))])
def test_clip_by_norm_matches_numpy_and_its_gradient(scale, axes, graph):
    value = scale * RNG.normal(size=(3, 4))
    t = gc.placeholder(gc.float64, value.shape)
    clipped = gc.clip_by_norm(t, 2.0, axes=axes)
    assert clipped.op.name == "clip_by_norm" and clipped.shape.as_list() == [3, 4]
    with gc.Session() as sess:
        np.testing.assert_allclose(sess.run(clipped, {t: value}),
                                   np_clip_by_norm(value, 2.0, axes), rtol=1e-12)
    weights = RNG.normal(size=value.shape)
    assert_gradient_matches_reference(gc.reduce_sum(clipped * weights), {t: value}, [t],
                                      lambda v: np.sum(np_clip_by_norm(v, 2.0, axes) * weights),
                                      rtol=1e-7)


def test_clip_by_norm_of_zero_is_zero_with_a_finite_gradient(graph):
    t = gc.placeholder(gc.float32, [3])
    clipped = gc.clip_by_norm(t, 1.0)
    (grad,) = gc.gradients(gc.reduce_sum(clipped), [t])
    with gc.Session() as sess:
        value, grad_value = sess.run([clipped, grad], {t: np.zeros(3, np.float32)})
    np.testing.assert_array_equal(value, np.zeros(3))
    np.testing.assert_array_equal(grad_value, np.ones(3))  # below the clip: identity


def test_global_norm_and_clip_by_global_norm(graph):
    values = [RNG.normal(size=(2, 3)), RNG.normal(size=4)]
    a, b = (gc.placeholder(gc.float64, v.shape) for v in values)
    feeds = {a: values[0], b: values[1]}
    expected_norm = np.sqrt(sum(np.sum(v * v) for v in values))
    norm = gc.global_norm([a, None, b])
    clipped, returned_norm = gc.clip_by_global_norm([a, None, b], 1.5)
    assert clipped[1] is None and norm.op.name == "global_norm"
    given, _ = gc.clip_by_global_norm([a, b], 1.5, use_norm=gc.constant(np.float64(3.0)))
    with gc.Session() as sess:
        got_norm, got_clipped, got_returned, got_given = sess.run(
            [norm, [clipped[0], clipped[2]], returned_norm, given], feeds)
    assert got_norm == pytest.approx(expected_norm, rel=1e-12) and got_returned == got_norm
    for got, want in zip(got_clipped, values):
        np.testing.assert_allclose(got, want * 1.5 / max(expected_norm, 1.5), rtol=1e-12)
    for got, want in zip(got_given, values):
        np.testing.assert_allclose(got, want * 0.5, rtol=1e-12)  # 1.5 / use_norm
    weights = [RNG.normal(size=v.shape) for v in values]
    objective = gc.add_n([gc.reduce_sum(c * w) for c, w in zip([clipped[0], clipped[2]],
                                                                weights)])

    def reference(va, vb):
        scale = 1.5 / max(np.sqrt(np.sum(va * va) + np.sum(vb * vb)), 1.5)
        return np.sum(va * scale * weights[0]) + np.sum(vb * scale * weights[1])
    assert_gradient_matches_reference(objective, feeds, [a, b], reference, rtol=1e-7)


def test_a_non_finite_global_norm_makes_every_entry_nan(graph):
    t = gc.placeholder(gc.float32, [2])
    (clipped,), norm = gc.clip_by_global_norm([t], 1.0)
    with gc.Session() as sess:
        value, norm_value = sess.run([clipped, norm], {t: [np.inf, 1.0]})
    assert np.isinf(norm_value) and np.all(np.isnan(value))


def test_clip_by_average_norm(graph):
    value = RNG.normal(size=(3, 4)).astype(np.float32)
    clipped = gc.clip_by_average_norm(value, 0.1)
    with gc.Session() as sess:
        got = sess.run(clipped)
    average_norm = np.sqrt(np.sum(value.astype(np.float64) ** 2)) / value.size
    np.testing.assert_allclose(got, value * 0.1 / max(average_norm, 0.1), rtol=1e-5)


@pytest.mark.parametrize("build,error,match", [
    (lambda t: gc.clip_by_global_norm(t, 1.0), TypeError, "t_list should be a sequence"),
    (lambda t: gc.global_norm(iter([t])), TypeError, "t_list should be a sequence"),
    (lambda t: gc.global_norm([None, None]), ValueError, "every entry is None"),
    (lambda t: gc.global_norm([t, gc.cast(t, gc.float64)]), TypeError, "different dtypes"),
])
def test_bad_lists_are_refused(build, error, match, graph):
    t = gc.placeholder(gc.float32, [2])
    with pytest.raises(error, match=match):
        build(t)


def test_clip_then_apply_the_classic_pattern(graph):
    x_value = RNG.normal(size=(8, 3))
    y_value = RNG.normal(size=(8, 1))
    x, y = gc.constant(x_value), gc.constant(y_value)
    w = gc.Variable(np.full((3, 1), 4.0), name="w")
    b = gc.Variable(np.array([2.0]), name="b")
    loss = gc.reduce_mean(gc.square(gc.matmul(x, w) + b - y))
    tvars = gc.trainable_variables()
    grads, norm = gc.clip_by_global_norm(gc.gradients(loss, tvars), 5.0)
    opt = gc.train.GradientDescentOptimizer(0.1)
    train_op = opt.apply_gradients(zip(grads, tvars))
    theta_w, theta_b = np.full((3, 1), 4.0), np.array([2.0])
    with gc.Session() as sess:
        sess.run(gc.global_variables_initializer())
        for _ in range(3):
            residual = x_value @ theta_w + theta_b - y_value
            gw, gb = 2 * x_value.T @ residual / 8, 2 * residual.mean(axis=0)
            global_norm = np.sqrt(np.sum(gw ** 2) + np.sum(gb ** 2))
            assert sess.run(norm) == pytest.approx(global_norm, rel=1e-12)
            scale = 5.0 / max(global_norm, 5.0)
            sess.run(train_op)
            theta_w, theta_b = theta_w - 0.1 * gw * scale, theta_b - 0.1 * gb * scale
            np.testing.assert_allclose(sess.run(w), theta_w, rtol=1e-12)
            np.testing.assert_allclose(sess.run(b), theta_b, rtol=1e-12)
        assert global_norm > 5.0  # the clip was active
