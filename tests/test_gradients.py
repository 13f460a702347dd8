"""gc.gradients as a graph transformation: semantics beyond single ops."""
import dataclasses

import numpy as np
import pytest

import graphc as gc
from graphc import registry


def test_gradients_are_ordinary_tensors_in_a_named_scope(graph):
    x = gc.placeholder(gc.float64, (3,), name="x")
    y = gc.reduce_sum(gc.sin(x) * x)
    [dx] = gc.gradients(y, [x])
    assert dx.op.name.startswith("gradients/") and dx.graph is graph
    with gc.Session() as sess:
        value, grad = sess.run([y, dx], {x: [0.1, 0.2, 0.3]})  # fetched together
    xv = np.array([0.1, 0.2, 0.3])
    np.testing.assert_allclose(grad, np.cos(xv) * xv + np.sin(xv))
    assert [op.name for op in graph.get_operations() if op.name.startswith("gradients_1/")] == []
    gc.gradients(y, [x])
    assert any(op.name.startswith("gradients_1/") for op in graph.get_operations())


def test_paths_are_summed(graph):
    x = gc.placeholder(gc.float64, (), name="x")
    y = x * x + 3.0 * x + gc.exp(x)
    [dx] = gc.gradients(y, x)
    with gc.Session() as sess:
        assert sess.run(dx, {x: 0.5}) == pytest.approx(2 * 0.5 + 3 + np.exp(0.5))


@pytest.mark.parametrize("batch", [1, 4])
def test_broadcasting_is_undone_with_run_time_shapes(graph, batch):
    """x: (?, 3) and s: (?, 1): whether s broadcasts is only known when the graph runs."""
    x = gc.placeholder(gc.float64, (None, 3), name="x")
    s = gc.placeholder(gc.float64, (None, 1), name="s")
    b = gc.placeholder(gc.float64, (3,), name="b")
    y = gc.reduce_sum((x + b) * s)
    gx, gs, gb = gc.gradients(y, [x, s, b])
    xv, sv = np.ones((4, 3)), np.arange(batch, dtype=float).reshape(batch, 1)
    with gc.Session() as sess:
        gxv, gsv, gbv = sess.run([gx, gs, gb], {x: xv, s: sv, b: np.ones(3)})
    expected_s = np.broadcast_to(sv, (4, 3))
    np.testing.assert_allclose(gxv, expected_s)
    assert gsv.shape == (batch, 1) and gbv.shape == (3,)
    np.testing.assert_allclose(gsv, ((xv + 1).sum(axis=1, keepdims=True) if batch == 4
                                     else [[(xv + 1).sum()]]))
    np.testing.assert_allclose(gbv, expected_s.sum(axis=0))


def test_integer_paths_and_nondifferentiable_ops_end_cleanly(graph):
    x = gc.placeholder(gc.float32, (4,), name="x")
    n = gc.placeholder(gc.int32, (4,), name="n")
    through_int = gc.cast(gc.cast(x, gc.int32), gc.float32)
    y = gc.reduce_sum(through_int + gc.cast(gc.argmax(x), gc.float32) + gc.floor(x)
                      + gc.cast(n, gc.float32) + gc.cast(x > 0, gc.float32))
    gx, gn = gc.gradients(y, [x, n])
    assert gx is None and gn is None


def test_stop_gradient_and_stop_gradients(graph):
    x = gc.placeholder(gc.float64, (), name="x")
    y = x * gc.stop_gradient(x * 2.0)
    [dx] = gc.gradients(y, x)
    mid = x * 3.0
    z = mid * x
    [dz] = gc.gradients(z, x, stop_gradients=[mid])
    with gc.Session() as sess:
        assert sess.run(dx, {x: 5.0}) == 10.0
        assert sess.run(dz, {x: 2.0}) == 6.0  # mid held constant


def test_unconnected_gradients(graph):
    x = gc.placeholder(gc.float32, (2, 3), name="x")
    other = gc.placeholder(gc.float32, (None, 5), name="other")
    y = gc.reduce_sum(x)
    assert gc.gradients(y, [other]) == [None]
    g_static, g_dynamic = gc.gradients(y, [x * 0.0 + 1.0, other], unconnected_gradients="zero")
    with gc.Session() as sess:
        value = sess.run(g_dynamic, {other: np.ones((7, 5)), x: np.ones((2, 3))})
    assert value.shape == (7, 5) and not value.any()
    with pytest.raises(ValueError, match="unconnected_gradients"):
        gc.gradients(y, [x], unconnected_gradients="sometimes")


def test_missing_gradient_rule_is_a_clear_error_and_changes_nothing(graph, monkeypatch):
    x = gc.placeholder(gc.float32, (3,), name="x")
    y = gc.reduce_sum(gc.sin(x))
    monkeypatch.setitem(registry._REGISTRY, "sin",
                        dataclasses.replace(registry.get("sin"), grad=None))
    before = len(graph.get_operations())
    with pytest.raises(LookupError, match=r"No gradient defined for op 'sin' \(sin"):
        gc.gradients(y, [x])
    assert len(graph.get_operations()) == before


