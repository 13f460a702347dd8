"""The engines behind fused nodes: NumPy over cache-sized chunks with scratch buffers, and
compiled loops (numba) checked op by op against the NumPy kernels, from the registry."""
import numpy as np
import pytest

import graphc as gc
from graphc.passes import fusion
from graphc.runtime import fused_kernel, fused_loops, fused_numpy, fused_vector
from tests.passes.tools import build, evaluate, random_feeds
from tests.registry_cases import build as build_sample, sample_cases

F = gc.float64


def _loop_cases():
    cases, ids = [], []
    for (opdef, sample), name in zip(*sample_cases()):
        if opdef.loop:
            cases.append((opdef, sample))
            ids.append(name)
    return cases, ids


LOOP_CASES, LOOP_IDS = _loop_cases()


def _one_step(opdef, sample):
    """The sample's op as a one-step program, and its input values."""
    graph, outputs, feeds = build_sample(opdef, sample)
    op = outputs[0].op
    values = [feeds[t] for t in op.inputs]
    program = ((op.type, tuple(("in", k) for k in range(len(values))),
                tuple(sorted(op.attrs.items()))),)
    return program, values


needs_numba = pytest.mark.skipif(not fused_loops.available(), reason="numba not installed")


@needs_numba
@pytest.mark.parametrize("opdef,sample", LOOP_CASES, ids=LOOP_IDS)
def test_compiled_loop_matches_the_numpy_kernel(opdef, sample):
    """Every op with a loop expression, on its registry samples (loops cover float/bool)."""
    program, values = _one_step(opdef, sample)
    expected = fused_numpy.compile_program(program)(*values)
    loop = fused_loops.compile_loop(program, values)
    if any(np.result_type(v).kind in "iu" for v in values) or np.asarray(expected).dtype.kind \
            in "iu":
        assert loop is None, "integer programs must stay on NumPy"
        return
    if loop is None:
        assert fused_loops.input_modes([np.shape(v) for v in values],
                                  np.shape(expected)) is None, opdef.name
        return
    got = loop(*values)
    assert np.shape(got) == np.shape(expected) and np.result_type(got) == np.result_type(
        expected), opdef.name
    np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(expected, np.float64),
                               rtol=2e-6, atol=1e-6, err_msg=opdef.name)


@needs_numba
def test_loops_follow_numpy_on_nan_inf_and_signed_zero():
    x = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, -2.5, 3.0, 7.0], np.float32)
    program = (("relu", (("in", 0),), ()), ("maximum", (("step", 0), ("in", 1)), ()),
               ("minimum", (("in", 0), ("step", 1)), ()), ("relu6", (("in", 0),), ()),
               ("add", (("step", 2), ("step", 3)), ()))
    nan = np.float32(np.nan)
    expected = fused_numpy.compile_program(program)(x, nan)
    got = fused_loops.compile_loop(program, [x, nan])(x, nan)
    np.testing.assert_array_equal(got, expected)


@needs_numba
def test_broadcast_inputs_rows_and_single_elements():
    program = (("multiply", (("in", 0), ("in", 1)), ()), ("add", (("step", 0), ("in", 2)), ()),
               ("tanh", (("step", 1),), ()))
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    row, scale = np.float32([1, 2, 3]), np.float32(0.5)
    loop = fused_loops.compile_loop(program, [x, scale, row])
    np.testing.assert_allclose(loop(x, scale, row), np.tanh(x * scale + row), rtol=1e-6)
    column = np.ones((5, 1), np.float32)
    assert fused_loops.compile_loop(program, [x, scale, column]) is None  # stays on NumPy


@needs_numba
def test_hot_kernels_switch_to_the_loop_engine_and_agree(monkeypatch):
    monkeypatch.setenv("GRAPHC_FUSED_ENGINE", "auto")
    graph, interface = build(lambda x: gc.tanh(x * 1.5 + 0.5) * gc.sin(x) - x,
                             {"x": ((4, 3), F)})
    result = fusion.run(graph, interface)
    [node] = [op for op in result.graph.get_operations() if op.type == "fused_elementwise"]
    kernel = fused_kernel.FusedKernel(node.attrs["program"])
    x = np.linspace(-2, 2, 12).reshape(4, 3)
    inputs = [x if t.op.type == "placeholder" else
              np.asarray(t.op.attrs["value"]) for t in node.inputs]
    first = kernel(*inputs)
    for _ in range(fused_kernel.HOT_CALLS + 1):
        last = kernel(*inputs)
    assert list(kernel.loops.values()) and all(kernel.loops.values())
    np.testing.assert_allclose(last, first, rtol=1e-14)


def test_numpy_engine_alone_when_turned_off(monkeypatch):
    monkeypatch.setenv("GRAPHC_FUSED_ENGINE", "numpy")
    program = (("tanh", (("in", 0),), ()), ("negative", (("step", 0),), ()))
    kernel = fused_kernel.FusedKernel(program)
    for _ in range(fused_kernel.HOT_CALLS + 2):
        kernel(np.ones(3))
    assert not kernel.loops
    monkeypatch.setenv("GRAPHC_FUSED_ENGINE", "fastest")
    with pytest.raises(ValueError, match="GRAPHC_FUSED_ENGINE"):
        fused_kernel.FusedKernel(program)


