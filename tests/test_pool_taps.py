"""max_pool_taps and max_pool_grad_taps (graphc.ops.pool_taps) against the kernels they
stand in for: the pool's result bitwise max_pool's, the gradient from the recorded taps
bitwise max_pool_grad's compiled loop and the per-tap NumPy kernel (tests/conv_baseline.py)
but for NaN payloads, on many ties (-0.0 and +0.0 mixed), NaN, +-Inf, windows of -Inf whose
first tap is padding, NaN/Inf gradients, size 0, batches split over the pool, broadcast
gradients, windows of more than 127 taps; the NumPy path (no numba, integers) the same."""
import numpy as np
import pytest

from graphc.ops import conv_kernels, pool_kernels, pool_taps
from tests import conv_baseline as reference
from tests.test_conv_kernels import split_batches  # noqa: F401 - a fixture
from tests.test_pool_scatter import OVERLAPPING, _gradient, _same_bits, _tied_values

pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")

DISJOINT = [((3, 8, 8, 5), (2, 2), (2, 2)), ((2, 9, 7, 3), (2, 2), (3, 3)),
            ((2, 7, 9, 4), (3, 2), (3, 2)), ((1, 5, 5, 2), (1, 1), (1, 1))]
compiled = pytest.mark.skipif(not pool_kernels.HAVE_NUMBA,
                              reason="the compiled loops need numba")


def _pool(x, ksize, strides, padding):
    return pool_taps.MAX_POOL_TAPS.kernel(x, ksize, strides, padding)


def _grad(taps, dy, x_shape, ksize, strides, padding, out=None):
    return pool_taps.MAX_POOL_GRAD_TAPS.kernel(taps, dy, np.array(x_shape), ksize, strides,
                                               padding, out=out)


def _check(x, dy_dtype, ksize, strides, padding, seed=1):
    """The recorded pool and gradient against max_pool's and max_pool_grad's kernels."""
    y, taps = _pool(x, ksize, strides, padding)
    want_y = pool_kernels.max_pool_forward(x, ksize, strides, padding)
    _same_bits(y, want_y)
    assert taps.shape == y.shape and taps.dtype == pool_taps.taps_dtype(ksize)
    dy = _gradient(y.shape, dy_dtype, seed) if y.size else np.zeros(y.shape, dy_dtype)
    got = _grad(taps, dy, x.shape, ksize, strides, padding,
                out=np.full(x.shape, 7, dy_dtype))  # every element written
    _same_bits(got, reference.max_pool_grad_kernel(x, want_y, dy, ksize, strides, padding))
    if pool_kernels.compiled_pooling(x, want_y, dy):
        _same_bits(got, pool_kernels.max_pool_scatter(x, want_y, dy, ksize, strides, padding))
    return y, taps, got


@pytest.mark.parametrize("dtype,dy_dtype", [(np.float32, np.float32), (np.float64, np.float64),
                                            (np.float32, np.float64)])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("shape,ksize,strides", OVERLAPPING + DISJOINT)
def test_the_recorded_pool_and_gradient_are_max_pools_bitwise(shape, ksize, strides, padding,
                                                               dtype, dy_dtype):
    _check(_tied_values(shape, dtype, 0), dy_dtype, ksize, strides, padding)


@pytest.mark.parametrize("seed", range(8))
def test_random_geometries_and_the_window_by_window_reference(seed):
    rng = np.random.default_rng(200 + seed)
    kh, kw = (int(v) for v in rng.integers(1, 5, 2))
    sh, sw = (int(v) for v in rng.integers(1, 5, 2))
    shape = (int(rng.integers(1, 3)), *(int(v) for v in rng.integers(1, 9, 2)),
             int(rng.integers(1, 4)))
    for padding in ("SAME", "VALID"):
        x = _tied_values(shape, np.float32, seed)
        _, taps, _ = _check(x, np.float32, (kh, kw), (sh, sw), padding, seed)
        want_y, want_taps = pool_taps._forward_reference(x, (kh, kw), (sh, sw), padding)
        np.testing.assert_array_equal(taps, want_taps)


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("shape,ksize,strides", OVERLAPPING[:6] + DISJOINT)
def test_the_numpy_path_records_the_same_taps_and_gradient(monkeypatch, shape, ksize, strides,
                                                           padding):
    x = _tied_values(shape, np.float64, 3)
    y, taps, got = _check(x, np.float64, ksize, strides, padding)
    monkeypatch.setattr(pool_taps, "compiled_pooling", lambda *arrays: False)
    monkeypatch.setattr(pool_taps, "HAVE_NUMBA", False)
    numpy_y, numpy_taps = _pool(x, ksize, strides, padding)
    _same_bits(numpy_y, y)
    np.testing.assert_array_equal(numpy_taps, taps)
    dy = _gradient(y.shape, np.float64, 1)
    _same_bits(_grad(taps, dy, x.shape, ksize, strides, padding), got)


