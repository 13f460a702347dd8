"""The fast conv and max-pool kernels (graphc.ops.conv_kernels) against the kernels they
replaced (tests/conv_baseline.py): convolutions within the float-sum bound, max pooling and
its gradients bitwise; NaN/Inf, ties, size-0 inputs, the NumPy path where numba is absent,
and batches split over graphc's pool."""
from __future__ import annotations

import itertools
import threading

import numpy as np
import pytest

from graphc.ops import batch_split, conv_buffers, conv_grads, conv_kernels, pool_kernels
from graphc.runtime.threads import _BatchPool
from tests import conv_baseline as old

# (x shape, filter shape, strides, dilations): every path of the kernels' choice (1x1 GEMM,
# im2col, per-tap for narrow outputs, the flipped input gradient and col2im, strided, dilated)
CONV_CASES = [((2, 7, 6, 3), (3, 3, 3, 5), (1, 1), (1, 1)),
              ((2, 5, 5, 6), (1, 1, 6, 4), (1, 1), (1, 1)),
              ((1, 6, 7, 4), (1, 1, 4, 3), (2, 2), (1, 1)),
              ((2, 6, 6, 9), (5, 5, 9, 4), (1, 1), (1, 1)),
              ((2, 8, 7, 10), (3, 2, 10, 12), (1, 1), (2, 1)),
              ((1, 9, 8, 8), (3, 3, 8, 9), (2, 1), (1, 1)),
              ((3, 6, 5, 2), (2, 3, 2, 2), (2, 3), (1, 2))]
PADDINGS = ("SAME", "VALID")