def test_large_fused_nodes_run_in_chunks_with_scratch_buffers(monkeypatch):
    """Chunked, threaded evaluation with broadcasting: every chunk's intermediates live in
    the thread's scratch buffers, and the last step writes into the output itself."""
    monkeypatch.setattr(fused_numpy, "CHUNK_BYTES", 64 * 8)
    monkeypatch.setattr(fused_numpy, "PARALLEL_MIN", 1)
    monkeypatch.setenv("GRAPHC_FUSED_ENGINE", "numpy")
    graph, interface = build(lambda x, row, col: gc.tanh(x * row + col) * 2.0 - x,
                             {"x": ((50, 30), F), "row": ((30,), F), "col": ((50, 1), F)})
    result = fusion.run(graph, interface)
    [node] = [op for op in result.graph.get_operations() if op.type == "fused_elementwise"]
    chunked = fused_numpy.ChunkedProgram(node.attrs["program"])
    calls, buffers = [], set()
    original = chunked.into

    def counting(scratch, *arrays):
        calls.append(np.broadcast_shapes(*(np.shape(a) for a in arrays)))
        buffers.update(id(b) for b in scratch[:-1] if b is not None)
        assert scratch[-1] is not None  # the output slice
        return original(scratch, *arrays)
    chunked.into = counting
    values = random_feeds(interface)
    by_name = {t.op.name: v for t, v in zip(interface.feeds, values)}
    inputs = [by_name[t.op.name] if t.op.type == "placeholder" else
              np.asarray(t.op.attrs["value"]) for t in node.inputs]
    expected = evaluate(graph, interface, values)[0]
    np.testing.assert_allclose(chunked(*inputs), expected, rtol=1e-12)
    np.testing.assert_allclose(chunked(*inputs), expected, rtol=1e-12)
    assert len(calls) > 20 and max(np.prod(shape) for shape in calls) <= 64
    # a few buffers per thread and chunk shape, not one per chunk and step
    assert len(buffers) <= 4 * (fused_numpy._POOL._max_workers + 1) * 2
    np.testing.assert_allclose(evaluate(result.graph, result.interface, values)[0], expected,
                               rtol=1e-12)


VECTOR_OPS = sorted(fused_vector.VECTOR_EXPRESSIONS)


@needs_numba
@pytest.mark.parametrize("op_type", VECTOR_OPS)
def test_simd_functions_match_numpy_over_their_range_and_fall_back_outside(op_type):
    """Each SIMD polynomial against NumPy's float32 function: dense small arguments, wide
    ones, and values outside the polynomial's range (NaN, +-Inf, huge), which must come
    out exactly as NumPy's because those chunks are recomputed by it."""
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-3, 3, 5000), rng.uniform(-80, 80, 5000),
                        rng.uniform(-2e4, 2e4, 5000), np.linspace(-1e-3, 1e-3, 101)])
    program = ((op_type, (("in", 0),), ()),)
    numpy_engine = fused_numpy.ChunkedProgram(program)
    for values in (x, np.concatenate([x, [np.nan, np.inf, -np.inf, 1e30, -200.0, 0.0]])):
        values = values.astype(np.float32)
        with np.errstate(all="ignore"):  # as in a Session: NaN/Inf are values
            run = fused_vector.compile_vector_loop(program, [values], fused_numpy._POOL, 2,
                                                   numpy_engine)
            expected = numpy_engine(values)
            got = run(values)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=2e-6, atol=2e-7, equal_nan=True,
                                   err_msg=op_type)


@needs_numba
def test_simd_engine_takes_float32_arithmetic_only():
    x = np.linspace(-1, 1, 10000).astype(np.float32)
    chain = (("exp", (("in", 0),), ()), ("multiply", (("step", 0), ("in", 1)), ()),
             ("maximum", (("step", 1), ("in", 0)), ()), ("relu", (("step", 2),), ()))
    scale = np.float32(0.5)
    run = fused_vector.compile_vector_loop(chain, [x, scale], fused_numpy._POOL, 2,
                                           fused_numpy.ChunkedProgram(chain))
    np.testing.assert_allclose(run(x, scale), np.maximum(np.maximum(np.exp(x) * scale, x), 0),
                               rtol=2e-6)
    out = np.empty_like(x)
    assert run(x, scale, out=out) is out
    assert fused_vector.compile_vector_loop(chain, [x.astype(np.float64), np.float64(0.5)],
                                            fused_numpy._POOL, 2, None) is None
    logs = (("log", (("in", 0),), ()),)  # scalar libm: not vectorizable, stays on NumPy
    assert fused_vector.compile_vector_loop(logs, [x], fused_numpy._POOL, 2, None) is None


@needs_numba
def test_large_float32_groups_use_the_simd_engine_when_hot(monkeypatch):
    monkeypatch.setenv("GRAPHC_FUSED_ENGINE", "auto")
    monkeypatch.setattr(fused_kernel, "_faster", lambda *args: True)  # not left to timing
    program = (("multiply", (("in", 0), ("in", 1)), ()), ("tanh", (("step", 0),), ()),
               ("sin", (("in", 0),), ()), ("multiply", (("step", 1), ("step", 2)), ()),
               ("exp", (("step", 3),), ()), ("subtract", (("step", 4), ("in", 0)), ()))
    kernel = fused_kernel.FusedKernel(program)
    x = np.random.default_rng(1).normal(size=(300, 1000)).astype(np.float32)
    scale = np.float32(0.7)
    expected = kernel(x, scale)
    for _ in range(fused_kernel.HOT_CALLS + 1):
        got = kernel(x, scale)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)  # float32, 6 ops deep
    assert list(kernel.loops) == [((300, 1000), ())] and kernel.loops[(300, 1000), ()]
