"""TF1's conv1d_transpose/conv_transpose, compute_average_loss, scale_regularization_loss and
approx_max_k/approx_min_k (graphc/nn_more.py) against NumPy and their defining identities."""
import numpy as np
import pytest

import graphc as gc

RNG = np.random.default_rng(5)


def run(*fetches, feeds=None):
    with gc.Session() as sess:
        return sess.run(list(fetches), feeds)


@pytest.mark.parametrize("stride, padding, width", [(1, "SAME", 7), (2, "SAME", 8),
                                                     (2, "VALID", 9), (3, "VALID", 10)])
@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
def test_conv1d_transpose_is_the_adjoint_of_conv1d(stride, padding, width, data_format):
    """<conv1d(z, w), h> = <z, conv1d_transpose(h, w)> for every z and h."""
    with gc.Graph().as_default():
        w = RNG.standard_normal((3, 4, 5))  # [width, out = z's channels, in = h's channels]
        z = RNG.standard_normal((2, width, 4))
        forward = gc.nn.conv1d(gc.constant(z), w.transpose(0, 1, 2), stride, padding)
        h = RNG.standard_normal(forward.shape.as_list())
        if data_format == "NCW":
            up = gc.nn.conv1d_transpose(h.transpose(0, 2, 1), w, [2, 4, width], stride,
                                        padding, data_format="NCW")
            up = gc.transpose(up, [0, 2, 1])
        else:
            up = gc.nn.conv1d_transpose(h, w, [2, width, 4], stride, padding)
        generic = gc.nn.conv_transpose(h, w, [2, width, 4], stride, padding)
        y, back, same = run(forward, up, generic)
    np.testing.assert_allclose(np.sum(y * h), np.sum(z * back), rtol=1e-10)
    assert back.shape == (2, width, 4) and np.array_equal(back, same)


def test_conv_transpose_dispatches_on_output_shape_rank():
    with gc.Graph().as_default():
        h2, w2 = RNG.standard_normal((1, 4, 4, 3)), RNG.standard_normal((3, 3, 2, 3))
        h3, w3 = RNG.standard_normal((1, 2, 2, 2, 3)), RNG.standard_normal((2, 2, 2, 2, 3))
        pairs = [(gc.nn.conv_transpose(h2, w2, [1, 8, 8, 2], 2),
                  gc.nn.conv2d_transpose(h2, w2, [1, 8, 8, 2], [1, 2, 2, 1])),
                 (gc.nn.conv_transpose(h3, w3, [1, 4, 4, 4, 2], 2),
                  gc.nn.conv3d_transpose(h3, w3, [1, 4, 4, 4, 2], [1, 2, 2, 2, 1]))]
        got = run(*[t for pair in pairs for t in pair])
        with pytest.raises(ValueError, match="3, 4 or 5 elements"):
            gc.nn.conv_transpose(h2, w2, [8, 8], 2)
    for generic, specific in zip(got[::2], got[1::2]):
        assert np.array_equal(generic, specific)


def test_conv1d_transpose_has_gradients():
    with gc.Graph().as_default():
        h = gc.constant(RNG.standard_normal((2, 4, 5)))
        w = gc.constant(RNG.standard_normal((3, 4, 5)))
        up = gc.nn.conv1d_transpose(h, w, [2, 8, 4], 2)
        grads = gc.gradients(gc.reduce_sum(up * up), [h, w])
        assert all(g is not None for g in grads)
        values = run(*grads)
    assert values[0].shape == (2, 4, 5) and values[1].shape == (3, 4, 5)


def test_compute_average_loss_sums_weighted_losses_over_the_global_batch():
    losses = RNG.random(6)
    with gc.Graph().as_default():
        plain = gc.nn.compute_average_loss(losses)
        weighted = gc.nn.compute_average_loss(losses, sample_weight=np.arange(6.0))
        scalar_weight = gc.nn.compute_average_loss(losses, sample_weight=0.5,
                                                   global_batch_size=24)
        per_pixel = gc.nn.compute_average_loss(RNG.random((3, 2)).astype(np.float32))
        got = run(plain, weighted, scalar_weight, per_pixel)
        with pytest.raises(ValueError, match="rank 1 or more"):
            gc.nn.compute_average_loss(1.0)
    np.testing.assert_allclose(got[:3], [losses.sum() / 6, (losses * np.arange(6)).sum() / 6,
                                         losses.sum() * 0.5 / 24])
    assert got[3].dtype == np.float32 and per_pixel.dtype == gc.float32


def test_scale_regularization_loss_is_their_sum_on_one_replica():
    with gc.Graph().as_default():
        total = gc.nn.scale_regularization_loss([gc.constant(1.5), gc.constant(2.0)])
        assert run(total)[0] == 3.5


@pytest.mark.parametrize("dtype", [np.float32, np.int32])
@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_approx_top_k_is_exact(dtype, axis):
    x = RNG.integers(-5, 5, size=(4, 6, 5)).astype(dtype)  # many ties
    if dtype == np.int32:
        x[0, 0, 0] = np.iinfo(np.int32).min  # a negation would overflow
    with gc.Graph().as_default():
        (big, big_at), (small, small_at) = run(gc.nn.approx_max_k(x, 3, axis),
                                               gc.math.approx_min_k(x, 2, axis))
    order_big = np.argsort(-x.astype(np.int64), axis=axis, kind="stable")
    order_small = np.argsort(x, axis=axis, kind="stable")
    want_big = np.take(order_big, range(3), axis=axis)
    want_small = np.take(order_small, range(2), axis=axis)
    assert np.array_equal(big_at, want_big) and np.array_equal(small_at, want_small)
    assert np.array_equal(big, np.take_along_axis(x, want_big, axis))
    assert np.array_equal(small, np.take_along_axis(x, want_small, axis))


def test_approx_top_k_refuses_bad_dimensions():
    with gc.Graph().as_default():
        with pytest.raises(ValueError, match="out of range"):
            gc.nn.approx_max_k(np.ones((2, 3)), 1, reduction_dimension=2)
        with pytest.raises(ValueError, match="rank of 1 or more"):
            gc.math.approx_min_k(3.0, 1)


def test_depthwise_gradient_aliases_are_the_native_ops():
    assert gc.nn.depthwise_conv2d_backprop_input is gc.nn.depthwise_conv2d_native_backprop_input
    assert gc.nn.depthwise_conv2d_backprop_filter is \
        gc.nn.depthwise_conv2d_native_backprop_filter
