"""gc.image against values TensorFlow 1.15-compatible kernels computed (tf.compat.v1 of
TensorFlow 2.21, written here as literals): the resize coordinates of every method and
flag, their gradients, TF1's dtype rules, and the composed transforms."""
import numpy as np
import pytest

import graphc as gc

X = (np.arange(12, dtype=np.float32).reshape(1, 3, 4, 1) ** 1.5)

RESIZED = [  # (method, size, align_corners, half_pixel_centers, TF's result)
    ("bilinear", (5, 3), False, False, [
        [0., 1.609476, 4.406911], [4.8, 8.055314, 12.110256], [10.925484, 15.590218, 20.769224],
        [19.701935, 25.30325, 31.339436], [22.627417, 28.540926, 34.86284]]),
    ("bilinear", (5, 3), True, False, [
        [0., 1.914214, 5.196153], [4., 7.426426, 11.858206], [8., 12.938639, 18.520258],
        [15.313708, 21.125013, 27.501564], [22.627417, 29.311388, 36.482872]]),
    ("bilinear", (5, 3), False, True, [
        [0.166667, 1.914214, 4.801532], [3.512023, 6.323984, 10.034136],
        [8.530057, 12.938639, 17.88304], [17.425732, 22.762291, 28.55693],
        [23.35618, 29.311388, 35.672855]]),
    ("bicubic", (5, 6), False, False, [
        [0., 0.482379, 1.554735, 2.828427, 4.553023, 5.459233],
        [3.313286, 4.520089, 6.450509, 8.259416, 10.568184, 11.754951],
        [11.345628, 13.383038, 16.333559, 18.81909, 21.87608, 23.425533],
        [20.24249, 22.63549, 26.069494, 28.925886, 32.404312, 34.161907],
        [24.206661, 26.765564, 30.423534, 33.45017, 37.121758, 38.974655]]),
    ("bicubic", (5, 6), False, True, [
        [-0.659243, -0.311163, 0.458547, 1.605692, 3.227407, 4.338605],
        [2.040942, 2.820028, 4.21854, 5.807343, 7.876797, 9.256824],
        [7.790451, 9.289773, 11.744539, 14.088017, 16.927908, 18.772171],
        [17.582014, 19.50209, 22.602442, 25.473282, 28.878881, 31.072351],
        [23.438122, 25.555378, 28.963892, 32.098915, 35.7924, 38.164886]]),
    ("bicubic", (2, 7), True, False, [
        [0., 0.328585, 1., 1.785989, 2.828427, 4.183705, 5.196153],
        [22.627417, 24.380323, 27., 29.265682, 31.622776, 34.48621, 36.482872]]),
    ("area", (2, 3), False, False, [[3.098362, 5.589023, 8.92429],
                                    [18.745403, 23.853806, 29.366707]]),
    ("area", (5, 6), True, False, [
        [0., 0.333333, 1., 2.218952, 2.828427, 5.196154],
        [0., 0.333333, 1., 2.218952, 2.828427, 5.196154],
        [8., 9.060114, 11.18034, 13.52474, 14.696937, 18.520262],
        [8., 9.060114, 11.18034, 13.52474, 14.696937, 18.520262],
        [22.627417, 24.084946, 27., 30.081854, 31.622772, 36.48288]]),
    ("nearest_neighbor", (2, 7), True, False, [
        [0., 1., 1., 2.828427, 2.828427, 5.196153, 5.196153],
        [22.627417, 27., 27., 31.622776, 31.622776, 36.482872, 36.482872]]),
    ("nearest_neighbor", (5, 3), False, True, [
        [0., 2.828427, 5.196153], [0., 2.828427, 5.196153], [8., 14.696939, 18.520258],
        [22.627417, 31.622776, 36.482872], [22.627417, 31.622776, 36.482872]]),
    ("nearest_neighbor", (5, 3), False, False, [
        [0., 1., 2.828427], [0., 1., 2.828427], [8., 11.18034, 14.696939],
        [8., 11.18034, 14.696939], [22.627417, 27., 31.622776]]),
]

