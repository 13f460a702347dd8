"""Binary classification counts and what is computed from them: true/false
positives/negatives, precision, recall, the same at thresholds, and AUC (TF1 semantics and
variable names: ``precision/true_positives/count``, ``auc/true_positives``...)."""
from __future__ import annotations

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor
from graphc.graph import get_default_graph
from graphc.ops.check_ops import assert_greater_equal, assert_less_equal
from graphc.ops.control import identity
from graphc.ops.creation import ones_like
from graphc.ops.elementwise import greater, log, logical_and, logical_not, maximum, minimum
from graphc.ops.reduce import reduce_sum
from graphc.ops.safe_math import div_no_nan
from graphc.ops.select import cast, where
from graphc.ops.shape_ops import expand_dims, reshape
from graphc.variable_scope import variable_scope
from graphc.variables import assign_add

from .base import (broadcast_weights, check_thresholds, collect, metric_variable, refuse_eager,
                   remove_squeezable_dimensions)

__all__ = ["true_positives", "false_positives", "true_negatives", "false_negatives",
           "precision", "recall", "true_positives_at_thresholds",
           "false_positives_at_thresholds", "true_negatives_at_thresholds",
           "false_negatives_at_thresholds", "precision_at_thresholds",
           "recall_at_thresholds", "auc"]

_CONDITIONS = {  # (label, prediction) of each count
    "true_positives": (True, True), "false_positives": (False, True),
    "true_negatives": (False, False), "false_negatives": (True, False)}


def _hits(kind, labels, positive):
    """1.0 where the (label, prediction) pair is of ``kind`` (true_positives...), else 0.0."""
    want_label, want_prediction = _CONDITIONS[kind]
    return cast(logical_and(labels if want_label else logical_not(labels),
                            positive if want_prediction else logical_not(positive)), gdt.float32)


def _bools(metric, labels, predictions, weights):
    labels, predictions, weights = remove_squeezable_dimensions(metric, labels, predictions,
                                                                weights)
    return cast(labels, gdt.bool), cast(predictions, gdt.bool), weights


def _count(metric, labels, predictions, weights, metrics_collections, updates_collections,
           name):
    refuse_eager(metric)
    with variable_scope(name, metric, (predictions, labels, weights)):
        labels, predictions, weights = _bools(metric, labels, predictions, weights)
        hit = _hits(metric, labels, predictions)
        if weights is not None:
            hit = hit * broadcast_weights(metric, weights, hit)
        count = metric_variable([], gdt.float32, name="count")
        value = count.read_value()
        update = assign_add(count, reduce_sum(hit))
        collect(metrics_collections, value)
        collect(updates_collections, update)
        return value, update


def _count_metric(metric):
    def build(labels, predictions, weights=None, metrics_collections=None,
              updates_collections=None, name=None):
        return _count(metric, labels, predictions, weights, metrics_collections,
                      updates_collections, name)
    build.__name__ = build.__qualname__ = metric
    build.__doc__ = (f"The (weighted) number of {metric.replace('_', ' ')} over every batch "
                     f"(TF1 ``tf.metrics.{metric}``); labels and predictions are cast to "
                     f"bool.\n\n    Example:\n        >>> n, update = gc.metrics.{metric}(y, "
                     f"y_hat)\n")
    return build


true_positives = _count_metric("true_positives")
false_positives = _count_metric("false_positives")
true_negatives = _count_metric("true_negatives")
false_negatives = _count_metric("false_negatives")


def _ratio_metric(metric, other):
    """precision = tp / (tp + fp), recall = tp / (tp + fn); 0 while the sum is 0."""
    def build(labels, predictions, weights=None, metrics_collections=None,
              updates_collections=None, name=None):
        refuse_eager(metric)
        with variable_scope(name, metric, (predictions, labels, weights)):
            tp, tp_update = true_positives(labels, predictions, weights)
            rest, rest_update = _count(other, labels, predictions, weights, None, None, None)
            value = div_no_nan(tp, tp + rest, name="value")
            update = div_no_nan(tp_update, tp_update + rest_update, name="update_op")
            collect(metrics_collections, value)
            collect(updates_collections, update)
            return value, update
    build.__name__ = build.__qualname__ = metric
    build.__doc__ = (f"``true_positives / (true_positives + {other})`` over every batch, 0 "
                     f"while nothing was counted (TF1 ``tf.metrics.{metric}``).\n\n    "
                     f"Example:\n        >>> {metric[0]}, update = gc.metrics.{metric}(y, "
                     f"y_hat)\n")
    return build


