"""``relu_bias_grad`` (graphc.ops.relu_bias_grad) and the relu_bias_grads pass: the compiled
loops against the unfused ops' NumPy calls (backprops bitwise, NaN/+-Inf/-0.0 included;
the bias gradient bitwise NumPy's sum over the leading axes, and within the float-sum
bound of reduce_sum's GEMV), size 0, out= buffers, the plan's arena for a step of two
results, the pass's matches and refusals, and whole training steps optimized against
unoptimized past the fused engines' hot threshold."""
from __future__ import annotations

import numpy as np
import pytest

import graphc as gc
from graphc import registry
from graphc.ops import relu_bias_grad as rbg
from graphc.ops.conv_loops import HAVE_NUMBA
from tests.test_conv_kernels import split_batches  # noqa: F401 (a fixture)

KERNEL = registry.get("relu_bias_grad").kernel
CALLS = 20  # past the fused engines' hot threshold (16)
needs_numba = pytest.mark.skipif(not HAVE_NUMBA, reason="the compiled loops need numba")


def _special(shape, seed, dtype=np.float32):
    """Normal values with NaN, +-Inf, +-0.0, denormals and huge values mixed in."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    flat = x.reshape(-1)
    specials = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-42, -1e-42, 3e38, -3e38],
                        dtype)
    picks = rng.choice(flat.size, min(flat.size, 3 * len(specials)), replace=False)
    flat[picks] = np.resize(specials, len(picks))
    return x


def _bitwise(got, want):
    """Equal bits (-0.0 stays -0.0), NaN where NaN (a NaN's sign is no result)."""
    assert got.shape == want.shape and got.dtype == want.dtype
    nan = np.isnan(want)
    np.testing.assert_array_equal(np.isnan(got), nan)
    bits = np.uint32 if got.dtype == np.float32 else np.uint64
    np.testing.assert_array_equal(got[~nan].view(bits), want[~nan].view(bits))


def _within_float_sum_bound(got, terms):
    """|got - sum| <= 4 * rows * eps * sum|terms| per column (NaN/Inf where the sum has)."""
    axis = tuple(range(terms.ndim - 1))
    with np.errstate(invalid="ignore"):
        exact = np.sum(terms.astype(np.float64), axis=axis)
    finite = np.isfinite(exact)
    np.testing.assert_array_equal(np.isfinite(got), finite)
    rows = terms.size // max(1, terms.shape[-1])
    bound = 4 * rows * np.finfo(terms.dtype).eps * np.sum(np.abs(terms.astype(np.float64)),
                                                          axis=axis)
    assert np.all(np.abs(got[finite] - exact[finite]) <= bound[finite] + 1e-300)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("count", [1, 2, 3])
@pytest.mark.parametrize("shape", [(2, 3), (4, 5, 5, 8), (3, 7, 24), (1, 1, 1, 40)])
def test_the_loops_give_the_unfused_backprops_and_numpys_bias_sum(shape, count, dtype):
    features = np.maximum(_special(shape, 0, dtype), 0)
    features.reshape(-1)[:3] = (np.nan, -0.0, 0.0)
    gradients = [_special(shape, 1 + k, dtype) for k in range(count)]
    with np.errstate(all="ignore"):
        got_dz, got_db = KERNEL(features, *gradients)
        want_dz, _ = rbg._unfused(features, gradients)
        want_db = np.sum(want_dz, axis=tuple(range(len(shape) - 1)))
    _bitwise(got_dz, want_dz)
    _bitwise(got_db, want_db)


@needs_numba
@pytest.mark.parametrize("count", [1, 2, 3])
def test_rows_on_the_pool_add_their_pieces_column_sums_in_row_order(split_batches, monkeypatch,
                                                                     count):
    monkeypatch.setattr(rbg, "SPLIT_MIN_ELEMENTS", 0)
    shape = (5, 6, 7, 16)
    features = np.maximum(_special(shape, 0), 0)
    gradients = [_special(shape, 1 + k) for k in range(count)]
    with np.errstate(all="ignore"):
        got_dz, got_db = KERNEL(features, *gradients)
        want_dz, _ = rbg._unfused(features, gradients)
        rows = want_dz.reshape(-1, shape[-1])
        bounds = split_batches.bounds(len(rows), split_batches.threads)
        assert len(bounds) > 2  # pieces
        want_db = np.sum(rows[:bounds[1]], axis=0)
        for lo, hi in zip(bounds[1:], bounds[2:]):
            want_db += np.sum(rows[lo:hi], axis=0)
    _bitwise(got_dz, want_dz)
    _bitwise(got_db, want_db)


@needs_numba
def test_the_bias_sum_is_within_the_float_sum_bound_of_reduce_sums_gemv():
    rng = np.random.default_rng(3)
    features = np.maximum(rng.standard_normal((16, 16, 16, 24)), 0).astype(np.float32)
    gradient = rng.standard_normal(features.shape).astype(np.float32)
    got_dz, got_db = KERNEL(features, gradient)
    _, gemv_db = rbg._unfused(features, [gradient])  # reduce_sum's kernel: the GEMV
    _within_float_sum_bound(got_db, got_dz)
    _within_float_sum_bound(gemv_db, got_dz)


@pytest.mark.parametrize("shape", [(0, 4), (0, 3, 3, 8), (5, 0), (2, 3, 0)])
def test_size_zero(shape):
    features, gradient = np.zeros(shape, np.float32), np.ones(shape, np.float32)
    dz, db = KERNEL(features, gradient)
    assert dz.shape == shape and db.shape == shape[-1:] and dz.dtype == db.dtype == np.float32
    np.testing.assert_array_equal(db, np.zeros(shape[-1:], np.float32))


def test_broadcast_gradients_take_the_unfused_calls():
    features = np.array([[1.0, -1.0, 2.0], [0.0, 3.0, -2.0]])
    dz, db = KERNEL(features, np.array([[1.0, 2.0, 3.0]]), np.array([[10.0], [20.0]]))
    np.testing.assert_array_equal(dz, [[11.0, 0.0, 13.0], [0.0, 22.0, 0.0]])
    np.testing.assert_array_equal(db, [11.0, 22.0, 13.0])


@needs_numba
def test_out_buffers_are_written_when_they_fit_and_left_alone_otherwise():
    rng = np.random.default_rng(4)
    features = rng.standard_normal((6, 4, 8)).astype(np.float32)
    gradient = rng.standard_normal(features.shape).astype(np.float32)
    want = KERNEL(features, gradient)
    buffers = (np.full_like(features, np.nan), np.full(8, np.nan, np.float32))
    got = KERNEL(features, gradient, out=buffers)
    assert got[0] is buffers[0] and got[1] is buffers[1]
    misfit = (np.empty((6, 4, 7), np.float32), np.empty(8, np.float64))
    got = KERNEL(features, gradient, out=misfit)
    assert got[0] is not misfit[0] and got[1] is not misfit[1]
    for value, expected in zip(got, want):
        np.testing.assert_array_equal(value, expected)


def _conv_net(batch_shape=(None, 6, 6, 2)):
    """A conv + bias + relu, twice, into a mean loss; its variables' SGD step."""
    g = gc.Graph()
    rng = np.random.default_rng(5)
    with g.as_default():
        x = gc.placeholder(gc.float32, batch_shape)
        w1 = gc.Variable(rng.standard_normal((3, 3, 2, 8)).astype(np.float32) * 0.3)
        b1 = gc.Variable(rng.standard_normal(8).astype(np.float32) * 0.1)
        w2 = gc.Variable(rng.standard_normal((1, 1, 8, 8)).astype(np.float32) * 0.3)
        b2 = gc.Variable(rng.standard_normal(8).astype(np.float32) * 0.1)
        h = gc.nn.relu(gc.nn.bias_add(gc.nn.conv2d(x, w1, 1, "SAME"), b1))
        y = gc.nn.relu(gc.nn.bias_add(gc.nn.conv2d(h, w2, 1, "SAME"), b2))
        loss = gc.reduce_mean(gc.square(y + h))
        grads = gc.gradients(loss, [w1, b1, w2, b2])
        init = gc.global_variables_initializer()
    return g, x, loss, grads, init


def _plan_types(sess):
    plan = max(sess._plans.values(), key=lambda p: len(p.steps))
    return [step.op.type for step in plan.steps]


@pytest.mark.usefixtures("without_batch_regions")
def test_a_training_step_gives_the_unoptimized_gradients_past_the_hot_threshold():
    g, x, loss, grads, init = _conv_net()
    value = _special((4, 6, 6, 2), 6)
    value[np.isinf(value) | (np.abs(value) > 1e30)] = 1.5  # NaN and signed zeros stay
    runs = {}
    for name, optimize in (("optimized", True), ("unoptimized", False),
                           ("without the pass", gc.OptimizerConfig(
                               disabled=("relu_bias_grads",)))):
        with gc.Session(graph=g, optimize=optimize) as sess:
            sess.run(init)
            runs[name] = [sess.run([loss] + grads, {x: value}) for _ in range(CALLS)]
            if name == "optimized":
                assert _plan_types(sess).count("relu_bias_grad") == 2
            if name == "without the pass":
                assert "relu_bias_grad" not in _plan_types(sess)
    for results in zip(*runs.values()):
        for got, *others in zip(*results):
            for want in others:
                np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6, equal_nan=True)


