"""Differential testing: random graphs drawn from the op registry give the NumPy reference's
results unoptimized, optimized (exact rules, the default pipeline, each pass alone) and on
every fused engine, call after call past the engines' hot threshold, on inputs full of NaN,
+-Inf, +-0.0, denormals and huge values; results returned earlier never change.

Graphs come from ``tests/random_graphs.py`` (seeded: graph ``n`` is ``generate(n)``), modes
and comparisons from ``tests/differential.py``. A failure prints the seed and a shrunk repro
(recipe, graph text, feeds). Below the random tests, each mismatch class they found (issue
10 §1) is pinned by a minimal deterministic test.
CI runs 240 graphs (every 4th also with each fused node compiled on its first call);
``GRAPHC_LONG_TESTS=1`` runs 10,000. ``GRAPHC_DIFFERENTIAL_SEEDS=a:b`` runs graphs a..b-1.
Most of a long run's time is numba compiling the hot fused nodes: ``GRAPHC_CACHE_DIR=DIR``
keeps the compiled kernels for the next run (by default each test process compiles into a
fresh folder of its own, see conftest.py), which a rerun after a fix then mostly loads.
"""
import contextlib
import dataclasses
import os
import types

import numpy as np
import pytest

import graphc as gc
from graphc import registry
from graphc.errors import OpError
from graphc.passes import PASSES
from graphc.runtime.fused.common import numba_available
from graphc.runtime.state import RunContext
from tests import differential, shrink
from tests.random_graphs import generate
from tests.recipes import Input, Recipe, Ref, Step, sign_patterns

LONG = os.environ.get("GRAPHC_LONG_TESTS") == "1"
FIRST, LAST = (int(n) for n in os.environ.get(
    "GRAPHC_DIFFERENTIAL_SEEDS", "0:10000" if LONG else "0:240").split(":"))
BATCH = 10
LOOPS_EVERY = 4  # compiling every fused node costs ~0.5 s a graph: every 4th graph
BATCHES = list(range(FIRST, LAST, BATCH))


def _modes(seed: int) -> tuple:
    modes = differential.MODES
    return modes if seed % LOOPS_EVERY == 0 else tuple(m for m in modes if m != "loops")


def _report(failures, refill: bool = False) -> str:
    recipe, mismatches = failures[0]
    small, mismatch = shrink.shrink(recipe, mismatches[0], refill)
    others = "; ".join(f"seed {r.seed}: {len(m)} mismatches ({m[0].mode}, {m[0].kind})"
                       for r, m in failures[1:])
    return (f"{len(failures)} graph(s) disagree. First: seed {recipe.seed}, "
            f"{len(mismatches)} mismatches, e.g. {mismatches[0]}\n"
            f"shrunk repro:\n{shrink.repro(small, mismatch)}\n"
            f"others: {others or 'none'}")


def _check_batch(seeds, modes_of, refill=False, kinds=None):
    failures = []
    for seed in seeds:
        recipe = generate(seed)
        found = differential.check(recipe, modes_of(seed), refill)
        found = [m for m in found if kinds is None or m.kind in kinds]
        if found:
            failures.append((recipe, found))
    if failures:
        pytest.fail(_report(failures, refill), pytrace=False)


@pytest.mark.parametrize("first", BATCHES, ids=lambda first: f"graphs{first}")
def test_random_graphs_agree_with_the_reference(first):
    _check_batch(range(first, min(first + BATCH, LAST)), _modes)


PASS_SEEDS = range(1000, 1000 + (400 if LONG else 20))


@pytest.mark.parametrize("pass_name", sorted(set(PASSES) - {"prune"}))
def test_each_pass_alone_agrees_with_the_reference(pass_name):
    _check_batch(PASS_SEEDS, lambda seed: (f"pass:{pass_name}",))


REFILL_SEEDS = range(2000, 2000 + (1000 if LONG else 30))


