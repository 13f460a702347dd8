"""moments, batch_normalization, fused_batch_norm, l2_normalize and lrn against TF1's
formulas (NumPy references), their gradients by finite differences, and clear errors."""
import numpy as np
import pytest

import graphc as gc
from tests.ops.gradient_check import assert_gradients_match

RNG = np.random.default_rng(3)


def run(fetches, feeds=None):
    with gc.Session() as sess:
        return sess.run(fetches, feeds)


@pytest.fixture(autouse=True)
def fresh_graph():
    gc.reset_default_graph()


@pytest.mark.parametrize("axes,keep", [([0], False), ([0, 2], True), ([-1], False),
                                        ([0, 1, 2], True)])
def test_moments(axes, keep):
    x = RNG.normal(size=(4, 3, 5))
    mean, variance = gc.nn.moments(gc.constant(x), axes, keep_dims=keep)
    got_mean, got_variance = run([mean, variance])
    np.testing.assert_allclose(got_mean, x.mean(tuple(axes), keepdims=keep))
    np.testing.assert_allclose(got_variance, x.var(tuple(axes), keepdims=keep))
    assert mean.shape.as_list() == list(got_mean.shape)
    assert mean.op.name.startswith("moments")


def test_moments_keepdims_spelling_shift_and_float16():
    x = RNG.normal(size=(6, 2)).astype(np.float16)
    mean, variance = gc.nn.moments(gc.constant(x), axes=[0], shift=5.0, keepdims=True)
    assert mean.dtype == gc.float16 and mean.shape.as_list() == [1, 2]
    got = run(variance)
    np.testing.assert_allclose(got, x.astype(np.float32).var(0, keepdims=True), rtol=1e-3)


def test_weighted_moments_count_each_element_by_its_weight():
    x = RNG.normal(size=(5, 3))
    counts = RNG.integers(1, 4, size=(5, 1)).astype(np.float64)
    mean, variance = gc.nn.weighted_moments(x, [0], counts)
    got_mean, got_variance = run([mean, variance])
    repeated = np.repeat(x, counts[:, 0].astype(int), axis=0)
    np.testing.assert_allclose(got_mean, repeated.mean(0))
    np.testing.assert_allclose(got_variance, repeated.var(0))
    assert mean.shape.as_list() == [3]


def test_batch_normalization_formula_and_none_parameters():
    x, m, v = RNG.normal(size=(5, 3)), RNG.normal(size=3), RNG.random(3) + 0.5
    beta, gamma = RNG.normal(size=3), RNG.normal(size=3)
    full = gc.nn.batch_normalization(x, m, v, beta, gamma, 1e-3)
    bare = gc.nn.batch_normalization(gc.constant(x), m, v, None, None, 1e-3)
    got_full, got_bare = run([full, bare])
    np.testing.assert_allclose(got_full, gamma * (x - m) / np.sqrt(v + 1e-3) + beta)
    np.testing.assert_allclose(got_bare, (x - m) / np.sqrt(v + 1e-3))


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_fused_batch_norm_training_returns_bessel_corrected_variance(data_format):
    x = RNG.normal(2.0, 3.0, size=(3, 4, 5, 2)).astype(np.float32)
    axes = (0, 1, 2) if data_format == "NHWC" else (0, 2, 3)
    if data_format == "NCHW":
        x = x.transpose(0, 3, 1, 2)
    scale, offset = np.array([1.5, 0.5], np.float32), np.array([0.1, -0.2], np.float32)
    y, mean, variance = gc.nn.fused_batch_norm(x, scale, offset, epsilon=1e-3,
                                               data_format=data_format)
    got_y, got_mean, got_variance = run([y, mean, variance])
    shape = [1, 1, 1, 2] if data_format == "NHWC" else [1, 2, 1, 1]
    want = ((x - x.mean(axes).reshape(shape)) / np.sqrt(x.var(axes).reshape(shape) + 1e-3)
            * scale.reshape(shape) + offset.reshape(shape))
    np.testing.assert_allclose(got_y, want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got_mean, x.mean(axes), rtol=1e-5)
    np.testing.assert_allclose(got_variance, x.var(axes, ddof=1), rtol=1e-5)
    assert y.shape.as_list() == list(x.shape) and variance.shape.as_list() == [2]


def test_fused_batch_norm_inference_uses_given_statistics_and_raises_small_epsilon():
    x = RNG.normal(size=(2, 3, 3, 4))
    mean, variance = RNG.normal(size=4), RNG.random(4) + 0.1
    y, m, v = gc.nn.fused_batch_norm(x, np.ones(4), None, mean, variance, epsilon=1e-9,
                                     is_training=False)
    got_y, got_m, got_v = run([y, m, v])
    np.testing.assert_allclose(got_y, (x - mean) / np.sqrt(variance + 1.001e-5))
    np.testing.assert_array_equal(got_m, mean)
    np.testing.assert_array_equal(got_v, variance)