@pytest.mark.usefixtures("without_batch_regions")
def test_the_arena_keeps_both_results_and_never_overwrites_a_kept_one():
    g, x, loss, grads, init = _conv_net()
    value = np.random.default_rng(7).standard_normal((64, 6, 6, 2)).astype(np.float32)
    with gc.Session(graph=g) as sess:
        sess.run(init)
        kept = [sess.run(grads, {x: value}) for _ in range(CALLS)]
        plan = max(sess._plans.values(), key=lambda p: len(p.steps))
        steps = [s for s in plan.steps if s.op.type == "relu_bias_grad"]
        assert steps and all(s.arena for s in steps)
        # both results carved from buffers of their own, each checked free
        assert "refs(b0) == 3" in plan.source and "refs(b1) == 3" in plan.source
        assert all(len(set(s.arena_buffers)) == 2 for s in steps)
        for later in kept[1:]:
            for a, b in zip(kept[0], later):
                np.testing.assert_array_equal(a, b)  # a kept result was never written again
        del kept, later
        sess.run(grads, {x: value})  # results dropped: the next run reuses the buffers
        buffers = [id(b) for b in plan._arenas[0][0]]
        again = sess.run(grads, {x: value})
        assert buffers == [id(b) for b in plan._arenas[0][0]]
        used = {b for s in steps for b in s.arena_buffers}
        arena = plan._arenas[0][0]
        assert any(np.may_share_memory(a, arena[b]) for a in again for b in used)