def test_results_survive_refilled_feed_buffers():
    """A data loader refills one input buffer per batch: results returned for earlier
    batches must keep their values (the Session owns nothing the caller fed)."""
    _check_batch(REFILL_SEEDS, lambda seed: ("unoptimized", "default"), refill=True,
                 kinds={"held"})


@pytest.mark.parametrize("seed", range(3000, 3000 + (200 if LONG else 20)))
def test_compiled_plans_match_the_interpreted_loop(seed):
    """In-place reuse and straight-line code give what the plain step loop gives, bitwise
    (or fail with the same error, e.g. an integer division by zero)."""
    recipe = generate(seed)
    built = recipe.build()
    feeds = recipe.feeds(built, 0)
    with gc.Session(graph=built.graph) as sess, np.errstate(all="ignore"):
        sess.run(built.init)
        with contextlib.suppress(OpError):
            sess.run(built.fetches, feeds)
        plan = list(sess._plans.values())[-1]  # the fetches' plan (the initializer's first)
        values = list(feeds.values())  # the plan's feed slots follow the feed_dict's order
        outcomes = []
        for run in (plan.run, plan.run_interpreted):
            try:
                outcomes.append(run(values, RunContext(sess._state)))
            except OpError as err:
                outcomes.append(type(err))
    compiled, reference = outcomes
    if isinstance(reference, type):
        assert compiled is reference, recipe.describe()
        return
    for got, want in zip(compiled, reference):
        assert differential.same_bits(np.asarray(got), np.asarray(want)) is None, \
            recipe.describe()


# -- the harness itself can fail -------------------------------------------------------------
def test_comparisons_see_signed_zeros_nan_positions_and_rounding_spread():
    """The comparisons fail on what they must see and pass on rounding noise."""
    same, spread = differential.same_bits, differential.within_spread
    assert same(np.array([-0.0, np.nan]), np.array([-0.0, -np.nan])) is None  # any NaN
    assert same(np.array([0.0]), np.array([-0.0])) is not None
    assert same(np.array([np.inf]), np.array([-np.inf])) is not None
    want = np.array([1.0, 2.0, np.nan, np.inf])
    wobble = [want * (1 + 1e-15), want * (1 - 1e-15)]
    assert spread(want * (1 + 4e-15), want, wobble) is None
    assert spread(np.array([1.0, 2.001, np.nan, np.inf]), want, wobble) is not None
    assert spread(np.array([1.0, 2.0, 0.0, np.inf]), want, wobble) is not None
    unstable = [np.array([1.0, 2.0, 5.0, np.inf])]  # the NaN there depends on rounding
    assert spread(np.array([1.0, 2.0, 0.0, np.inf]), want, unstable) is None
    chaotic = [want, np.array([1.0, 2.5, np.nan, np.inf])]  # ulps move 2.0 by 25%
    assert spread(np.array([1.0, -7.0, np.nan, np.inf]), want, chaotic) is None
    # the default pipeline may match either reference, element by element
    tensor = types.SimpleNamespace(dtype=gc.float64)  # what compare reads of the fetch
    stable, naive = np.array([-1e8, 1.0]), np.array([-np.inf, 1.0])
    either = [(stable, [stable, stable]), (naive, [naive, naive])]
    assert differential.compare(np.array([-np.inf, 1.0]), tensor, either) is None
    assert differential.compare(np.array([-1e8, 1.0]), tensor, either) is None
    assert differential.compare(np.array([0.0, 1.0]), tensor, either) is not None