def _arrays(x_shape, w_shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    return x, w


def _assert_within_sum_bound(got, want, magnitude, dtype, terms):
    """|got - want| <= terms * eps * (the same sum over |products|): the float-sum bound."""
    assert got.shape == want.shape and got.dtype == want.dtype
    bound = 2 * terms * np.finfo(dtype).eps * magnitude + np.finfo(dtype).tiny
    assert np.all(np.abs(got.astype(np.float64) - want) <= bound), \
        f"max excess {np.max(np.abs(got - want) - bound)}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("x_shape,w_shape,strides,dilations", CONV_CASES)
def test_conv_kernels_match_the_per_tap_kernels(x_shape, w_shape, strides, dilations, padding,
                                                dtype):
    x, w = _arrays(x_shape, w_shape, dtype)
    geometry = dict(strides=strides, padding=padding, dilations=dilations)
    terms = int(np.prod(w_shape[:3]))
    y = old.conv_kernel(x, w, **geometry)
    _assert_within_sum_bound(conv_kernels.conv_forward(x, w, **geometry), y,
                             old.conv_kernel(np.abs(x), np.abs(w), **geometry), dtype, terms)
    dy = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    sizes = np.array(x_shape, np.int32)
    _assert_within_sum_bound(
        conv_kernels.conv_input_grad(sizes, w, dy, **geometry),
        old.backprop_input_kernel(sizes, w, dy, **geometry),
        old.backprop_input_kernel(sizes, np.abs(w), np.abs(dy), **geometry), dtype, terms)
    filter_sizes = np.array(w_shape, np.int32)
    _assert_within_sum_bound(
        conv_kernels.conv_filter_grad(x, filter_sizes, dy, **geometry),
        old.backprop_filter_kernel(x, filter_sizes, dy, **geometry),
        old.backprop_filter_kernel(np.abs(x), filter_sizes, np.abs(dy), **geometry), dtype,
        int(np.prod(y.shape[:3])))


@pytest.mark.parametrize("chunk_bytes", [1, 600, 4000])
@pytest.mark.parametrize("x_shape,w_shape,strides,dilations", CONV_CASES[::2])
def test_conv_kernels_in_pieces_match_the_per_tap_kernels(monkeypatch, x_shape, w_shape,
                                                          strides, dilations, chunk_bytes):
    """The im2col matrix built and multiplied in pieces (bands of one output row, of a few
    rows, whole images) gives the one-piece results, within the float-sum bound."""
    monkeypatch.setattr(conv_kernels, "CHUNK_BYTES", chunk_bytes)
    test_conv_kernels_match_the_per_tap_kernels(x_shape, w_shape, strides, dilations, "SAME",
                                                np.float64)


def test_a_kernel_result_is_not_changed_by_the_next_call():
    """Results are the caller's arrays, never views of the per-thread scratch buffers."""
    x, w = _arrays((2, 6, 6, 3), (3, 3, 3, 4), np.float32)
    geometry = dict(strides=(1, 1), padding="SAME", dilations=(1, 1))
    dy = np.ones((2, 6, 6, 4), np.float32)
    calls = [lambda s: conv_kernels.conv_forward(x * s, w, **geometry),
             lambda s: conv_kernels.conv_input_grad(np.array(x.shape), w, dy * s, **geometry),
             lambda s: conv_kernels.conv_filter_grad(x * s, np.array(w.shape), dy, **geometry),
             lambda s: pool_kernels.max_pool_forward(x * s, (3, 3), (1, 1), "SAME")]
    for call in calls:
        first = call(1)
        kept = first.copy()
        call(-3)
        np.testing.assert_array_equal(first, kept)


def test_scratch_buffers_above_the_keep_limit_are_not_held(monkeypatch):
    """Temporaries larger than SCRATCH_KEEP_BYTES are allocated per call, not kept by the
    thread (same results either way)."""
    x, w = _arrays((2, 6, 6, 3), (3, 3, 3, 4), np.float32)
    geometry = dict(strides=(1, 1), padding="SAME", dilations=(1, 1))
    kept = conv_kernels.conv_forward(x, w, **geometry)
    monkeypatch.setattr(conv_buffers, "SCRATCH_KEEP_BYTES", 0)
    monkeypatch.setattr(conv_buffers, "_SCRATCH", threading.local())
    np.testing.assert_array_equal(conv_kernels.conv_forward(x, w, **geometry), kept)
    assert not conv_buffers._SCRATCH.__dict__


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_conv_kernels_propagate_nan_and_inf_where_the_per_tap_kernels_do():
    x, w = _arrays((2, 6, 6, 3), (3, 3, 3, 4), np.float64)
    x[0, 2, 3, 1], x[1, 0, 0, 0], x[1, 4, 4, 2] = np.nan, np.inf, -np.inf
    for padding in PADDINGS:
        geometry = dict(strides=(1, 1), padding=padding, dilations=(1, 1))
        got, want = conv_kernels.conv_forward(x, w, **geometry), old.conv_kernel(x, w, **geometry)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
        finite = np.isfinite(want)
        np.testing.assert_allclose(got[finite], want[finite], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("x_shape,w_shape", [((0, 5, 5, 3), (3, 3, 3, 4)),
                                             ((2, 5, 5, 0), (3, 3, 0, 4)),
                                             ((2, 5, 5, 3), (3, 3, 3, 0)),
                                             ((2, 2, 2, 3), (3, 3, 3, 4))])
def test_conv_kernels_of_size_zero_give_zeros_of_the_right_shape(x_shape, w_shape):
    x, w = _arrays(x_shape, w_shape, np.float32)
    geometry = dict(strides=(1, 1), padding="VALID", dilations=(1, 1))
    y = conv_kernels.conv_forward(x, w, **geometry)
    want = old.conv_kernel(x, w, **geometry)
    assert y.shape == want.shape and y.dtype == want.dtype and not y.any()
    sizes, filter_sizes = np.array(x_shape, np.int32), np.array(w_shape, np.int32)
    dy = np.ones(y.shape, np.float32)
    dx = conv_kernels.conv_input_grad(sizes, w, dy, **geometry)
    assert dx.shape == x.shape and not dx.any()
    dw = conv_kernels.conv_filter_grad(x, filter_sizes, dy, **geometry)
    assert dw.shape == w.shape and not dw.any()


def _pool_inputs(shape, seed=0):
    """Values with ties (rounded), NaN, +-Inf and a window of only -Inf."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.standard_normal(shape) * 2) / 2
    flat = x.reshape(-1)
    flat[rng.choice(flat.size, 3, replace=False)] = np.nan
    flat[rng.choice(flat.size, 3, replace=False)] = np.inf
    flat[rng.choice(flat.size, 3, replace=False)] = -np.inf
    x[0, :2, :2, 0] = -np.inf
    return x


POOL_CASES = [((2, 7, 6, 3), (3, 3), (1, 1)), ((2, 8, 8, 4), (2, 2), (2, 2)),
              ((1, 7, 9, 2), (3, 2), (2, 3)), ((3, 5, 5, 1), (1, 1), (1, 1))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("shape,ksize,strides", POOL_CASES)
def test_max_pool_kernels_are_bitwise_the_per_tap_kernels(shape, ksize, strides, padding, dtype):
    x = _pool_inputs(shape).astype(dtype)
    attrs = dict(ksize=ksize, strides=strides, padding=padding)
    y = pool_kernels.max_pool_forward(x, **attrs)
    np.testing.assert_array_equal(y, old.max_pool_kernel(x, **attrs))
    rng = np.random.default_rng(2)
    dy = rng.standard_normal(y.shape).astype(dtype)
    ddx = rng.standard_normal(x.shape).astype(dtype)
    want_dx = old.max_pool_grad_kernel(x, y, dy, **attrs)
    want_ddy = old.max_pool_grad_grad_kernel(x, y, ddx, **attrs)
    for dx in (conv_grads._max_pool_grad_kernel(x, y, dy, **attrs),
               conv_grads._max_pool_grad_numpy(x, y, dy, **attrs)):
        np.testing.assert_array_equal(dx, want_dx)
    for ddy in (conv_grads._max_pool_grad_grad_kernel(x, y, ddx, **attrs),
                conv_grads._max_pool_grad_grad_numpy(x, y, ddx, **attrs)):
        np.testing.assert_array_equal(ddy, want_ddy)


@pytest.mark.skipif(not pool_kernels.HAVE_NUMBA, reason="the compiled loops need numba")
def test_the_compiled_max_pool_gradient_takes_floats_and_leaves_other_dtypes_to_numpy():
    x = np.arange(16, dtype=np.int32).reshape(1, 4, 4, 1)
    y = pool_kernels.max_pool_forward(x, (2, 2), (2, 2), "VALID")
    assert not pool_kernels.compiled_pooling(x, y, y)
    assert pool_kernels.compiled_pooling(x.astype(np.float32), y.astype(np.float32),
                                         y.astype(np.float32))
    dx = conv_grads._max_pool_grad_kernel(x, y, np.ones_like(y), (2, 2), (2, 2), "VALID")
    np.testing.assert_array_equal(dx, old.max_pool_grad_kernel(x, y, np.ones_like(y), (2, 2),
                                                               (2, 2), "VALID"))


def test_max_pool_kernels_of_size_zero():
    for shape in ((0, 4, 4, 2), (2, 4, 4, 0), (2, 1, 1, 2)):
        x = np.ones(shape, np.float32)
        attrs = dict(ksize=(2, 2), strides=(2, 2), padding="VALID")
        y = pool_kernels.max_pool_forward(x, **attrs)
        assert y.shape == old.max_pool_kernel(x, **attrs).shape
        dx = conv_grads._max_pool_grad_kernel(x, y, np.ones_like(y), **attrs)
        assert dx.shape == x.shape and not dx.any()


@pytest.fixture
def split_batches(monkeypatch):
    """Kernels split every batch over a 3-thread pool, however small."""
    monkeypatch.setattr(batch_split, "MIN_SPLIT_ELEMENTS", 0)
    pool, before = _BatchPool(3, busy_cores=lambda: 0.0), batch_split._SPLITTER[0]
    conv_kernels.set_batch_splitter(pool)
    try:
        yield pool
    finally:
        conv_kernels.set_batch_splitter(before)


def test_kernels_split_over_the_pool_give_the_unsplit_results(split_batches):
    x, w = _arrays((5, 6, 6, 9), (3, 3, 9, 10), np.float64)
    geometry = dict(strides=(1, 1), padding="SAME", dilations=(1, 1))
    y = conv_kernels.conv_forward(x, w, **geometry)
    dy = np.random.default_rng(1).standard_normal(y.shape)
    split = [y, conv_kernels.conv_input_grad(np.array(x.shape), w, dy, **geometry),
             conv_kernels.conv_filter_grad(x, np.array(w.shape), dy, **geometry)]
    pooled = _pool_inputs((5, 6, 6, 3))
    attrs = dict(ksize=(3, 3), strides=(1, 1), padding="SAME")
    p = pool_kernels.max_pool_forward(pooled, **attrs)
    dp = np.random.default_rng(2).standard_normal(p.shape)
    split_pool = [p, conv_grads._max_pool_grad_kernel(pooled, p, dp, **attrs)]
    conv_kernels.set_batch_splitter(None)
    whole = [conv_kernels.conv_forward(x, w, **geometry),
             conv_kernels.conv_input_grad(np.array(x.shape), w, dy, **geometry),
             conv_kernels.conv_filter_grad(x, np.array(w.shape), dy, **geometry)]
    for got, want in zip(split, whole):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(split_pool[0], pool_kernels.max_pool_forward(pooled, **attrs))
    np.testing.assert_array_equal(split_pool[1],
                                  conv_grads._max_pool_grad_kernel(pooled, p, dp, **attrs))


def test_the_pool_runs_every_piece_once_and_reraises_a_piece_error():
    pool = _BatchPool(3, busy_cores=lambda: 0.0)
    seen = []
    pool(lambda lo, hi: seen.append((lo, hi)), 10, 3)
    assert sorted(seen) == [(0, 1), (1, 3), (3, 5), (5, 6), (6, 8), (8, 10)]

    def failing(lo, hi):
        if lo:
            raise ValueError(f"piece {lo}")
    with pytest.raises(ValueError, match="piece"):
        pool(failing, 10, 3)


def test_the_pool_runs_pieces_under_the_callers_numpy_error_state():
    """NumPy's error state is per thread: a Session's ``ignore`` must hold on the pool's
    threads too, or a NaN inside a split conv warns (or raises) there."""
    pool = _BatchPool(2, busy_cores=lambda: 0.0)
    both_started = threading.Barrier(2, timeout=10)  # piece 0 waits for a worker's piece
    seen = []

    def work(lo, hi):
        if lo < 2:
            both_started.wait()
        seen.append((threading.get_ident(), np.geterr()["invalid"]))
    with np.errstate(invalid="ignore"):
        pool(work, 4, 2)
    assert len({ident for ident, _ in seen}) == 2
    assert {state for _, state in seen} == {"ignore"}


def test_the_calling_thread_runs_the_same_pieces_while_the_machine_has_no_idle_core():
    """Under load no piece goes to a worker, but the cuts stay where an idle machine's are
    (a piece's GEMM rounds by where rows fall in it: a whole call would give other bits)."""
    pool = _BatchPool(2, busy_cores=lambda: 3.0)
    seen = []
    pool(lambda lo, hi: seen.append((lo, hi, threading.get_ident())), 10, 2)
    assert [(lo, hi) for lo, hi, _ in seen] == list(zip(pool.bounds(10, 2),
                                                        pool.bounds(10, 2)[1:]))
    assert len(seen) > 1 and {ident for *_, ident in seen} == {threading.get_ident()}


def test_im2col_columns_are_tap_major_then_channel():
    x = np.arange(2 * 4 * 5 * 3, dtype=np.float64).reshape(2, 4, 5, 3)
    cols = conv_kernels._im2col(x, (0, 3), 2, 3, 3, (1, 1), (1, 1))
    for n, r, c, i, j, ch in itertools.product(range(2), range(3), range(3), range(2),
                                               range(3), range(3)):
        assert cols[(n * 3 + r) * 3 + c, (i * 3 + j) * 3 + ch] == x[n, r + i, c + j, ch]


@pytest.mark.parametrize("strides,dilations", [((1, 1), (1, 1)), ((2, 3), (1, 1)),
                                               ((1, 2), (2, 1)), ((2, 1), (1, 2))])
def test_im2col_by_filter_rows_equals_the_windows_copy(strides, dilations):
    """The copy by runs of kw * C contiguous elements (a contiguous input, no column
    dilation) gives bitwise the sliding-window copy (a strided input takes that one)."""
    x = np.random.default_rng(5).standard_normal((2, 9, 11, 6))
    strided = np.zeros((2, 9, 11, 12))[..., ::2]
    strided[...] = x
    kh, kw, rows = 3, 2, (1, 3)
    ow = (11 - (kw - 1) * dilations[1] - 1) // strides[1] + 1
    fast = conv_kernels._im2col(x, rows, kh, kw, ow, strides, dilations).copy()
    np.testing.assert_array_equal(
        fast, conv_kernels._im2col(strided, rows, kh, kw, ow, strides, dilations))


@pytest.mark.parametrize("shape,ksize,strides", POOL_CASES)
def test_max_pool_in_blocks_of_images_is_bitwise_the_whole_batch(monkeypatch, shape, ksize,
                                                                   strides):
    """max_pool passes over blocks of images that fit the cache; one image per block (the
    smallest block) gives bitwise the per-tap kernel's result."""
    monkeypatch.setattr(pool_kernels, "BLOCK_BYTES", 1)
    monkeypatch.setattr(pool_kernels, "HAVE_NUMBA", False)  # the NumPy passes
    x = _pool_inputs((5,) + shape[1:])
    attrs = dict(ksize=ksize, strides=strides, padding="SAME")
    np.testing.assert_array_equal(pool_kernels.max_pool_forward(x, **attrs),
                                  old.max_pool_kernel(x, **attrs))
