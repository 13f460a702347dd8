"""tf.layers' 3-D convolution and pooling layers: TF1's variable names and shapes, output
shapes, the ops they compute, and clear errors."""
import numpy as np
import pytest

import graphc as gc


def test_conv3d_layer_is_conv3d_plus_bias_with_tf1_variables():
    with gc.Graph().as_default():
        x = gc.placeholder(gc.float32, [None, 4, 5, 6, 2])
        y = gc.layers.conv3d(x, 3, (2, 3, 1), strides=(1, 2, 1), padding="same",
                             activation=gc.nn.relu, bias_initializer=gc.ones_initializer())
        kernel, bias = gc.trainable_variables()
        assert [kernel.name, bias.name] == ["conv3d/kernel:0", "conv3d/bias:0"]
        assert kernel.shape == [2, 3, 1, 2, 3] and y.shape.as_list() == [None, 4, 3, 6, 3]
        direct = gc.nn.relu(gc.nn.conv3d(x, kernel, [1, 1, 2, 1, 1], "SAME") + bias)
        pooled = gc.layers.max_pooling3d(y, 2, 2)
        averaged = gc.layers.AveragePooling3D((1, 2, 2), strides=1, padding="same")(y)
        assert pooled.shape.as_list() == [None, 2, 1, 3, 3]
        assert averaged.shape.as_list() == [None, 4, 3, 6, 3]
        value = np.random.default_rng(1).normal(size=(2, 4, 5, 6, 2)).astype(np.float32)
        with gc.Session() as sess:
            sess.run(gc.global_variables_initializer())
            got, want, got_pooled = sess.run([y, direct, pooled], {x: value})
        np.testing.assert_allclose(got, want, rtol=1e-6)
        np.testing.assert_array_equal(got_pooled, got[:, :4, :2, :6].reshape(
            2, 2, 2, 1, 2, 3, 2, 3).max(axis=(2, 4, 6)))


def test_3d_layers_reject_bad_arguments():
    with gc.Graph().as_default():
        with pytest.raises(ValueError, match="Conv3D: kernel_size must be a positive int or a "
                                             "triple"):
            gc.layers.Conv3D(2, (3, 3))
        with pytest.raises(ValueError, match="inputs need rank 5"):
            gc.layers.max_pooling3d(gc.zeros([1, 4, 4, 1]), 2, 2)
        with pytest.raises(ValueError, match="inputs need rank 5"):
            gc.layers.conv3d(gc.zeros([1, 4, 4, 1]), 2, 2)


def test_conv3d_transpose_layer_upsamples_like_tf1():
    with gc.Graph().as_default():
        x = gc.placeholder(gc.float32, [None, 2, 3, 2, 4])
        same = gc.layers.conv3d_transpose(x, 5, 3, strides=2, padding="same")
        valid = gc.layers.Conv3DTranspose(2, (2, 3, 1), strides=(1, 2, 3))(x)
        kernel = [v for v in gc.trainable_variables() if v.name == "conv3d_transpose/kernel:0"]
        assert kernel and kernel[0].shape == [3, 3, 3, 5, 4]
        assert same.shape.as_list() == [None, 4, 6, 4, 5]
        assert valid.shape.as_list() == [None, 3, 7, 6, 2]  # (size - 1) * stride + kernel
        direct = gc.nn.conv3d_transpose(x, kernel[0], gc.stack([gc.shape(x)[0], 4, 6, 4, 5]),
                                        [1, 2, 2, 2, 1], "SAME")
        value = np.random.default_rng(3).normal(size=(2, 2, 3, 2, 4)).astype(np.float32)
        with gc.Session() as sess:
            sess.run(gc.global_variables_initializer())
            got, want = sess.run([same, direct], {x: value})
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)  # bias starts at zero