def test_fused_batch_norm_float16_and_errors():
    x = gc.placeholder(gc.float16, [2, 2, 2, 3])
    y, mean, _ = gc.nn.fused_batch_norm(x, np.ones(3, np.float32), np.zeros(3, np.float32))
    assert y.dtype == gc.float16 and mean.dtype == gc.float32
    with pytest.raises(ValueError, match="mean and variance are required"):
        gc.nn.fused_batch_norm(x, np.ones(3), is_training=False)
    with pytest.raises(ValueError, match="4-D"):
        gc.nn.fused_batch_norm(gc.placeholder(gc.float32, [2, 3]), np.ones(3))
    with pytest.raises(ValueError, match="data_format"):
        gc.nn.fused_batch_norm(x, np.ones(3), data_format="NWC")


def test_l2_normalize():
    x = RNG.normal(size=(3, 4))
    by_row, everything, tiny = run([gc.nn.l2_normalize(x, 1), gc.nn.l2_normalize(x),
                                    gc.nn.l2_normalize(np.zeros((2,)), dim=0)])
    np.testing.assert_allclose(by_row, x / np.linalg.norm(x, axis=1, keepdims=True))
    np.testing.assert_allclose(everything, x / np.linalg.norm(x))
    np.testing.assert_array_equal(tiny, [0.0, 0.0])  # epsilon keeps 0 / 0 away


def lrn_reference(x, radius, bias, alpha, beta):
    """TF's definition, channel by channel."""
    out = np.empty_like(x)
    for d in range(x.shape[-1]):
        window = x[..., max(0, d - radius): d + radius + 1]
        out[..., d] = x[..., d] / (bias + alpha * np.sum(window ** 2, axis=-1)) ** beta
    return out


@pytest.mark.parametrize("radius,bias,alpha,beta", [(5, 1.0, 1.0, 0.5), (2, 2.0, 1e-3, 0.75),
                                                     (0, 1.0, 0.5, 1.0)])
def test_lrn_matches_tf_definition(radius, bias, alpha, beta):
    x = RNG.normal(size=(2, 3, 3, 7))
    got = run(gc.nn.lrn(x, radius, bias, alpha, beta))
    np.testing.assert_allclose(got, lrn_reference(x, radius, bias, alpha, beta), rtol=1e-12)
    assert gc.nn.local_response_normalization is gc.nn.lrn


def test_lrn_error_names_the_function():
    with pytest.raises(ValueError, match="local_response_normalization: input must be 4-D"):
        gc.nn.lrn(gc.placeholder(gc.float32, [3, 4]))


@pytest.mark.parametrize("case", ["moments", "weighted_moments", "batch_normalization", "fused_nhwc", "fused_nchw",
                                  "fused_inference", "l2_normalize", "lrn"])
def test_gradients_match_finite_differences(case):
    x = RNG.normal(size=(2, 3, 2, 4))
    c = RNG.random(4) + 0.5
    builders = {
        "moments": lambda x: gc.nn.moments(x, [0, 1]),
        "weighted_moments": lambda x, w: gc.nn.weighted_moments(x, [0, 2], w),
        "batch_normalization": lambda x, m, v, b, g: gc.nn.batch_normalization(x, m, v, b, g,
                                                                               0.1),
        "fused_nhwc": lambda x, g, b: gc.nn.fused_batch_norm(x, g, b),
        "fused_nchw": lambda x, g, b: gc.nn.fused_batch_norm(x, g, b, data_format="NCHW"),
        "fused_inference": lambda x, g, b, m, v: gc.nn.fused_batch_norm(
            x, g, b, m, v, is_training=False),
        "l2_normalize": lambda x: gc.nn.l2_normalize(x, [1, 3]),
        "lrn": lambda x: gc.nn.lrn(x, 1, 1.5, 0.3, 0.75),
    }
    args = {"moments": [x], "weighted_moments": [x, RNG.random((2, 1, 2, 4)) + 0.5],
            "batch_normalization": [x, RNG.normal(size=4), c, c, c],
            "fused_nhwc": [x, c, c], "fused_nchw": [x.transpose(0, 3, 1, 2), c, c],
            "fused_inference": [x, c, c, c, c], "l2_normalize": [x], "lrn": [x]}
    assert_gradients_match(builders[case], *args[case])
