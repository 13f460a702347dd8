"""The direct conv kernels (graphc.ops.conv_direct) against the per-tap kernels they stand in
for (tests/conv_baseline.py) and against the GEMM kernels of graphc.ops.conv_kernels that
run without them (the path where numba is missing): within the float-sum bound; NaN/Inf,
size-0, odd sizes, row dilation, blocks of images (epilogue), chunks of the filter
gradient, and batches split over graphc's pool."""
from __future__ import annotations

import numpy as np
import pytest

from graphc.ops import conv_direct, conv_kernels
from tests import conv_baseline as old
from tests.test_conv_kernels import _arrays, _assert_within_sum_bound, split_batches  # noqa: F401

pytestmark = pytest.mark.skipif(not conv_direct.HAVE_NUMBA,
                                reason="the direct kernels need numba")

# (x shape, filter shape, dilations): C_out in DIRECT_CHANNELS; odd widths leave a partial
# block of pixels, odd depths (kw * C_in) a partial block of the filter gradient
DIRECT_CASES = [((2, 7, 9, 3), (3, 3, 3, 8), (1, 1)),
                ((3, 5, 6, 5), (5, 5, 5, 8), (1, 1)),
                ((2, 6, 7, 16), (3, 3, 16, 24), (1, 1)),
                ((2, 5, 5, 7), (1, 1, 7, 24), (1, 1)),
                ((1, 9, 5, 2), (3, 2, 2, 8), (2, 1)),
                ((2, 4, 11, 1), (3, 3, 1, 24), (1, 1)),
                ((2, 5, 6, 9), (1, 1, 9, 40), (1, 1)),
                ((2, 6, 5, 3), (3, 3, 3, 64), (1, 1))]
W7_CASES = [((3, 8, 8, 1), (3, 3, 1, 32), (1, 1)),
            ((2, 8, 8, 32), (1, 1, 32, 16), (1, 1)),
            ((2, 8, 8, 24), (3, 3, 24, 16), (1, 1))]


def _geometry(padding, dilations):
    return dict(strides=(1, 1), padding=padding, dilations=dilations)


def _check_against_baseline(x, w, geometry):
    """Forward, input and filter gradient within the float-sum bound of the per-tap kernels."""
    dtype, terms = x.dtype, int(np.prod(w.shape[:3]))
    y = old.conv_kernel(x, w, **geometry)
    _assert_within_sum_bound(conv_kernels.conv_forward(x, w, **geometry), y,
                             old.conv_kernel(np.abs(x), np.abs(w), **geometry), dtype, terms)
    dy = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    sizes, filter_sizes = np.array(x.shape, np.int32), np.array(w.shape, np.int32)
    _assert_within_sum_bound(
        conv_kernels.conv_input_grad(sizes, w, dy, **geometry),
        old.backprop_input_kernel(sizes, w, dy, **geometry),
        old.backprop_input_kernel(sizes, np.abs(w), np.abs(dy), **geometry), dtype,
        int(np.prod(w.shape[:2])) * w.shape[3])
    _assert_within_sum_bound(
        conv_kernels.conv_filter_grad(x, filter_sizes, dy, **geometry),
        old.backprop_filter_kernel(x, filter_sizes, dy, **geometry),
        old.backprop_filter_kernel(np.abs(x), filter_sizes, np.abs(dy), **geometry), dtype,
        int(np.prod(y.shape[:3])))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("padding", ("SAME", "VALID"))
@pytest.mark.parametrize("x_shape,w_shape,dilations", DIRECT_CASES)
def test_direct_kernels_match_the_per_tap_kernels(x_shape, w_shape, dilations, padding,
                                                  dtype):
    assert conv_direct.takes_direct_forward(w_shape, (1, 1), dilations,
                                            *_arrays(x_shape, w_shape, dtype))
    _check_against_baseline(*_arrays(x_shape, w_shape, dtype), _geometry(padding, dilations))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape,w_shape,dilations", DIRECT_CASES)