def _relu_gradient_graph(build):
    g = gc.Graph()
    with g.as_default():
        y = gc.placeholder(gc.float32, (None, 4, 8))
        dy = gc.placeholder(gc.float32, (None, 4, 8))
        fetches = build(y, dy)
    return g, y, dy, fetches


def _types_after(g, fetches, feeds):
    optimized, _ = gc.optimize(g, fetches, feeds=feeds)
    return [op.type for op in optimized.get_operations()]


@pytest.mark.parametrize("build,matches", [
    (lambda y, dy: [gc.reduce_sum(dy * gc.cast(y > 0, gc.float32), axis=[0, 1])], True),
    (lambda y, dy: [gc.reduce_sum(gc.cast(y > 0, gc.float32) * (dy + dy * 2.0), [0, 1])],
     False),  # more than the relu gradient in the program
    (lambda y, dy: [gc.reduce_sum(dy * gc.cast(y > 0.5, gc.float32), axis=[0, 1])], False),
    (lambda y, dy: [gc.reduce_sum(dy * gc.cast(y > 0, gc.float32), axis=[0])], False),
    (lambda y, dy: [gc.reduce_sum(dy * gc.cast(y > 0, gc.float32), axis=[0, 1],
                                  keepdims=True)], False),
    (lambda y, dy: [gc.reduce_sum(dy * gc.cast(y < 0, gc.float32), axis=[0, 1])], False),
])
def test_the_pass_matches_exactly_the_relu_gradient_and_bias_sum(build, matches):
    g, y, dy, fetches = _relu_gradient_graph(build)
    assert ("relu_bias_grad" in _types_after(g, fetches, [y, dy])) is matches
    value = np.random.default_rng(8).standard_normal((3, 4, 8)).astype(np.float32)
    feeds = {y: value, dy: value[::-1].copy()}
    with gc.Session(graph=g) as fast, gc.Session(graph=g, optimize=False) as plain:
        for got, want in zip(fast.run(fetches, feeds), plain.run(fetches, feeds)):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_the_backprop_stays_fetchable_and_control_edges_block_the_rule():
    def build(y, dy):
        backprop = dy * gc.cast(y > 0, gc.float32)
        return [backprop, gc.reduce_sum(backprop, axis=[0, 1])]
    g, y, dy, fetches = _relu_gradient_graph(build)
    assert "relu_bias_grad" in _types_after(g, fetches, [y, dy])

    def guarded(y, dy):
        backprop = dy * gc.cast(y > 0, gc.float32)
        with gc.control_dependencies([gc.no_op()]):
            return [gc.reduce_sum(backprop, axis=[0, 1])]
    g, y, dy, fetches = _relu_gradient_graph(guarded)
    assert "relu_bias_grad" not in _types_after(g, fetches, [y, dy])


def test_other_float_dtypes_take_the_op_and_its_unfused_calls():
    """float16: the pass makes the op (its kernel decides how), the results bitwise the
    unoptimized graph's."""
    g = gc.Graph()
    with g.as_default():
        y = gc.placeholder(gc.float16, (None, 4, 8))
        dy = gc.placeholder(gc.float16, (None, 4, 8))
        backprop = dy * gc.cast(y > 0, gc.float16)
        fetches = [backprop, gc.reduce_sum(backprop, axis=[0, 1])]
    assert "relu_bias_grad" in _types_after(g, fetches, [y, dy])
    value = np.random.default_rng(9).standard_normal((3, 4, 8)).astype(np.float16)
    feeds = {y: value, dy: value[::-1].copy()}
    with gc.Session(graph=g) as fast, gc.Session(graph=g, optimize=False) as plain:
        for _ in range(CALLS):
            for got, want in zip(fast.run(fetches, feeds), plain.run(fetches, feeds)):
                np.testing.assert_array_equal(got, want)
