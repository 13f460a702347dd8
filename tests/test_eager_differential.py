"""One semantics: every registered op with samples gives the same results run eagerly, in a
graph Session and traced by gc.function; tape gradients equal graph-mode gradients and
central finite differences of the eager computation."""
import numpy as np
import pytest

import graphc as gc
from graphc import registry
from tests.registry_cases import build, is_array, run, sample_cases

CASES, IDS = sample_cases()


def _eager_args(values):
    def convert(value):
        if is_array(value):
            return gc.constant(np.asarray(value))
        if isinstance(value, list) and any(is_array(v) for v in value):
            return [convert(v) for v in value]
        return value
    return [convert(v) for v in values]


def _call_eagerly(opdef, sample):
    with gc.eager():
        args = _eager_args(sample.args)
        keys = list(sample.kwargs)
        kwargs = dict(zip(keys, _eager_args([sample.kwargs[k] for k in keys])))
        out = registry.api_for(opdef.name)(*args, **kwargs)
        outputs = list(out) if isinstance(out, (list, tuple)) else [out]
        return [np.asarray(t.numpy()) for t in outputs]


def _same(got, want, what):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, what
    if got.dtype.kind == "f":
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=what)
        np.testing.assert_allclose(got, want, rtol=4e-7 if got.dtype.itemsize <= 4 else 1e-15,
                                   atol=0, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


@pytest.mark.parametrize("opdef,sample", CASES, ids=IDS)
def test_eager_equals_session(opdef, sample):
    graph, outputs, feeds = build(opdef, sample)
    expected = run(graph, outputs, feeds)
    for call in ("built", "planned"):  # the second call runs from the eager fast path's plan
        actual = _call_eagerly(opdef, sample)
        assert len(actual) == len(expected)
        for got, want in zip(actual, expected):
            if opdef.random:
                assert np.shape(got) == np.shape(want)  # other draws, same kind of value
                continue
            _same(got, want, f"{opdef.name}: eager ({call}) vs session")


def _flat_args(args):
    """The sample's arguments with lists of them (add_n's inputs) flattened, in the order
    the registry cases make their placeholders."""
    return [v for a in args for v in (a if isinstance(a, list) else [a])]


def _with_sources(args, sources):
    """The sample's arguments with each array, also inside a list, replaced by the next
    of ``sources`` (an iterator)."""
    def convert(value):
        if is_array(value):
            return next(sources)
        if isinstance(value, list) and any(is_array(v) for v in value):
            return [convert(v) for v in value]
        return value
    return [convert(a) for a in args]


def _differentiable_cases():
    picked, ids = [], []
    for (opdef, sample), case_id in zip(CASES, IDS):
        arrays = [a for a in _flat_args(sample.args) if is_array(a)]
        if (callable(opdef.grad) and not opdef.random and arrays
                and all(np.asarray(a).dtype == np.float64 for a in arrays)):
            picked.append((opdef, sample))
            ids.append(case_id)
    return picked, ids


GRAD_CASES, GRAD_IDS = _differentiable_cases()


@pytest.mark.parametrize("opdef,sample", GRAD_CASES, ids=GRAD_IDS)
def test_tape_gradient_equals_graph_gradient(opdef, sample):
    """d sum(c * op(x)) / dx by the tape on eager values and by gc.gradients in a graph."""
    graph, outputs, feeds = build(opdef, sample)
    float_outputs = [t for t in outputs if t.dtype.is_floating]
    if not float_outputs:
        pytest.skip("no floating output to differentiate")
    rng = np.random.default_rng(0)
    with graph.as_default():
        weights = [rng.standard_normal(run(graph, [t], feeds)[0].shape) for t in float_outputs]
        loss = gc.add_n([gc.reduce_sum(t * w.astype(t.dtype.np))
                         for t, w in zip(float_outputs, weights)])
        placeholders = list(feeds)
        graph_grads = gc.gradients(loss, placeholders)
    wanted = [g for g in graph_grads if g is not None]
    expected = run(graph, wanted, feeds) if wanted else []
    def eager_loss(sources):
        args = _with_sources(sample.args, iter(sources))
        out = registry.api_for(opdef.name)(*args, **dict(sample.kwargs))
        eager_outputs = list(out) if isinstance(out, (list, tuple)) else [out]
        floats = [t for t in eager_outputs if t.dtype.is_floating]
        return gc.add_n([gc.reduce_sum(t * w.astype(t.dtype.np))
                         for t, w in zip(floats, weights)])

    with gc.eager():
        sources = [gc.constant(feeds[p]) for p in placeholders]
        with gc.GradientTape() as tape:
            tape.watch(sources)
            loss_value = eager_loss(sources)
        eager_grads = tape.gradient(loss_value, sources)
        # finite differences of the eager loss along a random direction (JAX's check),
        # moving the inputs that get a gradient (a NaN output: registry tests mask it)
        directions = [np.zeros(np.shape(feeds[p])) if g is None else
                      rng.standard_normal(np.shape(feeds[p]))
                      for p, g in zip(placeholders, eager_grads)]
        shifted = [float(eager_loss([gc.constant(feeds[p] + sign * 1e-6 * d)
                                     for p, d in zip(placeholders, directions)]))
                   for sign in (1.0, -1.0)] if np.isfinite(float(loss_value)) else None
    got = [g.numpy() for g, want in zip(eager_grads, graph_grads) if want is not None]
    assert [g is None for g in eager_grads] == [g is None for g in graph_grads]
    for value, want in zip(got, expected):
        np.testing.assert_allclose(value, want, rtol=1e-12, atol=1e-300,
                                   err_msg=f"{opdef.name}: tape vs gc.gradients")
    if shifted is None:
        return
    numeric = (shifted[0] - shifted[1]) / 2e-6
    analytic = sum(float(np.sum(g.numpy() * d)) for g, d in zip(eager_grads, directions)
                   if g is not None)
    assert abs(numeric - analytic) <= 1e-5 * max(1.0, abs(numeric), abs(analytic)), (
        f"{opdef.name}: tape gradient {analytic} vs finite differences {numeric}")


@pytest.mark.parametrize("opdef,sample", CASES[::7], ids=IDS[::7])
def test_traced_function_equals_session(opdef, sample):
    """Every seventh sample through gc.function: the optimized plan of the traced graph."""
    if opdef.random or opdef.stateful:
        pytest.skip("draws or state: compared elsewhere")
    graph, outputs, feeds = build(opdef, sample)
    expected = run(graph, outputs, feeds)
    arrays = [np.asarray(a) for a in sample.args if is_array(a)]
    kwargs = dict(sample.kwargs)
    if any(is_array(v) or isinstance(v, list) for v in kwargs.values()) or any(
            isinstance(a, list) and any(is_array(v) for v in a) for a in sample.args):
        pytest.skip("arrays outside positional arguments")

    @gc.function
    def traced(*tensors):
        it = iter(tensors)
        args = [next(it) if is_array(a) else a for a in sample.args]
        return registry.api_for(opdef.name)(*args, **kwargs)

    with gc.eager():
        out = traced(*arrays)
        actual = [np.asarray(t.numpy()) for t in (out if isinstance(out, (list, tuple))
                                                  else [out])]
    for got, want in zip(actual, expected):
        got, want = np.asarray(got), np.asarray(want)
        assert got.shape == want.shape and got.dtype == want.dtype
        if got.dtype.kind == "f":  # the optimizer may reassociate: a few ulps
            np.testing.assert_allclose(got, want, rtol=1e-5 if got.dtype.itemsize <= 4
                                       else 1e-12, atol=1e-30)
        else:
            np.testing.assert_array_equal(got, want)
