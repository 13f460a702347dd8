"""reduce_sum over leading axes, or a run of middle axes, by a GEMV with ones
(graphc.ops.reduce._leading_sum; reduce_mean's sum too) against the NumPy sum it replaced:
within the float-sum bound, NaN/Inf where NumPy has them, size 0, and NumPy's own sum
wherever the fast path does not apply."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphc as gc
from graphc import registry
from graphc.ops import reduce as reduce_ops

KERNEL = registry.get("reduce_sum").kernel


def _within_float_sum_bound(got, x, axis, keepdims):
    expected = np.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    magnitude = np.sum(np.abs(x.astype(np.float64)), axis=axis, keepdims=keepdims)
    rows = x.size // max(1, expected.size)
    bound = 4 * rows * np.finfo(x.dtype).eps * magnitude
    np.testing.assert_array_less(np.abs(got.astype(np.float64) - expected) - bound, 1e-300)


@settings(derandomize=True, database=None, max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(1, 9), min_size=2, max_size=4).map(tuple),
       leading=st.integers(1, 3), dtype=st.sampled_from([np.float32, np.float64]),
       keepdims=st.booleans(), seed=st.integers(0, 2**16))
def test_leading_sum_matches_numpy_within_the_float_sum_bound(shape, leading, dtype,
                                                            keepdims, seed):
    leading = min(leading, len(shape) - 1)
    # scaled up past LEADING_SUM_MIN_ELEMENTS so the GEMV path runs
    shape = (shape[0] * 64,) + shape[1:]
    x = np.random.default_rng(seed).normal(size=shape).astype(dtype)
    axis = tuple(range(leading))
    _within_float_sum_bound(KERNEL(x, axis, keepdims), x, axis, keepdims)


def test_the_gemv_path_runs_for_a_bias_gradient(monkeypatch):
    """A conv bias gradient's shape takes the GEMV; the result is NumPy's within the bound."""
    calls = []
    real = np.matmul
    monkeypatch.setattr(reduce_ops.np, "matmul", lambda *a, **k: calls.append(1) or real(*a, **k))
    x = np.random.default_rng(0).normal(size=(8, 16, 16, 24)).astype(np.float32)
    _within_float_sum_bound(KERNEL(x, (0, 1, 2), False), x, (0, 1, 2), False)
    assert calls


def test_nan_and_inf_land_where_numpy_puts_them():
    x = np.random.default_rng(1).normal(size=(64, 8, 8, 4))
    x[3, 2, 1, 0], x[5, 0, 0, 1], x[6, 0, 0, 2], x[7, 1, 1, 2] = np.nan, np.inf, np.inf, -np.inf
    with np.errstate(invalid="ignore"):  # inf + -inf
        got, expected = KERNEL(x, (0, 1, 2), False), np.sum(x, axis=(0, 1, 2))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_array_equal(got[np.isinf(expected)], expected[np.isinf(expected)])


@settings(derandomize=True, database=None, max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(1, 6), min_size=3, max_size=5).map(tuple),
       first=st.integers(1, 3), length=st.integers(1, 3),
       dtype=st.sampled_from([np.float32, np.float64]), keepdims=st.booleans(),
       seed=st.integers(0, 2**16))
def test_a_sum_over_middle_axes_matches_numpy_within_the_float_sum_bound(
        shape, first, length, dtype, keepdims, seed):
    """A run of axes after the first and before the last: one GEMV per leading index."""
    first = min(first, len(shape) - 2)
    axis = tuple(range(first, min(first + length, len(shape) - 1)))
    shape = (shape[0] * 64,) + shape[1:]  # past LEADING_SUM_MIN_ELEMENTS
    x = np.random.default_rng(seed).normal(size=shape).astype(dtype)
    _within_float_sum_bound(KERNEL(x, axis, keepdims), x, axis, keepdims)


def test_a_global_average_pool_takes_the_gemv_and_divides_by_the_count(monkeypatch):
    """reduce_mean over an NHWC image's pixels (W7's global average pool): the stacked
    GEMV's sum over the count, within the float-sum bound of NumPy's mean."""
    calls = []
    real = np.matmul
    monkeypatch.setattr(reduce_ops.np, "matmul", lambda *a, **k: calls.append(1) or real(*a, **k))
    x = np.random.default_rng(3).normal(size=(64, 4, 4, 56)).astype(np.float32)
    mean = registry.get("reduce_mean").kernel
    got = mean(x, (1, 2), False)
    assert calls and got.shape == (64, 56) and got.dtype == np.float32
    _within_float_sum_bound(got * np.float32(16), x, (1, 2), False)  # 16: exact in float
    x[1, 2, 3, 4], x[2, 0, 0, 5] = np.nan, np.inf
    got = mean(x, (1, 2), False)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(np.mean(x, axis=(1, 2))))
    assert np.isinf(got[2, 5])


@pytest.mark.parametrize("x, axis", [
    (np.zeros((0, 4, 4, 3), np.float32), (0, 1, 2)),                # size 0
    (np.ones((64, 8, 8, 3), np.float32)[:, ::2], (0, 1, 2)),      # a strided view
    (np.ones((64, 8, 8, 3), np.float32), (0, 2)),                 # not a run of axes
    (np.ones((64, 8, 8, 3), np.float32), (2, 3)),                 # the last axis too
    (np.ones((64, 8, 8, 3), np.float32), (0, 1, 2, 3)),           # every axis
    (np.arange(64 * 8 * 8 * 3).reshape(64, 8, 8, 3), (0, 1, 2)),  # integers
    (np.ones((2, 3), np.float32), (0,))])                          # below the size floor
def test_other_cases_are_numpy_sums(x, axis):
    got = KERNEL(x, axis, False)
    np.testing.assert_array_equal(got, np.sum(x, axis=axis, dtype=x.dtype))
    assert got.dtype == x.dtype


def test_a_bias_gradient_through_a_session_matches_numpy():
    rng = np.random.default_rng(2)
    value, dy = rng.normal(size=(16, 8, 8, 12)), rng.normal(size=(16, 8, 8, 12))
    g = gc.Graph()
    with g.as_default():
        v, b = gc.placeholder(gc.float64, value.shape), gc.placeholder(gc.float64, (12,))
        [grad] = gc.gradients(gc.nn.bias_add(v, b), [b], grad_ys=gc.constant(dy))
    with gc.Session(graph=g) as sess:
        got = sess.run(grad, {v: value, b: np.zeros(12)})
    _within_float_sum_bound(got, dy, (0, 1, 2), False)