def test_perturbations_let_the_errors_of_any_two_ops_add_up():
    """sin(x) - cos(x) near pi/4: each op within its bound, rounding apart, is off by the sum
    of their errors, which equal signs cancel; some sign pattern must give them opposite
    signs (and any two ops of a graph equal ones in another)."""
    patterns = sign_patterns(11, np.random.default_rng(0))
    signs = np.array([[p(k, ()) for k in range(11)] for p in patterns[:-1]])
    for i in range(11):
        for j in range(i):
            assert (signs[:, i] == signs[:, j]).any() and (signs[:, i] != signs[:, j]).any()
    assert np.shape(patterns[-1](0, (3, 2))) == (3, 2)
    x = np.float32(np.pi / 4)
    sin, cos = np.sin(x), np.cos(x)  # an engine's values, 1 ulp up and 1 ulp down:
    got = np.nextafter(sin, np.float32(2)) - np.nextafter(cos, np.float32(-2))
    for seed in range(8):  # whatever the seed (random signs agree for some)
        recipe = Recipe(seed, (Input((), (), "float32"),), (
            Step("sin", (Ref("in", 0),)), Step("cos", (Ref("in", 0),)),
            Step("subtract", (Ref("v", 0), Ref("v", 1)))), (Ref("v", 2),), special_rate=0.0)
        built = recipe.build()
        expected = differential.expected_results(recipe, built, built.fetches,
                                                 lambda call: {built.placeholders[0]: x},
                                                 differential.approximated, 1)
        spread = [p[0] for p in expected.perturbed(0)]
        assert differential.within_spread(got, expected.values[0][0], spread) is None, seed


def test_rounding_kept_in_a_variable_is_judged_after_later_updates_cancel():
    """A counter accumulates exp(x) - 1: an engine's exp 1 ulp off at call 0 (1.0892) stays
    in the variable, and adding -1 at call 1 leaves 0.0892 with that ulp of 2.09 in it
    (seed 7928): each perturbation's variables go on from call to call, so it is allowed."""
    recipe = Recipe(0, (Input((), (), "float32"),), (
        Step("exp", (Ref("in", 0),)), Step("subtract", (Ref("v", 0), 1.0))), (Ref("v", 1),),
        counter=Ref("v", 1), special_rate=0.0)
    built = recipe.build()
    xs = [np.float32(0.73677945), np.float32(-np.inf)]  # exp(x) - 1: 1.0892, then -1
    expected = differential.expected_results(recipe, built, built.fetches,
                                             lambda call: {built.placeholders[0]: xs[call]},
                                             differential.approximated, 2)
    counter = np.float32(1.0891962) + np.float32(-1.0)  # what the engine's exp gives
    want = expected.values[1][-1]
    assert counter != want
    spread = [p[-1] for p in expected.perturbed(1)]
    assert differential.within_spread(counter, want, spread) is None
    assert differential.within_spread(want + np.float32(1e-5), want, spread) is not None


def test_errors_of_one_op_in_two_calls_may_add_up_in_a_variable():
    """A counter of cos(x) whose values cancel (0.5 - 0.498): an engine's cos off by its
    bound up at call 0 and down at call 1 is off by both errors (seeds 3548, 4936), so in
    some perturbation pattern the op gets opposite signs in the two calls, for every
    element (random signs alone agree for about half of them)."""
    recipe = Recipe(0, (Input((64,), (64,), "float32"),), (Step("cos", (Ref("in", 0),)),),
                    (Ref("v", 0),), counter=Ref("v", 0), special_rate=0.0)
    built = recipe.build()
    xs = [np.full(64, np.arccos(0.5), np.float32), np.full(64, np.arccos(-0.4983), np.float32)]
    expected = differential.expected_results(recipe, built, built.fetches,
                                             lambda call: {built.placeholders[0]: xs[call]},
                                             differential.approximated, 2)
    want = expected.values[1][-1].astype(np.float64)
    spread = np.max([np.abs(p[-1] - want) for p in expected.perturbed(1)], axis=0)
    both = differential._ulp("cos") * np.finfo(np.float32).eps * (0.5 + 0.4983)
    assert (spread >= 0.9 * both).all(), spread.min() / both


