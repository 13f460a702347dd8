"""conv1d, conv2d_transpose, atrous/depthwise/separable conv2d, the 1-D pools and tf.nn.pool
against direct loop references of TF's definitions, their gradients by finite differences,
channels-first formats, and clear errors."""
import itertools

import numpy as np
import pytest

import graphc as gc
from graphc.ops.conv import window_geometry
from tests.ops.gradient_check import assert_gradients_match

RNG = np.random.default_rng(5)


@pytest.fixture(autouse=True)
def fresh_graph():
    gc.reset_default_graph()


def run(fetches):
    with gc.Session() as sess:
        return sess.run(fetches)


def conv_reference(x, w, strides=(1, 1), padding="VALID", dilations=(1, 1)):
    """Direct NHWC/HWIO cross-correlation."""
    kh, kw, _, c_out = w.shape
    oh, top, _ = window_geometry(x.shape[1], kh, strides[0], dilations[0], padding)
    ow, left, _ = window_geometry(x.shape[2], kw, strides[1], dilations[1], padding)
    out = np.zeros((x.shape[0], oh, ow, c_out))
    for r, c, i, j in itertools.product(range(oh), range(ow), range(kh), range(kw)):
        rr = r * strides[0] + i * dilations[0] - top
        cc = c * strides[1] + j * dilations[1] - left
        if 0 <= rr < x.shape[1] and 0 <= cc < x.shape[2]:
            out[:, r, c, :] += x[:, rr, cc, :] @ w[i, j]
    return out


def depthwise_reference(x, w, strides=(1, 1), padding="VALID", dilations=(1, 1)):
    kh, kw, channels, multiplier = w.shape
    out = [conv_reference(x[..., k:k + 1], w[:, :, k:k + 1, :], strides, padding, dilations)
           for k in range(channels)]
    return np.concatenate(out, axis=-1)  # channel k * multiplier + m


@pytest.mark.parametrize("stride,padding,dilation", [(1, "VALID", 1), (2, "SAME", 1),
                                                     (1, "SAME", 2)])