GRADIENTS = [  # d/dX of sum(resize(X) * arange), from TF's ResizeBilinearGrad & co.
    ("bilinear", (5, 3), False, True, [[1.5, 2., 2.533332, 4.166667],
                                       [8.999999, 8.099999, 8.699997, 12.000001],
                                       [14.5, 12.400001, 12.933331, 17.16667]]),
    ("nearest_neighbor", (2, 7), True, False, [[0., 3., 7., 11.], [0., 0., 0., 0.],
                                               [7., 17., 21., 25.]]),
    ("bicubic", (5, 6), False, True, [[5.344117, 8.857953, 12.620429, 16.884502],
                                      [30.666769, 33.24131, 36.9176, 41.942776],
                                      [57.42743, 59.183403, 62.94588, 68.96781]]),
]


def _run(fetches, feeds=None):
    with gc.Session() as sess:
        return sess.run(fetches, feeds)


@pytest.fixture(autouse=True)
def _fresh_graph():
    with gc.Graph().as_default():
        yield


@pytest.mark.parametrize("method,size,align,half,expected", RESIZED)
def test_resize_matches_tensorflow(method, size, align, half, expected):
    resize = getattr(gc.image, "resize_" + method)
    out = resize(gc.constant(X), size, align_corners=align, half_pixel_centers=half)
    assert out.dtype == gc.float32 and out.shape.as_list() == [1, *size, 1]
    np.testing.assert_allclose(_run(out)[0, :, :, 0], expected, rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("method,size,align,half,expected", GRADIENTS)
def test_resize_gradient_matches_tensorflow(method, size, align, half, expected):
    x = gc.constant(X)
    out = getattr(gc.image, "resize_" + method)(x, size, align_corners=align,
                                                half_pixel_centers=half)
    weights = np.arange(size[0] * size[1], dtype=np.float32).reshape(1, *size, 1)
    (grad,) = gc.gradients(gc.reduce_sum(out * weights), [x])
    assert grad.dtype == gc.float32
    np.testing.assert_allclose(_run(grad)[0, :, :, 0], expected, rtol=2e-6, atol=2e-6)


def test_resize_images_dtypes_and_ranks_follow_tf1():
    """Bilinear gives float32 even for uint8; nearest keeps uint8; an unchanged static
    size returns the images themselves; 3-D images stay 3-D; a size fed at run time works."""
    u8 = gc.constant(np.arange(24, dtype=np.uint8).reshape(2, 3, 4, 1))
    method = gc.image.ResizeMethod
    assert gc.image.resize_images(u8, [5, 5]).dtype == gc.float32
    assert gc.image.resize_images(u8, [5, 5], method=method.NEAREST_NEIGHBOR).dtype == gc.uint8
    assert gc.image.resize_images(u8, [3, 4]) is u8
    single = gc.image.resize(gc.constant(X[0]), [6, 8], method=method.AREA)
    assert single.shape.as_list() == [6, 8, 1]
    size = gc.placeholder(gc.int32, [2])
    fed = gc.image.resize_bilinear(gc.constant(X), size)
    assert fed.shape.as_list() == [1, None, None, 1]
    np.testing.assert_allclose(_run(fed, {size: [5, 3]})[0, :, :, 0], RESIZED[0][4], rtol=2e-6)
    with pytest.raises(gc.errors.InvalidArgumentError, match="dimensions must be positive"):
        _run(fed, {size: [0, 3]})


def test_resize_errors_name_the_op_and_shapes():
    with pytest.raises(ValueError, match="resize_bilinear: images must be 4-dimensional"):
        gc.image.resize_bilinear(gc.constant(X[0]), [2, 2])
    with pytest.raises(ValueError, match="resize_images: 'images' must have either 3 or 4"):
        gc.image.resize_images(gc.constant(X[0, 0]), [2, 2])
    with pytest.raises(ValueError, match="not implemented"):
        gc.image.resize_images(gc.constant(X), [2, 2], method=7)
    with pytest.raises(ValueError, match="half_pixel_centers is True, align_corners"):
        gc.image.resize_nearest_neighbor(gc.constant(X), [2, 2], True, half_pixel_centers=True)


def test_preserve_aspect_ratio_scales_by_the_smaller_factor():
    out = gc.image.resize_images(gc.constant(np.ones((5, 6, 3), np.float32)), [10, 20],
                                 preserve_aspect_ratio=True)
    assert out.shape.as_list() == [10, 12, 3]  # TF: min(10/5, 20/6) = 2


def test_convert_image_dtype_scales_and_saturates_like_tf1():
    u8 = gc.constant(np.array([0, 37, 128, 255], np.uint8))
    floats = gc.constant(np.array([0.0, 0.5, 0.999, 1.2, -0.1], np.float32))
    values = _run([gc.image.convert_image_dtype(floats, gc.uint8, saturate=True),
                   gc.image.convert_image_dtype(u8, gc.float32),
                   gc.image.convert_image_dtype(u8, gc.int16)])
    np.testing.assert_array_equal(values[0], [0, 127, 255, 255, 0])
    np.testing.assert_allclose(values[1], [0., 0.145098, 0.501961, 1.], rtol=1e-6)
    np.testing.assert_array_equal(values[2], [0, 4736, 16384, 32640])
    with pytest.raises(AttributeError, match="floating point or integer"):
        gc.image.convert_image_dtype(u8, gc.bool)


def test_adjustments_and_measures_match_tensorflow():
    x = (np.arange(24, dtype=np.float32).reshape(2, 3, 4, 1) % 7) / 7
    u8 = gc.constant(np.array([[[[0], [37], [128], [255]]]], np.uint8))
    std, contrast, gray, tv, psnr = _run([
        gc.image.per_image_standardization(gc.constant(x[0])),
        gc.image.adjust_contrast(u8, 1.5),
        gc.image.rgb_to_grayscale(gc.constant([[[0.2, 0.4, 0.9]]])),
        gc.image.total_variation(gc.constant(x)),
        gc.image.psnr(gc.constant(x), gc.constant(x * 0.5), 1.0)])
    np.testing.assert_allclose(std.ravel(), [-1.278419, -0.783547, -0.288675, 0.206196,
                                             0.701068, 1.19594, 1.690812, -1.278419,
                                             -0.783547, -0.288675, 0.206196, 0.701068],
                               rtol=1e-5)
    np.testing.assert_array_equal(contrast.ravel(), [0, 3, 139, 255])
    np.testing.assert_allclose(gray.ravel(), [0.39718], rtol=1e-6)
    np.testing.assert_allclose(tv, [6., 6.571428], rtol=1e-6)
    np.testing.assert_allclose(psnr, [12.886518, 11.755376], rtol=1e-6)


def test_transforms_of_single_and_batched_images():
    batch = np.arange(2 * 3 * 4 * 2, dtype=np.float32).reshape(2, 3, 4, 2)
    x, one = gc.constant(batch), gc.constant(batch[0])
    image = gc.image
    got = _run([image.flip_left_right(x), image.flip_up_down(one), image.rot90(x, 1),
                image.rot90(one, 3), image.transpose_image(x),
                image.crop_to_bounding_box(x, 1, 1, 2, 2),
                image.pad_to_bounding_box(one, 1, 0, 5, 5),
                image.resize_image_with_crop_or_pad(x, 1, 6), image.central_crop(one, 0.5)])
    np.testing.assert_array_equal(got[0], batch[:, :, ::-1])
    np.testing.assert_array_equal(got[1], batch[0, ::-1])
    np.testing.assert_array_equal(got[2], np.rot90(batch, 1, axes=(1, 2)))
    np.testing.assert_array_equal(got[3], np.rot90(batch[0], 3))
    np.testing.assert_array_equal(got[4], batch.transpose(0, 2, 1, 3))
    np.testing.assert_array_equal(got[5], batch[:, 1:3, 1:3])
    np.testing.assert_array_equal(got[6], np.pad(batch[0], [[1, 1], [0, 1], [0, 0]]))
    np.testing.assert_array_equal(got[7], np.pad(batch[:, 1:2], [[0, 0], [0, 0], [1, 1],
                                                                 [0, 0]]))
    np.testing.assert_array_equal(got[8], batch[0, :, 1:3])  # TF: int(0.75) = 0 rows off
    with pytest.raises(ValueError, match="width must be >= target \\+ offset"):
        image.crop_to_bounding_box(x, 0, 2, 2, 3)
    with pytest.raises(ValueError, match="must be at least three-dimensional"):
        image.flip_left_right(gc.constant(batch[0, 0]))
    with pytest.raises(ValueError, match="central_fraction must be within"):
        image.central_crop(one, 0.0)


def test_random_flips_are_seeded_and_per_image():
    """With a graph seed the draws repeat across Sessions; each image of a batch is
    either itself or its mirror, and both happen."""
    gc.set_random_seed(11)
    batch = np.random.default_rng(0).normal(size=(64, 2, 3, 1)).astype(np.float32)
    flipped = gc.image.random_flip_left_right(gc.constant(batch))
    single = gc.image.random_flip_up_down(gc.constant(batch[0]), seed=4)
    first, one = _run([flipped, single])
    again, one_again = _run([flipped, single])
    same = (first == batch).all(axis=(1, 2, 3))
    mirrored = (first == batch[:, :, ::-1]).all(axis=(1, 2, 3))
    assert (same | mirrored).all() and same.any() and mirrored.any()
    assert (one == batch[0]).all() or (one == batch[0, ::-1]).all()
    with gc.Session() as sess:
        np.testing.assert_array_equal(sess.run(flipped), first)
    assert again.shape == first.shape and one_again.shape == one.shape


def test_random_brightness_and_contrast_stay_in_range():
    image = gc.constant(np.full((4, 4, 3), 0.5, np.float32))
    bright = gc.image.random_brightness(image, 0.2, seed=1)
    contrast = gc.image.random_contrast(gc.constant(X[0]), 0.5, 1.5, seed=1)
    value, scaled = _run([bright, contrast])
    assert np.ptp(value) == 0 and 0.3 <= value.flat[0] < 0.7
    assert scaled.shape == X[0].shape
    with pytest.raises(ValueError, match="max_delta must be non-negative"):
        gc.image.random_brightness(image, -1.0)
    with pytest.raises(ValueError, match="upper must be > lower"):
        gc.image.random_contrast(image, 1.0, 1.0)


def test_image_gradients_pad_the_last_row_and_column():
    batch = np.arange(12, dtype=np.float32).reshape(1, 3, 4, 1) ** 2
    dy, dx = _run(gc.image.image_gradients(gc.constant(batch)))
    np.testing.assert_array_equal(dy[:, :-1], np.diff(batch, axis=1))
    np.testing.assert_array_equal(dx[:, :, :-1], np.diff(batch, axis=2))
    assert not dy[:, -1].any() and not dx[:, :, -1].any()


def test_ssim_matches_tensorflow():
    a = (np.arange(2 * 12 * 12 * 2, dtype=np.float32).reshape(2, 12, 12, 2) % 7) / 7
    batch, single, same = _run([gc.image.ssim(a, a ** 2, 1.0),
                                gc.image.ssim(a[0], a[0] ** 2, 1.0, filter_size=3,
                                              filter_sigma=0.7),
                                gc.image.ssim(a, a, 1.0)])
    np.testing.assert_allclose(batch, [0.85454977, 0.85478365], rtol=1e-6)
    np.testing.assert_allclose(single, 0.85021794, rtol=1e-6)
    np.testing.assert_allclose(same, [1.0, 1.0], rtol=1e-6)
    with pytest.raises(ValueError, match="ssim: images of 5x12 are smaller than filter_size"):
        gc.image.ssim(a[:, :5], a[:, :5], 1.0)


def test_colour_adjustments_match_tensorflow():
    rgb = np.array([[[0.5, 0.5, 0.5], [0., 0., 0.], [1., 0., 1.], [0.2, 0.9, 0.9],
                     [0.9, 0.3, 0.1], [0.1, 0.6, 0.2]]], np.float32)
    image = gc.image
    hsv, saturated, hue, gamma, back = _run([
        image.rgb_to_hsv(rgb), image.adjust_saturation(rgb, 0.4), image.adjust_hue(rgb, -0.45),
        image.adjust_gamma((rgb * 255).astype(np.uint8), 0.5),
        image.hsv_to_rgb(image.rgb_to_hsv(rgb))])
    np.testing.assert_allclose(hsv.ravel(), [
        0., 0., 0.5, 0., 0., 0., 0.833333, 1., 1., 0.5, 0.777778, 0.9, 0.041667, 0.888889, 0.9,
        0.366667, 0.833333, 0.6], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(saturated.ravel(), [
        0.5, 0.5, 0.5, 0., 0., 0., 1., 0.6, 1., 0.62, 0.9, 0.9, 0.9, 0.66, 0.58, 0.4, 0.6, 0.44],
        rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(hue.ravel(), [
        0.5, 0.5, 0.5, 0., 0., 0., 0., 1., 0.3, 0.9, 0.41, 0.2, 0.1, 0.46, 0.9, 0.6, 0.1, 0.35],
        rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(gamma.ravel(), [180, 180, 180, 0, 0, 0, 255, 0, 255, 114,
                                                  242, 242, 242, 139, 80, 80, 197, 114])
    np.testing.assert_allclose(back, rgb, atol=1e-6)
    with pytest.raises(ValueError, match="max_delta must be <= 0.5"):
        image.random_hue(rgb, 0.6)
    with pytest.raises(ValueError, match="Gamma should be a non-negative"):
        image.adjust_gamma(rgb, -1.0)


def test_resize_image_with_pad_matches_tensorflow():
    image = np.arange(6, dtype=np.float32).reshape(2, 3, 1)
    padded = gc.image.resize_image_with_pad(image, 4, 4, gc.image.ResizeMethod.NEAREST_NEIGHBOR)
    np.testing.assert_array_equal(_run(padded).ravel(), [0., 0., 1., 2., 3., 3., 4., 5., 0., 0.,
                                                         0., 0., 0., 0., 0., 0.])


def test_random_colour_draws_are_seeded():
    gc.set_random_seed(3)
    rgb = np.random.default_rng(2).uniform(size=(4, 4, 3)).astype(np.float32)
    hue = gc.image.random_hue(rgb, 0.2)
    saturation = gc.image.random_saturation(rgb, 0.5, 1.5)
    first = _run([hue, saturation])
    second = _run([hue, saturation])
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(first[0], rgb)


def test_yiq_yuv_and_sobel_match_tensorflow():
    rgb = np.array([[[0.2, 0.5, 0.9]]], np.float32)
    squares = (np.arange(12, dtype=np.float32) ** 2).reshape(1, 3, 4, 1)
    yiq, yuv, back, edges = _run([gc.image.rgb_to_yiq(rgb), gc.image.rgb_to_yuv(rgb),
                                  gc.image.yuv_to_rgb(gc.image.rgb_to_yuv(rgb)),
                                  gc.image.sobel_edges(squares)])
    np.testing.assert_allclose(yiq.ravel(), [0.4559, -0.307308, 0.061011], rtol=1e-5)
    np.testing.assert_allclose(yuv.ravel(), [0.4559, 0.218546, -0.224497], rtol=1e-5)
    np.testing.assert_allclose(back, rgb, atol=1e-6)
    assert edges.shape == (1, 3, 4, 1, 2)
    np.testing.assert_array_equal(edges.ravel(), [
        0., 0., 0., 48., 0., 64., 0., 0., 288., 0., 320., 80., 384., 96., 416., 0., 0., 0., 0.,
        112., 0., 128., 0., 0.])
    assert gc.image.resize_with_crop_or_pad is gc.image.resize_image_with_crop_or_pad
    assert gc.image.random_crop is gc.random_crop


def test_sample_distorted_bounding_box_keeps_tf1s_constraints():
    """Every crop has an aspect ratio and area in range (up to TF's rounding to pixels),
    covers enough of the box, repeats with the graph seed; impossible constraints give the
    whole image; boxes outside [0, 1] fail at run time."""
    gc.set_random_seed(5)
    size = gc.placeholder(gc.int32, [3])
    box = [[[0.1, 0.2, 0.5, 0.6]]]
    begin, extent, window = gc.image.sample_distorted_bounding_box(
        size, box, min_object_covered=0.5, aspect_ratio_range=(0.5, 2.0), area_range=(0.1, 0.9))
    whole = gc.image.sample_distorted_bounding_box(size, box, min_object_covered=1.0,
                                                   area_range=(0.05, 0.06))
    feeds = {size: [60, 90, 3]}
    with gc.Session() as sess:
        draws = [sess.run([begin, extent, window], feeds) for _ in range(20)]
        first_whole = sess.run(whole, feeds)
    with gc.Session() as sess:
        np.testing.assert_array_equal(sess.run(begin, feeds), draws[0][0])
    for (y, x, _), (h, w, depth), (y1, x1, y2, x2) in (
            (b, s, win.reshape(4)) for b, s, win in draws):
        assert depth == -1 and 0 <= y and y + h <= 60 and 0 <= x and x + w <= 90
        assert 0.1 * 5400 <= h * w <= 0.9 * 5400 and 0.5 - 0.05 <= w / h <= 2.0 + 0.05
        covered = max(0, min(y + h, 30) - max(y, 6)) * max(0, min(x + w, 54) - max(x, 18))
        assert covered >= 0.5 * 24 * 36
        np.testing.assert_allclose([y1, x1, y2, x2], [y / 60, x / 90, (y + h) / 60, (x + w) / 90],
                                   rtol=1e-6)
    assert len({tuple(b) for b, _, _ in draws}) > 1
    np.testing.assert_array_equal(first_whole[1], [60, 90, -1])
    bad = gc.image.sample_distorted_bounding_box(size, [[[0.1, 0.2, 1.5, 0.6]]])
    with pytest.raises(gc.errors.InvalidArgumentError, match="must be in \\[0.0, 1.0\\]"):
        _run(bad, feeds)
    with pytest.raises(ValueError, match="area_range must be in"):
        gc.image.sample_distorted_bounding_box(size, box, area_range=(0.0, 2.0))


def test_slice_with_run_time_begin_crops_the_sampled_box():
    """TF1's inception preprocessing: tf.slice(image, begin, size) with the sampled box
    (gc.slice needed constant begin and size before), and its gradient."""
    gc.set_random_seed(8)
    image = gc.constant(np.arange(20 * 30 * 2, dtype=np.float32).reshape(20, 30, 2))
    begin, size, _ = gc.image.sample_distorted_bounding_box(
        gc.shape(image), [[[0.0, 0.0, 1.0, 1.0]]], area_range=(0.2, 0.5))
    crop = gc.slice(image, begin, size)
    assert crop.shape.rank == 3
    offset = gc.placeholder(gc.int32, [2])
    window = gc.slice(image, gc.concat([offset, [0]], 0), [3, 4, -1])
    assert window.shape.as_list() == [3, 4, None]
    (grad,) = gc.gradients(gc.reduce_sum(window), [image])
    (b, s, c), (w, g) = _run([begin, size, crop]), _run([window, grad], {offset: [5, 7]})
    np.testing.assert_array_equal(c, _run(image)[b[0]:b[0] + s[0], b[1]:b[1] + s[1]])
    np.testing.assert_array_equal(w, _run(image)[5:8, 7:11])
    assert g.sum() == 3 * 4 * 2 and g[5:8, 7:11].all()
    with pytest.raises(gc.errors.InvalidArgumentError, match="inside dimension 0"):
        _run(window, {offset: [18, 0]})


def test_ssim_multiscale_matches_tensorflow():
    """Five scales with odd sizes (SYMMETRIC-padded before each 2x2 pooling), and custom
    power factors on a single image."""
    a = (np.arange(177 * 183, dtype=np.float32).reshape(1, 177, 183, 1) % 11) / 11
    batch, single = _run([gc.image.ssim_multiscale(a, a ** 2, 1.0),
                          gc.image.ssim_multiscale(a[0], np.sqrt(a[0]), 1.0,
                                                   power_factors=(0.3, 0.7), filter_size=5)])
    np.testing.assert_allclose(batch, [0.9617666], rtol=1e-5)
    np.testing.assert_allclose(single, 0.9291262, rtol=1e-5)
    with pytest.raises(ValueError, match="smaller than filter_size"):
        gc.image.ssim_multiscale(a[:, :100, :100], a[:, :100, :100], 1.0)
