"""Compiled fused engines give the NumPy kernels' results (issue 10, §1.1 and §1.2).

The rule: a compiled engine may serve a fused node only with the NumPy kernels' results:
bitwise on exact ops, within the op's ``LoopExpr.ulp`` on transcendental functions, and with
their NaN, +-Inf and signed zeros always. Checked on NaN, +-Inf, +-0.0, denormals and huge
values, for every op with a loop form:

- each op alone, per engine and dtype, against its kernel;
- random chains of 6+ ops (float32 and float64 on the compiled-loop engine, large float32 on
  the SIMD engine) in a ``FusedKernel`` run past a lowered hot threshold with a background
  compile: every call against the unfused result, bitwise before the switch, and after it
  bitwise against the composition of the NumPy kernels for exact steps and the engine's own
  single-op values (checked above) for transcendental ones, so that a contracted
  multiply-add, a lost NaN or a flipped zero anywhere in a chain fails;
- the issue's examples through a Session (``GRAPHC_FUSED_HOT_CALLS`` lowers the threshold).

``GRAPHC_LONG_TESTS=1`` runs ten times more chains, on larger arrays.
"""
import functools
import os
import string

import numpy as np
import pytest

import graphc as gc
from graphc import dtypes as gdt
from graphc import registry
from graphc.ops.fused import replay_dtypes
from graphc.runtime.fused import EnginePolicy, FusedKernel, common, loops, simd, wait_for_compiles

pytestmark = pytest.mark.skipif(not common.numba_available(), reason="numba not installed")
SCALE = 10 if os.environ.get("GRAPHC_LONG_TESTS") == "1" else 1
SMALL, LARGE = 300, 15_000 * SCALE  # the compiled-loop engine's sizes; the SIMD engine's
HOT_CALLS = 2


def ulp_distance(got, want) -> np.ndarray:
    """Units in the last place between ``got`` and ``want``, elementwise: 0 for equal values
    and for two NaNs, infinite for NaN against a number and for zeros of opposite sign."""
    got, want = np.asarray(got), np.asarray(want)
    assert (got.shape, got.dtype) == (want.shape, want.dtype), (got.shape, got.dtype, want.dtype)
    if got.dtype.kind != "f":
        return np.where(got == want, 0.0, np.inf)
    ints = np.int32 if got.dtype == np.float32 else np.int64

    def ordered(values):  # the floats' order as integers, -0.0 and +0.0 both at 0
        bits = values.view(ints).astype(np.int64)
        return np.where(bits < 0, np.iinfo(ints).min - bits, bits)
    a, b = ordered(got), ordered(want)
    same_side = (a >= 0) == (b >= 0)  # a - b cannot overflow there
    distance = np.where(same_side, np.abs(a - np.where(same_side, b, a)), 0).astype(float)
    distance = np.where(same_side, distance, np.abs(a).astype(float) + np.abs(b))
    nan_got, nan_want = np.isnan(got), np.isnan(want)
    distance[(nan_got != nan_want) | ((got == 0) & (want == 0)
                                      & (np.signbit(got) != np.signbit(want)))] = np.inf
    distance[nan_got & nan_want] = 0
    return distance


def assert_within(got, want, bound, context: str):
    distance = ulp_distance(got, want)
    bad = np.flatnonzero(distance > bound)
    if bad.size:
        i = bad[0]
        raise AssertionError(f"{context}: {bad.size} elements beyond the bound, e.g. element "
                             f"{i}: engine {np.ravel(got)[i]!r}, NumPy {np.ravel(want)[i]!r}")


