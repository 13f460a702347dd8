"""Multi-class metrics: the confusion matrix (``tf.confusion_matrix``), mean IoU and mean
per-class accuracy (TF1 semantics and variable names)."""
from __future__ import annotations

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor
from graphc.graph import get_default_graph
from graphc.ops.array import stack
from graphc.ops.check_ops import assert_less, assert_non_negative
from graphc.ops.control import identity
from graphc.ops.creation import ones_like
from graphc.ops.elementwise import equal, maximum, not_equal
from graphc.ops.indexing import unsorted_segment_sum
from graphc.ops.matrix_diag import diag_part
from graphc.ops.reduce import reduce_max, reduce_mean, reduce_sum
from graphc.ops.safe_math import div_no_nan
from graphc.ops.scatter import scatter_nd
from graphc.ops.select import cast
from graphc.ops.shape_ops import reshape
from graphc.variable_scope import variable_scope
from graphc.variables import assign_add

from .base import (broadcast_weights, collect, metric_variable, refuse_eager,
                   remove_squeezable_dimensions)

__all__ = ["confusion_matrix", "mean_iou", "mean_per_class_accuracy"]


def _class_ids(metric, labels, predictions, num_classes):
    """labels and predictions as int64 class ids, checked at run time to be in
    [0, num_classes) (when num_classes is known) and non-negative."""
    labels, predictions = cast(labels, gdt.int64), cast(predictions, gdt.int64)
    checks = [assert_non_negative(labels, message=f"{metric}: labels must be non-negative"),
              assert_non_negative(predictions,
                                  message=f"{metric}: predictions must be non-negative")]
    if num_classes is not None:
        bound = cast(convert_to_tensor(num_classes), gdt.int64)
        checks += [assert_less(labels, bound, message=f"{metric}: labels out of bound"),
                   assert_less(predictions, bound,
                               message=f"{metric}: predictions out of bound")]
    with get_default_graph().control_dependencies(checks):
        return identity(labels), identity(predictions)


def confusion_matrix(labels, predictions, num_classes=None, dtype=gdt.int32, name=None,
                     weights=None):
    """The ``[num_classes, num_classes]`` matrix counting (weighted) examples of label ``i``
    predicted as ``j`` at ``[i, j]`` (TF1 ``tf.confusion_matrix``); ``num_classes`` None
    takes the largest label or prediction plus one. Ids out of range fail at run time.

    Example:
        >>> gc.confusion_matrix([1, 2, 4], [2, 2, 4], num_classes=5)   # ones at [1,2],[2,2],[4,4]
    """
    with get_default_graph().name_scope(name or "confusion_matrix"):
        labels, predictions, weights = remove_squeezable_dimensions(
            "confusion_matrix", labels, predictions, weights)
        labels, predictions = _class_ids("confusion_matrix", labels, predictions, num_classes)
        if num_classes is None:
            num_classes = maximum(reduce_max(predictions), reduce_max(labels)) + 1
        size = cast(convert_to_tensor(num_classes), gdt.int64)
        indices = stack([reshape(labels, [-1]), reshape(predictions, [-1])], axis=1)
        values = ones_like(reshape(predictions, [-1]), dtype=dtype) if weights is None \
            else reshape(cast(weights, dtype), [-1])
        return scatter_nd(indices, values, stack([size, size]))


def _flat(metric, labels, predictions, weights):
    labels, predictions, weights = remove_squeezable_dimensions(metric, labels, predictions,
                                                                weights)
    if weights is not None:
        weights = reshape(broadcast_weights(metric, weights, cast(predictions, gdt.float32)),
                          [-1])
    return reshape(labels, [-1]), reshape(predictions, [-1]), weights


def _check_num_classes(metric, num_classes) -> int:
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
        raise ValueError(f"tf.metrics.{metric}: num_classes must be a positive Python int, got "
                         f"{num_classes!r}")
    return num_classes


def mean_iou(labels, predictions, num_classes, weights=None, metrics_collections=None,
             updates_collections=None, name=None):
    """The mean intersection-over-union of the classes seen so far (TF1
    ``tf.metrics.mean_iou``): a running ``total_confusion_matrix`` (float64), IoU per class
    ``cm[i,i] / (row_i + col_i - cm[i,i])`` averaged over classes with a nonzero
    denominator. ``update_op`` returns the updated confusion matrix, as TF1's does.

    Example:
        >>> miou, update = gc.metrics.mean_iou(labels, predictions, num_classes=21)
    """
    refuse_eager("mean_iou")
    num_classes = _check_num_classes("mean_iou", num_classes)
    with variable_scope(name, "mean_iou", (predictions, labels, weights)):
        labels, predictions, weights = _flat("mean_iou", labels, predictions, weights)
        total = metric_variable([num_classes, num_classes], gdt.float64,
                                name="total_confusion_matrix")
        batch = confusion_matrix(labels, predictions, num_classes, dtype=gdt.float64,
                                 weights=weights)
        update = assign_add(total, batch)
        matrix = total.read_value()
        rows = cast(reduce_sum(matrix, 0), gdt.float32)
        cols = cast(reduce_sum(matrix, 1), gdt.float32)
        diagonal = cast(diag_part(matrix), gdt.float32)
        denominator = rows + cols - diagonal
        valid = reduce_sum(cast(not_equal(denominator, 0.0), gdt.float32))
        iou = div_no_nan(diagonal, denominator)
        value = div_no_nan(reduce_sum(iou), valid, name="mean_iou")
        collect(metrics_collections, value)
        collect(updates_collections, update)
        return value, update


def mean_per_class_accuracy(labels, predictions, num_classes, weights=None,
                            metrics_collections=None, updates_collections=None, name=None):
    """The mean over classes of each class's accuracy (correct / seen, 0 for a class never
    seen) over every batch (TF1 ``tf.metrics.mean_per_class_accuracy``; variables ``total``
    and ``count`` of ``[num_classes]``). As in TF1, ``update_op`` gives the per-class
    accuracies and ``value`` their mean.

    Example:
        >>> mpca, update = gc.metrics.mean_per_class_accuracy(y, y_hat, num_classes=10)
    """
    refuse_eager("mean_per_class_accuracy")
    num_classes = _check_num_classes("mean_per_class_accuracy", num_classes)
    with variable_scope(name, "mean_accuracy", (predictions, labels, weights)):
        labels, predictions, weights = _flat("mean_per_class_accuracy", labels, predictions,
                                             weights)
        labels, predictions = _class_ids("mean_per_class_accuracy", labels, predictions,
                                         num_classes)
        seen = ones_like(labels, dtype=gdt.float32)
        correct = cast(equal(predictions, labels), gdt.float32)
        if weights is not None:
            seen, correct = seen * weights, correct * weights
        total = metric_variable([num_classes], gdt.float32, name="total")
        count = metric_variable([num_classes], gdt.float32, name="count")
        update_total = assign_add(total, unsorted_segment_sum(seen, labels, num_classes))
        update_count = assign_add(count, unsorted_segment_sum(correct, labels, num_classes))
        value = reduce_mean(div_no_nan(count.read_value(), total.read_value()),
                            name="mean_accuracy")
        update = div_no_nan(update_count, update_total, name="update_op")  # per class, as TF1
        collect(metrics_collections, value)
        collect(updates_collections, update)
        return value, update

