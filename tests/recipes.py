"""Random graphs as plain data (``Recipe``), their feeds, and the NumPy reference.

A ``Recipe`` lists placeholders and steps (an op's public function called on earlier values)
and is rebuilt identically by ``build``, so it can be shrunk and printed. ``feeds`` fills the
placeholders with values that stress IEEE corners (NaN, +-Inf, +-0.0, denormals, huge
values), differently on every call. ``reference`` evaluates a built graph op by op with each
op's registry kernel in the op's own dtype, outside any Session: no plan, no optimizer, no
fused engine, no buffer reuse.

Example:
    >>> built = recipe.build()
    >>> values = reference(built.fetches, recipe.feeds(built, call=0))
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Any, Optional

import numpy as np

import graphc as gc
from graphc import registry
from graphc.algorithms import required_ops

# state ops the reference evaluates itself (the registry kernels need a Session's context)
_VARIABLE_OPS = ("variable", "read_variable", "assign", "assign_add")

# graph patterns that the algebraic and stabilizing rules look for, applied to a float value
PATTERNS = {
    "@log_softmax": lambda x: gc.log(gc.nn.softmax(x)),
    "@log_one_plus": lambda x: gc.log(1.0 + x),
    "@exp_minus_one": lambda x: gc.exp(x) - 1.0,
    "@log_sum_exp": lambda x, axis, keep: gc.log(gc.reduce_sum(gc.exp(x), axis, keep)),
    "@log_sigmoid": lambda x: gc.log(gc.sigmoid(x)),
    "@log_one_minus_sigmoid": lambda x: gc.log(1.0 - gc.sigmoid(x)),
    "@transpose_twice": lambda x: gc.transpose(gc.transpose(x)),
    "@reshape_to_own_shape": lambda x: gc.reshape(x, gc.shape(x)),
    "@self_difference": lambda x: x - x,
    "@mul_consts": lambda x, a, b: (x * a) * b,
    "@add_consts": lambda x, a, b: (x + a) + b,
    "@softmax_xent": lambda x, y, axis, keep: -gc.reduce_sum(
        gc.nn.softmax(y) * gc.log(gc.nn.softmax(x)), axis, keep),
}


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
        return value_shapes(self)[ref]

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
def value_shapes(recipe: Recipe) -> dict:
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
        return np.asarray(rng.random(shape) < 0.5)
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

    ``perturb = (sign, ulps)`` multiplies the float results of the k-th op (in the order
    run) by ``1 + sign(k, shape) * n eps`` with ``n = ulps(op)`` (0: left alone): what
    rounding differences of that many ulps there would do to the fetches; ``sign`` gives
    +-1 for the whole result or an array of signs of its shape."""
    variables = {} if variables is None else variables
    graph = fetches[0].graph
    values = dict(feeds)
    staged: dict = {}
    with np.errstate(all="ignore"):
        order = graph.topological_order(required_ops(fetches, (), frozenset(feeds)))
        for position, op in enumerate(order):
            if all(t in values for t in op.outputs):
                continue
            args = [values[t] for t in op.inputs]
            if op.type in _VARIABLE_OPS:
                result = _state_op(op, args, variables, staged)
            else:
                result = registry.get(op.type).kernel(*args, **op.attrs)
            results = list(result) if len(op.outputs) > 1 else [result]
            ulps = perturb[1](op) if perturb and op.type not in _VARIABLE_OPS else 0
            if ulps:
                results = [_perturbed(perturb[0], position, ulps, r) for r in results]
            values.update(zip(op.outputs, results))
    variables.update(staged)
    return [values[t] for t in fetches]


def sign_patterns(count: int, rng: np.random.Generator) -> list:
    """Sign functions ``sign(position, shape)`` over the positions of ``count`` ops: all
    +1, all -1, one pattern per bit of the position (any two ops get the same sign in one
    pattern and opposite signs in another: errors that cancel in one add up in another),
    and a random sign per element (errors of one op's elements that cancel in a sum or a
    product in one pattern do not cancel in this one)."""
    patterns = [lambda k, shape: 1.0, lambda k, shape: -1.0]
    patterns += [lambda k, shape, b=b: -1.0 if (k >> b) & 1 else 1.0
                 for b in range(max(1, (count - 1).bit_length()))]
    patterns.append(lambda k, shape: rng.choice([-1.0, 1.0], size=shape))
    return patterns


def _perturbed(sign, position: int, ulps: int, value):
    """``value * (1 + s n eps)``, ``s = sign(position, shape)``, eps of the value's dtype."""
    value = np.asarray(value)
    if value.dtype.kind != "f" or not value.size:
        return value
    factor = 1 + sign(position, value.shape) * ulps * np.finfo(value.dtype).eps
    return (value * factor).astype(value.dtype)


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


def step_refs(step: Step) -> list:
    """The Refs a step reads."""
    found = []
    for arg in list(step.args) + [v for _, v in step.kwargs]:
        found += [a for a in (arg if isinstance(arg, list) else [arg]) if isinstance(a, Ref)]
    return found
