"""max_pool_grad's compiled loop where windows overlap (graphc.ops.pool_loops'
``max_pool_scatter``: each window's first-max tap, then each input pixel's sum) against the
loop it replaced (tests/pool_loops_before.py) and the per-tap NumPy kernel
(tests/conv_baseline.py), bitwise but for NaN payloads: many ties (a few integers, -0.0 and
+0.0 mixed), NaN, +-Inf, windows of -Inf whose first tap is padding, NaN/Inf gradients,
size 0, batches split over the thread pool, inputs that are not C-ordered, windows of more
than 255 taps."""
import numpy as np
import pytest

from graphc.ops import conv_kernels, pool_kernels
from tests import conv_baseline as reference
from tests.pool_loops_before import old_max_pool_scatter
from tests.test_conv_kernels import split_batches  # noqa: F401 - a fixture

pytestmark = [pytest.mark.skipif(not pool_kernels.HAVE_NUMBA,
                                 reason="the compiled loops need numba"),
              # the per-tap reference adds infinities of both signs (NaN, as intended)
              pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")]

# (x shape, ksize, strides): overlapping windows in rows, columns or both
OVERLAPPING = [((3, 8, 8, 5), (3, 3), (1, 1)), ((2, 9, 7, 3), (3, 3), (2, 2)),
               ((2, 6, 9, 4), (2, 3), (1, 2)), ((1, 7, 8, 2), (3, 2), (2, 1)),
               ((2, 5, 5, 9), (4, 4), (3, 1)), ((1, 4, 3, 3), (5, 5), (1, 1)),
               ((2, 10, 10, 1), (3, 3), (1, 3)), ((1, 6, 6, 33), (2, 2), (1, 1)),
               ((1, 3, 9, 2), (1, 3), (1, 1)),
               # 3 wide at column stride 1 (one pass per window row), on images so narrow
               # that every column is an edge one
               ((2, 5, 1, 3), (3, 3), (1, 1)), ((2, 4, 2, 4), (2, 3), (2, 1)),
               ((1, 6, 4, 5), (4, 3), (3, 1)), ((1, 5, 3, 8), (3, 3), (1, 1))]


def _tied_values(shape, dtype, seed):
    """Values from {-1, 0, 1} with -0.0 and +0.0 mixed (so most windows tie), a few NaN and
    +-Inf, and a corner block of -Inf (its windows' first taps are padding under SAME)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-1, 2, shape).astype(dtype)
    x[(x == 0) & (rng.random(shape) < 0.5)] = -0.0
    flat = x.reshape(-1)
    for value in (np.nan, np.inf, -np.inf):
        flat[rng.choice(flat.size, max(1, flat.size // 40), replace=False)] = value
    x[0, :3, :3, 0] = -np.inf
    return x


def _gradient(shape, dtype, seed):
    """Normal values with -0.0, +-Inf and NaN sprinkled in."""
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(shape).astype(dtype)
    flat = g.reshape(-1)
    for value in (-0.0, np.inf, -np.inf, np.nan)[:flat.size]:
        flat[rng.choice(flat.size, max(1, flat.size // 50), replace=False)] = value
    return g


def _same_bits(got, want):
    """Bitwise but for NaN's sign and payload: which NaN an add of two NaNs (or of +Inf and
    -Inf) keeps is up to the instruction order LLVM picks for the CPU, so two compiled loops,
    or NumPy's and numba's adds, differ there (seen between a Zen 4 EPYC and an Intel Xeon)."""
    assert got.shape == want.shape and got.dtype == want.dtype
    nan = np.isnan(got)
    np.testing.assert_array_equal(nan, np.isnan(want))
    assert np.where(nan, 0, got).tobytes() == np.where(nan, 0, want).tobytes()


def _old(x, y, dy, ksize, strides, padding):
    (_, _), (top, _, left, _) = pool_kernels.pool_geometry(x.shape, ksize, strides, padding)
    return old_max_pool_scatter(x, y, dy, np.empty(x.shape, dy.dtype), ksize, strides, top,
                                left)


def _case(shape, ksize, strides, padding, dtype, grad_dtype, seed=0):
    x = _tied_values(shape, dtype, seed)
    y = pool_kernels.max_pool_forward(x, ksize, strides, padding)
    return x, y, _gradient(y.shape, grad_dtype, seed + 1)


@pytest.mark.parametrize("dtype,grad_dtype", [(np.float32, np.float32),
                                              (np.float64, np.float64),
                                              (np.float32, np.float64)])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("shape,ksize,strides", OVERLAPPING)
def test_overlapping_scatter_is_bitwise_the_old_loop_and_the_per_tap_kernel(
        shape, ksize, strides, padding, dtype, grad_dtype):
    x, y, dy = _case(shape, ksize, strides, padding, dtype, grad_dtype)
    if not y.size:
        pytest.skip("no window fits")
    got = pool_kernels.max_pool_scatter(x, y, dy, ksize, strides, padding,
                                        out=np.full(x.shape, 7, grad_dtype))  # all written
    _same_bits(got, _old(x, y, dy, ksize, strides, padding))
    _same_bits(
        got, reference.max_pool_grad_kernel(x, y, dy, ksize, strides, padding))


@pytest.mark.parametrize("seed", range(6))
def test_random_geometries_match_the_old_loop(seed):
    rng = np.random.default_rng(100 + seed)
    kh, kw = (int(v) for v in rng.integers(1, 5, 2))
    sh, sw = int(rng.integers(1, kh + 1)), int(rng.integers(1, kw + 1))
    shape = (int(rng.integers(1, 4)), *(int(v) for v in rng.integers(1, 12, 2)),
             int(rng.integers(1, 20)))
    for padding in ("SAME", "VALID"):
        x, y, dy = _case(shape, (kh, kw), (sh, sw), padding, np.float32, np.float32, seed)
        got = pool_kernels.max_pool_scatter(x, y, dy, (kh, kw), (sh, sw), padding)
        _same_bits(got, _old(x, y, dy, (kh, kw), (sh, sw), padding))


def test_windows_of_minus_inf_send_nothing_from_a_padding_first_tap():
    """A window of only -Inf whose first tap is padding sends its gradient nowhere; one
    whose first tap is inside (VALID, or the windows right of the corner) sends it there."""
    x = np.zeros((1, 4, 4, 2), np.float32)
    x[0, :2, :2] = -np.inf
    x[0, 1, 1, 1] = np.nan  # in every VALID window
    for padding in ("SAME", "VALID"):
        y = pool_kernels.max_pool_forward(x, (3, 3), (1, 1), padding)
        dy = np.arange(1, y.size + 1, dtype=np.float32).reshape(y.shape)
        got = pool_kernels.max_pool_scatter(x, y, dy, (3, 3), (1, 1), padding)
        _same_bits(got, reference.max_pool_grad_kernel(x, y, dy, (3, 3), (1, 1), padding))
        _same_bits(got, _old(x, y, dy, (3, 3), (1, 1), padding))
    assert got[0, :, :, 1].sum() == 0  # VALID: every window of channel 1 holds the NaN


def test_empty_inputs_give_zeros():
    for shape in ((0, 5, 5, 2), (2, 5, 5, 0), (2, 0, 5, 3)):
        x = np.ones(shape, np.float32)
        y = pool_kernels.max_pool_forward(x, (3, 3), (1, 1), "SAME")
        got = pool_kernels.max_pool_scatter(x, y, np.ones_like(y), (3, 3), (1, 1), "SAME",
                                            out=np.full(shape, 7, np.float32))
        assert got.shape == shape and not got.any()


def test_inputs_that_are_not_c_ordered_give_the_same_bits():
    x, y, dy = _case((3, 7, 6, 4), (3, 3), (1, 1), "SAME", np.float64, np.float64)
    want = pool_kernels.max_pool_scatter(x, y, dy, (3, 3), (1, 1), "SAME")
    strided = [np.asfortranarray(a) for a in (x, y, dy)]
    _same_bits(pool_kernels.max_pool_scatter(*strided, (3, 3), (1, 1), "SAME"), want)


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("ksize,strides", [((2, 2), (2, 2)), ((2, 2), (3, 3))])
def test_a_broadcast_gradient_is_read_without_a_copy_and_gives_the_copys_bits(
        split_batches, ksize, strides, padding):
    """The gradient of a mean is one row per image broadcast over the pool's output (strides
    0); the disjoint scatter reads it as such, and any other strides from a copy."""
    x, y, _ = _case((5, 9, 8, 6), ksize, strides, padding, np.float32, np.float32)
    rows = _gradient((5, 1, 1, 6), np.float32, 3)
    dense = _gradient(y.shape, np.float32, 4)
    for dy in (np.broadcast_to(rows, y.shape),            # strides (24, 0, 0, 4): no copy
               np.repeat(dense, 2, axis=1)[:, ::2],       # every other row: no copy
               dense[:, ::-1],                            # rows reversed: a copy
               np.broadcast_to(rows[..., ::-1], y.shape)):  # channels reversed: a copy
        want = pool_kernels.max_pool_scatter(x, y, np.ascontiguousarray(dy), ksize, strides,
                                             padding)
        _same_bits(pool_kernels.max_pool_scatter(x, y, dy, ksize, strides, padding), want)
        _same_bits(want, _old(x, y, np.ascontiguousarray(dy), ksize, strides, padding))
    flat, steps = pool_kernels._gradient_rows(np.broadcast_to(rows, y.shape))
    assert steps == (1, 0, 0) and flat.size == rows.size  # no copy: the rows themselves


def test_windows_of_more_than_255_taps():
    x, y, dy = _case((1, 20, 19, 3), (17, 16), (1, 1), "SAME", np.float32, np.float32)
    got = pool_kernels.max_pool_scatter(x, y, dy, (17, 16), (1, 1), "SAME")
    _same_bits(got, _old(x, y, dy, (17, 16), (1, 1), "SAME"))


@pytest.mark.parametrize("strides", [(1, 1), (2, 2)])
def test_batches_split_over_the_pool_give_the_whole_batch_bits(split_batches, strides):
    x, y, dy = _case((7, 9, 9, 6), (3, 3), strides, "SAME", np.float32, np.float32)
    split = pool_kernels.max_pool_scatter(x, y, dy, (3, 3), strides, "SAME")
    conv_kernels.set_batch_splitter(None)
    _same_bits(split, pool_kernels.max_pool_scatter(x, y, dy, (3, 3), strides, "SAME"))
    _same_bits(split, _old(x, y, dy, (3, 3), strides, "SAME"))


@pytest.mark.parametrize("shape,ksize,strides", [((2, 7, 8, 5), (3, 3), (1, 1)),
                                                 ((1, 9, 4, 3), (4, 3), (2, 1)),
                                                 ((2, 5, 2, 2), (2, 3), (1, 1))])
def test_the_tap_by_tap_passes_give_the_3wide_passes_bits(monkeypatch, shape, ksize, strides):
    """Windows 3 wide at column stride 1 through the general passes too (the kernels send
    them to the 3-wide ones)."""
    from graphc.ops.pool_loops import pool_loop
    for padding in ("SAME", "VALID"):
        x, y, dy = _case(shape, ksize, strides, padding, np.float64, np.float32)
        if not y.size:
            continue
        monkeypatch.setattr(pool_kernels, "pool_loop", pool_loop)
        three_wide = pool_kernels.max_pool_scatter(x, y, dy, ksize, strides, padding)
        monkeypatch.setattr(pool_kernels, "pool_loop", lambda name: pool_loop(
            "max_pool_scatter" if name == "max_pool_scatter_3wide" else name))
        _same_bits(pool_kernels.max_pool_scatter(x, y, dy, ksize, strides, padding),
                   three_wide)
