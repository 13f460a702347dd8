"""Convolution and pooling layers compute what gc.nn computes, with TF1's shapes."""
import numpy as np
import pytest

import graphc as gc
from tests.test_layers import init_and_run as _run

L = gc.layers
RNG = np.random.default_rng(5)


def test_conv2d_and_pooling_layers_match_the_nn_ops():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float32, [None, 7, 7, 2])
        conv = L.Conv2D(3, (3, 2), strides=2, padding="same", dilation_rate=1,
                        activation="relu", bias_initializer=gc.constant_initializer(0.1))
        y = conv(x)
        expected = gc.nn.relu(gc.nn.conv2d(x, conv.kernel, [1, 2, 2, 1], "SAME") + 0.1)
        pools = [L.MaxPooling2D(2)(x), L.AveragePooling2D(3, 2, "same")(x),
                 L.GlobalAveragePooling2D()(x)]
        nn_pools = [gc.nn.max_pool(x, 2, 2, "VALID"), gc.nn.avg_pool(x, 3, 2, "SAME"),
                    gc.reduce_mean(x, axis=[1, 2])]
    assert conv.kernel.shape.as_list() == [3, 2, 2, 3] and y.shape.as_list() == [None, 4, 4, 3]
    assert [p.shape.as_list() for p in pools] == [[None, 3, 3, 2], [None, 4, 4, 2], [None, 2]]
    value = RNG.normal(size=(2, 7, 7, 2)).astype(np.float32)
    mine, reference = _run(g, [[y] + pools, [expected] + nn_pools], {x: value})  # one init
    for got, want in zip(mine, reference):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        L.Conv2D(3, 3, padding="full")
    with pytest.raises(ValueError, match="data_format 'channels_first' is not supported"):
        L.MaxPooling2D(2, data_format="channels_first")


@pytest.mark.parametrize("padding,size", [("same", 8), ("valid", 9)])
def test_conv2d_transpose_upsamples_and_is_the_adjoint_of_conv2d(padding, size):
    g = gc.Graph()
    with g.as_default():
        small = gc.placeholder(gc.float32, [None, 4, 4, 3], name="small")
        big = gc.placeholder(gc.float32, [None, size, size, 5], name="big")
        up = L.Conv2DTranspose(5, 3, strides=2, padding=padding, use_bias=False)
        upsampled = up(small)
        # <convT(a), b> == <a, conv2d(b)> with the same kernel: the transpose is the adjoint
        down = gc.nn.conv2d(big, up.kernel, [1, 2, 2, 1], padding.upper())
    assert up.kernel.shape.as_list() == [3, 3, 5, 3]
    assert upsampled.shape.as_list() == [None, size, size, 5]
    a = RNG.normal(size=(2, 4, 4, 3)).astype(np.float32)
    b = RNG.normal(size=(2, size, size, 5)).astype(np.float32)
    out, back = _run(g, [upsampled, down], {small: a, big: b})
    np.testing.assert_allclose(np.sum(out * b), np.sum(a * back), rtol=1e-4)
    assert [v.name for v in up.variables] == ["conv2d_transpose/kernel:0"]


def test_separable_conv2d_is_a_depthwise_then_a_pointwise_convolution():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float32, [None, 6, 6, 3])
        y = gc.layers.separable_conv2d(x, 4, 3, padding="same", depth_multiplier=2,
                                       bias_initializer=gc.constant_initializer(0.5))
        names = [v.name for v in gc.global_variables()]
        depthwise = g.get_tensor_by_name("separable_conv2d/depthwise_kernel:0")
        pointwise = g.get_tensor_by_name("separable_conv2d/pointwise_kernel:0")
        # each channel c with its own 2 filters, as a block-diagonal conv2d filter
        blocks = [gc.pad(depthwise[:, :, c:c + 1, :], [[0, 0], [0, 0], [0, 0],
                                                        [2 * c, 2 * (2 - c)]]) for c in range(3)]
        reference = gc.nn.conv2d(gc.nn.conv2d(x, gc.concat(blocks, axis=2), 1, "SAME"),
                                 pointwise, 1, "VALID") + 0.5
    assert names == ["separable_conv2d/depthwise_kernel:0",
                     "separable_conv2d/pointwise_kernel:0", "separable_conv2d/bias:0"]
    assert depthwise.shape.as_list() == [3, 3, 3, 2] and pointwise.shape.as_list() == [1, 1, 6, 4]
    value = RNG.normal(size=(2, 6, 6, 3)).astype(np.float32)
    got, want = _run(g, [y, reference], {x: value})
    assert got.shape == (2, 6, 6, 4)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
