"""Every differentiable op's gradient rule against central finite differences (float64).

For random cotangents C and a random direction T, the gradient of f = sum(C * op(x)) dotted
with T must equal (f(x + eps T) - f(x - eps T)) / (2 eps): JAX's inner-product check, two
forward runs per case whatever the tensor sizes. Run with static shapes and with every dim
unknown (None), so broadcasting reductions that only resolve at run time are covered too.
"""
import numpy as np
import pytest

import graphc as gc
from graphc import registry
from tests.registry_cases import build, run, sample_cases

EPS = 1e-6
RNG = np.random.default_rng(7)


def _upcast(value):
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind == "f":
        return np.asarray(value, np.float64) if isinstance(value, np.ndarray) \
            else np.float64(value)
    if isinstance(value, list):
        return [_upcast(v) for v in value]
    return value


def _differentiable_cases():
    cases, ids = sample_cases()
    kept = [(op, s) for op, s in cases if op.grad not in (None, registry.NOT_DIFFERENTIABLE)]
    kept_ids = [i for (op, s), i in zip(cases, ids)
                if op.grad not in (None, registry.NOT_DIFFERENTIABLE)]
    return [(op, type(s)(tuple(_upcast(a) for a in s.args),
                         {k: _upcast(v) for k, v in s.kwargs.items()}, s.rtol))
            for op, s in kept], kept_ids


CASES, IDS = _differentiable_cases()


def test_every_op_declares_differentiability():
    """Each op has a gradient rule or is declared NOT_DIFFERENTIABLE; none is left open."""
    undeclared = [op.name for op in registry.all_ops() if op.grad is None]
    assert not undeclared


def _objective(graph, outputs, feeds):
    values = run(graph, outputs, feeds)
    if not all(np.all(np.isfinite(v)) for v in values if np.asarray(v).dtype.kind == "f"):
        return None  # e.g. the max of an empty axis is -inf: nothing to differentiate
    with graph.as_default():
        terms = []
        for tensor, value in zip(outputs, values):
            if tensor.dtype.is_floating:
                weights = RNG.normal(size=np.shape(value))
                terms.append(gc.reduce_sum(tensor * gc.constant(weights, dtype=tensor.dtype)))
        if not terms:
            return None
        return gc.add_n(terms) if len(terms) > 1 else terms[0]


@pytest.mark.parametrize("unknown_dims", [False, True], ids=["static", "none-dims"])
@pytest.mark.parametrize("opdef,sample", CASES, ids=IDS)
def test_gradient_matches_finite_differences(opdef, sample, unknown_dims):
    graph, outputs, feeds = build(opdef, sample, unknown_dims=unknown_dims)
    objective = _objective(graph, outputs, feeds)
    xs = [p for p in feeds if p.dtype.is_floating]
    if objective is None or not xs:
        pytest.skip("no floating input and output in this sample")
    with graph.as_default():
        grads = gc.gradients(objective, xs)
    connected = [(x, g) for x, g in zip(xs, grads) if g is not None]
    if not connected:
        pytest.skip("no input of this sample receives a gradient")
    with gc.Session(graph=graph) as sess:
        values = sess.run([g for _, g in connected], feeds)
        directions = {x: RNG.normal(size=np.shape(feeds[x])) for x, _ in connected}
        shifted = []
        for sign in (1.0, -1.0):
            moved = dict(feeds)
            for x, _ in connected:
                moved[x] = feeds[x] + sign * EPS * directions[x]
            shifted.append(sess.run(objective, moved))
    numeric = (shifted[0] - shifted[1]) / (2 * EPS)
    analytic = sum(float(np.sum(v * directions[x])) for (x, _), v in zip(connected, values))
    for (x, g), value in zip(connected, values):
        assert np.shape(value) == np.shape(feeds[x]), f"{opdef.name}: gradient shape of {x.name}"
    scale = max(1.0, abs(numeric), abs(analytic))
    assert abs(numeric - analytic) <= 1e-5 * scale, (
        f"{opdef.name}: finite differences {numeric} vs gradient {analytic}\n{graph.as_text()}")
