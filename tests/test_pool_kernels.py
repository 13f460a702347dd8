"""The max-pool kernels of graphc.ops.pool_kernels (the compiled loops of pool_loops where
numba is installed, NumPy's passes elsewhere) against the per-tap kernels they replaced
(tests/conv_baseline.py): bitwise, signed zeros included (np.maximum gives the later of
two equal taps), with NaN, +-Inf, ties, windows of -Inf and NaN/Inf/-0.0 gradients."""
import numpy as np
import pytest

from graphc.ops import pool_kernels
from tests import conv_baseline as old

CASES = [((2, 7, 6, 3), (3, 3), (1, 1)), ((2, 8, 8, 4), (2, 2), (2, 2)),
         ((1, 7, 9, 2), (3, 2), (2, 3)), ((3, 5, 5, 1), (1, 1), (1, 1)),
         ((2, 9, 9, 5), (3, 3), (2, 2)), ((1, 3, 3, 2), (5, 5), (1, 1)),
         ((2, 6, 6, 33), (3, 3), (1, 1)),
         # windows that never overlap: tiling with a last band, and with gaps between
         ((1, 7, 7, 2), (2, 3), (2, 3)), ((2, 7, 9, 3), (2, 2), (3, 2))]


def _values(shape, dtype, seed=0):
    """Ties of -0.0 and +0.0 and of halves, NaN, +-Inf and a window of only -Inf."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.standard_normal(shape) * 2) / 2
    x[x == 0.5], x[x == -0.5] = 0.0, -0.0
    flat = x.reshape(-1)
    for value in (np.nan, np.inf, -np.inf):
        flat[rng.choice(flat.size, min(3, flat.size), replace=False)] = value
    x[0, :2, :2, 0] = -np.inf
    return x.astype(dtype)


def _gradient(shape, dtype, seed):
    g = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    g.reshape(-1)[:4] = [np.nan, np.inf, -0.0, -np.inf][:g.size]
    return g


def _same_bits(got, want):
    assert got.shape == want.shape and got.dtype == want.dtype
    assert got.tobytes() == np.ascontiguousarray(want).tobytes()


@pytest.fixture(params=["compiled", "numpy"])
def path(request, monkeypatch):
    """Each case through the compiled loops and through the NumPy kernels."""
    if request.param == "compiled" and not pool_kernels.HAVE_NUMBA:
        pytest.skip("the compiled loops need numba")
    monkeypatch.setattr(pool_kernels, "HAVE_NUMBA", request.param == "compiled")
    return request.param


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("shape,ksize,strides", CASES)
def test_max_pool_is_bitwise_the_per_tap_kernel(path, shape, ksize, strides, padding, dtype):
    x = _values(shape, dtype)
    y = pool_kernels.max_pool_forward(x, ksize, strides, padding)
    want = old.max_pool_kernel(x, ksize, strides, padding)
    if path == "compiled":
        _same_bits(y, want)
    else:  # the separable NumPy passes take taps in another order: ties may keep -0.0
        np.testing.assert_array_equal(y, want)
    assert pool_kernels.max_pool_forward(x, ksize, strides, padding, out=y) is y


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("shape,ksize,strides", CASES)
def test_compiled_gradients_are_bitwise_the_per_tap_kernels(shape, ksize, strides, padding,
                                                           dtype):
    if not pool_kernels.HAVE_NUMBA:
        pytest.skip("the compiled loops need numba")
    x = _values(shape, dtype)
    y = old.max_pool_kernel(x, ksize, strides, padding)
    dy, ddx = _gradient(y.shape, dtype, 1), _gradient(x.shape, dtype, 2)
    dx = pool_kernels.max_pool_scatter(x, y, dy, ksize, strides, padding,
                                       out=np.full(x.shape, 7, dtype))  # last run's buffer
    _same_bits(dx, old.max_pool_grad_kernel(x, y, dy, ksize, strides, padding))
    ddy = pool_kernels.max_pool_gather(x, y, ddx, ksize, strides, padding,
                                       out=np.full(y.shape, 7, dtype))  # every element set
    _same_bits(ddy, old.max_pool_grad_grad_kernel(x, y, ddx, ksize, strides, padding))


def test_integers_take_the_numpy_passes():
    x = np.random.default_rng(3).integers(-5, 5, (2, 6, 6, 3)).astype(np.int32)
    assert not pool_kernels.compiled_pooling(x, x)
    for padding in ("SAME", "VALID"):
        np.testing.assert_array_equal(
            pool_kernels.max_pool_forward(x, (3, 3), (2, 2), padding),
            old.max_pool_kernel(x, (3, 3), (2, 2), padding))


def test_empty_inputs_give_empty_or_lowest_outputs(path):
    for shape in ((0, 4, 4, 2), (2, 4, 4, 0), (2, 1, 1, 2)):
        x = np.ones(shape, np.float32)
        y = pool_kernels.max_pool_forward(x, (2, 2), (2, 2), "VALID")
        assert y.shape == old.max_pool_kernel(x, (2, 2), (2, 2), "VALID").shape
