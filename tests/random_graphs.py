"""Random graphs drawn from the op registry (recipes of ``tests/recipes.py``).

Each step calls one op's public function with arguments shaped like one of the op's registry
samples (``templates``), taking its array arguments from earlier values or from new
placeholders, so a new op with samples takes part without any change here. Most graphs are
long float chains (what fusion and the fused engines work on); some use the graph patterns
the rewrite rules look for, unknown dims and ranks, integer and boolean values, a variable
updated every run, and gradients.

Example:
    >>> recipe = generate(seed=3)
    >>> print(recipe.describe())
"""
from __future__ import annotations

import dataclasses
import functools
import math
from typing import Optional

import numpy as np

import graphc as gc
from graphc import registry
from tests.recipes import PATTERNS, Input, Recipe, Ref, Step, call, step_refs

# Python constants for the second operand of binary ops (algebraic rules look for these)
CONSTANTS = [0.0, -0.0, 1.0, -1.0, 2.0, 0.5, -1.5, 1e30, 1e-30, 1e8, -1e8, math.inf, math.nan]
INT_CONSTANTS = [0, 1, -1, 2, 7, 2 ** 31 - 1]
BASE_SHAPES = [(3, 4), (3, 4), (2, 3), (3, 5), (2, 3, 4), (4,), (), (1, 4), (3, 1), (0, 3),
               (5,), (64, 64), (3000,)]
LARGE_SHAPE = (512, 256)  # past the NumPy engine's parallel-chunk threshold
# float arithmetic and the transcendental functions every fused engine covers, the SIMD
# one (large float32 groups) included: "wide" graphs use only these, so they reach it
WIDE_OPS = {"add", "subtract", "multiply", "divide", "negative", "square", "abs", "maximum",
            "minimum", "relu", "exp", "sin", "cos", "tanh", "sigmoid"}


# -- templates from the registry ------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Template:
    """One registry sample's call shape: arrays become slots ``("array", dtype, shape,
    value)``, lists of arrays ``("list", slots)``, anything else ``("literal", value)``."""

    op: str
    args: tuple
    kwargs: tuple
    elementwise: bool


def _slot(value):
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        return ("array", array.dtype.name, array.shape, array)
    if isinstance(value, list) and value and all(isinstance(v, (np.ndarray, np.generic))
                                                 for v in value):
        return ("list", tuple(_slot(v) for v in value))
    return ("literal", value)


def _holds_strings(slot) -> bool:
    if slot[0] == "list":
        return any(_holds_strings(inner) for inner in slot[1])
    return slot[0] == "array" and np.dtype(slot[1]).kind == "O"


def _pure(opdef) -> bool:
    return not (opdef.stateful or opdef.random or opdef.needs_context)


@functools.lru_cache(maxsize=1)
def templates() -> tuple:
    """Every pure op's samples as templates (ops without a public function are left out)."""
    found = []
    for opdef in registry.all_ops():
        if not (opdef.samples and _pure(opdef) and registry.api_for(opdef.name)):
            continue
        for sample in opdef.samples():
            slots = [_slot(a) for a in list(sample.args) + list(sample.kwargs.values())]
            if any(_holds_strings(slot) for slot in slots):
                continue  # string ops: the generator's values (NaN, Inf, ...) are numbers
            found.append(Template(opdef.name, tuple(_slot(a) for a in sample.args),
                                  tuple((k, _slot(v)) for k, v in sample.kwargs.items()),
                                  opdef.elementwise))
    return tuple(found)


def _float_to_float(template: Template) -> bool:
    """Whether the template takes only float arrays (no literals) and returns a float."""
    slots = [s for s in template.args] + [s for _, s in template.kwargs]
    if not slots or any(s[0] != "array" or np.dtype(s[1]).kind != "f" for s in slots):
        return False
    try:
        out = registry.get(template.op).dtypes([gc.float64] * len(slots), {})
    except (TypeError, ValueError):
        return False
    return out[0].is_floating