precision = _ratio_metric("precision", "false_positives")
recall = _ratio_metric("recall", "false_negatives")


def _confusion_at_thresholds(metric, labels, predictions, thresholds, weights, includes):
    """Variables (one count per threshold) and their update ops for the counts in
    ``includes``: a prediction is positive at threshold t when it is greater than t."""
    labels, predictions, weights = remove_squeezable_dimensions(metric, labels, predictions,
                                                                weights)
    predictions = cast(predictions, gdt.float32)
    message = f"tf.metrics.{metric}: predictions must be in [0, 1]"
    checks = [assert_greater_equal(predictions, 0.0, message=message),
              assert_less_equal(predictions, 1.0, message=message)]
    with get_default_graph().control_dependencies(checks):
        predictions = identity(predictions)
    labels = reshape(cast(labels, gdt.bool), [1, -1])
    positive = greater(reshape(predictions, [1, -1]),
                       expand_dims(convert_to_tensor(thresholds, dtype=gdt.float32), 1))
    weight = None
    if weights is not None:
        weight = reshape(broadcast_weights(metric, weights, predictions), [1, -1])
    values, updates = {}, {}
    for kind in includes:
        hit = _hits(kind, labels, positive)
        if weight is not None:
            hit = hit * weight
        variable = metric_variable([len(thresholds)], gdt.float32, name=kind)
        values[kind] = variable.read_value()
        updates[kind] = assign_add(variable, reduce_sum(hit, 1))
    return values, updates


def _at_thresholds(metric, kind):
    def build(labels, predictions, thresholds, weights=None, metrics_collections=None,
              updates_collections=None, name=None):
        refuse_eager(metric)
        thresholds = check_thresholds(metric, thresholds)
        with variable_scope(name, kind, (predictions, labels, weights)):  # TF1's scope name
            values, updates = _confusion_at_thresholds(metric, labels, predictions, thresholds,
                                                       weights, (kind,))
            collect(metrics_collections, values[kind])
            collect(updates_collections, updates[kind])
            return values[kind], updates[kind]
    build.__name__ = build.__qualname__ = metric
    build.__doc__ = (f"The (weighted) {kind.replace('_', ' ')} at each threshold (a prediction "
                     f"above it is positive) over every batch (TF1 ``tf.metrics.{metric}``)."
                     f"\n\n    Example:\n        >>> n, update = gc.metrics.{metric}(y, p, "
                     f"[0.25, 0.5, 0.75])\n")
    return build


true_positives_at_thresholds = _at_thresholds("true_positives_at_thresholds", "true_positives")
false_positives_at_thresholds = _at_thresholds("false_positives_at_thresholds",
                                               "false_positives")
true_negatives_at_thresholds = _at_thresholds("true_negatives_at_thresholds", "true_negatives")
false_negatives_at_thresholds = _at_thresholds("false_negatives_at_thresholds",
                                               "false_negatives")


def _ratio_at_thresholds(metric, other):
    def build(labels, predictions, thresholds, weights=None, metrics_collections=None,
              updates_collections=None, name=None):
        refuse_eager(metric)
        thresholds = check_thresholds(metric, thresholds)
        with variable_scope(name, metric, (predictions, labels, weights)):
            values, updates = _confusion_at_thresholds(metric, labels, predictions, thresholds,
                                                       weights, ("true_positives", other))
            epsilon = 1e-7  # TF1's: an empty count gives 0, not NaN

            def ratio(counts, label):
                tp = counts["true_positives"]
                return div_no_nan(tp, epsilon + tp + counts[other], name=label)
            value, update = ratio(values, "value"), ratio(updates, "update_op")
            collect(metrics_collections, value)
            collect(updates_collections, update)
            return value, update
    build.__name__ = build.__qualname__ = metric
    build.__doc__ = (f"``tp / (tp + {other.split('_')[0][0]}{other.split('_')[1][0]})`` at "
                     f"each threshold over every batch (TF1 ``tf.metrics.{metric}``).\n\n    "
                     f"Example:\n        >>> v, update = gc.metrics.{metric}(y, p, [0.5])\n")
    return build


