"""Random graphs drawn from the op registry, as plain data, with a NumPy reference.

A ``Recipe`` is a seeded list of steps; each step calls one op's public function with
arguments shaped like one of the op's registry samples, taking its array arguments from
earlier values (placeholders and step outputs) or from new placeholders. So a new op with
samples takes part without any change here. ``reference`` evaluates a built graph op by op
with each op's registry kernel in the op's own dtype, outside any Session: no plan, no
optimizer, no fused engine, no buffer reuse. ``feeds`` fills placeholders with values that
stress IEEE corners (NaN, +-Inf, +-0.0, denormals, huge values), differently on every call.

Example:
    >>> recipe = generate(seed=3)
    >>> built = recipe.build()
    >>> values = reference(built.fetches, recipe.feeds(built, call=0))
"""
from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Optional

import numpy as np

import graphc as gc
from graphc import registry
from graphc.algorithms import required_ops

# state ops the reference evaluates itself (the registry kernels need a Session's context)
_VARIABLE_OPS = ("variable", "read_variable", "assign", "assign_add")
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


@dataclasses.dataclass(frozen=True)
class Ref:
    """An argument: input ``index`` (source "in") or the output of step ``index`` ("v")."""

    source: str
    index: int

    def __str__(self) -> str:
        return f"{self.source}{self.index}"


@dataclasses.dataclass(frozen=True)
class Input:
    """A placeholder: its run-time shape, declared shape (None dims allowed) and dtype;
    ``fixed`` data is fed unchanged on every call (integer indices and the like)."""

    shape: tuple
    declared: Optional[tuple]
    dtype: str
    fixed: Any = None
    key: int = 0  # seeds its data (kept when shrinking renumbers the inputs)


@dataclasses.dataclass(frozen=True)
class Step:
    op: str
    args: tuple
    kwargs: tuple = ()  # (name, value) pairs
    pick: int = 0  # which output, for ops returning several


@dataclasses.dataclass(frozen=True)
class Built:
    graph: Any
    placeholders: list
    fetches: list
    init: Any
    variable: Any  # the Variable of the recipe's counter, if any


@dataclasses.dataclass(frozen=True, eq=False)
class Recipe:
    """A random graph as data: rebuilt identically by ``build``, shrinkable, printable."""

    seed: int
    inputs: tuple
    steps: tuple
    fetches: tuple  # Refs
    counter: Optional[Ref] = None  # a value accumulated into a variable every run
    gradients: bool = False
    special_rate: float = 0.2

    def build(self) -> Built:
        graph = gc.Graph()
        with graph.as_default():
            holders = [gc.placeholder(gc.as_dtype(i.dtype), i.declared, name=f"in{k}")
                       for k, i in enumerate(self.inputs)]
            values = {Ref("in", k): h for k, h in enumerate(holders)}
            for k, step in enumerate(self.steps):
                values[Ref("v", k)] = call(step, values)
            fetches = [values[i] for i in self.fetches]
            variable = None
            if self.counter is not None:
                source = values[self.counter]
                variable = gc.Variable(np.zeros(self.shape_of(self.counter), source.dtype.np),
                                       name="counter")
                fetches.append(variable.assign_add(source))
            if self.gradients:
                floats = [h for h in holders if h.dtype.is_floating]
                target = values[self.fetches[0]]
                if floats and target.dtype.is_floating:
                    grads = gc.gradients(gc.reduce_sum(target), floats)
                    fetches += [g for g in grads if g is not None]
            init = gc.global_variables_initializer()
        return Built(graph, holders, fetches, init, variable)

    def shape_of(self, ref: Ref) -> tuple:
        return _concrete(self)[ref]

    def feeds(self, built: Built, call: int) -> dict:
        """The feed_dict for call number ``call``: new values every call, same seed same data."""
        feeds = {}
        for holder, spec in zip(built.placeholders, self.inputs):
            rng = np.random.default_rng([self.seed, call, spec.key])
            feeds[holder] = (np.array(spec.fixed) if spec.fixed is not None
                             else random_array(rng, spec.shape, spec.dtype, self.special_rate))
        return feeds

    def describe(self) -> str:
        lines = [f"Recipe(seed={self.seed}, special_rate={self.special_rate}, "
                 f"counter={self.counter}, gradients={self.gradients})"]
        for k, spec in enumerate(self.inputs):
            fixed = "" if spec.fixed is None else f" fixed={np.array(spec.fixed).tolist()}"
            lines.append(f"  in{k} = placeholder {spec.dtype}{list(spec.shape)} declared "
                         f"{spec.declared}{fixed}")
        for k, step in enumerate(self.steps):
            args = ", ".join(_show(a) for a in step.args)
            kwargs = "".join(f", {name}={_show(v)}" for name, v in step.kwargs)
            pick = f"[{step.pick}]" if step.pick else ""
            lines.append(f"  v{k} = {step.op}({args}{kwargs}){pick}")
        lines.append(f"  fetch {', '.join(str(r) for r in self.fetches)}")
        return "\n".join(lines)


def _show(arg) -> str:
    if isinstance(arg, (Ref, list)):
        return str(arg) if isinstance(arg, Ref) else "[" + ", ".join(map(_show, arg)) + "]"
    return repr(arg)


def _resolve(arg, values):
    if isinstance(arg, Ref):
        return values[arg]
    if isinstance(arg, list):
        return [_resolve(a, values) for a in arg]
    return arg


