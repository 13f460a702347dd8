"""``gc.metrics``: TF1's streaming metrics (``tf.metrics`` / ``tf.compat.v1.metrics``).

Each metric returns ``(value, update_op)``. ``update_op`` adds one batch to the metric's
local variables and gives the metric so far; ``value`` reads it. The variables are zeros
in the ``LOCAL_VARIABLES`` and ``METRIC_VARIABLES`` collections, so
``gc.local_variables_initializer()`` (re)starts every metric:

    >>> acc, acc_op = gc.metrics.accuracy(labels=y, predictions=gc.argmax(logits, 1))
    >>> sess.run(gc.local_variables_initializer())
    >>> for batch in batches:
    ...     sess.run(acc_op, feed_dict=batch)
    >>> sess.run(acc)

Names, variable names (``accuracy/total``), collections arguments, weights broadcasting,
the squeezing of a trailing dimension of 1, and the results (AUC's thresholds and
epsilons included) follow TF1 1.15. Like TF1, they refuse eager execution. Not here:
the sparse top-k metrics (``precision_at_k``, ``recall_at_k``, ``average_precision_at_k``...)
and ``sensitivity_at_specificity`` / ``specificity_at_sensitivity``.
"""
from .base import mean, mean_tensor, metric_variable
from .classes import confusion_matrix, mean_iou, mean_per_class_accuracy
from .counts import (auc, false_negatives, false_negatives_at_thresholds, false_positives,
                     false_positives_at_thresholds, precision, precision_at_thresholds,
                     recall, recall_at_thresholds, true_negatives,
                     true_negatives_at_thresholds, true_positives,
                     true_positives_at_thresholds)
from .simple import (accuracy, mean_absolute_error, mean_cosine_distance,
                     mean_relative_error, mean_squared_error, percentage_below,
                     root_mean_squared_error)

__all__ = ["accuracy", "auc", "false_negatives", "false_negatives_at_thresholds",
           "false_positives", "false_positives_at_thresholds", "mean", "mean_absolute_error",
           "mean_cosine_distance", "mean_iou", "mean_per_class_accuracy", "mean_relative_error",
           "mean_squared_error", "mean_tensor", "metric_variable", "percentage_below",
           "precision", "precision_at_thresholds", "recall", "recall_at_thresholds",
           "root_mean_squared_error", "true_negatives", "true_negatives_at_thresholds",
           "true_positives", "true_positives_at_thresholds"]
del confusion_matrix  # tf.confusion_matrix / tf.math.confusion_matrix, not tf.metrics
