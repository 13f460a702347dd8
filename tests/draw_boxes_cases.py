"""The draw_bounding_boxes cases of tests/test_draw_boxes.py (and of its TF maker script)."""
import numpy as np


def cases():
    """``[(images, boxes, colors or None), ...]``: boxes inside, clipped, inverted, outside,
    degenerate, more boxes than colors; RGB and grey images."""
    rng = np.random.default_rng(4)
    images = rng.random((2, 7, 9, 3)).astype(np.float32)
    grey = rng.random((1, 6, 5, 1)).astype(np.float32)
    first = [[0.1, 0.2, 0.8, 0.9], [0.5, -0.2, 1.3, 0.4], [0.9, 0.5, 0.2, 0.6],
             [1.2, 0.1, 1.5, 0.5], [0.0, 0.0, 1.0, 1.0]] + [[0.3, 0.3, 0.6, 0.7]] * 7
    second = [[-0.5, -0.5, 0.5, 0.5], [0.2, 0.3, 0.2, 0.3]] + [
        [0.1 * i, 0.05 * i, 0.1 * i + 0.3, 0.05 * i + 0.4] for i in range(10)]
    boxes = np.array([first, second], np.float32)
    colors = np.array([[0.25, 0.5, 0.75], [1.0, 0.0, 0.5]], np.float32)
    return [(images, boxes, None), (images, boxes, colors), (grey, boxes[:1, :4], None)]