def test_tensordot_of_unknown_rank_runs_and_its_gradient_is_a_clear_error(graph):
    """Integer axes count from the end of a, so a's rank need not be known to build it; the
    gradient does need both ranks and says so (it used to fail with a bare TypeError)."""
    a = gc.placeholder(gc.float64, None, name="a")
    b = gc.placeholder(gc.float64, (3, 4, 5), name="b")
    c = gc.tensordot(a, b, 2)
    values = {a: np.ones((2, 3, 4)), b: np.ones((3, 4, 5))}
    with gc.Session() as sess:
        np.testing.assert_array_equal(sess.run(c, values), np.full((2, 5), 12.0))
    total = gc.reduce_sum(c)
    before = len(graph.get_operations())
    with pytest.raises(ValueError, match=r"gradient of op 'Tensordot' \(tensordot.*known rank"):
        gc.gradients(total, [a, b])
    assert len(graph.get_operations()) == before


def test_tie_conventions(graph):
    """relu'(0) = 0; maximum's tie goes to the first input; reduce_max ties split evenly."""
    x = gc.placeholder(gc.float64, (3,), name="x")
    relu_grad, = gc.gradients(gc.reduce_sum(gc.nn.relu(x)), x)
    first, second = gc.gradients(gc.reduce_sum(gc.maximum(x, x * 1.0)), [x, x])
    max_grad, = gc.gradients(gc.reduce_max(x), x)
    with gc.Session() as sess:
        out = sess.run([relu_grad, first, max_grad], {x: [0.0, 2.0, 2.0]})
    np.testing.assert_array_equal(out[0], [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(out[1], [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(out[2], [0.0, 0.5, 0.5])


def test_gradient_with_respect_to_variables_counts_every_read(graph):
    w = gc.Variable([1.0, 2.0], dtype=gc.float64, name="w")
    loss = gc.reduce_sum(w * w) + gc.reduce_sum(w.read_value() * 3.0)
    [gw] = gc.gradients(loss, [w])
    with gc.Session() as sess:
        sess.run(w.initializer)
        np.testing.assert_allclose(sess.run(gw), [2 * 1.0 + 3.0, 2 * 2.0 + 3.0])


def _numeric_jvp(fn, x, direction, eps=1e-5):
    return (fn(x + eps * direction) - fn(x - eps * direction)) / (2 * eps)


@pytest.mark.parametrize("build", [
    lambda x: gc.reduce_sum(gc.tanh(x) * gc.exp(0.3 * x)),
    lambda x: gc.reduce_logsumexp(x * x) + gc.reduce_sum(gc.sigmoid(x)),
    lambda x: gc.reduce_sum(gc.nn.softmax(gc.reshape(x, [2, 3])) * gc.constant(
        np.arange(6.0).reshape(2, 3))),
    lambda x: gc.reduce_sum(gc.square(gc.matmul(gc.reshape(x, [2, 3]), gc.reshape(x, [3, 2])))),
], ids=["tanh-exp", "logsumexp-sigmoid", "softmax", "matmul-square"])
def test_hessian_vector_products_match_finite_differences(graph, build):
    """Second order: d/dx <grad f(x), v> against finite differences of the first gradient."""
    x = gc.placeholder(gc.float64, (6,), name="x")
    v = gc.placeholder(gc.float64, (6,), name="v")
    f = build(x)
    [g] = gc.gradients(f, x)
    [hvp] = gc.gradients(gc.reduce_sum(g * v), x)
    rng = np.random.default_rng(3)
    point, direction = rng.normal(size=6) * 0.5, rng.normal(size=6)
    with gc.Session() as sess:
        analytic = sess.run(hvp, {x: point, v: direction})
        numeric = _numeric_jvp(lambda p: sess.run(g, {x: p}), point, direction)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)


def test_hessians_of_a_quadratic_form(graph):
    a = np.array([[2.0, 1.0], [0.5, 3.0]])
    x = gc.placeholder(gc.float64, (2,), name="x")
    f = gc.reduce_sum(x * gc.reshape(gc.matmul(gc.constant(a), gc.reshape(x, [2, 1])), [2]))
    [hessian] = gc.hessians(f, [x])
    with gc.Session() as sess:
        np.testing.assert_allclose(sess.run(hessian, {x: [0.3, -0.7]}), a + a.T)


def test_third_derivative(graph):
    x = gc.placeholder(gc.float64, (), name="x")
    d1, = gc.gradients(x * x * x, x)
    d2, = gc.gradients(d1, x)
    d3, = gc.gradients(d2, x)
    with gc.Session() as sess:
        assert sess.run([d1, d2, d3], {x: 2.0}) == [12.0, 12.0, 6.0]


def test_ten_thousand_layer_chain_differentiates_and_runs(graph):
    """No recursion anywhere: build, differentiate and run h = tanh(w_i h + b_i) x 10,000."""
    x = gc.placeholder(gc.float64, (1,), name="x")
    h, previous = x, None
    weights = []
    for i in range(10_000):
        w = gc.constant(np.array([0.9 + 0.1 * (i % 3)]))
        weights.append(w)
        previous, h = h, gc.tanh(w * h + 0.01)
    loss = gc.reduce_sum(h)
    grads = gc.gradients(loss, [x, weights[0], weights[-1]])
    # per-pass verification of a graph this size belongs to the small-graph tests
    with gc.Session(optimize=gc.OptimizerConfig(verify=False)) as sess:
        loss_value, before_last, *grad_values = sess.run([loss, previous] + grads, {x: [0.5]})
    assert all(np.all(np.isfinite(v)) for v in grad_values)
    # the last layer's weight: d tanh(w h + b) / dw = (1 - tanh^2) * h
    np.testing.assert_allclose(grad_values[2], (1 - loss_value ** 2) * before_last)