def test_conv1d(stride, padding, dilation):
    x, w = RNG.normal(size=(2, 9, 3)), RNG.normal(size=(3, 3, 4))
    y = gc.nn.conv1d(x, w, stride=stride, padding=padding, dilations=dilation)
    want = conv_reference(x[:, None], w[None], (1, stride), padding, (1, dilation))[:, 0]
    got = run(y)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert y.shape.as_list() == list(want.shape)
    ncw = run(gc.nn.conv1d(x.transpose(0, 2, 1), w, [1, stride, 1], padding,
                           data_format="NCW", dilations=dilation))
    np.testing.assert_allclose(ncw, want.transpose(0, 2, 1), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("strides,padding,size", [([1, 2, 2, 1], "SAME", 8),
                                                  ([1, 2, 2, 1], "VALID", 9),
                                                  ([1, 1, 1, 1], "VALID", 6)])
def test_conv2d_transpose_is_the_adjoint_of_conv2d(strides, padding, size):
    x = RNG.normal(size=(2, size, size, 3))
    w = RNG.normal(size=(3, 3, 3, 5))  # conv2d's HWIO; for the transpose: [h, w, out, in]
    forward = conv_reference(x, w, strides[1:3], padding)
    dy = RNG.normal(size=forward.shape)
    up = gc.nn.conv2d_transpose(dy, w, list(x.shape), strides, padding)
    got = run(up)
    assert up.shape.as_list() == list(x.shape)
    # <conv2d(x), dy> == <x, conv2d_transpose(dy)>
    assert np.sum(forward * dy) == pytest.approx(np.sum(x * got), rel=1e-10)
    nchw = gc.nn.conv2d_transpose(dy.transpose(0, 3, 1, 2), w, [2, 3, size, size], strides,
                                  padding, data_format="NCHW")
    np.testing.assert_allclose(run(nchw), got.transpose(0, 3, 1, 2), rtol=1e-12)


def test_conv2d_transpose_tensor_output_shape_and_channel_error():
    value = gc.placeholder(gc.float32, [None, 4, 4, 8])
    w = gc.zeros([5, 5, 16, 8])
    out_shape = gc.stack([gc.shape(value)[0], 8, 8, 16])
    up = gc.nn.conv2d_transpose(value, w, out_shape, [1, 2, 2, 1])
    assert up.shape.as_list() == [None, 8, 8, 16]
    with pytest.raises(ValueError, match="conv2d_transpose: output_shape .* 3 channels"):
        gc.nn.conv2d_transpose(value, w, [1, 8, 8, 3], [1, 2, 2, 1])


@pytest.mark.parametrize("rate,padding", [(2, "SAME"), (3, "VALID"), ([2, 1], "SAME")])
def test_atrous_conv2d(rate, padding):
    x, w = RNG.normal(size=(1, 9, 8, 2)), RNG.normal(size=(3, 2, 2, 3))
    dilations = (rate, rate) if isinstance(rate, int) else tuple(rate)
    np.testing.assert_allclose(run(gc.nn.atrous_conv2d(x, w, rate, padding)),
                               conv_reference(x, w, (1, 1), padding, dilations), rtol=1e-12)


@pytest.mark.parametrize("strides,padding,rate", [([1, 1, 1, 1], "VALID", None),
                                                  ([1, 2, 2, 1], "SAME", None),
                                                  ([1, 1, 1, 1], "SAME", [2, 2])])
def test_depthwise_and_separable_conv2d(strides, padding, rate):
    x = RNG.normal(size=(2, 7, 6, 3))
    depthwise_filter = RNG.normal(size=(3, 3, 3, 2))
    pointwise_filter = RNG.normal(size=(1, 1, 6, 4))
    dilations = (1, 1) if rate is None else tuple(rate)
    want = depthwise_reference(x, depthwise_filter, strides[1:3], padding, dilations)
    depthwise = gc.nn.depthwise_conv2d(x, depthwise_filter, strides, padding, rate=rate)
    separable = gc.nn.separable_conv2d(x, depthwise_filter, pointwise_filter, strides, padding,
                                       rate=rate)
    got_depthwise, got_separable = run([depthwise, separable])
    np.testing.assert_allclose(got_depthwise, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got_separable, want @ pointwise_filter[0, 0], rtol=1e-12,
                               atol=1e-12)
    assert depthwise.shape.as_list() == list(want.shape)
    nchw = gc.nn.depthwise_conv2d(x.transpose(0, 3, 1, 2), depthwise_filter, strides, padding,
                                  rate=rate, data_format="NCHW")
    np.testing.assert_allclose(run(nchw), want.transpose(0, 3, 1, 2), rtol=1e-12, atol=1e-12)


def test_depthwise_errors():
    x = gc.placeholder(gc.float32, [1, 5, 5, 3])
    with pytest.raises(ValueError, match="cannot be combined with rate"):
        gc.nn.depthwise_conv2d(x, gc.zeros([3, 3, 3, 1]), [1, 2, 2, 1], "SAME", rate=2)
    with pytest.raises(ValueError, match="depthwise_conv2d_native: .* filter"):
        gc.nn.depthwise_conv2d(x, gc.zeros([3, 3, 3]), [1, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="pointwise_filter must be"):
        gc.nn.separable_conv2d(x, gc.zeros([3, 3, 3, 1]), gc.zeros([2, 2, 3, 4]),
                               [1, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="data_format"):
        gc.nn.conv1d(gc.zeros([1, 4, 2]), gc.zeros([2, 2, 2]), 1, "SAME", data_format="NHWC")


def pool1d_reference(x, k, s, padding, reduce):
    out_w, left, _ = window_geometry(x.shape[1], k, s, 1, padding)
    out = np.zeros((x.shape[0], out_w, x.shape[2]))
    for c in range(out_w):
        lo = c * s - left
        out[:, c] = reduce(x[:, max(lo, 0):lo + k], axis=1)
    return out


@pytest.mark.parametrize("k,s,padding", [(2, 2, "VALID"), (3, 1, "SAME"), (3, 2, "SAME")])
def test_pools_1d_and_pool(k, s, padding):
    x = RNG.normal(size=(2, 7, 3))
    max_1d, avg_1d = gc.nn.max_pool1d(x, k, s, padding), gc.nn.avg_pool1d(x, [k], [s], padding)
    generic = gc.nn.pool(x, [k], "AVG", padding, strides=[s])
    got_max, got_avg, got_generic = run([max_1d, avg_1d, generic])
    np.testing.assert_allclose(got_max, pool1d_reference(x, k, s, padding, np.max))
    np.testing.assert_allclose(got_avg, pool1d_reference(x, k, s, padding, np.mean))
    np.testing.assert_allclose(got_generic, got_avg)
    images = RNG.normal(size=(1, 6, 5, 2))
    two_d = gc.nn.pool(images, [2, 2], "MAX", padding, strides=[s, s])
    np.testing.assert_array_equal(run(two_d), run(gc.nn.max_pool(images, 2, s, padding)))
    with pytest.raises(ValueError, match="pooling_type"):
        gc.nn.pool(images, [2, 2], "L2", padding)


CASES = {
    "conv1d": (lambda x, w: gc.nn.conv1d(x, w, 2, "SAME"), [(2, 7, 3), (3, 3, 2)]),
    "conv2d_transpose": (lambda v, w: gc.nn.conv2d_transpose(v, w, [2, 6, 6, 3], [1, 2, 2, 1],
                                                              "SAME"),
                         [(2, 3, 3, 4), (3, 3, 3, 4)]),
    "atrous": (lambda x, w: gc.nn.atrous_conv2d(x, w, 2, "SAME"), [(1, 6, 6, 2), (2, 2, 2, 3)]),
    "depthwise": (lambda x, w: gc.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], "SAME"),
                  [(1, 5, 5, 3), (3, 3, 3, 2)]),
    "separable": (lambda x, d, p: gc.nn.separable_conv2d(x, d, p, [1, 1, 1, 1], "VALID"),
                  [(1, 5, 4, 2), (2, 2, 2, 2), (1, 1, 4, 3)]),
    "max_pool1d": (lambda x: gc.nn.max_pool1d(x, 3, 2, "SAME"), [(2, 7, 3)]),
    "avg_pool1d": (lambda x: gc.nn.avg_pool1d(x, 3, 2, "SAME"), [(2, 7, 3)]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradients_match_finite_differences(case):
    build, shapes = CASES[case]
    assert_gradients_match(build, *[RNG.normal(size=s) for s in shapes])
