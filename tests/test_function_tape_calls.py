"""A gc.function called under a GradientTape runs its optimized plan and is recorded as one
call op; the gradient is the traced graph's gradient, itself a compiled function (checked
against central finite differences, to second order, with captures and variables)."""
import numpy as np

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