def call(step: Step, values: dict, choose=None):
    """Build ``step`` on ``values`` (Ref -> tensor); ``choose(n)`` picks one of several
    outputs when the step has no ``pick`` yet (generation), returning (tensor, pick)."""
    args = [_resolve(a, values) for a in step.args]
    if step.op in PATTERNS:
        out = PATTERNS[step.op](*args)
    else:
        out = registry.api_for(step.op)(*args, **{k: _resolve(v, values)
                                                   for k, v in step.kwargs})
    if choose is None:
        return out[step.pick] if isinstance(out, (list, tuple)) else out
    pick = choose(len(out)) if isinstance(out, (list, tuple)) else 0
    return (out[pick] if isinstance(out, (list, tuple)) else out), pick


@functools.lru_cache(maxsize=256)
def _concrete(recipe: Recipe) -> dict:
    """Run-time shapes of every value (from a build with fully known placeholder shapes)."""
    graph = gc.Graph()
    with graph.as_default():
        values = {Ref("in", k): gc.placeholder(gc.as_dtype(i.dtype), i.shape)
                  for k, i in enumerate(recipe.inputs)}
        for k, step in enumerate(recipe.steps):
            values[Ref("v", k)] = call(step, values)
    return {ref: tuple(v.shape.dims) for ref, v in values.items()}


# -- inputs ---------------------------------------------------------------------------------
def special_values(dtype) -> np.ndarray:
    """IEEE corners of ``dtype`` (or extreme integers)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        info = np.finfo(dtype)
        return np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, info.max, -info.max,
                         info.smallest_subnormal, -info.smallest_subnormal, info.tiny,
                         1e30 if dtype.itemsize > 2 else 6e4, 1e-30, 1.0, -1.0], dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return np.array([0, 1, -1, info.max, info.min], dtype)
    return np.array([True, False])


def random_array(rng, shape, dtype, special_rate: float) -> np.ndarray:
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        data = rng.integers(-5, 6, size=shape).astype(dtype)
    else:
        data = rng.uniform(-2.0, 2.0, size=shape).astype(dtype)
    if special_rate and data.size:
        chosen = rng.random(shape) < special_rate
        corners = special_values(dtype)
        data[chosen] = rng.choice(corners, size=int(np.count_nonzero(chosen)))
    return np.asarray(data)


# -- the reference ----------------------------------------------------------------------------
def reference(fetches, feeds: dict, variables: Optional[dict] = None, perturb=None) -> list:
    """Every fetch computed op by op with the registry kernels (``variables``: name ->
    value, updated in place by assign ops). Raises what a kernel raises.

    ``perturb = (rng, chosen)`` multiplies every float result of an op for which
    ``chosen(op)`` holds by ``1 + u * 4 eps`` (u uniform in [-1, 1] per element): what
    rounding differences of a few ulps there would do to the fetches."""
    variables = {} if variables is None else variables
    graph = fetches[0].graph
    values = dict(feeds)
    staged: dict = {}
    with np.errstate(all="ignore"):
        for op in graph.topological_order(required_ops(fetches, (), frozenset(feeds))):
            if all(t in values for t in op.outputs):
                continue
            args = [values[t] for t in op.inputs]
            if op.type in _VARIABLE_OPS:
                result = _state_op(op, args, variables, staged)
            else:
                result = registry.get(op.type).kernel(*args, **op.attrs)
            results = list(result) if len(op.outputs) > 1 else [result]
            if perturb is not None and op.type not in _VARIABLE_OPS and perturb[1](op):
                results = [_perturbed(perturb[0], r) for r in results]
            values.update(zip(op.outputs, results))
    variables.update(staged)
    return [values[t] for t in fetches]


def _perturbed(rng, value):
    value = np.asarray(value)
    if value.dtype.kind != "f" or not value.size:
        return value
    noise = rng.uniform(-4.0, 4.0, value.shape) * np.finfo(value.dtype).eps
    return (value * (1 + noise)).astype(value.dtype)


def _state_op(op, args, variables, staged):
    """TF1's variable semantics: reads see this run's earlier writes."""
    if op.type == "variable":
        return op
    name = args[0].name
    current = staged.get(name, variables.get(name))
    if op.type == "read_variable":
        return current
    value = np.asarray(args[1], dtype=op.outputs[0].dtype.np)
    staged[name] = (value.copy() if op.type == "assign" else np.add(current, value))
    return staged[name]


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
            found.append(Template(opdef.name, tuple(_slot(a) for a in sample.args),
                                  tuple((k, _slot(v)) for k, v in sample.kwargs.items()),
                                  opdef.elementwise))
    return tuple(found)


def _refs(step: Step) -> list:
    found = []
    for arg in list(step.args) + [v for _, v in step.kwargs]:
        found += [a for a in (arg if isinstance(arg, list) else [arg]) if isinstance(a, Ref)]
    return found


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


# graph patterns that the algebraic and stabilizing rules look for, applied to a float value
PATTERNS = {
    "@log_softmax": lambda x: gc.log(gc.nn.softmax(x)),
    "@log_one_plus": lambda x: gc.log(1.0 + x),
    "@exp_minus_one": lambda x: gc.exp(x) - 1.0,
    "@log_sum_exp": lambda x: gc.log(gc.reduce_sum(gc.exp(x), axis=-1)),
    "@log_sigmoid": lambda x: gc.log(gc.sigmoid(x)),
    "@log_one_minus_sigmoid": lambda x: gc.log(1.0 - gc.sigmoid(x)),
    "@transpose_twice": lambda x: gc.transpose(gc.transpose(x)),
    "@reshape_to_own_shape": lambda x: gc.reshape(x, gc.shape(x)),
    "@self_difference": lambda x: x - x,
    "@mul_consts": lambda x, a, b: (x * a) * b,
    "@add_consts": lambda x, a, b: (x + a) + b,
    "@softmax_xent": lambda x, y: -gc.reduce_sum(gc.nn.softmax(y) * gc.log(gc.nn.softmax(x)),
                                                 axis=-1),
}




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
        used = {a for step in self.steps for a in _refs(step)}
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
