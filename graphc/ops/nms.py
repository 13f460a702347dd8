"""TF1's ``tf.image.non_max_suppression`` and ``non_max_suppression_with_scores``
(NonMaxSuppressionV5): greedy selection of boxes by score, dropping (or, with
``soft_nms_sigma``, down-weighting) the boxes that overlap a selected one."""
from __future__ import annotations

import heapq

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.graph import Tensor
from graphc.ops.common import FLOAT, apply_op, check_kind, rand
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape
from graphc.static_values import constant_value

__all__ = ["non_max_suppression", "non_max_suppression_with_scores"]


def _iou(box, others):
    """TF's IOU: corners in either order; a box of zero or negative area overlaps nothing."""
    def span(b):
        return (np.minimum(b[..., 0], b[..., 2]), np.minimum(b[..., 1], b[..., 3]),
                np.maximum(b[..., 0], b[..., 2]), np.maximum(b[..., 1], b[..., 3]))
    y1, x1, y2, x2 = span(box)
    oy1, ox1, oy2, ox2 = span(others)
    area, other_area = (y2 - y1) * (x2 - x1), (oy2 - oy1) * (ox2 - ox1)
    height = np.maximum(np.minimum(y2, oy2) - np.maximum(y1, oy1), 0)
    width = np.maximum(np.minimum(x2, ox2) - np.maximum(x1, ox1), 0)
    inter = height * width
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = inter / (area + other_area - inter)
    return np.where((area <= 0) | (other_area <= 0), 0.0, iou)


def _check_values(max_output_size, iou_threshold, soft_nms_sigma=0.0):
    if int(max_output_size) < 0:
        raise ValueError(f"non_max_suppression: max_output_size must be non-negative, got "
                         f"{int(max_output_size)}")
    if not 0.0 <= float(iou_threshold) <= 1.0:
        raise ValueError(f"non_max_suppression: iou_threshold must be in [0, 1], got "
                         f"{float(iou_threshold)}")
    if float(soft_nms_sigma) < 0:
        raise ValueError(f"non_max_suppression: soft_nms_sigma must be non-negative, got "
                         f"{float(soft_nms_sigma)}")


def _nms_kernel(boxes, scores, max_output_size, iou_threshold, score_threshold,
                soft_nms_sigma):
    """TF's DoNonMaxSuppressionOp: a max-heap of candidates (ties: lower index first); a
    candidate is compared with the boxes selected since it was last looked at; hard NMS
    drops it above iou_threshold, soft NMS (sigma > 0) scales its score by
    ``exp(-0.5 iou^2 / sigma)`` and puts it back while it beats score_threshold."""
    _check_values(max_output_size, iou_threshold, soft_nms_sigma)
    dtype = scores.dtype.type
    threshold, sigma = dtype(score_threshold), dtype(soft_nms_sigma)
    scale = dtype(-0.5) / sigma if sigma > 0 else dtype(0)
    heap = [(-scores[i], i, 0) for i in range(len(scores)) if scores[i] > threshold]
    heapq.heapify(heap)
    selected, selected_scores = [], []
    while len(selected) < int(max_output_size) and heap:
        negative, index, begin = heapq.heappop(heap)
        score = original = -negative
        suppressed = False
        for j in range(len(selected) - 1, begin - 1, -1):
            iou = dtype(_iou(boxes[index], boxes[selected[j]:selected[j] + 1])[0])
            if sigma > 0 or iou <= iou_threshold:
                score = dtype(score * dtype(np.exp(scale * iou * iou)))
            if sigma <= 0 and iou > iou_threshold:
                suppressed = True
                break
            if score <= threshold:
                break
        if suppressed:
            continue
        if score == original:
            selected.append(index)
            selected_scores.append(score)
        elif score > threshold:
            heapq.heappush(heap, (-score, index, len(selected)))
    return np.array(selected, np.int32), np.array(selected_scores, scores.dtype)


def _nms_reference(boxes, scores, max_output_size, iou_threshold=0.5,
                   score_threshold=float("-inf"), soft_nms_sigma=0.0, name=None):
    """Hard NMS box by box: repeatedly take the best remaining box, remove all it covers
    (soft NMS: the op's own algorithm, checked against TF in tests/test_image_ops.py)."""
    if soft_nms_sigma > 0:
        return _nms_kernel(boxes, scores, max_output_size, iou_threshold, score_threshold,
                           soft_nms_sigma)
    alive = [i for i in range(len(scores)) if scores[i] > score_threshold]
    picked = []
    while alive and len(picked) < max_output_size:
        best = max(alive, key=lambda i: (scores[i], -i))
        picked.append(best)
        alive = [i for i in alive if i != best and
                 float(_iou(boxes[best], boxes[i:i + 1])[0]) <= iou_threshold]
    return np.array(picked, np.int32), scores[picked]