def special_values(dtype, n: int, rng, share: float = 0.2) -> np.ndarray:
    """Random values of many magnitudes, each of NaN, +-Inf, +-0.0, denormals, huge values
    and a polynomial's range boundaries once, shuffled into the first half (the SIMD
    engine's later blocks take the vectorized path), and a ``share`` more of them there."""
    info = np.finfo(dtype)
    specials = [np.nan, np.inf, -np.inf, 0.0, -0.0, info.tiny, -info.tiny, info.tiny / 7,
                -info.smallest_subnormal, info.max, -info.max, 1e30, -1e30, 88.5, -87.5,
                2.0 ** 20 + 0.5, 3e38, 1.0, -1.0, 0.5, 6.0, 0.625, -9.0, 1e-30]
    values = rng.standard_normal(n) * rng.choice([1e-3, 1.0, 3.0, 30.0, 100.0, 1e5], n)
    chosen = np.flatnonzero(rng.random(n // 2 + 1) < share)
    values[chosen] = rng.choice(specials, chosen.size)
    each = rng.permutation(max(n // 2, min(n, len(specials))))[:len(specials)]
    values[each] = specials[:each.size]
    with np.errstate(over="ignore"):
        return values.astype(dtype)


def arity(opdef) -> int:
    scalar = opdef.loop.scalar
    if callable(scalar):
        return 3  # add_n
    return 1 + max(int(field) for _, field, _, _ in string.Formatter().parse(scalar) if field)


def _signature(opdef, dtype):
    """(argument kinds, output dtype) under which the op takes ``dtype`` values, or None."""
    n = arity(opdef)
    for kinds in (["f"] * n, ["b"] * n, ["b"] + ["f"] * (n - 1)):
        types = [gdt.bool if kind == "b" else gdt.as_dtype(dtype) for kind in kinds]
        try:
            out = replay_dtypes(types, ((opdef.name, tuple(("in", k) for k in range(n)), ()),))
        except (TypeError, ValueError):
            continue
        return kinds, out[-1].np
    return None


LOOP_OPS = [opdef for opdef in registry.all_ops()
            if opdef.loop is not None and not any(v is None for v in opdef.attrs.values())]
CAST_OPS = [opdef.name for opdef in registry.all_ops() if opdef.loop is not None
            and any(v is None for v in opdef.attrs.values())]


@functools.lru_cache(maxsize=None)
def selector(dtype):
    """(program, ops): one program computing every loop op on inputs X, Y (bools from
    comparing them) and returning, at each element, the op that selector S names there:
    ``where(S == k, op_k, ...)``. One compile covers every op of a dtype (with one lane: the
    values are the same, the code to compile five times smaller)."""
    ops = [o for o in LOOP_OPS if _signature(o, dtype) is not None]
    program = [("greater", (("in", 0), ("in", 1)), ()), ("less_equal", (("in", 0), ("in", 3)), ())]
    refs = {"f": [("in", 0), ("in", 1)], "b": [("step", 0), ("step", 1)]}
    chosen = []
    for opdef in ops:
        kinds, out = _signature(opdef, dtype)
        args = tuple(refs[kind][k % 2] for k, kind in enumerate(kinds))
        program.append((opdef.name, args, ()))
        if out == np.bool_:  # as 1.0 / 0.0
            program.append(("where", (("step", len(program) - 1), ("in", 4), ("in", 3)), ()))
        chosen.append(len(program) - 1)
    result = chosen[0]
    for k, step in enumerate(chosen[1:], 1):
        program.append(("equal", (("in", 2), ("in", 5 + k)), ()))
        program.append(("where", (("step", len(program) - 1), ("step", step), ("step", result)),
                        ()))
        result = len(program) - 1
    return tuple(program), [o.name for o in ops]


def selector_inputs(dtype, x, y, which):
    """X, Y, S and the constants 0, 1, k of ``selector(dtype)``."""
    _, ops = selector(dtype)
    constants = [dtype(0), dtype(1)] + [dtype(k) for k in range(len(ops))]
    return [x, y, np.full(x.shape, which, dtype)] + constants


def unfused(program, inputs):
    """The program op by op with the registry's kernels, as an unoptimized Session runs it."""
    values = []
    with np.errstate(all="ignore"):
        for op_type, args, attrs in program:
            ins = [inputs[i] if kind == "in" else values[i] for kind, i in args]
            values.append(registry.get(op_type).kernel(*ins, **dict(attrs)))
    return values[-1]


def engine_single_op(engine, op_type, args):
    """The engine's own value of one transcendental op, element by element."""
    args = [np.asarray(a) for a in args]
    if engine == "simd":
        program = ((op_type, tuple(("in", k) for k in range(len(args))), ()),)
        return simd.compile_simd_loop(program, args)(*args)
    full = np.broadcast_arrays(*args)
    dtype = full[0].dtype.type
    program, ops = selector(dtype)
    x = np.ascontiguousarray(full[0]).reshape(-1)
    y = np.ascontiguousarray(full[-1]).reshape(-1)
    inputs = selector_inputs(dtype, x, y, ops.index(op_type))
    return loops.compile_loop(program, inputs, lanes=1)(*inputs).reshape(full[0].shape)


def composition(program, inputs, engine):
    """What ``engine`` must return: NumPy kernels for exact steps, its own single-op values
    for transcendental steps (each checked against NumPy by the per-op tests)."""
    values = []
    with np.errstate(all="ignore"):
        for op_type, args, attrs in program:
            ins = [inputs[i] if kind == "in" else values[i] for kind, i in args]
            if registry.get(op_type).loop.ulp == 0:
                values.append(registry.get(op_type).kernel(*ins, **dict(attrs)))
            else:
                values.append(engine_single_op(engine, op_type, ins))
    return values[-1]


# -- each op alone ---------------------------------------------------------------------------
def _grid(dtype, rng):
    specials = special_values(dtype, 60, rng, share=1.0)[:31]
    x, y = (a.ravel() for a in np.meshgrid(specials, specials))
    return (np.concatenate([x, special_values(dtype, 3000, rng)]),
            np.concatenate([y, special_values(dtype, 3000, rng)]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_op_on_the_loop_engine_matches_its_kernel(dtype):
    """Every op on every pair of special values and on random ones (S selects the op)."""
    program, ops = selector(dtype)
    x, y = _grid(dtype, np.random.default_rng(1))
    which = np.repeat(np.arange(len(ops)), x.size).astype(dtype)
    inputs = selector_inputs(dtype, np.tile(x, len(ops)), np.tile(y, len(ops)), 0)
    inputs[2] = which
    got = loops.compile_loop(program, inputs, lanes=1)(*inputs)
    want = unfused(program, inputs)
    failures = []
    for k, name in enumerate(ops):
        mine = which == k
        try:
            assert_within(got[mine], want[mine], registry.get(name).loop.ulp,
                          f"{name} ({np.dtype(dtype).name})")
        except AssertionError as error:
            failures.append(str(error))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("op_type", CAST_OPS)
def test_casts_in_loops_round_as_numpy(op_type):
    rng = np.random.default_rng(2)
    for source, target in [(np.float64, np.float32), (np.float32, np.float64),
                           (np.float32, np.bool_), (np.bool_, np.float32)]:
        with np.errstate(all="ignore"):
            x = special_values(np.float64, 2000, rng, share=0.5).astype(source)
        program = ((op_type, (("in", 0),), (("dtype", gdt.as_dtype(target)),)),
                   ("negative", (("step", 0),), ()) if target != np.bool_ else
                   ("logical_not", (("step", 0),), ()))
        with np.errstate(all="ignore"):
            assert_within(loops.compile_loop(program, [x])(x), unfused(program, [x]), 0,
                          f"{op_type} {np.dtype(source).name} -> {np.dtype(target).name}")


# ops the SIMD engine takes: float32 to float32, with a vector form or plain arithmetic
SIMD_OPS = [o.name for o in LOOP_OPS if (o.loop.vector or o.loop.plain)
            and _signature(o, np.float32) == (["f"] * arity(o), np.float32)]


@pytest.mark.parametrize("op_type", [name for name in SIMD_OPS if registry.get(name).loop.vector])
def test_every_simd_function_matches_its_kernel(op_type):
    """Blocks with arguments out of the polynomial's range and blocks without."""
    x = special_values(np.float32, 4 * simd.BLOCK + 77, np.random.default_rng(3))
    program = ((op_type, (("in", 0),), ()),)
    got = simd.compile_simd_loop(program, [x])(x)
    assert_within(got, unfused(program, [x]), registry.get(op_type).loop.ulp, op_type)


def every_binade(dtype, per_binade: int, rng) -> np.ndarray:
    """``per_binade`` random values of each sign in every binade of ``dtype``, from the
    smallest denormal to the largest finite value, and the neighbours of 2**k."""
    info = np.finfo(dtype)
    exponents = np.arange(info.minexp - info.nmant, info.maxexp)
    values = np.ldexp(rng.uniform(1.0, 2.0, (exponents.size, per_binade)), exponents[:, None])
    powers = np.ldexp(1.0, exponents).astype(dtype)
    edges = np.concatenate([powers, np.nextafter(powers, dtype(0)), np.nextafter(powers, info.max)])
    with np.errstate(over="ignore"):
        values = np.concatenate([values.ravel().astype(dtype), edges])
    values = values[np.isfinite(values)]
    return np.concatenate([values, -values])


@pytest.mark.parametrize("op_type", [name for name in SIMD_OPS if registry.get(name).loop.vector])
def test_simd_functions_hold_their_bound_in_every_binade(op_type):
    """Range reductions lose accuracy with the argument's size (sin and cos reduce by
    quadrant in float64): every float32 argument, huge ones included, must stay within the
    op's ulp bound, by the polynomial inside ``vector_range`` and by libm outside."""
    x = every_binade(np.float32, 48, np.random.default_rng(5))
    program = ((op_type, (("in", 0),), ()),)
    got = simd.compile_simd_loop(program, [x])(x)
    assert_within(got, unfused(program, [x]), registry.get(op_type).loop.ulp, op_type)


# -- chains ----------------------------------------------------------------------------------
def random_chain(rng, ops, n_inputs: int, length: int, selects: bool):
    """A program of ``length`` steps or more in which every input and every step feeds the
    result; with ``selects``, now and then a comparison feeding a ``where``."""
    program, refs = [], [("in", k) for k in range(n_inputs)]
    unused = set(refs)

    def pick(recent=False):
        ref = refs[-1] if recent and len(refs) > n_inputs else refs[rng.integers(len(refs))]
        unused.discard(ref)
        return ref

    def add(op_type, args):
        program.append((op_type, tuple(args), ()))
        refs.append(("step", len(program) - 1))
        unused.add(refs[-1])
    while len(program) < length:
        if selects and rng.random() < 0.1:
            program.append(("less", (pick(True), pick()), ()))
            add("where", [("step", len(program) - 1), pick(), pick()])
            continue
        opdef = ops[rng.integers(len(ops))]
        if opdef.name == "add_n":  # inputs of one shape
            add(opdef.name, [pick(True)] * arity(opdef))
        else:
            add(opdef.name, [pick(True)] + [pick() for _ in range(arity(opdef) - 1)])
    binary = [o for o in ops if arity(o) == 2]
    while len(unused) > 1 or refs[-1] not in unused:
        last = pick(True)
        other = next(iter(sorted(unused))) if unused else pick()
        unused.discard(other)
        add(binary[rng.integers(len(binary))].name, [last, other])
    return tuple(program)


def _chain_case(engine, dtype, seed):
    rng = np.random.default_rng(seed)
    if engine == "simd":
        ops = [registry.get(name) for name in SIMD_OPS if name != "bias_add"]
        shape = (3, LARGE // 3)
        extra = [special_values(dtype, shape[1], rng)]  # a row: run row by row
    else:
        ops = [o for o in LOOP_OPS if _signature(o, dtype) == (["f"] * arity(o), np.dtype(dtype))
               and o.name != "bias_add"]
        shape = (SMALL // 20, 20)
        extra = [special_values(dtype, 20, rng)]  # a row: the loops' "tail" layout
    inputs = [special_values(dtype, shape[0] * shape[1], rng).reshape(shape),
              special_values(dtype, shape[0] * shape[1], rng).reshape(shape),
              dtype(rng.choice([0.5, -2.0, 1e30, -0.0, 3.0, 1e-40]))] + extra
    length = 6 + int(rng.integers(0, 6))
    return random_chain(rng, ops, len(inputs), length, selects=engine == "loops"), inputs


CHAINS = [(engine, dtype, seed) for engine, dtype in
          [("loops", np.float32), ("loops", np.float64), ("simd", np.float32)]
          for seed in range(3 * SCALE)]


@pytest.mark.parametrize("engine,dtype,seed", CHAINS,
                         ids=[f"{e}-{np.dtype(d).name}-{s}" for e, d, s in CHAINS])
def test_every_call_of_a_hot_chain_gives_numpy_results(engine, dtype, seed):
    program, inputs = _chain_case(engine, dtype, seed)
    kernel = FusedKernel(program, EnginePolicy(hot_calls=HOT_CALLS, timed=False))
    before, after = unfused(program, inputs), composition(program, inputs, engine)
    shapes = [np.shape(a) for a in inputs]
    for call in range(1, HOT_CALLS + 3):
        with np.errstate(all="ignore"):
            got = kernel(*inputs)
        expected = before if call <= HOT_CALLS else after
        assert_within(got, expected, 0, f"call {call} of {program}")
        if call == HOT_CALLS:  # this call started the compile
            wait_for_compiles()
            assert kernel.engine(*shapes) == engine


# -- the issue's examples through a Session --------------------------------------------------
def _multiply_add(x, y):
    # x*x - y is 0 for y = fl(x*x); an FMA keeps x*x unrounded, and tanh(residual * 1e30) is +-1
    return gc.tanh((x * x - y) * 1e30) + gc.sin(x) * 0.5 - x


EXAMPLES = {
    "multiply-add": (_multiply_add, 1 << 14),  # the SIMD engine's size
    "multiply-add, small": (_multiply_add, 1000),  # the compiled-loop engine's
    "signed zeros": (lambda x, y: 1.0 / gc.nn.relu(x) + 1.0 / gc.maximum(x, y)
                     + 1.0 / gc.minimum(y, x) + 1.0 / gc.sign(x) - 1.0 / gc.nn.elu(y), 64),
    "pow": (lambda x, y: gc.pow(x, 0.5) * 2.0 + gc.abs(y) - x * y + 1.0, 64),
}


def _fused_group(graph, out, holders, feeds):
    """The program and input values of the optimized graph's one fused node."""
    optimized, _ = gc.optimize(graph, [out], feeds=holders)
    [node] = [op for op in optimized.get_operations() if op.type == "fused_elementwise"]
    by_name = {h.op.name: feeds[h] for h in holders}
    inputs = [by_name[t.op.name] if t.op.type == "placeholder" else np.asarray(t.op.attrs["value"])
              for t in node.inputs]
    return node.attrs["program"], inputs


@pytest.mark.parametrize("name", sorted(EXAMPLES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_issue_examples_give_the_same_results_on_every_call(name, dtype, monkeypatch):
    fn, n = EXAMPLES[name]
    if name == "multiply-add" and dtype == np.float64:
        pytest.skip("the SIMD engine is float32 only")
    monkeypatch.setenv("GRAPHC_FUSED_ENGINE", "loops")  # compile when hot, keep untimed
    monkeypatch.setenv("GRAPHC_FUSED_HOT_CALLS", "3")
    rng = np.random.default_rng(4)
    x = special_values(dtype, n, rng)
    with np.errstate(all="ignore"):
        y = (x * x).astype(dtype) if fn is _multiply_add else x[::-1].copy()
    graph = gc.Graph()
    with graph.as_default():
        holders = [gc.placeholder(gdt.as_dtype(dtype), (n,), name=v) for v in "xy"]
        out = fn(*holders)
    feeds = dict(zip(holders, [x, y]))
    before = gc.Session(graph=graph, optimize=False).run(out, feeds)
    program, inputs = _fused_group(graph, out, holders, feeds)
    compiled = all(registry.get(op_type).loop for op_type, _, _ in program)
    after = composition(program, inputs, "simd" if n > 2048 else "loops") if compiled else before
    if fn is _multiply_add and dtype == np.float32:
        assert (ulp_distance(after, before) > 0).any()  # the switch is visible: sin differs
    sess = gc.Session(graph=graph)
    for call in range(1, 7):
        with np.errstate(all="ignore"):
            got = sess.run(out, feeds)
        assert_within(got, before if call < 3 else after, 0, f"{name}, call {call}")
