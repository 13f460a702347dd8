"""Differentiating through gc.function calls from an outer GradientTape (TF2 semantics): the
traced function's graph gradient, checked against gc.gradients in a graph and against
central finite differences."""
import numpy as np
import pytest

import graphc as gc
from graphc.graph import required_ops

X = np.array([0.3, -0.4, 1.1])


def _finite_differences(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step.flat[i] = eps
        grad.flat[i] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad


def _graph_gradient(python_function, x: np.ndarray) -> np.ndarray:
    graph = gc.Graph()
    with graph.as_default():
        xp = gc.placeholder(gc.float64, x.shape)
        [grad] = gc.gradients(python_function(xp), [xp])
        with gc.Session() as sess:
            return sess.run(grad, {xp: x})


def loss(x):
    return gc.reduce_sum(gc.tanh(x) * x + gc.exp(-x * x))


def test_a_tape_differentiates_through_a_traced_function():
    f = gc.function(loss)
    with gc.eager():
        x = gc.constant(X)
        with gc.GradientTape() as tape:
            tape.watch(x)
            y = f(x)
        grad = tape.gradient(y, x).numpy()
        plain = f(x)  # no tape: the optimized plan
        np.testing.assert_allclose(y.numpy(), plain.numpy(), rtol=1e-12)
        value = lambda v: float(f(v))  # noqa: E731
        numeric = _finite_differences(value, X)
    assert f.experimental_get_tracing_count() == 1
    np.testing.assert_allclose(grad, _graph_gradient(loss, X), rtol=1e-12)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6)


def test_variables_read_inside_the_function_get_gradients():
    with gc.eager():
        w = gc.Variable([0.5, -1.0, 2.0], dtype=gc.float64, name="fn_grad_w")
        frozen = gc.Variable([1.0, 1.0, 1.0], dtype=gc.float64, trainable=False)

        @gc.function
        def model(x):
            return gc.reduce_sum(gc.sin(w * x) * frozen)

        x = gc.constant(X)
        with gc.GradientTape() as tape:
            y = model(x)
        grad_w, grad_frozen = tape.gradient(y, [w, frozen])
        start = gc.convert_to_tensor(w).numpy().copy()
        np.testing.assert_allclose(grad_w.numpy(), X * np.cos(start * X), rtol=1e-12)
        assert grad_frozen is None  # not trainable: not watched (TF2)

        def at(values):
            w.assign(values)
            return float(model(x))
        numeric = _finite_differences(at, start)
        w.assign(start)
        np.testing.assert_allclose(grad_w.numpy(), numeric, rtol=1e-6)


def test_nested_functions_persistent_tapes_and_captured_tensors():
    with gc.eager():
        scale = gc.constant(np.array([2.0, 3.0, 4.0]))

        @gc.function
        def inner(x):
            return gc.tanh(x) * scale  # scale is captured

        @gc.function
        def outer(x):
            return gc.reduce_sum(inner(x) * x)

        x = gc.constant(X)
        with gc.GradientTape(persistent=True) as tape:
            tape.watch([x, scale])
            y = outer(x)
            z = inner(x)
        grad_x = tape.gradient(y, x).numpy()
        grad_scale = tape.gradient(y, scale).numpy()
        grad_z = tape.gradient(z, x).numpy()
    s, t = np.array([2.0, 3.0, 4.0]), np.tanh(X)
    np.testing.assert_allclose(grad_x, s * (t + X * (1 - t * t)), rtol=1e-12)
    np.testing.assert_allclose(grad_scale, t * X, rtol=1e-12)
    np.testing.assert_allclose(grad_z, s * (1 - t * t), rtol=1e-12)


def test_nested_tapes_give_second_derivatives_through_a_function():
    f = gc.function(loss)
    with gc.eager():
        x = gc.constant(X)
        with gc.GradientTape() as outer_tape:
            outer_tape.watch(x)
            with gc.GradientTape() as inner_tape:
                inner_tape.watch(x)
                y = f(x)
            first = inner_tape.gradient(y, x)
        second = outer_tape.gradient(first, x).numpy()
        derivative = lambda v: inner_gradient(f, v)  # noqa: E731
        numeric = np.array([_finite_differences(lambda v: derivative(v)[i], X)[i]
                            for i in range(X.size)])
    np.testing.assert_allclose(second, numeric, rtol=1e-5)


def inner_gradient(f, values):
    x = gc.constant(values)
    with gc.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.gradient(y, x).numpy()


