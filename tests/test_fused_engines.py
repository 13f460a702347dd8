"""The machinery behind fused nodes: NumPy over cache-sized chunks with scratch buffers,
which groups and input layouts the compiled engines take, the hot switch with background
compiles, and the disk cache. That the engines' results are NumPy's is
tests/test_fused_differential.py."""
import threading
import warnings

import numpy as np
import pytest

import graphc as gc
from graphc.passes import fusion
from graphc.runtime.fused import (EnginePolicy, FusedKernel, common, fused_kernel, loops,
                                  numpy_engine, policy, simd, wait_for_compiles)
from tests.passes.tools import build, evaluate, random_feeds

F = gc.float64
needs_numba = pytest.mark.skipif(not common.numba_available(), reason="numba not installed")
CHAIN = (("multiply", (("in", 0), ("in", 1)), ()), ("add", (("step", 0), ("in", 2)), ()),
         ("tanh", (("step", 1),), ()), ("sin", (("in", 0),), ()),
         ("multiply", (("step", 2), ("step", 3)), ()), ("subtract", (("step", 4), ("in", 0)), ()))


def _reference(program, *arrays):
    return numpy_engine.compile_program(program)(*arrays)


@needs_numba
@pytest.mark.parametrize("shapes", [[(5, 3), (), (3,)], [(5, 3), (1,), (1, 3)], [(), (), ()],
                                    [(0, 3), (), (3,)], [(7,), (7,), (7,)]])
def test_loops_take_full_single_element_and_trailing_inputs(shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=s).astype(np.float32) for s in shapes]
    run = loops.compile_loop(CHAIN, arrays)
    expected = _reference(CHAIN, *arrays)
    got = run(*arrays)
    assert np.shape(got) == np.shape(expected) and np.result_type(got) == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    out = np.empty(np.shape(expected), np.float32)
    if out.ndim:
        assert run(*arrays, out=out) is out


@needs_numba
def test_loops_leave_other_layouts_and_integers_to_numpy():
    x = np.ones((5, 3), np.float32)
    assert loops.compile_loop(CHAIN, [x, np.float32(2), np.ones((5, 1), np.float32)]) is None
    ints = [np.ones((5, 3), np.int64), np.int64(2), np.ones(3, np.int64)]
    assert loops.compile_loop(CHAIN[:2], ints) is None
    powers = (("pow", (("in", 0), ("in", 1)), ()),)  # no loop form: see its OpDef row
    assert loops.compile_loop(powers, [x, np.float32(0.5)]) is None


@needs_numba
def test_simd_engine_takes_float32_groups_of_vector_and_plain_ops_only():
    x = np.linspace(-1, 1, 10000).astype(np.float32)
    scale = np.float32(0.5)
    chain = (("exp", (("in", 0),), ()), ("multiply", (("step", 0), ("in", 1)), ()),
             ("maximum", (("step", 1), ("in", 0)), ()), ("relu", (("step", 2),), ()))
    run = simd.compile_simd_loop(chain, [x, scale])
    np.testing.assert_allclose(run(x, scale), np.maximum(np.maximum(np.exp(x) * scale, x), 0),
                               rtol=2e-6)
    out = np.empty_like(x)
    assert run(x, scale, out=out) is out
    assert simd.compile_simd_loop(chain, [x.astype(np.float64), np.float64(0.5)]) is None
    logs = (("log", (("in", 0),), ()),)  # scalar libm only: not vectorizable, stays on NumPy
    assert simd.compile_simd_loop(logs, [x]) is None
    # a row of the output's last axis (a bias): the loop runs row by row, on whole rows
    rows, row = x.reshape(100, 100), np.linspace(-2, 2, 100).astype(np.float32)
    by_rows = simd.compile_simd_loop(chain, [rows, row])
    np.testing.assert_allclose(by_rows(rows, row),
                               np.maximum(np.maximum(np.exp(rows) * row, rows), 0), rtol=2e-6)
    two_tails = (("add", (("in", 0), ("in", 1)), ()), ("add", (("step", 0), ("in", 2)), ()))
    wide = np.ones((4, 10, 100), np.float32)
    assert simd.compile_simd_loop(two_tails, [wide, row, np.ones((10, 100), np.float32)]) is None


