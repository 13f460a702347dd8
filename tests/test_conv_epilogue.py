"""The epilogue pass and ``with_epilogue``: conv2d -> bias_add -> relu (and other fused
groups reading only a conv's result) run inside the conv kernel, block by block, with
results bitwise those of the unfused graph (issue 10 §1: NaN, +-Inf, -0.0, denormals), on
every call past the fused engines' hot thresholds (a NaN's sign aside, see
``_assert_bitwise``); the pass leaves alone what it must."""
from __future__ import annotations

import numpy as np
import pytest

import graphc as gc
from graphc import registry
from graphc.ops import batch_split, conv_kernels
from graphc.ops.epilogue import run_in_place, run_program
from graphc.runtime.threads import _BatchPool

CALLS = 20  # past the fused engines' hot threshold (16)


def _special_values(shape, seed):
    """Random values with NaN, +-Inf, +-0.0, denormals and huge values mixed in."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    flat = x.reshape(-1)
    specials = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-42, -1e-42, 3e38, -3e38],
                        np.float32)
    picks = rng.choice(flat.size, min(flat.size, 4 * len(specials)), replace=False)
    flat[picks] = np.resize(specials, len(picks))
    return x


def _conv_block(x_shape, w_shape, activation=gc.nn.relu, padding="SAME", fetch_conv=False):
    graph = gc.Graph()
    with graph.as_default():
        x = gc.placeholder(gc.float32, (None,) + x_shape[1:])
        w = gc.constant(_special_values(w_shape, 1) * 0.5)
        bias = _special_values((w_shape[3],), 2)
        bias[:2] = (-0.0, np.nan)
        conv = gc.nn.conv2d(x, w, strides=1, padding=padding)
        y = activation(gc.nn.bias_add(conv, gc.constant(bias)))
    return graph, x, [y, conv] if fetch_conv else [y]


def _runs(graph, x, fetches, value, optimize):
    with gc.Session(graph=graph, optimize=optimize) as sess:
        return [sess.run(fetches, {x: value}) for _ in range(CALLS)]


def _types(graph, x, fetches, value, optimize=True):
    with gc.Session(graph=graph, optimize=optimize) as sess:
        sess.run(fetches, {x: value})
        plan = max(sess._plans.values(), key=lambda p: len(p.steps))
        return [step.op.type for step in plan.steps]


def _assert_bitwise(got, want):
    """Bitwise equal (so -0.0 stays -0.0), NaN where NaN: a NaN's sign and payload are not
    results (NumPy's own loops give either sign when both operands of an add are NaN)."""
    for a, b in zip(got, want):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        numbers = ~np.isnan(b)
        np.testing.assert_array_equal(a[numbers].view(np.uint32), b[numbers].view(np.uint32))


@pytest.mark.parametrize("x_shape,w_shape", [((3, 6, 5, 2), (3, 3, 2, 4)),
                                             ((2, 5, 5, 6), (1, 1, 6, 3)),
                                             ((2, 7, 7, 3), (5, 5, 3, 8))])
@pytest.mark.parametrize("chunk_bytes", [1, conv_kernels.CHUNK_BYTES])
def test_conv_bias_relu_in_the_kernel_is_bitwise_the_unfused_graph(monkeypatch, x_shape,
                                                                    w_shape, chunk_bytes):
    monkeypatch.setattr(conv_kernels, "CHUNK_BYTES", chunk_bytes)  # one image per block
    graph, x, fetches = _conv_block(x_shape, w_shape)
    value = _special_values(x_shape, 0)
    assert "with_epilogue" in _types(graph, x, fetches, value)
    assert "with_epilogue" not in _types(graph, x, fetches, value,
                                         gc.OptimizerConfig(disabled=("epilogue",)))
    unfused = _runs(graph, x, fetches, value, optimize=False)
    for got in _runs(graph, x, fetches, value, optimize=True):
        _assert_bitwise(got, unfused[0])
    for got in _runs(graph, x, fetches, value, gc.OptimizerConfig(disabled=("epilogue",))):
        _assert_bitwise(got, unfused[0])


@pytest.mark.parametrize("x_shape,w_shape", [((3, 6, 5, 2), (3, 3, 2, 8)),
                                             ((2, 5, 5, 6), (1, 1, 6, 3))])
def test_an_exact_epilogue_runs_on_the_fused_engines_compiled_loop(monkeypatch, x_shape,
                                                                   w_shape):
    """bias_add -> relu is exact in the engines' loops: the blocks go through the fused
    engines' kernel (compiled at once under GRAPHC_FUSED_ENGINE=loops), still bitwise
    (here on the blocks even where the direct loop would inline the program:
    tests/test_conv_direct_epilogue.py covers that)."""
    from graphc.ops import epilogue
    monkeypatch.setenv("GRAPHC_FUSED_ENGINE", "loops")
    monkeypatch.setattr(epilogue, "takes_inline", lambda program: False)
    kernels = []

    def recorded(program, _make=epilogue.program_kernel):
        kernels.append(_make(program))
        return kernels[-1]
    monkeypatch.setattr(epilogue, "program_kernel", recorded)
    graph, x, fetches = _conv_block(x_shape, w_shape)
    value = _special_values(x_shape, 4)
    unfused = _runs(graph, x, fetches, value, optimize=False)
    for got in _runs(graph, x, fetches, value, optimize=True):
        _assert_bitwise(got, unfused[0])
    engines = {getattr(k, "engine", "numpy") for kernel in kernels
               for k in getattr(kernel, "kernels", {}).values()}
    assert engines & {"loops", "simd"}, engines


def test_an_epilogue_with_an_inexact_op_keeps_the_registry_kernels():
    from graphc.ops import epilogue
    assert epilogue._exact_in_loops((("bias_add", (("in", 0), ("in", 1)), ()),
                                     ("relu", (("step", 0),), ())))
    assert not epilogue._exact_in_loops((("tanh", (("in", 0),), ()),))


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_the_epilogue_runs_on_the_blocks_of_a_split_batch(monkeypatch):
    """... and the pool's threads keep the session's NumPy error state (no warnings)."""
    monkeypatch.setattr(batch_split, "MIN_SPLIT_ELEMENTS", 0)
    before = batch_split._SPLITTER[0]
    conv_kernels.set_batch_splitter(_BatchPool(3, busy_cores=lambda: 0.0))
    try:
        graph, x, fetches = _conv_block((5, 6, 6, 3), (3, 3, 3, 4))
        value = _special_values((5, 6, 6, 3), 3)
        unfused = _runs(graph, x, fetches, value, optimize=False)
        _assert_bitwise(_runs(graph, x, fetches, value, optimize=True)[-1], unfused[0])
    finally:
        conv_kernels.set_batch_splitter(before)


def test_the_pass_leaves_a_conv_whose_result_is_read_elsewhere():
    """Fetched (or read by another op), the conv's result must exist as it is."""
    graph, x, fetches = _conv_block((2, 5, 5, 2), (3, 3, 2, 4), fetch_conv=True)
    value = _special_values((2, 5, 5, 2), 0)
    assert "with_epilogue" not in _types(graph, x, fetches, value)
    unfused = _runs(graph, x, fetches, value, optimize=False)
    _assert_bitwise(_runs(graph, x, fetches, value, optimize=True)[-1], unfused[0])


@pytest.mark.usefixtures("without_batch_regions")
def test_the_pass_leaves_a_group_reading_a_whole_second_tensor():
    """relu(conv + x2) with x2 of the result's shape: not a broadcast over blocks."""
    graph = gc.Graph()
    with graph.as_default():
        x = gc.placeholder(gc.float32, (2, 5, 5, 4))
        w = gc.constant(_special_values((3, 3, 4, 4), 1))
        y = gc.nn.relu(gc.nn.conv2d(x, w, strides=1, padding="SAME") * 2.0 + x)
    value = _special_values((2, 5, 5, 4), 0)
    assert "with_epilogue" not in _types(graph, x, [y], value)
    assert "fused_elementwise" in _types(graph, x, [y], value)


def test_the_pass_records_what_it_moved():
    graph, x, fetches = _conv_block((2, 5, 5, 2), (3, 3, 2, 4))
    with gc.Session(graph=graph) as sess:
        records = sess.optimization_records(fetches, {x: _special_values((2, 5, 5, 2), 0)})
    moved = [r for r in records if r.name == "epilogue"]
    assert moved and moved[0].changed
    assert moved[0].histogram_after.get("with_epilogue") == 1
    assert "conv2d" not in moved[0].histogram_after


def test_run_program_is_the_registry_kernels_in_order():
    program = (("bias_add", (("in", 0), ("in", 1)), ()), ("relu", (("step", 0),), ()))
    block, bias = _special_values((2, 3, 3, 4), 5), _special_values((4,), 6)
    want = registry.get("relu").kernel(registry.get("bias_add").kernel(block, bias))
    _assert_bitwise([run_program(program, [block, bias])], [want])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # Inf - Inf in the GEMM, on purpose
def test_the_conv_kernel_calls_the_epilogue_on_whole_image_blocks(monkeypatch):
    monkeypatch.setattr(conv_kernels, "CHUNK_BYTES", 1)
    x, w = _special_values((3, 4, 4, 2), 0), _special_values((3, 3, 2, 5), 1)
    seen = []
    conv_kernels.conv_forward(x, w, (1, 1), "SAME", (1, 1),
                              epilogue=lambda block: seen.append(block.shape))
    assert seen == [(1, 4, 4, 5)] * 3


def test_the_gradient_of_with_epilogue_is_the_unfused_gradient():
    """Differentiated after optimization, the op gives the expanded ops' gradients."""
    rng = np.random.default_rng(7)
    x_value = rng.standard_normal((2, 5, 5, 3)).astype(np.float32)
    w_value = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
    b_value = rng.standard_normal(4).astype(np.float32)
    program = (("bias_add", (("in", 0), ("in", 1)), ()), ("relu", (("step", 0),), ()))
    geometry = {"strides": (1, 1), "padding": "SAME", "dilations": (1, 1)}
    graph = gc.Graph()
    with graph.as_default():
        x, w, b = (gc.constant(v) for v in (x_value, w_value, b_value))
        fused = graph.create_op("with_epilogue", [x, w, b], {
            "host": "conv2d", "host_attrs": tuple(sorted(geometry.items())),
            "host_inputs": 2, "program": program, "position": 0, "ops": ()}).outputs[0]
        plain = gc.nn.relu(gc.nn.bias_add(gc.nn.conv2d(x, w, **geometry), b))
        weights = gc.constant(rng.standard_normal((2, 5, 5, 4)).astype(np.float32))
        grads = gc.gradients(gc.reduce_sum(fused * weights), [x, w, b])
        want = gc.gradients(gc.reduce_sum(plain * weights), [x, w, b])
    with gc.Session(graph=graph, optimize=False) as sess:
        got_values, want_values = sess.run([grads, want])
        np.testing.assert_array_equal(sess.run(fused), sess.run(plain))
    for got, expected in zip(got_values, want_values):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_with_epilogue_splits_along_the_batch_as_its_host_does():
    """graphc.dask splits the op rowwise, like conv2d (the extras have no batch axis)."""
    graph, x, fetches = _conv_block((2, 5, 5, 2), (3, 3, 2, 4))
    optimized, _ = gc.optimize(graph, fetches, feeds=[x])
    [op] = [o for o in optimized.get_operations() if o.type == "with_epilogue"]
    split = registry.get("with_epilogue").distribution(op, [None] * len(op.inputs))
    assert split == registry.get("conv2d").distribution == registry.ROWWISE


@pytest.mark.parametrize("program", [
    # bias_add in place, then relu into a fresh array copied back
    (("bias_add", (("in", 0), ("in", 1)), ()), ("relu", (("step", 0),), ())),
    # the block's old value read after a ufunc step: that step must not overwrite it
    (("add", (("in", 0), ("in", 1)), ()), ("multiply", (("step", 0), ("in", 0)), ())),
    # a step value read after a later ufunc step could have overwritten it
    (("multiply", (("in", 0), ("in", 1)), ()), ("add", (("step", 0), ("in", 1)), ()),
     ("subtract", (("step", 1), ("step", 0)), ())),
    # a view of the block (identity) read after an in-place step
    (("identity", (("in", 0),), ()), ("add", (("in", 0), ("in", 1)), ()),
     ("multiply", (("step", 1), ("step", 0)), ()))])
def test_the_in_place_epilogue_is_bitwise_run_program(program):
    rng = np.random.default_rng(4)
    block = rng.standard_normal((3, 4))
    block[0, 0], block[1, 1] = np.nan, -0.0
    extras = [rng.standard_normal(4)]
    want = run_program(program, [block] + extras)
    got = block.copy()
    assert run_in_place(program, [got] + extras, 0) is got
    _assert_bitwise([got], [want])