def test_refilled_feeds_of_every_rank_and_dtype_are_checked():
    """Refilling feeds in place works for 0-d values too (a 0-d bool feed was a NumPy bool
    scalar, which cannot be refilled: the long run crashed in the harness)."""
    inputs = (Input((), (), "bool"), Input((), (), "float32"), Input((2,), (2,), "bool"))
    recipe = Recipe(5, inputs, (Step("logical_not", (Ref("in", 0),)),
                                Step("negative", (Ref("in", 1),))),
                    (Ref("v", 0), Ref("v", 1), Ref("in", 2)))
    assert differential.check(recipe, ("unoptimized", "default"), refill=True) == []


def test_a_kernel_bug_in_the_runtime_alone_is_reported(monkeypatch):
    """The reference is computed first, then the runtime's kernel for negative is replaced
    by 0 - x (which turns -(+0.0) into +0.0): the unoptimized mode must report it."""
    recipe = Recipe(11, (Input((8,), (8,), "float64"),), (Step("negative", (Ref("in", 0),)),),
                    (Ref("v", 0),), special_rate=0.5)
    built = recipe.build()
    expected = differential.reference_for("plain", recipe, built, 3)
    monkeypatch.setitem(registry._REGISTRY, "negative", dataclasses.replace(
        registry.get("negative"), kernel=lambda x: np.subtract(x.dtype.type(0), x)))
    found = differential.run_mode(recipe, built, expected, "unoptimized", calls=3)
    assert found and found[0].kind == "value" and found[0].want == 0.0, found


# -- the mismatch classes found, each as a minimal deterministic repro ------------------------
def _run(fetch, feeds, optimize=True, engine=None):
    """One run in the default graph, on the given fused engine (GRAPHC_FUSED_ENGINE)."""
    with differential.engine("", engine), gc.Session(optimize=optimize) as sess, \
            np.errstate(all="ignore"):
        return [sess.run(fetch, feeds)]


def _same(a, b):
    return differential.same_bits(np.asarray(a), np.asarray(b)) is None


@pytest.mark.skipif(not numba_available(), reason="numba not installed")
def test_compiled_loops_keep_numpy_signed_zeros_and_nan(graph):
    """NumPy's relu, sign, maximum, minimum and elu of -0.0 are +0.0 (1/y: +inf), and
    pow(-inf, 0.5) is NaN; the compiled loop gave -0.0 and +inf."""
    x = gc.placeholder(gc.float64, (5,))
    y = [1.0 / gc.nn.relu(x), 1.0 / gc.sign(x), 1.0 / gc.maximum(x, 0.0),
         1.0 / gc.minimum(x, 0.0), 1.0 / gc.nn.elu(x), gc.pow(x, 0.5)]
    feeds = {x: np.array([-0.0, 0.0, -1.0, 2.0, -np.inf])}
    [want] = _run(y, feeds, optimize=False)
    [got] = _run(y, feeds, engine="loops")
    assert all(_same(g, w) for g, w in zip(got, want)), (got, want)


@pytest.mark.skipif(not numba_available(), reason="numba not installed")
def test_simd_loops_round_each_product(graph):
    """The SIMD loops were compiled with contraction: x*x - y became one FMA."""
    x = gc.placeholder(gc.float32, (4096,))
    y = gc.placeholder(gc.float32, (4096,))
    z = gc.tanh((x * x - y) * 1e30)  # x*x rounded to float32 equals y: z is 0 everywhere
    values = np.random.default_rng(0).uniform(-2, 2, 4096).astype(np.float32)
    feeds = {x: values, y: values * values}
    [got] = _run(z, feeds, engine="loops")
    assert _same(got, np.zeros(4096, np.float32)), np.count_nonzero(got)


def test_rules_keep_nan_from_ops_that_return_it(graph):
    """x - x -> 0 and x * 0 -> 0 fired for sin and tanh, which return NaN for Inf/NaN."""
    x = gc.placeholder(gc.float64, (3,))
    y = [gc.sin(x) - gc.sin(x), gc.tanh(x) * 0.0]
    feeds = {x: np.array([np.inf, np.nan, 1.0])}
    [want] = _run(y, feeds, optimize=False)
    [got] = _run(y, feeds)
    assert all(_same(g, w) for g, w in zip(got, want)), (got, want)