precision_at_thresholds = _ratio_at_thresholds("precision_at_thresholds", "false_positives")
recall_at_thresholds = _ratio_at_thresholds("recall_at_thresholds", "false_negatives")


_AUC_EPSILON = 1e-6  # TF1's, in the recall, rate and precision ratios
_SUMMATIONS = ("trapezoidal", "careful_interpolation", "minoring", "majoring")


def _interpolated_pr_auc(tp, fp, fn, n):
    """The precision-recall AUC interpolated between thresholds as Davis & Goadrich (2006)
    describe: precision is taken as linear in the number of predicted positives."""
    dtp = tp[:n - 1] - tp[1:]
    positives = tp + fp
    slope = div_no_nan(dtp, maximum(positives[:n - 1] - positives[1:], 0.0))
    intercept = tp[1:] - slope * positives[1:]
    both = logical_and(greater(positives[:n - 1], 0.0), greater(positives[1:], 0.0))
    safe_ratio = where(both, div_no_nan(positives[:n - 1], maximum(positives[1:], 0.0)),
                       ones_like(positives[1:]))
    return reduce_sum(div_no_nan(slope * (dtp + intercept * log(safe_ratio)),
                                 maximum(tp[1:] + fn[1:], 0.0)))


def _area(counts, curve, summation, n, label):
    tp, fp = counts["true_positives"], counts["false_positives"]
    fn, tn = counts["false_negatives"], counts["true_negatives"]
    if curve == "PR" and summation == "careful_interpolation":
        return _interpolated_pr_auc(tp, fp, fn, n)
    recall_ = (tp + _AUC_EPSILON) / (tp + fn + _AUC_EPSILON)
    if curve == "ROC":
        x, y = fp / (fp + tn + _AUC_EPSILON), recall_
    else:
        x, y = recall_, (tp + _AUC_EPSILON) / (tp + fp + _AUC_EPSILON)
    widths = x[:n - 1] - x[1:]
    if summation == "minoring":
        heights = minimum(y[:n - 1], y[1:])
    elif summation == "majoring":
        heights = maximum(y[:n - 1], y[1:])
    else:
        heights = (y[:n - 1] + y[1:]) / 2.0
    return reduce_sum(widths * heights, name=label)


def auc(labels, predictions, weights=None, num_thresholds=200, metrics_collections=None,
        updates_collections=None, curve="ROC", name=None, summation_method="trapezoidal",
        thresholds=None):
    """The area under the ROC or precision-recall curve over every batch, from counts at
    ``num_thresholds`` thresholds spread over [0, 1] (TF1 ``tf.metrics.auc``: same
    thresholds, epsilons and summation methods). Predictions must lie in [0, 1].

    Example:
        >>> area, update = gc.metrics.auc(labels=y, predictions=gc.sigmoid(logits))
    """
    refuse_eager("auc")
    if curve not in ("ROC", "PR"):
        raise ValueError(f"tf.metrics.auc: curve must be 'ROC' or 'PR', got {curve!r}")
    if summation_method not in _SUMMATIONS:
        raise ValueError(f"tf.metrics.auc: invalid summation_method {summation_method!r} "
                         f"(one of {', '.join(_SUMMATIONS)})")
    if thresholds is None:
        if num_thresholds < 2:
            raise ValueError(f"tf.metrics.auc: num_thresholds must be > 1, got "
                             f"{num_thresholds}")
        inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        thresholds = [0.0 - 1e-7] + inner + [1.0 + 1e-7]
    else:
        thresholds = [0.0 - 1e-7] + check_thresholds("auc", thresholds) + [1.0 + 1e-7]
    with variable_scope(name, "auc", (labels, predictions, weights)):
        values, updates = _confusion_at_thresholds("auc", labels, predictions, thresholds,
                                                   weights, tuple(_CONDITIONS))
        n = len(thresholds)
        value = _area(values, curve, summation_method, n, "value")
        update = _area(updates, curve, summation_method, n, "update_op")
        collect(metrics_collections, value)
        collect(updates_collections, update)
        return value, update