class _Generator:
    """Draws one recipe, building each step on two graphs as it goes: one with the run-time
    shapes (which give every value's shape) and one with the declared (None) dims."""

    def __init__(self, seed: int, max_steps: int):
        self.rng = rng = np.random.default_rng(seed)
        self.seed = seed
        self.float = "float32" if rng.random() < 0.4 else "float64"
        self.base = tuple(BASE_SHAPES[int(rng.integers(len(BASE_SHAPES)))])
        if rng.random() < 0.03:
            self.base = LARGE_SHAPE
        self.unknown_rate = float(rng.choice([0.0, 0.3]))
        # most graphs are long float chains (what fusion and the engines work on); "wide"
        # ones are large float32 chains of the ops every engine covers
        self.wide = rng.random() < 0.12
        self.chain = self.wide or rng.random() < 0.6
        self.elementwise_rate = 1.0 if self.wide else 0.9 if self.chain else 0.6
        if self.wide:
            self.float, self.base = "float32", [(64, 64), (3000,), LARGE_SHAPE][
                int(rng.integers(3))]
        self.inputs: list = []
        self.steps: list = []
        self.graphs = {"concrete": gc.Graph(), "declared": gc.Graph()}
        self.values: dict = {"concrete": {}, "declared": {}}
        self.shapes: dict = {}  # Ref -> run-time shape
        self.dtypes: dict = {}  # Ref -> dtype name
        for _ in range(int(rng.integers(1, 4))):
            self.new_input(self.float, self.base if self.wide else self.broadcastable_to(self.base))
        for _ in range(int(rng.integers(1, max_steps + 1)) * (2 if self.chain else 1)):
            self.add_step()

    def broadcastable_to(self, shape) -> tuple:
        """``shape`` itself mostly, sometimes with dims 1 or leading dims dropped."""
        rng = self.rng
        shape = list(shape)
        if rng.random() < 0.3 and shape:
            shape = shape[int(rng.integers(len(shape) + 1)):]
        if rng.random() < 0.3:
            shape = [1 if rng.random() < 0.5 else d for d in shape]
        return tuple(shape)

    def declare(self, shape):
        if self.rng.random() < self.unknown_rate / 3:
            return None  # unknown rank
        return tuple(None if self.rng.random() < self.unknown_rate else d for d in shape)

    def new_input(self, dtype, shape, fixed=None) -> Ref:
        ref = Ref("in", len(self.inputs))
        declared = tuple(shape) if fixed is not None else self.declare(shape)
        self.inputs.append(Input(tuple(shape), declared, dtype, fixed, len(self.inputs)))
        for kind, dims in (("concrete", tuple(shape)), ("declared", declared)):
            with self.graphs[kind].as_default():
                self.values[kind][ref] = gc.placeholder(gc.as_dtype(dtype), dims)
        self.shapes[ref], self.dtypes[ref] = tuple(shape), dtype
        return ref

    def pick(self, dtype, fits) -> Optional[Ref]:
        """A recent-biased earlier value of ``dtype`` whose shape satisfies ``fits``: the
        latest one most of the time (chains), else weighted by recency squared."""
        found = [r for r in self.shapes if self.dtypes[r] == dtype and fits(self.shapes[r])]
        if not found:
            return None
        if self.rng.random() < (0.8 if self.chain else 0.5):
            return found[-1]
        weights = np.arange(1, len(found) + 1, dtype=float) ** 2
        return found[int(self.rng.choice(len(found), p=weights / weights.sum()))]

    def add_step(self) -> None:
        rng = self.rng
        draw = rng.random()
        if draw < 0.1 and self.steps:  # the same call again: CSE and f(x) + f(x) meet it
            step = self.steps[int(rng.integers(len(self.steps)))]
        elif draw < 0.25 and not self.wide:
            step = self.pattern_step()
        else:
            elementwise = rng.random() < self.elementwise_rate
            pool = [t for t in templates() if t.elementwise == elementwise]
            if elementwise and self.chain and rng.random() < 0.8:
                pool = [t for t in pool if _float_to_float(t)]
            if self.wide:
                pool = [t for t in pool if t.op in WIDE_OPS and _float_to_float(t)]
            step = self.template_step(pool[int(rng.integers(len(pool)))])
        if step is not None:
            self.try_add(step)

    def pattern_step(self) -> Optional[Step]:
        name = list(PATTERNS)[int(self.rng.integers(len(PATTERNS)))]
        first = self.pick(self.float, lambda s: True)
        if first is None:
            return None
        args = [first]
        if name in ("@mul_consts", "@add_consts"):
            args += [float(self.rng.choice(CONSTANTS)) for _ in range(2)]
        elif name == "@softmax_xent":
            other = self.pick(self.float, lambda s: s == self.shapes[first])
            args.append(other or first)
        if name in ("@softmax_xent", "@log_sum_exp"):  # the sum's axis and keepdims vary:
            args += [[-1, None, 0][int(self.rng.integers(3))],  # rules must check them
                     bool(self.rng.random() < 0.3)]
        return Step(name, tuple(args))

    def template_step(self, template: Template) -> Step:
        self.broadcast: tuple = ()
        args = tuple(self.fill(slot, template, k) for k, slot in enumerate(template.args))
        kwargs = tuple((name, self.fill(slot, template, 1)) for name, slot in template.kwargs)
        return Step(template.op, args, kwargs)

    def fill(self, slot, template: Template, position: int):
        kind = slot[0]
        if kind == "literal":
            return slot[1]
        if kind == "list":
            return [self.fill(s, template, position + k) for k, s in enumerate(slot[1])]
        _, dtype, shape, value = slot
        floating = np.dtype(dtype).kind == "f"
        dtype = self.float if floating else dtype
        if not template.elementwise:  # the sample's own shapes; integer data as sampled
            if not floating:
                return self.new_input(dtype, shape, fixed=value)
            ref = self.pick(dtype, lambda s: s == shape) if self.rng.random() < 0.8 else None
            return ref or self.new_input(dtype, shape)
        if position and np.dtype(dtype).kind != "b" and self.rng.random() < 0.2:
            pool = CONSTANTS if floating else INT_CONSTANTS
            return pool[int(self.rng.integers(len(pool)))]
        ref = self.pick(dtype, self.fits_broadcast)
        if ref is None:
            ref = self.new_input(dtype, self.broadcastable_to(self.broadcast or self.base))
        self.broadcast = np.broadcast_shapes(self.broadcast, self.shapes[ref])
        return ref

    def fits_broadcast(self, shape) -> bool:
        try:
            np.broadcast_shapes(self.broadcast, shape)
            return True
        except ValueError:
            return False

    def try_add(self, step: Step) -> None:
        """Keep ``step`` if it builds on both graphs (known and declared shapes)."""
        choice = int(self.rng.integers(1 << 16))
        outs = {}
        for kind in ("concrete", "declared"):
            try:
                with self.graphs[kind].as_default():
                    outs[kind], pick = call(step, self.values[kind], lambda n: choice % n)
            except (TypeError, ValueError, IndexError, KeyError, NotImplementedError):
                return
        out = outs["concrete"]
        if not isinstance(out, gc.Tensor) or not out.shape.is_fully_defined():
            return
        ref = Ref("v", len(self.steps))
        self.steps.append(dataclasses.replace(step, pick=pick))
        for kind in outs:
            self.values[kind][ref] = outs[kind]
        self.shapes[ref], self.dtypes[ref] = tuple(out.shape.dims), out.dtype.np.name

    def recipe(self) -> Recipe:
        rng = self.rng
        refs = list(self.shapes)
        used = {a for step in self.steps for a in step_refs(step)}
        leaves = [r for r in refs if r.source == "v" and r not in used]
        extra = [refs[int(i)] for i in rng.choice(len(refs), size=min(len(refs), 2))]
        fetches = tuple(dict.fromkeys([refs[-1]] + leaves[-4:] + extra[:int(rng.integers(3))]))
        numeric = [r for r in refs if np.dtype(self.dtypes[r]).kind in "fiu"]
        counter = numeric[int(rng.integers(len(numeric)))] \
            if numeric and rng.random() < 0.25 else None
        recipe = Recipe(self.seed, tuple(self.inputs), tuple(self.steps), fetches, counter,
                        gradients=bool(rng.random() < 0.3),
                        special_rate=float(rng.choice([0.0, 0.05, 0.3])))
        try:
            recipe.build()
        except Exception as err:  # noqa: BLE001 - recorded for the report, then left out
            BUILD_FAILURES.append((recipe, err))
            recipe = dataclasses.replace(recipe, gradients=False, counter=None)
        return recipe


BUILD_FAILURES: list = []  # (recipe, exception) of recipes whose full build failed


def generate(seed: int, max_steps: int = 16) -> Recipe:
    """A random graph recipe; the same seed gives the same recipe."""
    return _Generator(seed, max_steps).recipe()
