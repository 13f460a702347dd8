"""graphc.ops.gemm: 2-D matrix products split into blocks of output rows over graphc's pool,
bitwise one BLAS call per block (NaN, +-Inf, -0.0, empty operands, every transpose) whatever
the machine's load, in a session past the fused engines' hot threshold and in a training
step's gradient GEMMs."""
from __future__ import annotations

import numpy as np
import pytest

import graphc as gc
from graphc.ops import gemm
from graphc.runtime import threads
from graphc.runtime.threads import _BatchPool
from tests.test_conv_epilogue import CALLS, _assert_bitwise, _special_values

# the direct calls multiply NaN and infinities under NumPy's default error state
pytestmark = pytest.mark.filterwarnings("ignore:.*encountered in matmul:RuntimeWarning")


class _CountingPool(_BatchPool):
    """The pool, counting the pieces it hands out (so a test can tell the GEMM was split);
    ``loaded``: the machine's cores all busy (the pieces then run on the calling thread)."""

    def __init__(self, count: int, loaded: bool = False, spinning: bool = True):
        super().__init__(count, busy_cores=lambda: 50.0 if loaded else 0.0, spinning=spinning)
        self.pieces = 0

    def __call__(self, work, n, chunks, **options):
        def counted(lo, hi):
            self.pieces += 1
            work(lo, hi)
        super().__call__(counted, n, chunks, **options)

    def gemm_blocks(self, left, right, out, cuts, axis=0):
        done = super().gemm_blocks(left, right, out, cuts, axis)
        self.pieces += (len(cuts) - 1) * done
        return done


@pytest.fixture
def pool(monkeypatch):
    """A 3-thread pool installed for every GEMM, however small or loaded the machine."""
    threads.ensure_applied()  # a Session's first run would install the policy's own pool
    monkeypatch.setattr(gemm, "MIN_SPLIT_MACS", 0)
    counting = _CountingPool(3)
    monkeypatch.setattr(gemm, "_SPLITTER", [counting])
    return counting


