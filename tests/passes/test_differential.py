"""Differential testing: random graphs from the registry give the same results optimized
(by each pass alone, and by the whole pipeline) as unoptimized, gradients included.

Tolerance: rtol 1e-7, atol 1e-9 in float64, NaN equal to NaN (reassociating rules may
change the last bits). ``GRAPHC_LONG_TESTS=1`` runs ten times more graphs.
"""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graphc as gc
from graphc.passes import PASSES
from graphc.runtime.fused import common as fused_common

F = gc.float64
SCALE = 10 if os.environ.get("GRAPHC_LONG_TESTS") == "1" else 1
SHAPES = [(3, 4), (4,), (1, 4), (3, 1), ()]
UNARY = ["negative", "abs", "exp", "tanh", "sigmoid", "sin", "square", "relu", "softplus",
         "log", "sqrt", "identity"]
BINARY = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "squared_difference"]
CONSTANTS = [0.0, 1.0, 2.0, -1.5, 0.5]


@st.composite
def recipes(draw):
    """A random graph as plain data (so hypothesis can shrink and print it)."""
    inputs = draw(st.lists(st.sampled_from(SHAPES), min_size=1, max_size=3))
    steps = []
    for _ in range(draw(st.integers(2, 12))):
        available = len(inputs) + len(steps)
        ref = st.integers(0, available - 1)
        kind = draw(st.sampled_from(["unary", "binary", "binary", "const", "reduce",
                                     "softmax", "repeat", "reshape", "log_softmax_pattern"]))
        if kind == "unary":
            steps.append(("unary", draw(st.sampled_from(UNARY)), draw(ref)))
        elif kind == "binary":
            steps.append(("binary", draw(st.sampled_from(BINARY)), draw(ref), draw(ref)))
        elif kind == "const":
            steps.append(("const", draw(st.sampled_from(CONSTANTS)), draw(ref),
                          draw(st.sampled_from(["add", "multiply", "subtract"]))))
        elif kind == "reduce":
            steps.append(("reduce", draw(st.sampled_from(["reduce_sum", "reduce_mean",
                                                          "reduce_max"])), draw(ref)))
        elif kind in ("softmax", "reshape", "log_softmax_pattern"):
            steps.append((kind, draw(ref)))
        elif steps:
            steps.append(("repeat", draw(st.integers(0, len(steps) - 1))))
    fetch_extra = draw(st.lists(st.integers(0, len(inputs) + len(steps) - 1), max_size=3))
    stateful = draw(st.booleans())
    with_gradients = draw(st.booleans())
    seed = draw(st.integers(0, 2 ** 16))
    return inputs, steps, fetch_extra, stateful, with_gradients, seed


def _apply(step, values):
    kind = step[0]
    if kind == "unary":
        return getattr(gc, step[1])(values[step[2]])
    if kind == "binary":
        return getattr(gc, step[1])(values[step[2]], values[step[3]])
    if kind == "const":
        return getattr(gc, step[3])(values[step[2]], step[1])
    if kind == "reduce":
        x = values[step[2]]
        axis = -1 if x.shape.rank else None
        return getattr(gc, step[1])(x, axis=axis, keepdims=bool(x.shape.rank))
    x = values[step[1]]
    if kind == "softmax":
        return gc.nn.softmax(x) if x.shape.rank else gc.sigmoid(x)
    if kind == "log_softmax_pattern":
        return gc.log(gc.nn.softmax(x)) if x.shape.rank else gc.log(1.0 + gc.exp(x))
    return gc.reshape(x, gc.shape(x))


def _build(recipe):
    inputs, steps, fetch_extra, stateful, with_gradients, seed = recipe
    graph = gc.Graph()
    with graph.as_default():
        holders = [gc.placeholder(F, shape, name=f"in{i}") for i, shape in enumerate(inputs)]
        values = list(holders)
        for step in steps:
            if step[0] == "repeat":
                step = steps[step[1]]
            values.append(_apply(step, values))
        fetches = [values[-1]] + [values[i] for i in fetch_extra]
        if stateful:
            counter = gc.Variable(0.0, dtype=F, name="counter")
            fetches.append(counter.assign_add(gc.reduce_sum(values[-1])))
        if with_gradients:
            grads = gc.gradients(gc.reduce_sum(values[-1]), holders)
            fetches += [g for g in grads if g is not None]
        init = gc.global_variables_initializer()
    rng = np.random.default_rng(seed)
    feeds = {h: rng.uniform(-2, 2, size=h.shape.dims) for h in holders}
    return graph, fetches, feeds, init


def _run(graph, fetches, feeds, init, optimize):
    with gc.Session(graph=graph, optimize=optimize) as sess:
        sess.run(init)
        return sess.run(fetches, feeds)


def _check(recipe, optimize):
    graph, fetches, feeds, init = _build(recipe)
    reference = _run(graph, fetches, feeds, init, False)
    optimized = _run(graph, fetches, feeds, init, optimize)
    for tensor, want, got in zip(fetches, reference, optimized):
        assert np.shape(got) == np.shape(want), tensor.name
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9, equal_nan=True,
                                   err_msg=f"{tensor.name} with optimize={optimize}")


COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@settings(max_examples=200 * SCALE, **COMMON)
@given(recipes())
def test_full_pipeline_matches_unoptimized(recipe):
    _check(recipe, True)


@pytest.mark.parametrize("pass_name", sorted(set(PASSES) - {"prune"}))
@settings(max_examples=40 * SCALE, **COMMON)
@given(recipe=recipes())
def test_each_pass_alone_matches_unoptimized(pass_name, recipe):
    _check(recipe, [pass_name])


@settings(max_examples=100 * SCALE, **COMMON)
@given(recipes())
def test_compiled_plans_match_the_interpreted_loop(recipe):
    """In-place reuse and straight-line code give what the plain step loop gives."""
    from graphc.runtime.state import RunContext
    graph, fetches, feeds, init = _build(recipe)
    with gc.Session(graph=graph) as sess:
        sess.run(init)
        sess.run(fetches, feeds)
        plan = next(p for key, p in sess._plans.items() if key[0] and key[0][0] is fetches[0])
        values = list(feeds.values())  # the plan's feed slots follow the feed_dict's order
        with np.errstate(all="ignore"):
            compiled = plan.run(values, RunContext(sess._state))
            reference = plan.run_interpreted(values, RunContext(sess._state))
    for got, want in zip(compiled, reference):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


@pytest.mark.skipif(not fused_common.numba_available(), reason="numba not installed")
@settings(max_examples=25 * SCALE, **COMMON)
@given(recipes())
def test_compiled_loop_engine_matches_unoptimized(recipe):
    """Every fused node compiled to a loop on its first call (GRAPHC_FUSED_ENGINE=loops)."""
    previous = os.environ.get("GRAPHC_FUSED_ENGINE")
    os.environ["GRAPHC_FUSED_ENGINE"] = "loops"
    try:
        _check(recipe, True)
    finally:
        if previous is None:
            del os.environ["GRAPHC_FUSED_ENGINE"]
        else:
            os.environ["GRAPHC_FUSED_ENGINE"] = previous
