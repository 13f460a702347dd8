"""space/depth/batch moves, roll, extract_image_patches, max_pool_with_argmax, crelu and
random_crop against values TensorFlow (tf.compat.v1 of 2.21) computed, as literals."""
import numpy as np
import pytest

import graphc as gc

PATCH_INPUT = np.arange(36, dtype=np.float32).reshape(2, 3, 3, 2)

PATCHES_SAME = [  # ksizes 2x2, strides (2, 1), rates (1, 2), SAME: shape (2, 2, 3, 8)
    0., 0., 2., 3., 0., 0., 8., 9., 0., 1., 4., 5., 6., 7., 10., 11., 2., 3., 0., 0., 8., 9.,
    0., 0., 0., 0., 14., 15., 0., 0., 0., 0., 12., 13., 16., 17., 0., 0., 0., 0., 14., 15., 0.,
    0., 0., 0., 0., 0., 0., 0., 20., 21., 0., 0., 26., 27., 18., 19., 22., 23., 24., 25., 28.,
    29., 20., 21., 0., 0., 26., 27., 0., 0., 0., 0., 32., 33., 0., 0., 0., 0., 30., 31., 34.,
    35., 0., 0., 0., 0., 32., 33., 0., 0., 0., 0., 0., 0.]

ARGMAX_GRAD = [  # d/dx sum(max_pool_with_argmax(x, 3x3, SAME)[0] * arange)
    0., 0., 0., 0., 0., 0., 0., 0., 0., 1., 6., 8., 0., 0., 18., 20., 48., 52., 0., 0., 0., 0.,
    0., 0., 0., 0., 18., 19., 42., 44., 0., 0., 54., 56., 120., 124.]


@pytest.fixture(autouse=True)
def _fresh_graph():
    with gc.Graph().as_default():
        yield


def _run(fetches, feeds=None):
    with gc.Session() as sess:
        return sess.run(fetches, feeds)


def test_space_depth_and_batch_moves_match_tensorflow():
    got = _run([gc.space_to_depth(np.arange(16).reshape(1, 2, 4, 2), 2),
                gc.depth_to_space(np.arange(16).reshape(1, 1, 2, 8), 2),
                gc.space_to_batch_nd(np.arange(12).reshape(1, 3, 4, 1), [2, 2],
                                     [[1, 0], [2, 2]]),
                gc.batch_to_space_nd(np.arange(16).reshape(4, 2, 2, 1), [2, 2],
                                     [[1, 0], [0, 1]]),
                gc.roll(np.arange(10).reshape(2, 5), [1, -3, 2], [1, 0, 1])])
    blocks = [0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15]
    np.testing.assert_array_equal(got[0].ravel(), blocks)
    np.testing.assert_array_equal(got[1].ravel(), blocks)
    np.testing.assert_array_equal(got[2].ravel(), [
        0, 0, 0, 0, 0, 4, 6, 0, 0, 0, 0, 0, 0, 5, 7, 0, 0, 0, 2, 0, 0, 8, 10, 0, 0, 1, 3, 0,
        0, 9, 11, 0])
    np.testing.assert_array_equal(got[3].ravel(), [8, 12, 9, 2, 6, 3, 10, 14, 11])
    np.testing.assert_array_equal(got[4], [[7, 8, 9, 5, 6], [2, 3, 4, 0, 1]])
    assert gc.space_to_batch(gc.zeros([1, 4, 4, 1]), [[0, 0], [0, 0]], 2).shape == [4, 2, 2, 1]
    assert gc.nn.space_to_depth is gc.space_to_depth


def test_extract_image_patches_matches_tensorflow():
    same = gc.extract_image_patches(PATCH_INPUT, ksizes=[1, 2, 2, 1], strides=[1, 2, 1, 1],
                                    rates=[1, 1, 2, 1], padding="SAME")
    valid = gc.image.extract_image_patches(PATCH_INPUT, [1, 2, 2, 1], [1, 1, 1, 1],
                                           [1, 1, 1, 1], "VALID")
    assert same.shape == [2, 2, 3, 8] and valid.shape == [2, 2, 2, 8]
    got_same, got_valid = _run([same, valid])
    np.testing.assert_array_equal(got_same.ravel(), PATCHES_SAME)
    np.testing.assert_array_equal(got_valid.ravel()[:20], [
        0., 1., 2., 3., 6., 7., 8., 9., 2., 3., 4., 5., 8., 9., 10., 11., 6., 7., 8., 9.])