def test_combined_constants_do_not_overflow(graph):
    """(x * c1) * c2 and (x + c1) + c2 folded c1 and c2 across magnitudes."""
    x = gc.placeholder(gc.float64, ())
    y = [(x * 1e300) * 1e-300, (x + 1e8) + -1e8]
    feeds = {x: 1e10}
    [want] = _run(y, feeds, optimize=False)
    [got] = _run(y, feeds)
    assert all(_same(g, w) for g, w in zip(got, want)), (got, want)


def test_matmul_of_inner_dimension_one_gives_matmul_zeros(graph):
    """An outer product bound to a broadcast multiply kept -1 * 0 = -0.0 (matmul: +0.0)."""
    a = gc.placeholder(gc.float64, (2, 1))
    b = gc.placeholder(gc.float64, (1, 2))
    y = gc.matmul(a, b)
    feeds = {a: np.array([[-1.0], [2.0]]), b: np.array([[0.0, 1.0]])}
    want = np.matmul(feeds[a], feeds[b])
    [got] = _run(y, feeds, optimize=False)
    assert _same(got, want), (got, want)


def test_transposes_of_unknown_rank_optimize(graph):
    """Composing two transposes of unknown rank crashed the algebraic rules."""
    x = gc.placeholder(gc.float64, None)
    y = gc.transpose(gc.transpose(x))
    [got] = _run(y, {x: np.ones((2, 3))})
    assert got.shape == (2, 3)


def test_adding_zero_gives_ieee_zero_signs(graph):
    """-0.0 + 0.0 is +0.0, so x + 0.0 -> x is not exact (nor x - -0.0 -> x)."""
    x = gc.placeholder(gc.float64, (2,))
    y = [1.0 / (x + 0.0), 1.0 / (x - -0.0)]
    feeds = {x: np.array([-0.0, 1.0])}
    [want] = _run(y, feeds, optimize=False)
    [got] = _run(y, feeds, optimize=gc.OptimizerConfig(safety=("exact",)))
    assert all(_same(g, w) for g, w in zip(got, want)), (got, want)


def test_matmul_bits_do_not_depend_on_operand_layouts(graph):
    """np.matmul's bits depend on memory layout: the gradient of a sum through an outer
    product multiplied a broadcast view unoptimized (NumPy's loop), a folded dense constant
    optimized (BLAS), and rows differed in the last bit."""
    a = gc.placeholder(gc.float32, (3, 1))
    b = gc.placeholder(gc.float32, (4, 1))
    y = gc.gradients(gc.reduce_sum(gc.matmul(a, b, transpose_b=True)), [a, b])
    feeds = {a: np.array([[-1.23], [-1.21], [-0.52]], np.float32),
             b: np.array([[-0.06956778], [1.0793066], [0.7416882], [-0.86035]], np.float32)}
    [want] = _run(y, feeds, optimize=False)
    [got] = _run(y, feeds, optimize=gc.OptimizerConfig(safety=("exact",)))
    assert all(_same(g, w) for g, w in zip(got, want)), (got, want)
    m = np.random.default_rng(1).standard_normal((24, 33)).astype(np.float32)
    v = np.random.default_rng(2).standard_normal((33, 5)).astype(np.float32)
    wide = np.zeros((24, 66), np.float32)
    wide[:, ::2] = m
    row = np.repeat(m[:1], 24, axis=0)
    layouts = [(np.asfortranarray(m), m), (wide[:, ::2], m),
               (np.broadcast_to(m[:1], m.shape), row)]  # (a view, the same values dense)
    kernel = registry.get("matmul").kernel
    for x, dense in layouts:  # as a, and as b of a product with b transposed
        assert _same(kernel(x, v, False, False), kernel(dense, v, False, False))
        assert _same(kernel(v.T, x, False, True), kernel(v.T, dense, False, True))
