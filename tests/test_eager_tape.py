"""GradientTape (TF2's API) over eager values: the gradient graph is built from the recorded
tree with the registry's grad rules, so it matches graph mode and finite differences."""
import numpy as np
import pytest

import graphc as gc


def _finite_difference(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        grad[index] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad


def _loss(x):
    return np.sum(np.tanh(x @ x.T)) * np.sum(np.exp(-x[:, :1])) + np.sum(np.log1p(x * x))


def test_tape_gradient_matches_graph_mode_and_finite_differences():
    value = np.random.default_rng(0).standard_normal((3, 2))
    with gc.eager():
        x = gc.constant(value)
        with gc.GradientTape() as tape:
            tape.watch(x)
            y = (gc.reduce_sum(gc.tanh(gc.matmul(x, gc.transpose(x))))
                 * gc.reduce_sum(gc.exp(-x[:, :1])) + gc.reduce_sum(gc.log1p(x * x)))
        eager_grad = tape.gradient(y, x).numpy()
    graph = gc.Graph()
    with graph.as_default():
        p = gc.placeholder(gc.float64, (3, 2))
        loss = (gc.reduce_sum(gc.tanh(gc.matmul(p, gc.transpose(p))))
                * gc.reduce_sum(gc.exp(-p[:, :1])) + gc.reduce_sum(gc.log1p(p * p)))
        [grad] = gc.gradients(loss, p)
    with gc.Session(graph=graph) as sess:
        graph_grad = sess.run(grad, {p: value})
    np.testing.assert_allclose(eager_grad, graph_grad, rtol=1e-12)
    np.testing.assert_allclose(eager_grad, _finite_difference(_loss, value), rtol=1e-6)


def test_unwatched_tensors_and_unrecorded_ops_get_no_gradient():
    with gc.eager():
        x = gc.constant(2.0)
        before = x * x  # computed before the tape: not recorded
        with gc.GradientTape(persistent=True) as tape:
            tape.watch(x)
            y = before * x
            z = x * 3.0
        assert float(tape.gradient(y, x)) == 4.0  # only through the recorded multiply
        assert tape.gradient(z, gc.constant(1.0)) is None
        assert float(tape.gradient(z, x)) == 3.0
        assert tape.gradient([y, z], [x, before])[1] is None  # not watched: TF2 gives None
        tape.watch(before)
        assert float(tape.gradient([y, z], [x, before])[1]) == 2.0
        zero = tape.gradient(z, gc.constant(5.0), unconnected_gradients="zero")
        assert float(zero) == 0.0


def test_trainable_variables_are_watched_and_non_trainable_are_not():
    with gc.eager():
        w = gc.Variable([1.0, 2.0], name="tape_w")
        frozen = gc.Variable([3.0], trainable=False, name="tape_frozen")
        with gc.GradientTape() as tape:
            loss = gc.reduce_sum(w * w) + gc.reduce_sum(frozen)
        gw, gf = tape.gradient(loss, [w, frozen])
        np.testing.assert_array_equal(gw.numpy(), [2.0, 4.0])
        assert gf is None
        with gc.GradientTape(watch_accessed_variables=False) as tape:
            loss = gc.reduce_sum(w * 3.0)
        assert tape.gradient(loss, w) is None


def test_non_persistent_tape_answers_once():
    with gc.eager():
        x = gc.constant(1.0)
        with gc.GradientTape() as tape:
            tape.watch(x)
            y = x * x
        tape.gradient(y, x)
        with pytest.raises(RuntimeError, match="non-persistent"):
            tape.gradient(y, x)


def test_nested_tapes_give_higher_order_gradients():
    with gc.eager():
        x = gc.constant(3.0, dtype=gc.float64)
        with gc.GradientTape() as outer:
            outer.watch(x)
            with gc.GradientTape() as inner:
                inner.watch(x)
                y = x * x * x
            dy = inner.gradient(y, x)
        d2y = outer.gradient(dy, x)
        assert float(dy) == 27.0 and float(d2y) == 18.0


def test_stop_recording_and_nested_sources():
    with gc.eager():
        a, b = gc.constant(1.0), gc.constant(2.0)
        with gc.GradientTape() as tape:
            tape.watch({"a": a, "b": [b]})
            y = a * b
            with tape.stop_recording():
                unseen = y * 10.0
            total = y + unseen
        grads = tape.gradient(total, {"a": a, "b": [b]})
        assert float(grads["a"]) == 2.0 and float(grads["b"][0]) == 1.0


def test_jacobian():
    with gc.eager():
        x = gc.constant([1.0, 2.0, 3.0], dtype=gc.float64)
        with gc.GradientTape() as tape:
            tape.watch(x)
            y = x * x
        jac = tape.jacobian(y, x).numpy()
    np.testing.assert_allclose(jac, np.diag([2.0, 4.0, 6.0]))


def test_eager_training_loop_decreases_the_loss():
    rng = np.random.default_rng(1)
    inputs = rng.standard_normal((32, 3)).astype(np.float32)
    targets = inputs @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    with gc.eager():
        w = gc.Variable(np.zeros((3, 1), np.float32), name="fit_w")
        losses = []
        for _ in range(30):
            with gc.GradientTape() as tape:
                loss = gc.reduce_mean(gc.square(gc.matmul(inputs, w) - targets))
            w.assign_sub(0.1 * tape.gradient(loss, w))
            losses.append(float(loss))
    assert losses[-1] < 0.05 * losses[0]


def test_tape_in_graph_mode_is_gc_gradients():
    graph = gc.Graph()
    with graph.as_default():
        x = gc.placeholder(gc.float32, [])
        with gc.GradientTape() as tape:
            tape.watch(x)
            y = x * x
        grad = tape.gradient(y, x)
    with gc.Session(graph=graph) as sess:
        assert sess.run(grad, {x: 3.0}) == 6.0
