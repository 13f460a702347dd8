"""tf.image.draw_bounding_boxes (graphc/ops/draw_boxes.py): TF 2.21's pixels
(tests/data/tf_draw_boxes.npz, made by tests/data/make_tf_draw_boxes.py), and its errors."""
import pathlib

import numpy as np
import pytest

import graphc as gc
from tests.draw_boxes_cases import cases

TF = np.load(pathlib.Path(__file__).parent / "data" / "tf_draw_boxes.npz")


@pytest.mark.parametrize("index", range(3))
def test_pixels_are_tfs(index):
    images, boxes, colors = cases()[index]
    with gc.Graph().as_default():
        drawn = gc.image.draw_bounding_boxes(images, boxes, colors=colors)
        with gc.Session() as sess:
            got = sess.run(drawn)
    want = TF[f"arr_{index}"]
    assert got.dtype == want.dtype and np.array_equal(got, want)
    assert not np.array_equal(got, images)  # something was drawn


def test_float16_images_and_no_boxes():
    images = np.full((1, 4, 4, 3), 0.25, np.float16)
    with gc.Graph().as_default():
        drawn = gc.image.draw_bounding_boxes(images, [[[0.0, 0.0, 1.0, 1.0]]])
        untouched = gc.image.draw_bounding_boxes(images, np.zeros((1, 0, 4), np.float32))
        with gc.Session() as sess:
            got, same = sess.run([drawn, untouched])
    assert got.dtype == np.float16 and got[0, 0, 0].tolist() == [1.0, 1.0, 0.0]
    assert got[0, 1, 1].tolist() == [0.25] * 3 and np.array_equal(same, images)


def test_bad_inputs_are_named():
    with gc.Graph().as_default():
        with pytest.raises(TypeError, match="float32 or float16, got uint8"):
            gc.image.draw_bounding_boxes(np.zeros((1, 2, 2, 3), np.uint8), [[[0, 0, 1, 1]]])
        wrong_batch = gc.image.draw_bounding_boxes(np.zeros((2, 3, 3, 3), np.float32),
                                                   [[[0, 0, 1, 1]]])
        narrow_colors = gc.image.draw_bounding_boxes(np.zeros((1, 3, 3, 4), np.float32),
                                                     [[[0, 0, 1, 1]]], colors=[[1.0, 0.0]])
        with gc.Session() as sess:
            with pytest.raises(gc.errors.InvalidArgumentError, match="batch=2"):
                sess.run(wrong_batch)
            with pytest.raises(gc.errors.InvalidArgumentError, match=">= 4"):
                sess.run(narrow_colors)