def _nms_dtypes(in_dtypes, attrs):
    check_kind("non_max_suppression", in_dtypes[0], FLOAT, "boxes")
    check_kind("non_max_suppression", in_dtypes[1], FLOAT, "scores")
    check_kind("non_max_suppression", in_dtypes[2], "integer", "max_output_size")
    return [gdt.int32, in_dtypes[1]]


def _nms_shapes(inputs, attrs):
    boxes, scores = inputs[0].shape, inputs[1].shape
    if boxes.rank not in (None, 2) or (boxes.rank == 2 and boxes.dims[1] not in (None, 4)):
        raise ValueError(f"non_max_suppression: boxes must be 2-D [num_boxes, 4], got shape "
                         f"{boxes}")
    count = boxes.dims[0] if boxes.rank == 2 else None
    if scores.rank not in (None, 1) or not scores.is_compatible_with([count]):
        raise ValueError(f"non_max_suppression: scores must be 1-D with one entry per box "
                         f"({count}), got shape {scores} for boxes {boxes}")
    for position in (2, 3, 4, 5):
        if inputs[position].shape.rank not in (None, 0):
            raise ValueError(f"non_max_suppression: max_output_size, iou_threshold and "
                             f"score_threshold must be scalars, got shape "
                             f"{inputs[position].shape}")
    values = [constant_value(inputs[k]) for k in (2, 3, 5)]
    if all(v is not None for v in values):
        _check_values(*values)
    return [TensorShape([None]), TensorShape([None])]


_BOXES = np.array([[0, 0, 1, 1], [0, 0.1, 1, 1.1], [0, -0.1, 1, 0.9], [0, 10, 1, 11],
                   [1, 10.1, 0, 11.1], [0, 100, 1, 101]], np.float64)
_SCORES = np.array([0.9, 0.75, 0.6, 0.95, 0.5, 0.3])

NON_MAX_SUPPRESSION = registry.register(OpDef(
    name="non_max_suppression", dtypes=_nms_dtypes, shapes=_nms_shapes, kernel=_nms_kernel,
    grad=registry.NOT_DIFFERENTIABLE, raises_on_values=True, reference=_nms_reference,
    samples=lambda: [Sample((_BOXES, _SCORES, 3)), Sample((_BOXES, _SCORES, 6, 0.4)),
                     Sample((_BOXES, _SCORES, 6, 0.5, 0.4)),
                     Sample((rand(8, 4), rand(8), 5, 0.3)),
                     Sample((np.zeros((0, 4)), np.zeros(0), 3)),
                     Sample((_BOXES, np.array([1.0, 1.0, 0.2, 0.2, 0.2, 0.2]), 6, 0.99)),
                     Sample((_BOXES, _SCORES, 6, 0.5, 0.1, 0.5))],
    error_samples=lambda: [
        ErrorSample((rand(5, 3), rand(5), 2), match="boxes must be 2-D"),
        ErrorSample((rand(5, 4), rand(4), 2), match="one entry per box"),
        ErrorSample((rand(5, 4), rand(5), 2, 1.5), match="iou_threshold must be in")],
    doc="Indices of the boxes kept by greedy non-maximum suppression, best first."))


def _scalar(value, dtype):
    return value if hasattr(value, "dtype") and not isinstance(value, np.generic) else \
        np.asarray(value, dtype)


@registry.public(NON_MAX_SUPPRESSION)
def non_max_suppression_with_scores(boxes, scores, max_output_size, iou_threshold=0.5,
                                    score_threshold=float("-inf"), soft_nms_sigma=0.0,
                                    name=None):
    """``(selected_indices, selected_scores)``; with ``soft_nms_sigma > 0`` overlapping
    boxes are down-weighted (Soft-NMS) instead of dropped, and the scores are the decayed
    ones (TF1 ``tf.image.non_max_suppression_with_scores``).

    Example:
        >>> keep, kept_scores = gc.image.non_max_suppression_with_scores(
        ...     boxes, scores, 10, soft_nms_sigma=0.5)
    """
    return apply_op("non_max_suppression", [
        boxes, scores, _scalar(max_output_size, np.int32), _scalar(iou_threshold, np.float32),
        _scalar(score_threshold, np.float32), _scalar(soft_nms_sigma, np.float32)],
        name=name or "NonMaxSuppressionV5")


def non_max_suppression(boxes, scores, max_output_size, iou_threshold=0.5,
                        score_threshold=float("-inf"), name=None) -> Tensor:
    """Indices (int32, best score first) of at most ``max_output_size`` boxes
    ``[y1, x1, y2, x2]`` that overlap no better box by more than ``iou_threshold``.

    Example:
        >>> keep = gc.image.non_max_suppression(boxes, scores, 10, iou_threshold=0.5)
        >>> kept_boxes = gc.gather(boxes, keep)
    """
    return non_max_suppression_with_scores(boxes, scores, max_output_size, iou_threshold,
                                           score_threshold,
                                           name=name or "NonMaxSuppressionV3")[0]