def _blockwise(left, right, pool):
    """``left @ right`` as one np.matmul per block of rows where ``pool`` cuts them (of
    columns, for a result wider than tall)."""
    out = np.empty((len(left), right.shape[1]), np.result_type(left, right))
    wide = right.shape[1] > len(left)
    length = out.shape[wide]
    blocks = -(-length // gemm.ROW_ALIGN)
    cuts = [min(b * gemm.ROW_ALIGN, length) for b in pool.bounds(blocks, (pool.threads + 1) // 2)]
    for lo, hi in zip(cuts, cuts[1:]):
        if wide:
            np.matmul(left, right[:, lo:hi], out=out[:, lo:hi])
        else:
            np.matmul(left[lo:hi], right, out=out[lo:hi])
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transpose_a", [False, True])
@pytest.mark.parametrize("transpose_b", [False, True])
@pytest.mark.parametrize("m,k,n", [(37, 19, 23), (64, 5, 3), (96, 0, 4), (33, 8, 0),
                                   (20, 9, 71), (3, 6, 64), (33, 7, 49)])
@pytest.mark.parametrize("loaded", [False, True])
@pytest.mark.parametrize("spinning", [True, False])
def test_a_split_gemm_is_bitwise_its_blocks_at_any_load(pool, monkeypatch, dtype, transpose_a,
                                                        transpose_b, m, k, n, loaded, spinning):
    """The spinning workers' compiled BLAS calls and the sleeping workers' np.matmul calls
    give the same bits: one np.matmul per block."""
    a = _special_values((k, m) if transpose_a else (m, k), 0).astype(dtype)
    b = _special_values((n, k) if transpose_b else (k, n), 1).astype(dtype)
    left, right = a.T if transpose_a else a, b.T if transpose_b else b
    if loaded or not spinning:
        pool = _CountingPool(3, loaded=loaded, spinning=spinning)
        monkeypatch.setattr(gemm, "_SPLITTER", [pool])
    got = gemm.matmul_2d(a, b, transpose_a, transpose_b)
    _assert_bitwise([got], [_blockwise(left, right, pool)])
    assert pool.pieces >= 2  # 2 * ROW_ALIGN rows or columns: split, on the pool or this thread
    out = np.full_like(got, 7.0)
    assert gemm.matmul_2d(a, b, transpose_a, transpose_b, out=out) is out
    _assert_bitwise([out], [got])


def test_small_and_integer_gemms_stay_whole(pool, monkeypatch):
    """Under ROW_ALIGN rows a block, or a dtype NumPy's own loop multiplies: one call."""
    gemm.matmul_2d(np.ones((gemm.ROW_ALIGN, 4), np.float32), np.ones((4, 4), np.float32))
    gemm.matmul_2d(np.ones((64, 4), np.int64), np.ones((4, 4), np.int64))
    monkeypatch.setattr(gemm, "MIN_SPLIT_MACS", 64 * 4 * 4 + 1)
    gemm.matmul_2d(np.ones((64, 4), np.float32), np.ones((4, 4), np.float32))
    assert pool.pieces == 0


def _dense_layer(activation):
    graph = gc.Graph()
    with graph.as_default():
        x = gc.placeholder(gc.float32, (None, 40))
        w = gc.constant(_special_values((40, 24), 1) * 0.5)
        bias = _special_values((24,), 2)
        bias[:2] = (-0.0, np.nan)
        y = activation(gc.matmul(x, w) + gc.constant(bias))
    return graph, x, [y]


@pytest.mark.filterwarnings("error::RuntimeWarning")  # the pool keeps the session's state
@pytest.mark.parametrize("activation", [gc.nn.relu, gc.tanh, lambda h: h * 2.0 - 1.0])
def test_a_dense_layer_splits_its_gemm_bitwise_the_unoptimized_graph(pool, activation):
    graph, x, fetches = _dense_layer(activation)
    value = _special_values((70, 40), 0)
    with gc.Session(graph=graph, optimize=False) as sess:
        unfused = sess.run(fetches, {x: value})
    pool.pieces = 0
    with gc.Session(graph=graph) as sess:
        for _ in range(CALLS):
            _assert_bitwise(sess.run(fetches, {x: value}), unfused)
    assert pool.pieces >= 2 * CALLS  # split every call


def test_a_training_step_splits_its_gemms_the_same_at_any_load(monkeypatch):
    """The MLP step's forward and gradient GEMMs on the pool: bitwise the same variables
    after three steps whether the pool's threads or the calling thread run the blocks, and
    the whole calls' values but for float rounding."""
    threads.ensure_applied()

    def train(splitter):
        monkeypatch.setattr(gemm, "_SPLITTER", [splitter])
        rng = np.random.default_rng(0)
        graph = gc.Graph()
        with graph.as_default():
            x = gc.placeholder(gc.float32, (None, 48))
            labels = gc.placeholder(gc.int32, (None,))
            h = x
            for size in (64, 10):
                w = gc.Variable(rng.normal(0, 0.2, (h.shape[1], size)).astype(np.float32))
                h = gc.matmul(h, w) + gc.Variable(np.zeros(size, np.float32))
                h = gc.nn.relu(h) if size != 10 else h
            loss = gc.reduce_mean(gc.nn.sparse_softmax_cross_entropy_with_logits(
                labels=labels, logits=h))
            step = gc.train.GradientDescentOptimizer(0.1).minimize(loss)
            variables = gc.global_variables()
        feeds = {x: rng.normal(size=(80, 48)).astype(np.float32),
                 labels: rng.integers(0, 10, 80).astype(np.int32)}
        with gc.Session(graph=graph) as sess:
            sess.run(gc.variables_initializer(variables))
            for _ in range(3):
                sess.run(step, feeds)
            return sess.run(variables)
    monkeypatch.setattr(gemm, "MIN_SPLIT_MACS", 0)
    idle, loaded = _CountingPool(2), _CountingPool(2, loaded=True)
    on_threads, on_caller = train(idle), train(loaded)
    assert idle.pieces > 0 and loaded.pieces == idle.pieces
    for got, want, whole in zip(on_threads, on_caller, train(None)):
        _assert_bitwise([got], [want])
        np.testing.assert_allclose(got, whole, rtol=1e-4, atol=1e-6)


def test_the_pool_discounts_its_own_process_cpu_use_from_the_load():
    """A process keeping both cores busy sees a load average of ~2 on 2 cores: that is its
    own, not another's, so the cores still count as idle; the same load with this process
    idle means others use them."""
    cpu = [0.0]
    busy = _BatchPool(2, busy_cores=lambda: 1.9, cpu_seconds=lambda: cpu[0])
    assert not busy.idle()  # the first check knows no CPU use of this process yet
    when, _, cpu_then = busy._checked
    busy._checked = (when - 1.5, True, cpu_then)  # 1.5 s ago, then 3 CPU seconds since
    cpu[0] = 3.0
    assert busy.idle()
    busy._checked = (busy._checked[0] - 1.5, True, busy._checked[2])  # then 1.5 s idle
    assert not busy.idle()
    assert threads._process_cpu_seconds() > 0


def test_the_split_does_not_depend_on_the_load_even_where_blocks_round_differently(
        pool, monkeypatch):
    """A BLAS whose rows round by position (OpenBLAS's Haswell edge kernels): a block's
    rows differ from the whole call's, but the calling thread runs the same blocks as the
    pool's threads, so a loaded machine gives the idle machine's bits."""
    real = np.matmul

    def position_dependent(x, y, out=None):
        result = real(x, y, out=out)
        if out is not None and len(x) < 40:  # a piece, not the whole call: other rounding
            out[0] = np.nextafter(out[0], np.inf)
        return result
    a, b = np.ones((64, 8), np.float32), np.ones((8, 8), np.float32)
    monkeypatch.setattr(gemm.np, "matmul", position_dependent)
    pool = _CountingPool(3, spinning=False)  # one np.matmul per block (no compiled loop)
    monkeypatch.setattr(gemm, "_SPLITTER", [pool])
    idle = gemm.matmul_2d(a, b)
    monkeypatch.setattr(gemm, "_SPLITTER", [_CountingPool(3, loaded=True, spinning=False)])
    loaded = gemm.matmul_2d(a, b)
    assert np.array_equal(idle, loaded) and not np.array_equal(idle, real(a, b))
    assert pool.pieces >= 2 and gemm._SPLITTER[0].pieces == pool.pieces