def test_the_direct_filter_gradient_itself_matches_the_per_tap_kernel(x_shape, w_shape,
                                                                      dilations, dtype):
    """The direct loop alone (conv_kernels may time the GEMM kernel faster and run that)."""
    x, w = _arrays(x_shape, w_shape, dtype)
    geometry = _geometry("SAME", dilations)
    dy = np.random.default_rng(3).standard_normal(
        old.conv_kernel(x, w, **geometry).shape).astype(dtype)
    kh, kw = w_shape[:2]
    eff_h, eff_w = (kh - 1) * dilations[0] + 1, kw
    pads = ((eff_h - 1) // 2, eff_h - 1 - (eff_h - 1) // 2, (eff_w - 1) // 2,
            eff_w - 1 - (eff_w - 1) // 2)
    got = conv_direct.direct_filter_grad(x, dy, dilations[0], pads, np.empty(w_shape, dtype))
    sizes = np.array(w_shape, np.int32)
    _assert_within_sum_bound(got, old.backprop_filter_kernel(x, sizes, dy, **geometry),
                             old.backprop_filter_kernel(np.abs(x), sizes, np.abs(dy),
                                                        **geometry),
                             dtype, int(np.prod(dy.shape[:3])))


@pytest.mark.parametrize("x_shape,w_shape,dilations", W7_CASES)
def test_direct_kernels_at_w7s_channel_counts(x_shape, w_shape, dilations):
    _check_against_baseline(*_arrays(x_shape, w_shape, np.float32), _geometry("SAME", dilations))


@pytest.mark.parametrize("x_shape,w_shape,dilations", DIRECT_CASES[::2])
def test_direct_kernels_match_the_gemm_kernels_they_replace(monkeypatch, x_shape, w_shape,
                                                            dilations):
    """The GEMM kernels (what runs without numba) and the direct ones agree within the
    float-sum bound, both ways round."""
    x, w = _arrays(x_shape, w_shape, np.float32)
    geometry = _geometry("SAME", dilations)
    dy = np.random.default_rng(2).standard_normal(
        conv_kernels.conv_forward(x, w, **geometry).shape).astype(np.float32)
    sizes, filter_sizes = np.array(x_shape, np.int32), np.array(w_shape, np.int32)

    def results():
        return (conv_kernels.conv_forward(x, w, **geometry),
                conv_kernels.conv_input_grad(sizes, w, dy, **geometry),
                conv_kernels.conv_filter_grad(x, filter_sizes, dy, **geometry))
    direct = results()
    monkeypatch.setattr(conv_direct, "HAVE_NUMBA", False)
    gemm = results()
    magnitudes = (old.conv_kernel(np.abs(x), np.abs(w), **geometry),
                  old.backprop_input_kernel(sizes, np.abs(w), np.abs(dy), **geometry),
                  old.backprop_filter_kernel(np.abs(x), filter_sizes, np.abs(dy), **geometry))
    terms = (int(np.prod(w_shape[:3])), int(np.prod(w_shape[:2])) * w_shape[3],
             int(np.prod(dy.shape[:3])))
    for got, want, magnitude, count in zip(direct, gemm, magnitudes, terms):
        # two sums of the same products, each within the bound of the exact sum
        _assert_within_sum_bound(got, want, 2 * magnitude, np.float32,
                                 count)


def test_direct_kernels_in_blocks_and_chunks(monkeypatch):
    """One image per forward block (epilogue call) and per filter-gradient chunk."""
    monkeypatch.setattr(conv_direct, "FORWARD_BLOCK_BYTES", 1)
    monkeypatch.setattr(conv_direct, "GRAD_CHUNK_BYTES", 1)
    blocks = []
    x, w = _arrays((3, 6, 7, 4), (3, 3, 4, 16), np.float64)
    out = np.empty((3, 6, 7, 16))
    conv_direct.direct_forward(x, w, 1, (1, 1, 1, 1), out, lambda b: blocks.append(len(b)))
    assert blocks == [1, 1, 1]
    _check_against_baseline(x, w, _geometry("SAME", (1, 1)))


def test_the_epilogue_sees_each_block_finished(monkeypatch):
    """``epilogue(block)`` runs on finished results: what it writes is what comes out."""
    monkeypatch.setattr(conv_direct, "FORWARD_BLOCK_BYTES", 1)
    x, w = _arrays((3, 5, 5, 2), (3, 3, 2, 8), np.float32)
    geometry = _geometry("SAME", (1, 1))
    want = np.maximum(old.conv_kernel(x, w, **geometry), 0)

    def relu(block):
        np.maximum(block, 0, out=block)
    got = conv_kernels.conv_forward(x, w, **geometry, epilogue=relu)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_direct_kernels_propagate_nan_and_inf_where_the_per_tap_kernels_do():
    x, w = _arrays((2, 6, 6, 3), (3, 3, 3, 8), np.float64)
    x[0, 2, 3, 1], x[1, 0, 0, 0], x[1, 4, 4, 2] = np.nan, np.inf, -np.inf
    w[0, 0, 0, 0] = -0.0
    for padding in ("SAME", "VALID"):
        geometry = _geometry(padding, (1, 1))
        got, want = conv_kernels.conv_forward(x, w, **geometry), old.conv_kernel(x, w, **geometry)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
        finite = np.isfinite(want)
        np.testing.assert_allclose(got[finite], want[finite], rtol=1e-12, atol=1e-12)
        dy = np.ones(want.shape)
        fgot = conv_kernels.conv_filter_grad(x, np.array(w.shape), dy, **geometry)
        fwant = old.backprop_filter_kernel(x, np.array(w.shape), dy, **geometry)
        np.testing.assert_array_equal(np.isnan(fgot), np.isnan(fwant))


@pytest.mark.parametrize("x_shape,w_shape", [((0, 5, 5, 3), (3, 3, 3, 8)),
                                             ((2, 5, 5, 0), (3, 3, 0, 8)),
                                             ((2, 2, 2, 3), (3, 3, 3, 8))])
def test_direct_kernels_of_size_zero(x_shape, w_shape):
    x, w = _arrays(x_shape, w_shape, np.float32)
    geometry = _geometry("VALID", (1, 1))
    y = conv_kernels.conv_forward(x, w, **geometry)
    assert y.shape == old.conv_kernel(x, w, **geometry).shape and not y.any()
    dy = np.ones(y.shape, np.float32)
    dw = conv_kernels.conv_filter_grad(x, np.array(w_shape, np.int32), dy, **geometry)
    assert dw.shape == w.shape and not dw.any()


def test_read_only_inputs_are_taken():
    """A graph's constants are read-only arrays."""
    x, w = _arrays((2, 5, 5, 3), (3, 3, 3, 8), np.float32)
    x.flags.writeable = w.flags.writeable = False
    _check_against_baseline(x, w, _geometry("SAME", (1, 1)))


def test_direct_kernels_split_over_the_pool_give_the_unsplit_results(split_batches):
    x, w = _arrays((5, 6, 6, 8), (3, 3, 8, 8), np.float64)
    geometry = _geometry("SAME", (1, 1))
    dy = np.random.default_rng(1).standard_normal((5, 6, 6, 8))

    def results():
        return (conv_kernels.conv_forward(x, w, **geometry),
                conv_kernels.conv_input_grad(np.array(x.shape), w, dy, **geometry),
                conv_kernels.conv_filter_grad(x, np.array(w.shape), dy, **geometry))
    split = results()
    conv_kernels.set_batch_splitter(None)
    for got, want in zip(split, results()):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("w_shape,strides,dilations,dtypes,forward,gradient", [
    ((3, 3, 4, 8), (1, 1), (1, 1), ("float32",) * 3, True, True),
    ((1, 1, 4, 8), (1, 1), (1, 1), ("float32",) * 3, True, True),  # 1x1: timed against GEMM
    ((3, 3, 4, 64), (1, 1), (1, 1), ("float32",) * 3, True, True),
    ((3, 3, 4, 72), (1, 1), (1, 1), ("float32",) * 3, False, False),  # wider: GEMM
    ((3, 3, 4, 8), (2, 1), (1, 1), ("float32",) * 3, False, False),  # strided
    ((3, 3, 4, 8), (1, 1), (1, 2), ("float32",) * 3, False, False),  # column dilation
    ((3, 3, 4, 12), (1, 1), (1, 1), ("float32",) * 3, False, False),  # C_out not taken
    ((3, 3, 4, 8), (1, 1), (1, 1), ("float32", "float64", "float64"), False, False),
    ((3, 3, 4, 8), (1, 1), (1, 1), ("int32",) * 3, False, False),
    ((3, 3, 4, 8), (1, 1), (1, 1), ("float32", "float32", "strided"), False, False)])
def test_the_rule_that_chooses_the_direct_kernels(w_shape, strides, dilations, dtypes,
                                                  forward, gradient):
    arrays = [np.zeros(4, np.float32)[::2] if dtype == "strided" else np.zeros(1, dtype)
              for dtype in dtypes]
    assert conv_direct.takes_direct_forward(w_shape, strides, dilations, *arrays) == forward
    assert conv_direct.takes_direct_filter_grad(w_shape, strides, dilations,
                                                *arrays) == gradient


def test_the_register_blocks_fit_the_accumulator_registers():
    blocks = lambda itemsize, registers: [conv_direct._block(c, itemsize, registers=registers)
                                          for c in conv_direct.DIRECT_CHANNELS]
    assert blocks(4, 16) == [8, 4, 4, 2, 2, 2, 1, 1]  # AVX2: C_out 8, 16, ..., 64
    assert blocks(8, 16) == [4, 2, 2, 1, 1, 1, 1, 1]
    assert blocks(4, 32) == [8, 8, 8, 4, 4, 4, 4, 2]  # AVX-512: 32 registers
    assert blocks(8, 32) == [8, 4, 4, 2, 2, 2, 2, 1]
    assert conv_direct._vector_registers() in (16, 32)
    assert conv_direct._registers_for("+avx2,+avx512f,+fma", None) == 32
    assert conv_direct._registers_for("+avx2,-avx512f,+fma", "host") == 16
    assert conv_direct._registers_for(None, "haswell") == 16  # a named target: AVX2's


def test_the_filter_gradient_keeps_its_accumulators_in_named_locals():
    """A stack buffer of accumulators was vectorized across the row elements with gather
    and scatter instructions on AVX-512 (40x slower on Zen 4); named locals leave LLVM only
    the grouping along the output channels."""
    source = conv_direct.loop_source("filter_grad", 24, 8, np.float32)
    assert "stack_vector(" not in source
    assert "a7_23 += pixel * g23" in source and "dw[first + U(191)] = a7_23" in source