def test_integer_pools_take_the_numpy_path():
    x = (np.arange(2 * 5 * 6 * 3, dtype=np.int32).reshape(2, 5, 6, 3) * 7) % 5
    y, taps = _pool(x, (3, 3), (1, 1), "SAME")
    np.testing.assert_array_equal(y, pool_kernels.max_pool_forward(x, (3, 3), (1, 1), "SAME"))
    np.testing.assert_array_equal(taps, pool_taps._forward_reference(x, (3, 3), (1, 1),
                                                                     "SAME")[1])


def test_windows_of_minus_inf_and_nan_send_nothing_where_max_pool_grad_does_not():
    x = np.zeros((1, 4, 4, 2), np.float32)
    x[0, :2, :2] = -np.inf
    x[0, 1, 1, 1] = np.nan
    for padding in ("SAME", "VALID"):
        y, taps, got = _check(x, np.float32, (3, 3), (1, 1), padding)
        assert (taps[np.isnan(y)] == pool_taps.NO_TAP).all()
        assert (taps[y == -np.inf] == 0).all()  # the window's first tap, padding or not


@compiled
def test_empty_inputs_give_zeros():
    for shape in ((0, 5, 5, 2), (2, 5, 5, 0), (2, 0, 5, 3)):
        x = np.ones(shape, np.float32)
        y, taps = _pool(x, (3, 3), (1, 1), "SAME")
        got = _grad(taps, np.ones_like(y), shape, (3, 3), (1, 1), "SAME",
                    out=np.full(shape, 7, np.float32))
        assert got.shape == shape and not got.any()


def test_windows_of_more_than_127_taps_record_int32():
    x = _tied_values((1, 20, 19, 3), np.float32, 5)
    _, taps, _ = _check(x, np.float32, (17, 16), (1, 1), "SAME")
    assert taps.dtype == np.int32 and taps.max() > 127


@compiled
@pytest.mark.parametrize("ksize,strides", [((3, 3), (1, 1)), ((3, 3), (2, 2)), ((2, 2), (2, 2))])
def test_batches_split_over_the_pool_give_the_whole_batch_bits(split_batches, ksize, strides):
    x = _tied_values((7, 9, 9, 6), np.float32, 2)
    y, taps = _pool(x, ksize, strides, "SAME")
    dy = _gradient(y.shape, np.float32, 4)
    split = _grad(taps, dy, x.shape, ksize, strides, "SAME")
    conv_kernels.set_batch_splitter(None)
    whole_y, whole_taps = _pool(x, ksize, strides, "SAME")
    _same_bits(y, whole_y)
    np.testing.assert_array_equal(taps, whole_taps)
    _same_bits(split, _grad(taps, dy, x.shape, ksize, strides, "SAME"))


@compiled
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_a_broadcast_gradient_gives_the_dense_gradients_bits(split_batches, padding):
    x = _tied_values((5, 9, 8, 6), np.float32, 6)
    y, taps = _pool(x, (2, 2), (2, 2), padding)
    rows = _gradient((5, 1, 1, 6), np.float32, 3)
    for dy in (np.broadcast_to(rows, y.shape), np.broadcast_to(rows[..., ::-1], y.shape)):
        want = _grad(taps, np.ascontiguousarray(dy), x.shape, (2, 2), (2, 2), padding)
        _same_bits(_grad(taps, dy, x.shape, (2, 2), (2, 2), padding), want)


def test_taps_of_another_shape_are_refused():
    taps = np.zeros((1, 2, 2, 1), np.int8)
    with pytest.raises(ValueError, match="max_pool_grad_taps.*output shape"):
        _grad(taps, np.ones((1, 2, 2, 1), np.float32), (1, 7, 7, 1), (2, 2), (2, 2), "VALID")