def test_extract_image_patches_gradient_counts_each_pixels_patches():
    """The gradient of the sum of all patches is how many patches hold each pixel."""
    x = gc.constant(np.ones((1, 3, 3, 1), np.float32))
    patches = gc.extract_image_patches(x, [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "VALID")
    (grad,) = gc.gradients(gc.reduce_sum(patches), [x])
    np.testing.assert_array_equal(_run(grad)[0, :, :, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


def test_max_pool_with_argmax_matches_tensorflow():
    nan, inf = np.nan, np.inf
    image = np.array([[[[nan], [1.0], [-inf]], [[2.0], [2.0], [-inf]],
                       [[nan], [nan], [-inf]]]], np.float32)
    valid = gc.nn.max_pool_with_argmax(image, [1, 2, 2, 1], [1, 1, 1, 1], "VALID")
    same = gc.nn.max_pool_with_argmax(image, [1, 2, 2, 1], [1, 1, 1, 1], "SAME")
    batch = gc.nn.max_pool_with_argmax(PATCH_INPUT, [1, 2, 2, 1], [1, 2, 2, 1], "SAME",
                                       include_batch_in_index=True)
    plain = gc.nn.max_pool_with_argmax(PATCH_INPUT, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
    assert valid[1].dtype == gc.int64
    (v_out, v_arg), (s_out, s_arg), (_, b_arg), (_, p_arg) = _run([valid, same, batch, plain])
    np.testing.assert_array_equal(v_out[0, :, :, 0], [[nan, 2.0], [2.0, 2.0]])
    np.testing.assert_array_equal(v_arg[0, :, :, 0], [[0, 4], [3, 4]])
    np.testing.assert_array_equal(s_out[0, :, :, 0], [[nan, 2, -inf], [2, 2, -inf],
                                                      [nan, nan, -inf]])
    np.testing.assert_array_equal(s_arg[0, :, :, 0], [[0, 4, 2], [3, 4, 5], [6, 7, 8]])
    np.testing.assert_array_equal(b_arg.ravel(), [8, 9, 10, 11, 14, 15, 16, 17, 26, 27, 28,
                                                  29, 32, 33, 34, 35])
    np.testing.assert_array_equal(p_arg.ravel(), [8, 9, 10, 11, 14, 15, 16, 17] * 2)


def test_max_pool_with_argmax_gradient_matches_tensorflow():
    x = gc.constant(PATCH_INPUT)
    pooled, _ = gc.nn.max_pool_with_argmax(x, [1, 3, 3, 1], [1, 1, 1, 1], "SAME")
    weights = np.arange(36, dtype=np.float32).reshape(2, 3, 3, 2)
    (grad,) = gc.gradients(gc.reduce_sum(pooled * weights), [x])
    np.testing.assert_array_equal(_run(grad).ravel(), ARGMAX_GRAD)


def test_crelu_and_bad_inputs():
    np.testing.assert_array_equal(_run(gc.nn.crelu([-1.0, 2.0])), [0.0, 2.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="only data_format 'NHWC'"):
        gc.nn.max_pool_with_argmax(PATCH_INPUT, [1, 2, 2, 1], [1, 1, 1, 1], "SAME", "NCHW")
    with pytest.raises(ValueError, match="ksizes, strides, rates and padding are required"):
        gc.extract_image_patches(PATCH_INPUT, [1, 2, 2, 1])
    with pytest.raises(ValueError, match="block_size"):
        gc.space_to_batch(PATCH_INPUT, [[0, 0], [0, 0]])


def test_random_crop_is_a_seeded_window():
    gc.set_random_seed(2)
    value = np.arange(4 * 5 * 3, dtype=np.float32).reshape(4, 5, 3)
    fed = gc.placeholder(gc.float32, [None, 5, 3])
    crop = gc.random_crop(fed, [2, 3, 3], seed=1)
    assert crop.shape == [2, 3, 3]
    first = _run(crop, {fed: value})
    top, left = np.argwhere(value[:, :, 0] == first[0, 0, 0])[0]
    np.testing.assert_array_equal(first, value[top:top + 2, left:left + 3])
    np.testing.assert_array_equal(_run(crop, {fed: value}), first)  # same seed, new Session
    with pytest.raises(gc.errors.InvalidArgumentError, match="Need value.shape >= size"):
        _run(crop, {fed: value[:1]})
    with pytest.raises(ValueError, match="Need value.shape >= size"):
        gc.random_crop(value, [5, 1, 1])


def test_non_max_suppression_matches_tensorflow():
    """TF's example boxes (one with its corners swapped): the best box of each cluster,
    score threshold strict, equal scores taken by lower index."""
    boxes = np.array([[0, 0, 1, 1], [0, 0.1, 1, 1.1], [0, -0.1, 1, 0.9], [0, 10, 1, 11],
                      [1, 10.1, 0, 11.1], [0, 100, 1, 101]], np.float32)
    scores = np.array([0.9, 0.75, 0.6, 0.95, 0.5, 0.3], np.float32)
    nms = gc.image.non_max_suppression
    got = _run([nms(boxes, scores, 3), nms(boxes, scores, 6, 0.4, 0.4),
                nms(boxes, np.ones(6, np.float32), 6, 0.99)])
    assert got[0].dtype == np.int32
    np.testing.assert_array_equal(got[0], [3, 0, 5])
    np.testing.assert_array_equal(got[1], [3, 0])
    np.testing.assert_array_equal(got[2], [0, 1, 2, 3, 4, 5])
    keep, kept_scores = _run(gc.image.non_max_suppression_with_scores(boxes, scores, 6, 0.5, 0.1,
                                                                      soft_nms_sigma=0.5))
    np.testing.assert_array_equal(keep, [3, 0, 1, 5, 4, 2])  # Soft-NMS decays, drops none
    np.testing.assert_allclose(kept_scores, [0.95, 0.9, 0.38400355, 0.3, 0.2560026, 0.19697244],
                               rtol=1e-6)
    size = gc.placeholder(gc.int32, [])
    with pytest.raises(gc.errors.InvalidArgumentError, match="max_output_size must be"):
        _run(nms(boxes, scores, size), {size: -1})


def test_crop_and_resize_and_its_gradients_match_tensorflow():
    """Bilinear crops, extrapolation outside the image, and the gradients for the image
    and for the box corners (TF's CropAndResizeGradImage / GradBoxes)."""
    image = gc.constant(np.arange(12, dtype=np.float32).reshape(1, 3, 4, 1) ** 1.5)
    boxes = gc.constant(np.array([[0.1, 0.2, 0.8, 0.9], [-0.5, 0.0, 0.5, 1.0]], np.float32))
    crops = gc.image.crop_and_resize(image, boxes, [0, 0], [2, 3], extrapolation_value=-1.0)
    weights = np.arange(12, dtype=np.float32).reshape(2, 2, 3, 1)
    d_image, d_boxes = gc.gradients(gc.reduce_sum(crops * weights), [image, boxes])
    got = _run([crops, d_image, d_boxes])
    np.testing.assert_allclose(got[0].ravel(), [
        2.461641, 4.444008, 7.06332, 19.113861, 23.389336, 27.96421, -1., -1., -1., 8.,
        12.938639, 18.520258], rtol=1e-6)
    np.testing.assert_allclose(got[1].ravel(), [
        0., 0.28, 1., 1.12, 9.48, 6.35, 6.89, 12.679999, 0.72, 1.92, 2.460001, 2.099999],
        rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[2].ravel(), [
        74.10501, 63.392097, 400.8818, 110.96476, 0., 52.748978, 0., 52.748978], rtol=1e-5)
    with pytest.raises(ValueError, match="crop_and_resize: method must be"):
        gc.image.crop_and_resize(image, boxes, [0, 0], [2, 2], method="bicubic")
