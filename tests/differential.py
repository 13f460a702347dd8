"""Running a random recipe in every mode and comparing each call with the NumPy reference.

Modes: the graph as built (``unoptimized``), the pipeline restricted to exact rules
(``exact``), the default pipeline (``default``), exact rules with every fused node compiled on
its first call (``loops``: GRAPHC_FUSED_ENGINE=loops, needs numba), and one pass alone
(``pass:NAME``). The exact mode runs ``CALLS`` calls, past the ``HOT_CALLS`` after which
fused nodes turn hot and compile in the background (``runtime/fused/policy.py``; the run
waits for those compiles then, so the calls after it meet the compiled kernels the policy
keeps), the others ``FEW_CALLS``, with new feed values on every call; after the last call,
every result returned earlier must still hold the values it had when it was returned.

The reference (``recipes.reference``) runs the registry kernels op by op on the user's
graph, or, for modes that include the stabilizing rules, on the graph after those rules
alone (they are meant to change results: ``log(1 - sigmoid(x))`` is finite where the naive
form is -inf; constant folding may reach such a form first, so the graph as built is held as
good there too, element by element). A fetch must equal it bitwise (NaN positions, signs of
zeros and infinities included) where nothing may round differently: always in the
unoptimized mode, and in the exact and loops modes for fetches that no op with an ulp bound
feeds (compiled loops call libm and polynomials, not NumPy's own SIMD functions). Otherwise
a fetch that differs must stay within what the allowed rounding differences cause: the
reference is evaluated again with the results of the ops that may round differently scaled
by 1 +- n eps (n: the op's documented bound, ``LoopExpr.ulp``; 4 for every float op where
rules may reassociate), with the signs of ``recipes.sign_patterns`` (any two ops get equal
and opposite signs in some pattern, so errors that cancel in one add up in another, and one
pattern has a random sign per element), and a fetch may differ from the reference by 8 times
the largest change seen there plus 16 ulps. Elements whose NaN/Inf pattern or non-float
value the perturbation changes, or that it moves by over ``ILL_CONDITIONED`` (relative), are
not compared: an ill-conditioned spot (``sin(1e8 * sigmoid(x))``: one ulp of the sigmoid
moves the sine's argument by several units), where no engine's rounding can be told from a
bug.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import traceback
from typing import Optional

import numpy as np

import graphc as gc
from graphc import registry
from graphc.algorithms import required_ops
from graphc.errors import OpError
from graphc.passes import OptimizerConfig, optimize_interface
from graphc.passes.result import Interface
from graphc.runtime.fused import wait_for_compiles
from graphc.runtime.fused.common import numba_available
from graphc.runtime.fused.policy import HOT_CALLS
from tests.recipes import Recipe, reference, sign_patterns, value_shapes

CALLS = HOT_CALLS + 4
FEW_CALLS = 3  # enough to see results held across runs
MODES = ("unoptimized", "exact", "default", "loops") if numba_available() else (
    "unoptimized", "exact", "default")
REASSOCIATION = 4  # ulps a float op may move when rules reassociate around it


@dataclasses.dataclass(frozen=True)
class Mismatch:
    mode: str
    call: int
    fetch: str
    kind: str  # value, held, error, crash, shape, dtype
    detail: str
    index: int = -1  # position of the fetch in ``Built.fetches`` (-1: the whole run)
    got: object = None  # the first differing element, and the reference's
    want: object = None

    def __str__(self) -> str:
        return f"[{self.mode}] call {self.call} fetch {self.fetch}: {self.kind}: {self.detail}"


def approximated(op) -> int:
    """How many ulps a compiled engine may round ``op`` differently from NumPy: its registry
    ``LoopExpr.ulp`` (for a fused node, the most of its program's ops; 0: bitwise)."""
    if op.type == "fused_elementwise":
        return max(_ulp(step[0]) for step in op.attrs["program"])
    return _ulp(op.type)


def _ulp(op_type: str) -> int:
    loop = registry.get(op_type).loop
    return loop.ulp if loop else 0


def any_float(op) -> int:
    """Where rules may reassociate, any float op may round differently: by ``REASSOCIATION``
    ulps (or its engines' bound, if larger)."""
    return max(REASSOCIATION, approximated(op)) if any(t.dtype.is_floating
                                                        for t in op.outputs) else 0


def approximate_fetches(fetches) -> set:
    """The fetches that some approximated op feeds."""
    tainted: set = set()
    for op in fetches[0].graph.topological_order(required_ops(fetches)):
        if approximated(op) or any(t in tainted for t in op.inputs):
            tainted.update(op.outputs)
    return {t for t in fetches if t in tainted}


def config_for(mode: str):
    """``pass:NAME`` runs that pass alone (after pruning)."""
    if mode.startswith("pass:"):
        return OptimizerConfig(passes=(mode[5:],))
    return {"unoptimized": False, "default": True}.get(mode, OptimizerConfig(safety=("exact",)))


def reference_kind(mode: str) -> str:
    """Which reference a mode is held to: ``plain`` (the user's graph; only ops that engines
    approximate perturbed), ``rounding`` (the user's graph, every float op perturbed: the
    rules may reassociate) or ``stabilized`` (after the stabilizing rules; all perturbed)."""
    if mode in ("default", "pass:stabilize"):
        return "stabilized"
    return "rounding" if mode == "pass:algebraic" else "plain"


@contextlib.contextmanager
def engine(mode: str, fused_engine: Optional[str] = None):
    """GRAPHC_FUSED_ENGINE=loops for the ``loops`` mode, or ``fused_engine`` if given."""
    chosen = fused_engine or ("loops" if mode == "loops" else None)
    previous = os.environ.get("GRAPHC_FUSED_ENGINE")
    if chosen:
        os.environ["GRAPHC_FUSED_ENGINE"] = chosen
    try:
        yield
    finally:
        if chosen:
            if previous is None:
                del os.environ["GRAPHC_FUSED_ENGINE"]
            else:
                os.environ["GRAPHC_FUSED_ENGINE"] = previous


# -- comparisons -----------------------------------------------------------------------------
ILL_CONDITIONED = 1e-3  # relative change under ulp perturbations beyond which we do not judge


def bits_differ(got, want) -> np.ndarray:
    """Where two arrays differ as IEEE values (any NaN equals any NaN; -0.0 is not 0.0)."""
    if got.dtype.kind != "f":
        return np.asarray(got != want)
    nan_got, nan_want = np.isnan(got), np.isnan(want)
    with np.errstate(invalid="ignore"):
        return (nan_got != nan_want) | (~nan_got & ~nan_want & (
            (got != want) | (np.signbit(got) != np.signbit(want))))


def spread_exceeded(got, want, perturbed: list) -> np.ndarray:
    """Where ``got`` differs from ``want`` by more than rounding explains (see the module
    docstring); ``perturbed`` are the reference's values under perturbation. Elements the
    perturbation moves by more than ``ILL_CONDITIONED`` (relative), or whose NaN/Inf pattern
    or non-float value it changes, are ill-conditioned and never reported."""
    stable = np.ones(want.shape, bool)
    spread = np.zeros(want.shape)
    with np.errstate(invalid="ignore", over="ignore"):
        for other in perturbed:
            if want.dtype.kind != "f":
                stable &= other == want
                continue
            stable &= (np.isnan(other) == np.isnan(want)) & (np.isinf(other) == np.isinf(want))
            stable &= ~np.isinf(want) | (other == want)
            spread = np.fmax(spread, np.abs(other.astype(np.float64) - want))
        if want.dtype.kind != "f":
            return stable & (got != want)
        tiny = np.finfo(want.dtype).tiny
        stable &= ~(spread > ILL_CONDITIONED * (np.abs(want.astype(np.float64)) + tiny))
        finite = np.isfinite(want) & np.isfinite(got)
        nonfinite_differ = ~finite & ~(np.isnan(got) & np.isnan(want)) & (got != want)
        allowed = 8 * spread + 16 * np.finfo(want.dtype).eps * np.abs(want)
        gap = np.abs(got.astype(np.float64) - want)
        return stable & (nonfinite_differ | (finite & (gap > allowed)))


def same_bits(got, want) -> Optional[str]:
    """None when equal as IEEE values, else where they differ."""
    return describe_difference(got, want, bits_differ(got, want))


def within_spread(got, want, perturbed: list) -> Optional[str]:
    """None when ``got`` differs from ``want`` by no more than rounding explains."""
    return describe_difference(got, want, spread_exceeded(got, want, perturbed))


class Difference(str):
    """A description of where two arrays differ, with the first differing elements."""

    got: object
    want: object


def describe_difference(got, want, differ) -> Optional[Difference]:
    if not differ.any():
        return None
    where = tuple(int(i) for i in np.argwhere(differ)[0]) if got.ndim else ()
    found = Difference(f"{np.count_nonzero(differ)} of {got.size} elements differ; at "
                       f"{where}: got {got[where]!r}, want {want[where]!r}")
    found.got, found.want = got[where], want[where]
    return found


def compare(got, tensor, references: list):
    """``(kind, detail, got, want)`` of a fetched value's first difference from every one of
    ``references`` (``(want, perturbed or None)`` pairs: bitwise when None), or None when
    each element matches one of them."""
    got = np.asarray(got)
    differ = None
    for want, perturbed in references:
        want = np.asarray(want)
        if got.shape != want.shape:
            return "shape", f"got {got.shape}, want {want.shape}", None, None
        if got.dtype != want.dtype or got.dtype != tensor.dtype.np:
            return ("dtype", f"got {got.dtype}, want {want.dtype} (declared "
                    f"{tensor.dtype.name})", None, None)
        mask = (bits_differ(got, want) if perturbed is None
                else spread_exceeded(got, want, [np.asarray(p) for p in perturbed]))
        differ = mask if differ is None else differ & mask
    found = describe_difference(got, np.asarray(references[0][0]), differ)
    return None if found is None else ("value", found, found.got, found.want)


# -- references ------------------------------------------------------------------------------
@dataclasses.dataclass
class Expected:
    """The reference results of every call (or the error it raised). ``approximate``: the
    fetch positions that may round differently; ``judge`` gives what such a fetch is held
    to, with the values under perturbation of the ops ``ulps`` picks (computed when first
    needed: a value equal bitwise to the reference needs none). ``alternative``: another
    acceptable reference (for the default pipeline, the graph without its stabilizing
    rules, which need not fire: constant folding may get there first)."""

    values: list
    errors: list
    approximate: set
    fetches: list
    feeds_of: object
    ulps: object  # op -> how many ulps it may round differently (0: none)
    seed: int
    states: list  # variable values before each call
    alternative: Optional["Expected"] = None
    cache: dict = dataclasses.field(default_factory=dict)

    def perturbed(self, call: int) -> list:
        """The fetches of ``call`` under each sign pattern's perturbation."""
        return [values for values in self._perturbed_run(call)[0] if values is not None]

    def _perturbed_run(self, call: int) -> tuple:
        """``(fetches, variables after)`` per sign pattern. Each pattern's variables carry
        its own perturbed values from call to call: a rounding difference in one call's
        update stays in the variable, and a later update may cancel the rest away (seed
        7928: a counter at exp(x) - 1 = 1.089 one call, -1 added the next). An op's
        positions differ from call to call, so the errors of one op in two calls, which
        may cancel in the variable, also add up in some pattern (seeds 3548, 4936)."""
        if call not in self.cache:
            feeds = self.feeds_of(call)
            count = len(required_ops(self.fetches, (), frozenset(feeds)))
            rng = np.random.default_rng([self.seed, call, 1])
            patterns = [lambda k, shape, p=p: p(call * count + k, shape)
                        for p in sign_patterns(count * len(self.states), rng)]
            starts = (self._perturbed_run(call - 1)[1] if call else
                      [self.states[0]] * len(patterns))
            runs, states = [], []
            for sign, start in zip(patterns, starts):
                variables = dict(start)
                try:
                    runs.append(reference(self.fetches, feeds, variables, (sign, self.ulps)))
                except Exception:  # noqa: BLE001 - as the reference: variables left as they were
                    runs.append(None)
                states.append(variables)
            self.cache[call] = (runs, states)
        return self.cache[call]

    def judge(self, call: int, index: int, bitwise: bool) -> list:
        """``(want, perturbed values or None for bitwise)`` pairs for one fetched value."""
        if bitwise or index not in self.approximate:
            return [(self.values[call][index], None)]
        pairs = [(self.values[call][index], [p[index] for p in self.perturbed(call)])]
        if self.alternative is not None and self.alternative.values[call] is not None:
            pairs += self.alternative.judge(call, index, bitwise)
        return pairs


def expected_results(recipe: Recipe, built, fetches, feeds_of, ulps, calls: int) -> Expected:
    """``fetches`` (of the user's graph or an optimized copy) call by call; ``feeds_of(call)``
    gives that graph's feed_dict; ``ulps(op)``: how far to perturb each op."""
    variables = _initial_variables(recipe, built)
    approximate = approximate_fetches(fetches) if ulps is approximated else set(fetches)
    values, errors, states = [], [], []
    for call in range(calls):
        states.append(dict(variables))
        try:
            values.append(reference(fetches, feeds_of(call), variables))
            errors.append(None)
        except Exception as err:  # noqa: BLE001 - a kernel's own error: the run must fail too
            values.append(None)
            errors.append(err)
    return Expected(values, errors, {i for i, t in enumerate(fetches) if t in approximate},
                    list(fetches), feeds_of, ulps, recipe.seed, states)


def _initial_variables(recipe, built) -> dict:
    if built.variable is None:
        return {}
    return {built.variable.op.name: np.zeros(value_shapes(recipe)[recipe.counter],
                                             built.variable.dtype.np)}


def stabilized_reference(recipe: Recipe, built, calls: int) -> Expected:
    """The reference for the default pipeline: the user's graph after stabilizing rules
    only, every float op perturbed (reassociating rules round differently anywhere); the
    graph as built is the alternative."""
    interface = Interface(tuple(built.fetches), (), tuple(built.placeholders))
    graph, mapped, _ = optimize_interface(built.graph, interface,
                                          OptimizerConfig(passes=("stabilize",)))

    def feeds_of(call):
        return dict(zip(mapped.feeds, recipe.feeds(built, call).values()))
    expected = expected_results(recipe, built, list(mapped.fetches), feeds_of, any_float,
                                calls)
    expected.alternative = reference_for("rounding", recipe, built, calls)
    return expected


def reference_for(kind: str, recipe: Recipe, built, calls: int) -> Expected:
    if kind == "stabilized":
        return stabilized_reference(recipe, built, calls)
    return expected_results(recipe, built, built.fetches, lambda call: recipe.feeds(built, call),
                            approximated if kind == "plain" else any_float, calls)


# -- running ---------------------------------------------------------------------------------
def run_mode(recipe: Recipe, built, expected: Expected, mode: str, refill: bool = False,
             calls: int = CALLS) -> list:
    """Mismatches of ``mode`` against the reference, call by call, then of held results.
    ``refill``: feed the same arrays every call, refilled in place (a data loader's way)."""
    mismatches: list = []
    held: list = []
    buffers: dict = {}
    bitwise = mode == "unoptimized"
    with engine(mode), gc.Session(graph=built.graph, optimize=config_for(mode)) as sess:
        sess.run(built.init)
        for call in range(calls):
            feeds = recipe.feeds(built, call)
            if refill:
                for holder, value in feeds.items():
                    buffers.setdefault(holder, np.array(value, copy=True))[...] = value
                feeds = {h: buffers[h] for h in feeds}
            error = expected.errors[call]
            if call == HOT_CALLS:
                try:
                    wait_for_compiles()  # the nodes that turned hot run compiled (if kept)
                except RuntimeError as err:
                    mismatches.append(Mismatch(mode, call, "-", "crash", f"compile: {err}"))
            try:
                with np.errstate(all="ignore"):
                    got = sess.run(built.fetches, feeds)
            except OpError as err:
                if error is None:
                    mismatches.append(Mismatch(mode, call, "-", "error", f"raised {err}"))
                continue
            except Exception as err:  # noqa: BLE001 - anything but an OpError is a crash
                frame = traceback.extract_tb(err.__traceback__)[-1]
                mismatches.append(Mismatch(
                    mode, call, "-", "crash", f"{type(err).__name__}: {err} (in {frame.name}, "
                    f"{os.path.basename(frame.filename)}:{frame.lineno})"))
                break
            if error is not None:
                mismatches.append(Mismatch(mode, call, "-", "error",
                                           f"did not raise what the reference raised: {error}"))
                continue
            for index, (tensor, value) in enumerate(zip(built.fetches, got)):
                found = compare(value, tensor, [(expected.values[call][index], None)])
                if found and found[0] == "value" and not bitwise:  # may rounding explain it?
                    found = compare(value, tensor, expected.judge(call, index, bitwise))
                if found:
                    mismatches.append(Mismatch(mode, call, tensor.name, *found[:2], index,
                                               *found[2:]))
            held.append((call, got, [np.array(v, copy=True) for v in got]))
    for call, got, copies in held:
        for index, (tensor, value, copy) in enumerate(zip(built.fetches, got, copies)):
            found = same_bits(np.asarray(value), copy)
            if found:
                mismatches.append(Mismatch(mode, call, tensor.name, "held",
                                           f"changed after later runs: {found}", index))
    return mismatches


def calls_for(mode: str) -> int:
    """``CALLS`` where the engines turn hot (the exact mode: its rules keep every value's
    bits, so any difference is the engine's), ``FEW_CALLS`` elsewhere: the loops mode
    compiles on the first call, and the rules need no repetition."""
    return CALLS if mode == "exact" else FEW_CALLS


def check(recipe: Recipe, modes=MODES, refill: bool = False,
          calls: Optional[int] = None) -> list:
    """Every mismatch of ``recipe`` in ``modes``, each run ``calls`` times (default:
    ``calls_for`` the mode)."""
    built = recipe.build()
    counts = {mode: calls or calls_for(mode) for mode in modes}
    references: dict = {}
    found = []
    for mode in modes:
        kind = reference_kind(mode)
        if kind not in references:
            needed = max(counts[m] for m in modes if reference_kind(m) == kind)
            try:
                references[kind] = reference_for(kind, recipe, built, needed)
            except Exception as err:  # noqa: BLE001 - the stabilizing pass itself failed
                found.append(Mismatch(mode, 0, "-", "crash", f"{kind} reference: {err!r}"))
                continue
        found += run_mode(recipe, built, references[kind], mode, refill, counts[mode])
    return found
