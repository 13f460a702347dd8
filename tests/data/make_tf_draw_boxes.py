"""Writes tf_draw_boxes.npz: TensorFlow's tf.image.draw_bounding_boxes on the cases of
tests/draw_boxes_cases.py (run with TensorFlow installed: python tests/data/make_tf_draw_boxes.py).
"""
import pathlib
import sys

import numpy as np
import tensorflow as tf

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from tests.draw_boxes_cases import cases  # noqa: E402

results = [tf.image.draw_bounding_boxes(images, boxes, np.zeros((0, 4), np.float32)
                                        if colors is None else colors).numpy()
           for images, boxes, colors in cases()]
np.savez_compressed(pathlib.Path(__file__).parent / "tf_draw_boxes.npz", *results,
                    tensorflow_version=tf.__version__)
