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


def _has_float_input_and_output(opdef, sample) -> bool:
    """Whether a sample can be differentiated at all: some floating array goes in and some
    floating tensor comes out (integer-only samples, casts to and from integers, and
    integer division are left out here instead of being skipped at run time)."""
    floats_in = [a for a in sample.args + tuple(sample.kwargs.values())
                 for a in (a if isinstance(a, list) else [a])
                 if isinstance(a, (np.ndarray, np.generic)) and a.dtype.kind == "f"]
    if not floats_in:
        return False
    _, outputs, _ = build(opdef, sample)
    return any(t.dtype.is_floating for t in outputs)


def _differentiable_cases():
    cases, ids = [], []
    for (op, s), case_id in zip(*sample_cases()):
        if op.grad in (None, registry.NOT_DIFFERENTIABLE) or not _has_float_input_and_output(op, s):
            continue
        cases.append((op, type(s)(tuple(_upcast(a) for a in s.args),
                                  {k: _upcast(v) for k, v in s.kwargs.items()}, s.rtol)))
        ids.append(case_id)
    return cases, ids


CASES, IDS = _differentiable_cases()


def test_every_op_declares_differentiability():
    """Each op has a gradient rule or is declared NOT_DIFFERENTIABLE; none is left open."""
    undeclared = [op.name for op in registry.all_ops() if op.grad is None]
    assert not undeclared


def _objective(graph, outputs, feeds):
    """sum(C * output) over the floating outputs' finite elements, for random C (a NaN or
    Inf output, e.g. the max over an empty axis, takes no part: where() masks it out)."""
    values = run(graph, outputs, feeds)
    with graph.as_default():
        terms = []
        for tensor, value in zip(outputs, values):
            if tensor.dtype.is_floating:
                weights = gc.constant(RNG.normal(size=np.shape(value)), dtype=tensor.dtype)
                finite = np.isfinite(value)
                if not finite.all():
                    tensor = gc.where(gc.constant(finite), tensor, gc.zeros_like(tensor))
                terms.append(gc.reduce_sum(tensor * weights))
        return gc.add_n(terms) if len(terms) > 1 else terms[0]


@pytest.mark.parametrize("unknown_dims", [False, True], ids=["static", "none-dims"])
@pytest.mark.parametrize("opdef,sample", CASES, ids=IDS)
def test_gradient_matches_finite_differences(opdef, sample, unknown_dims):
    graph, outputs, feeds = build(opdef, sample, unknown_dims=unknown_dims)
    objective = _objective(graph, outputs, feeds)
    xs = [p for p in feeds if p.dtype.is_floating]
    with graph.as_default():
        grads = gc.gradients(objective, xs)
    _check_against_finite_differences(opdef, graph, objective, feeds, xs, grads)


@pytest.mark.parametrize("opdef,sample", CASES, ids=IDS)
def test_gradient_of_unknown_rank_inputs_is_right_or_refused_clearly(opdef, sample):
    """With every input of unknown rank, a rule that needs ranks may refuse, with a
    ValueError naming the op and the rank that changes nothing; otherwise it must be right."""
    def refused(err):
        return opdef.name in str(err) and "rank" in str(err)
    try:
        graph, outputs, feeds = build(opdef, sample, unknown_dims=lambda k, array: None)
    except ValueError as err:
        assert refused(err), err
        return
    objective = _objective(graph, outputs, feeds)
    xs = [p for p in feeds if p.dtype.is_floating]
    before = graph.get_operations()
    try:
        with graph.as_default():
            grads = gc.gradients(objective, xs)
    except ValueError as err:
        assert refused(err), err
        assert graph.get_operations() == before, "a refused gradient left ops behind"
        return
    _check_against_finite_differences(opdef, graph, objective, feeds, xs, grads)


def _check_against_finite_differences(opdef, graph, objective, feeds, xs, grads):
    connected = [(x, g) for x, g in zip(xs, grads) if g is not None]
    assert connected, f"{opdef.name}: no floating input receives a gradient\n{graph.as_text()}"
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