def test_under_a_tape_each_call_runs_its_effects_once_and_is_recorded():
    with gc.eager():
        counter = gc.Variable(0.0, dtype=gc.float64, trainable=False, name="fn_grad_calls")

        @gc.function
        def counted(x):
            counter.assign_add(1.0)
            return x * x

        x = gc.constant(X)
        with gc.GradientTape() as tape:
            tape.watch(x)
            y = counted(x)
            with tape.stop_recording():
                unrecorded = counted(x)
        assert float(gc.convert_to_tensor(counter)) == 2.0
        assert {"multiply"} <= {op.type for op in required_ops([y])}
        assert unrecorded.op.type == "const"  # the plan's result: nothing to differentiate
        np.testing.assert_allclose(tape.gradient(y, x).numpy(), 2 * X, rtol=1e-12)


def test_a_tape_inside_a_traced_function_still_differentiates_the_graph():
    @gc.function
    def grad_of_loss(x):
        with gc.GradientTape() as tape:
            tape.watch(x)
            y = loss(x)
        return tape.gradient(y, x)

    with gc.eager():
        np.testing.assert_allclose(grad_of_loss(X).numpy(), _graph_gradient(loss, X),
                                   rtol=1e-12)


@pytest.mark.parametrize("signature", [None, [gc.TensorSpec([None], gc.float64)]])
def test_a_generalized_signature_is_differentiated_at_the_call_shapes(signature):
    f = gc.function(loss, input_signature=signature)
    with gc.eager():
        for values in (X, X[:2]):
            x = gc.constant(values)
            with gc.GradientTape() as tape:
                tape.watch(x)
                y = f(x)
            np.testing.assert_allclose(tape.gradient(y, x).numpy(),
                                       _graph_gradient(loss, values), rtol=1e-12)


# -- a call under a tape runs the plan and is recorded as one op (function_calls.py) --
def _numpy_loss(x, scale=1.0):
    return np.sum(np.tanh(x) * x * scale + np.exp(-x * x))


def test_a_call_under_a_tape_is_one_op_that_runs_the_plan():
    calls = []

    @gc.function
    def f(x):
        calls.append(1)  # Python runs while tracing only
        return gc.reduce_sum(gc.tanh(x) * x + gc.exp(-x * x))

    with gc.eager():
        x = gc.constant(X)
        for _ in range(3):
            with gc.GradientTape() as tape:
                tape.watch(x)
                y = f(x)
            assert [op.type for op in required_ops([y]) if op.type != "const"] == ["py_func"]
            grad = tape.gradient(y, x).numpy()
            np.testing.assert_allclose(grad, _finite_differences(_numpy_loss, X), rtol=1e-6)
        assert len(calls) == 1 and f.experimental_get_tracing_count() == 1
        assert np.isclose(y.numpy(), _numpy_loss(X)) and y.shape == ()


def test_captured_tensors_and_variables_get_gradients_through_the_call():
    with gc.eager():
        scale = gc.constant(np.float64(2.0))
        w = gc.Variable(np.array([0.5, -1.0, 2.0]), name="w_call")

        @gc.function
        def f(x):
            return gc.reduce_sum(gc.tanh(x * w) * scale)

        x = gc.constant(X)
        with gc.GradientTape(persistent=True) as tape:
            tape.watch([x, scale])
            y = f(x)
        dx, dw, dscale = tape.gradient(y, [x, w, scale])
        wv = w.numpy()
        np.testing.assert_allclose(dx.numpy(), _finite_differences(
            lambda v: np.sum(np.tanh(v * wv) * 2.0), X), rtol=1e-6)
        np.testing.assert_allclose(dw.numpy(), _finite_differences(
            lambda v: np.sum(np.tanh(X * v) * 2.0), wv), rtol=1e-6)
        assert np.isclose(dscale.numpy(), np.sum(np.tanh(X * wv)))


def test_second_derivatives_through_a_call_from_nested_tapes():
    f = gc.function(lambda x: gc.reduce_sum(gc.sin(x) * x))
    with gc.eager():
        x = gc.constant(X)
        with gc.GradientTape() as outer:
            outer.watch(x)
            with gc.GradientTape() as inner:
                inner.watch(x)
                y = f(x)
            dy = inner.gradient(y, x)
        d2 = outer.gradient(dy, x).numpy()  # the sum over j of d2y / dx_i dx_j
        first = lambda v: np.cos(v) * v + np.sin(v)  # noqa: E731
        np.testing.assert_allclose(dy.numpy(), first(X), rtol=1e-9)
        np.testing.assert_allclose(d2, _finite_differences(lambda v: np.sum(first(v)), X),
                                   rtol=1e-5)


def test_a_function_with_effects_still_runs_each_effect_once_under_a_tape():
    with gc.eager():
        counter = gc.Variable(0.0, name="count_calls")

        @gc.function
        def f(x):
            counter.assign_add(1.0)
            return gc.reduce_sum(x * x)

        x = gc.constant(X)
        with gc.GradientTape() as tape:
            tape.watch(x)
            y = f(x)
        np.testing.assert_allclose(tape.gradient(y, x).numpy(), 2 * X)
        assert counter.numpy() == 1.0
