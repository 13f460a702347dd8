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
form is -inf). A fetch must equal it bitwise (NaN positions, signs of zeros and infinities
included) where nothing may round differently: always in the unoptimized mode, and in the
exact and loops modes for fetches that no op with an ulp bound feeds (compiled loops call
libm and polynomials, not NumPy's own SIMD functions). Otherwise a fetch that differs must
stay within what the allowed rounding differences cause: the reference is evaluated three
more times with the results of the ops that may round differently scaled by 1 + n eps, by
1 - n eps and by either at random per element (n: the op's documented bound,
``LoopExpr.ulp``; 4 for every float op where rules may reassociate), and a fetch may differ
from the reference by 8 times the largest change seen there plus 16 ulps;
elements whose NaN/Inf pattern or non-float value the perturbation changes are not compared
(an ill-conditioned spot).
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
from tests.recipes import Recipe, reference, value_shapes

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
def same_bits(got, want) -> Optional[str]:
    """None when equal as IEEE values (any NaN equals any NaN; -0.0 differs from 0.0)."""
    if got.dtype.kind != "f":
        return None if np.array_equal(got, want) else _first_difference(got, want, got != want)
    nan_got, nan_want = np.isnan(got), np.isnan(want)
    with np.errstate(invalid="ignore"):
        differ = (nan_got != nan_want) | (~nan_got & ~nan_want & (
            (got != want) | (np.signbit(got) != np.signbit(want))))
    return _first_difference(got, want, differ) if differ.any() else None


def within_spread(got, want, perturbed: list) -> Optional[str]:
    """None when ``got`` differs from ``want`` by no more than rounding explains: see the
    module docstring; ``perturbed`` are the reference's values under perturbation."""
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
            differ = stable & (got != want)
        else:
            finite = np.isfinite(want) & np.isfinite(got)
            nonfinite_differ = ~finite & ~(np.isnan(got) & np.isnan(want)) & (got != want)
            allowed = 8 * spread + 16 * np.finfo(want.dtype).eps * np.abs(want)
            gap = np.abs(got.astype(np.float64) - want)
            differ = stable & (nonfinite_differ | (finite & (gap > allowed)))
    return _first_difference(got, want, differ) if differ.any() else None


class Difference(str):
    """A description of where two arrays differ, with the first differing elements."""

    got: object
    want: object


def _first_difference(got, want, differ) -> Difference:
    where = tuple(int(i) for i in np.argwhere(differ)[0]) if got.ndim else ()
    found = Difference(f"{np.count_nonzero(differ)} of {got.size} elements differ; at "
                       f"{where}: got {got[where]!r}, want {want[where]!r}")
    found.got, found.want = got[where], want[where]
    return found


def compare(got, want, tensor, perturbed: Optional[list]):
    """``(kind, detail)`` of the first difference of a fetched value, or None; bitwise
    unless ``perturbed`` reference values are given."""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return "shape", f"got {got.shape}, want {want.shape}"
    if got.dtype != want.dtype or got.dtype != tensor.dtype.np:
        return "dtype", f"got {got.dtype}, want {want.dtype} (declared {tensor.dtype.name})"
    if perturbed is None:
        found = same_bits(got, want)
    else:
        found = within_spread(got, want, [np.asarray(p) for p in perturbed])
    return None if found is None else ("value", found, found.got, found.want)


# -- references ------------------------------------------------------------------------------
@dataclasses.dataclass
class Expected:
    """The reference results of every call (or the error it raised); ``perturbed(call)``
    gives the values under perturbation of the ops ``ulps`` picks (computed when first needed: a
    value equal bitwise to the reference needs none), for the fetches in ``approximate``."""

    values: list
    errors: list
    approximate: set
    fetches: list
    feeds_of: object
    ulps: object  # op -> how many ulps it may round differently (0: none)
    seed: int
    states: list  # variable values before each call
    cache: dict = dataclasses.field(default_factory=dict)

    def perturbed(self, call: int) -> list:
        if call not in self.cache:
            feeds = self.feeds_of(call)
            signs = (1.0, -1.0, np.random.default_rng([self.seed, call, 1]))
            self.cache[call] = [reference(self.fetches, feeds, dict(self.states[call]),
                                          (sign, self.ulps)) for sign in signs]
        return self.cache[call]


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
    return Expected(values, errors, approximate, list(fetches), feeds_of, ulps, recipe.seed,
                    states)


def _initial_variables(recipe, built) -> dict:
    if built.variable is None:
        return {}
    return {built.variable.op.name: np.zeros(value_shapes(recipe)[recipe.counter],
                                             built.variable.dtype.np)}


def stabilized_reference(recipe: Recipe, built, calls: int) -> Expected:
    """The reference for the default pipeline: the user's graph after stabilizing rules
    only, every float op perturbed (reassociating rules round differently anywhere)."""
    interface = Interface(tuple(built.fetches), (), tuple(built.placeholders))
    graph, mapped, _ = optimize_interface(built.graph, interface,
                                          OptimizerConfig(passes=("stabilize",)))

    def feeds_of(call):
        return dict(zip(mapped.feeds, recipe.feeds(built, call).values()))
    expected = expected_results(recipe, built, list(mapped.fetches), feeds_of, any_float,
                                calls)
    expected.approximate = set(built.fetches)
    return expected


def reference_for(kind: str, recipe: Recipe, built, calls: int) -> Expected:
    if kind == "stabilized":
        return stabilized_reference(recipe, built, calls)
    expected = expected_results(recipe, built, built.fetches,
                                lambda call: recipe.feeds(built, call),
                                approximated if kind == "plain" else any_float, calls)
    if kind == "rounding":
        expected.approximate = set(built.fetches)
    return expected


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
                    buffers.setdefault(holder, value.copy())[...] = value
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
                want = expected.values[call][index]
                found = compare(value, want, tensor, None)
                if found and found[0] == "value" and not bitwise and (
                        tensor in expected.approximate):
                    spread = [p[index] for p in expected.perturbed(call)]
                    found = compare(value, want, tensor, spread)
                if found:
                    kind, detail, *values = found + (None, None)
                    mismatches.append(Mismatch(mode, call, tensor.name, kind, detail, index,
                                               *values[:2]))
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