@needs_numba
@pytest.mark.parametrize("shape", [(64, 8, 8, 24), (7, 3, 8), (3, 5, 1000)])
def test_a_short_tail_is_tiled_into_long_rows_with_the_same_bits(shape):
    """bias_add -> relu with a bias of a few channels: the loop's rows are several bias
    rows long (as many as divide the row count and fit TAIL_ROW), bitwise NumPy's."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape).astype(np.float32)
    x.reshape(-1)[:6] = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-42]
    bias = rng.standard_normal(shape[-1]).astype(np.float32)
    bias[0] = -0.0
    program = (("bias_add", (("in", 0), ("in", 1)), ()), ("relu", (("step", 0),), ()))
    run = simd.compile_simd_loop(program, [x, bias])
    want = np.maximum(x + bias, np.float32(0))
    got = run(x, bias)
    assert got.tobytes() == want.tobytes()
    rows = x.size // shape[-1]
    tiles = simd._tiles(rows, shape[-1])
    assert rows % tiles == 0 and tiles * shape[-1] <= max(simd.TAIL_ROW, shape[-1])
    assert simd._tiles(4096, 24) == 32 and simd._tiles(7, 24) == 7 and simd._tiles(5, 2000) == 1


def _hot_kernel(program, arrays, **options):
    """A FusedKernel run past its lowered hot threshold, its compile waited for."""
    kernel = FusedKernel(program, EnginePolicy(hot_calls=2, timed=False, **options))
    results = [kernel(*arrays) for _ in range(2)]
    wait_for_compiles()
    return kernel, results + [kernel(*arrays)]


@needs_numba
def test_hot_kernels_switch_engines_by_output_size():
    rng = np.random.default_rng(1)
    small = [rng.normal(size=(4, 3)).astype(np.float32), np.float32(0.7), np.float32(0.1)]
    large = [rng.normal(size=(300, 100)).astype(np.float32), np.float32(0.7), np.float32(0.1)]
    for arrays, engine in [(small, "loops"), (large, "simd")]:
        kernel, results = _hot_kernel(CHAIN, arrays)
        assert kernel.engine(*[a.shape for a in arrays]) == engine
        np.testing.assert_allclose(results[-1], results[0], rtol=1e-5, atol=1e-6)
    short = CHAIN[:3]  # fewer than LOOP_MIN_STEPS ops: NumPy is faster inside plans
    kernel, _ = _hot_kernel(short, small)
    assert kernel.engine(*[a.shape for a in small]) == "numpy"


@needs_numba
def test_layouts_a_kernel_was_not_compiled_for_run_on_numpy_without_compiling():
    """Compiled for writeable arrays, a read-only feed (another numba type) gets NumPy's
    result on the calling thread rather than a compile there (seconds, in the pool's threads
    for the SIMD engine, blocking every fused node)."""
    x = np.linspace(-3, 3, 2000, dtype=np.float32)
    arrays = [x, np.float32(0.7), np.float32(0.1)]
    kernel, results = _hot_kernel(CHAIN, arrays)
    assert kernel.engine(*[a.shape for a in arrays]) == "loops"
    assert (results[-1] != results[0]).any()  # the loops' tanh/sin differ in the last bit
    frozen = x.copy()
    frozen.flags.writeable = False
    np.testing.assert_array_equal(kernel(frozen, *arrays[1:]), results[0])


@pytest.mark.parametrize("refusal", [RuntimeError("compilation disabled"), TypeError("no match")])
def test_a_compiled_kernel_refusing_the_arrays_leaves_the_call_to_numpy(refusal):
    """What a warmed-up dispatcher raises for arrays it has no code for -- also numba's
    "compilation disabled" RuntimeError, met while another thread's warm-up of the shared
    dispatcher lets it compile (seed 1584 of the long differential run) -- runs NumPy."""
    arrays = [np.linspace(-2, 2, 12).reshape(4, 3), np.float64(2), np.float64(1)]
    kernel = FusedKernel(CHAIN, EnginePolicy(hot_calls=1, timed=False))

    def refusing(*args, out=None):
        raise refusal
    kernel.kernels[tuple(a.shape for a in arrays)] = refusing
    np.testing.assert_array_equal(kernel(*arrays), _reference(CHAIN, *arrays))
    kernel.kernels[tuple(a.shape for a in arrays)] = lambda *a, out=None: 1 / 0
    with pytest.raises(ZeroDivisionError):  # any other failure is the kernel's own
        kernel(*arrays)


def test_warm_ups_of_one_dispatcher_take_turns():
    """A warm-up that disabled compiling while another one compiled made that one fail."""
    class Dispatcher:
        can_compile, seen = False, []

        def disable_compile(self, disabled):
            self.can_compile = not disabled

        def __call__(self, first):
            if first:
                other = threading.Thread(target=common.warm_up, args=(self, False))
                other.start()
                other.join(0.2)  # without turns it ends at once and disables compiling
            self.seen.append(self.can_compile)
    dispatcher = Dispatcher()
    common.warm_up(dispatcher, True)
    while len(dispatcher.seen) < 2:
        threading.Event().wait(0.01)
    assert dispatcher.seen == [True, True] and not dispatcher.can_compile


@needs_numba
def test_hot_calls_run_on_numpy_while_the_kernel_compiles(monkeypatch):
    """The call that turns a node hot, and every call until its kernel is ready, run on
    NumPy: none waits for the compiler (held here until the test lets it go)."""
    release, started = threading.Event(), threading.Event()
    compile_now = loops.compile_loop

    def held_compile(program, arrays):
        started.set()
        assert release.wait(60)
        return compile_now(program, arrays)
    monkeypatch.setattr(policy, "compile_loop", held_compile)
    arrays = [np.linspace(-2, 2, 12, dtype=np.float32).reshape(4, 3), np.float32(2),
              np.float32(1)]
    kernel = FusedKernel(CHAIN, EnginePolicy(hot_calls=2, timed=False))
    for _ in range(5):
        kernel(*arrays)  # would hang here if a call waited for the held compile
    assert started.wait(60) and kernel.engine(*[a.shape for a in arrays]) == "numpy"
    release.set()
    wait_for_compiles()
    assert kernel.engine(*[a.shape for a in arrays]) == "loops"


@needs_numba
def test_compile_failures_leave_the_node_on_numpy_and_surface_in_wait(monkeypatch):
    def broken(program, arrays):
        raise ValueError("no such loop")
    monkeypatch.setattr(policy, "compile_loop", broken)
    arrays = [np.ones((4, 3), np.float32), np.float32(2), np.float32(1)]
    kernel = FusedKernel(CHAIN, EnginePolicy(hot_calls=1, timed=False))
    np.testing.assert_array_equal(kernel(*arrays), _reference(CHAIN, *arrays))
    with pytest.raises(RuntimeError, match="no such loop"):
        wait_for_compiles()
    assert kernel.engine(*[a.shape for a in arrays]) == "numpy"
    wait_for_compiles()  # reported once


@needs_numba
def test_compiled_kernels_are_cached_on_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHC_CACHE_DIR", str(tmp_path))
    source = loops.loop_source(CHAIN, [np.float32] * 3, ["full", "one", "one"])
    arrays = [np.ones(6, np.float32), np.ones(1, np.float32), np.ones(1, np.float32)]
    common.jit_source.cache_clear()  # compiled by an earlier test, in memory
    first = common.jit_source(source, ("loop",))
    first(np.empty(6, np.float32), *arrays)
    assert list((tmp_path / "fused-kernels").glob("graphc_*.py"))
    assert not first.stats.cache_hits and first.stats.cache_misses
    common.jit_source.cache_clear()  # as in a new process
    again = common.jit_source(source, ("loop",))
    again(np.empty(6, np.float32), *arrays)
    assert again.stats.cache_hits and not again.stats.cache_misses


@needs_numba
def test_unusable_cache_folders_compile_without_a_disk_cache(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    source = loops.loop_source(CHAIN[:2], [np.float32] * 3, ["full", "one", "one"])
    for setting in (str(blocker / "below"), ""):
        monkeypatch.setenv("GRAPHC_CACHE_DIR", setting)
        common.jit_source.cache_clear()
        loop = common.jit_source(source, ("loop",))
        out = np.empty(4, np.float32)
        loop(out, np.ones(4, np.float32), np.full(1, 2, np.float32), np.ones(1, np.float32))
        np.testing.assert_array_equal(out, 3)
    assert common.cache_dir() is None


def test_the_cache_folder_is_graphc_cache_dir_else_xdg_else_home(tmp_path, monkeypatch):
    monkeypatch.delenv("GRAPHC_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert common.cache_dir() == tmp_path / "xdg" / "graphc" / "fused-kernels"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert common.cache_dir() == tmp_path / "home" / ".cache" / "graphc" / "fused-kernels"
    monkeypatch.setenv("GRAPHC_CACHE_DIR", str(tmp_path / "mine"))
    assert common.cache_dir() == tmp_path / "mine" / "fused-kernels"


def test_engine_knobs_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("GRAPHC_FUSED_ENGINE", "numpy")
    kernel = FusedKernel(CHAIN)
    for _ in range(20):
        kernel(np.ones(3), np.ones(3), np.ones(3))
    assert not kernel.kernels and kernel.engine((3,), (3,), (3,)) == "numpy"
    assert isinstance(fused_kernel(CHAIN), numpy_engine.ChunkedProgram)
    monkeypatch.setenv("GRAPHC_FUSED_ENGINE", "loops")
    monkeypatch.setenv("GRAPHC_FUSED_HOT_CALLS", "3")
    assert EnginePolicy.from_environment() == EnginePolicy(
        "loops", 3, background=False, timed=False, min_steps=1)
    for name, value in [("GRAPHC_FUSED_ENGINE", "fastest"), ("GRAPHC_FUSED_HOT_CALLS", "0")]:
        monkeypatch.setenv(name, value)
        with pytest.raises(ValueError, match=name):
            FusedKernel(CHAIN)
        monkeypatch.delenv(name)


def test_large_fused_nodes_run_in_chunks_with_scratch_buffers(monkeypatch):
    """Chunked, threaded evaluation with broadcasting: every chunk's intermediates live in
    the thread's scratch buffers, and the last step writes into the output itself."""
    monkeypatch.setattr(numpy_engine, "CHUNK_BYTES", 64 * 8)
    monkeypatch.setattr(numpy_engine, "PARALLEL_MIN", 1)
    monkeypatch.setenv("GRAPHC_FUSED_ENGINE", "numpy")
    graph, interface = build(lambda x, row, col: gc.tanh(x * row + col) * 2.0 - x,
                             {"x": ((50, 30), F), "row": ((30,), F), "col": ((50, 1), F)})
    result = fusion.run(graph, interface)
    [node] = [op for op in result.graph.get_operations() if op.type == "fused_elementwise"]
    chunked = numpy_engine.ChunkedProgram(node.attrs["program"])
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
    assert len(buffers) <= 4 * (common.WORKERS + 1) * 2
    np.testing.assert_allclose(evaluate(result.graph, result.interface, values)[0], expected,
                               rtol=1e-12)


