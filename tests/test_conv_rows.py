"""The row-window conv kernels (graphc.ops.conv_rows) against the kernels they replaced
(tests/conv_baseline.py), within the float-sum bound: forced onto every stride-1 case,
in blocks of one image and of the whole batch, with numba's filter-row sum and with the
NumPy one, on strided inputs; and the compiled sum bitwise the NumPy passes."""
from __future__ import annotations

import numpy as np
import pytest

from graphc.ops import conv_kernels, conv_rows
from tests import test_conv_kernels as fast

ROW_CASES = [case for case in fast.CONV_CASES + [
    ((2, 7, 8, 11), (3, 3, 11, 6), (1, 1), (1, 1)),   # deep enough without forcing
    ((2, 9, 6, 12), (2, 4, 12, 8), (1, 1), (3, 1)),   # row dilation, even filter
    ((1, 5, 5, 8), (1, 4, 8, 3), (1, 1), (1, 1))]     # a single filter row
    if case[2] == (1, 1) and case[3][1] == 1 and case[1][:2] != (1, 1)]


@pytest.fixture(params=["numba", "numpy"])
def filter_row_sum(request, monkeypatch):
    """The filter-row sum compiled (where numba is installed) or by NumPy passes."""
    if request.param == "numba" and not conv_rows.HAVE_NUMBA:
        pytest.skip("the compiled sum needs numba")
    monkeypatch.setattr(conv_rows, "HAVE_NUMBA", request.param == "numba")
    return request.param


@pytest.mark.parametrize("block_bytes", [1, 1 << 30])
@pytest.mark.parametrize("padding", fast.PADDINGS)
@pytest.mark.parametrize("x_shape,w_shape,strides,dilations", ROW_CASES)
def test_row_window_kernels_match_the_per_tap_kernels(monkeypatch, filter_row_sum, x_shape,
                                                      w_shape, strides, dilations, padding,
                                                      block_bytes):
    monkeypatch.setattr(conv_rows, "ROWS_MIN_DEPTH", 0)
    monkeypatch.setattr(conv_rows, "ROWS_MAX_EXTRA", np.inf)
    monkeypatch.setattr(conv_rows, "ROWS_BLOCK_BYTES", block_bytes)
    assert conv_rows.takes_rows(w_shape, strides, dilations, 1)
    fast.test_conv_kernels_match_the_per_tap_kernels(x_shape, w_shape, strides, dilations,
                                                     padding, np.float64)


def test_row_window_kernels_take_strided_inputs(filter_row_sum):
    """A channel slice (a concat's gradient, say) has no contiguous runs of kw pixels: it is
    copied first, with or without padding, and gives the contiguous input's results."""
    x, w = fast._arrays((2, 6, 7, 24), (3, 3, 12, 5), np.float64)
    strided = x[..., ::2]
    dy = np.random.default_rng(4).standard_normal((2, 6, 7, 5))[..., :5]
    for padding in fast.PADDINGS:
        geometry = dict(strides=(1, 1), padding=padding, dilations=(1, 1))
        if padding == "VALID":
            dy = dy[:, 1:-1, 1:-1]
        whole = np.ascontiguousarray(strided)
        np.testing.assert_array_equal(conv_kernels.conv_forward(strided, w, **geometry),
                                      conv_kernels.conv_forward(whole, w, **geometry))
        np.testing.assert_array_equal(
            conv_kernels.conv_filter_grad(strided, np.array(w.shape), dy, **geometry),
            conv_kernels.conv_filter_grad(whole, np.array(w.shape), dy, **geometry))


@pytest.mark.skipif(not conv_rows.HAVE_NUMBA, reason="the compiled sum needs numba")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_compiled_filter_row_sum_is_bitwise_the_numpy_passes(monkeypatch, dtype):
    rng = np.random.default_rng(6)
    products = rng.standard_normal((3, 9, 5, 4 * 7)).astype(dtype)  # 4 filter rows, dilation 2
    products[0, 1, 2, 3], products[1, 4, 0, 8] = np.nan, np.inf
    compiled, passes = (np.empty((3, 3, 5, 7), dtype) for _ in range(2))
    conv_rows._sum_filter_rows(products, compiled, 2)
    monkeypatch.setattr(conv_rows, "HAVE_NUMBA", False)
    conv_rows._sum_filter_rows(products, passes, 2)
    np.testing.assert_array_equal(compiled, passes)
    assert np.isnan(compiled[0, 1, 2, 3]) and np.isinf(compiled[1, 2, 0, 1])


def test_deep_stride_one_convolutions_of_tall_outputs_take_the_row_kernels():
    """The choice: stride 1, no column dilation, kw * C_in >= ROWS_MIN_DEPTH, at most
    ROWS_MAX_EXTRA padding rows per output row (W7 (b)'s 3x3 over 16 channels and 5x5 over 8
    do; its first 3x3 over 3 channels, strided ones and W7 (a)'s 8-row outputs do not)."""
    assert conv_rows.takes_rows((3, 3, 16, 24), (1, 1), (1, 1), 32)
    assert conv_rows.takes_rows((5, 5, 8, 8), (1, 1), (1, 1), 32)
    assert conv_rows.takes_rows((5, 5, 8, 8), (1, 1), (2, 1), 64)
    assert not conv_rows.takes_rows((5, 5, 8, 8), (1, 1), (2, 1), 32)
    assert not conv_rows.takes_rows((3, 3, 16, 24), (1, 1), (1, 1), 8)
    assert not conv_rows.takes_rows((3, 3, 3, 32), (1, 1), (1, 1), 32)
    assert not conv_rows.takes_rows((3, 3, 16, 24), (2, 2), (1, 1), 32)
    assert not conv_rows.takes_rows((3, 3, 16, 24), (1, 1), (1, 2), 32)