@needs_numba
def test_the_background_compile_times_engines_without_numpy_warnings():
    # the timing runs both engines on the run's values in the compile thread, where the
    # Session's silenced NumPy errors do not reach; NaN and Inf there are values as well
    overflowing = [np.full((4, 3), 1e200), np.float64(1e200), np.float64(np.inf)]
    kernel = FusedKernel(CHAIN, EnginePolicy(hot_calls=1, timed=True, min_steps=1))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(all="ignore"):
            for _ in range(3):
                kernel(*overflowing)
        wait_for_compiles()
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)], \
        [str(w.message) for w in caught]


F32 = (("dtype", gc.float32),)
# TF1's ReLU gradient after fusion: dy * cast(x > 0), and with its upstream sum (add_n)
RELU_GRAD = (("greater", (("in", 0), ("in", 1)), ()), ("cast", (("step", 0),), F32),
             ("multiply", (("in", 2), ("step", 1)), ()))
RELU_GRAD_SUM = (("add_n", (("in", 0), ("in", 1)), ()), ("greater", (("in", 2), ("in", 3)), ()),
                 ("cast", (("step", 1),), F32), ("multiply", (("step", 0), ("step", 2)), ()))


def _special(shape, seed):
    a = np.random.default_rng(seed).normal(size=shape).astype(np.float32)
    a.reshape(-1)[:6] = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-45]
    return a


@needs_numba
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # inf * 0 on NumPy
def test_simd_engine_takes_the_bools_of_comparisons_bitwise():
    """A comparison's bool inside a float32 group compiles (a select): a ReLU gradient is
    bitwise NumPy's, NaN, +-Inf (inf * 0 is NaN) and signed zeros included."""
    x, dy, other = _special(5000, 0), _special(5000, 1)[::-1].copy(), _special(5000, 2)
    zero = np.float32(0)
    for program, arrays in [(RELU_GRAD, [x, zero, dy]), (RELU_GRAD_SUM, [dy, other, x, zero])]:
        run = simd.compile_simd_loop(program, arrays)
        got, want = run(*arrays), _reference(program, *arrays)
        assert got.dtype == np.float32 and got.tobytes() == want.tobytes()
    only_bools = (("greater", (("in", 0), ("in", 1)), ()),)  # a bool result: not covered
    assert simd.compile_simd_loop(only_bools, [x, zero]) is None


@needs_numba
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # inf * 0 on NumPy
def test_short_groups_compile_only_for_large_outputs():
    """Fewer than LOOP_MIN_STEPS ops: NumPy for small outputs (faster inside plans), one
    SIMD pass for large ones; a small static shape binds the straight-line function."""
    zero = np.float32(0)
    large = [_special((64, 8, 8, 32), 3), zero, _special((64, 8, 8, 32), 4)]
    small = [a[:1, :2] if np.ndim(a) else a for a in large]
    assert max(a.size for a in small) <= policy.LOOP_MAX_ELEMENTS < large[0].size
    for arrays, engine in [(large, "simd"), (small, "numpy")]:
        kernel, results = _hot_kernel(RELU_GRAD, arrays)
        assert kernel.engine(*[np.shape(a) for a in arrays]) == engine
        assert results[-1].tobytes() == results[0].tobytes()
    auto = EnginePolicy()
    assert not isinstance(fused_kernel(RELU_GRAD, gc.TensorShape([4, 8]), auto), FusedKernel)
    assert isinstance(fused_kernel(RELU_GRAD, gc.TensorShape([None, 8]), auto), FusedKernel)
