"""Metrics that are a running mean of one value per element: accuracy, the regression
errors, percentage_below and mean_cosine_distance (TF1 semantics and variable names)."""
from __future__ import annotations

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor
from graphc.ops.elementwise import abs as absolute
from graphc.ops.elementwise import equal, less, sqrt, squared_difference
from graphc.ops.reduce import reduce_sum
from graphc.ops.safe_math import div_no_nan
from graphc.ops.select import cast

from .base import collect, mean, refuse_eager, remove_squeezable_dimensions

__all__ = ["accuracy", "mean_absolute_error", "mean_squared_error", "root_mean_squared_error",
           "mean_relative_error", "percentage_below", "mean_cosine_distance"]


def accuracy(labels, predictions, weights=None, metrics_collections=None,
             updates_collections=None, name=None):
    """How often ``predictions`` equal ``labels`` (TF1 ``tf.metrics.accuracy``): the
    (weighted) mean of ``predictions == labels`` over every batch; predictions are cast
    to the labels' dtype. Variables ``accuracy/total`` and ``accuracy/count``.

    Example:
        >>> acc, acc_op = gc.metrics.accuracy(labels=y, predictions=gc.argmax(logits, 1))
    """
    refuse_eager("accuracy")
    labels, predictions, weights = remove_squeezable_dimensions("accuracy", labels,
                                                                predictions, weights)
    if predictions.dtype != labels.dtype:
        predictions = cast(predictions, labels.dtype)
    correct = cast(equal(predictions, labels), gdt.float32)
    return mean(correct, weights, metrics_collections, updates_collections, name or "accuracy")


def _error_metric(metric: str, error):
    def build(labels, predictions, weights=None, metrics_collections=None,
              updates_collections=None, name=None):
        refuse_eager(metric)
        labels, predictions, weights = remove_squeezable_dimensions(metric, labels,
                                                                    predictions, weights)
        labels, predictions = _float_pair(labels, predictions)
        return mean(error(labels, predictions), weights, metrics_collections,
                    updates_collections, name or metric)
    return build


def _float_pair(labels, predictions):
    dtype = predictions.dtype if predictions.dtype.is_floating else gdt.float32
    return cast(labels, dtype), cast(predictions, dtype)


mean_absolute_error = _error_metric(
    "mean_absolute_error", lambda labels, predictions: absolute(predictions - labels))
mean_absolute_error.__doc__ = """The mean of ``|predictions - labels|`` over every batch (TF1
    ``tf.metrics.mean_absolute_error``).

    Example:
        >>> mae, update = gc.metrics.mean_absolute_error(y, y_hat)
    """
mean_squared_error = _error_metric(
    "mean_squared_error", lambda labels, predictions: squared_difference(predictions, labels))
mean_squared_error.__doc__ = """The mean of ``(predictions - labels)^2`` over every batch (TF1
    ``tf.metrics.mean_squared_error``).

    Example:
        >>> mse, update = gc.metrics.mean_squared_error(y, y_hat)
    """


def root_mean_squared_error(labels, predictions, weights=None, metrics_collections=None,
                            updates_collections=None, name=None):
    """The square root of ``mean_squared_error`` over every batch (TF1
    ``tf.metrics.root_mean_squared_error``; variables under ``root_mean_squared_error/``).

    Example:
        >>> rmse, update = gc.metrics.root_mean_squared_error(y, y_hat)
    """
    refuse_eager("root_mean_squared_error")
    mse, update_mse = mean_squared_error(labels, predictions, weights, None, None,
                                         name or "root_mean_squared_error")
    value, update = sqrt(mse), sqrt(update_mse)
    collect(metrics_collections, value)
    collect(updates_collections, update)
    return value, update


def mean_relative_error(labels, predictions, normalizer, weights=None,
                        metrics_collections=None, updates_collections=None, name=None):
    """The mean of ``|labels - predictions| / normalizer`` (0 where the normalizer is 0)
    over every batch (TF1 ``tf.metrics.mean_relative_error``).

    Example:
        >>> rel, update = gc.metrics.mean_relative_error(y, y_hat, normalizer=y)
    """
    refuse_eager("mean_relative_error")
    labels, predictions, weights = remove_squeezable_dimensions(
        "mean_relative_error", labels, predictions, weights)
    labels, predictions = _float_pair(labels, predictions)
    normalizer = cast(convert_to_tensor(normalizer), predictions.dtype)
    if not predictions.shape.is_compatible_with(normalizer.shape):
        raise ValueError(f"tf.metrics.mean_relative_error: normalizer of shape "
                         f"{normalizer.shape} does not match predictions of shape "
                         f"{predictions.shape}")
    relative = div_no_nan(absolute(labels - predictions), normalizer)
    return mean(relative, weights, metrics_collections, updates_collections,
                name or "mean_relative_error")


def percentage_below(values, threshold, weights=None, metrics_collections=None,
                     updates_collections=None, name=None):
    """The fraction of ``values`` below ``threshold`` over every batch (TF1
    ``tf.metrics.percentage_below``).

    Example:
        >>> below, update = gc.metrics.percentage_below(errors, threshold=0.1)
    """
    refuse_eager("percentage_below")
    values = convert_to_tensor(values)
    below = cast(less(values, cast(convert_to_tensor(threshold), values.dtype)), gdt.float32)
    return mean(below, weights, metrics_collections, updates_collections,
                name or "percentage_below_threshold")


def mean_cosine_distance(labels, predictions, dim, weights=None, metrics_collections=None,
                         updates_collections=None, name=None):
    """One minus the mean of ``sum(labels * predictions, dim)`` over every batch: the
    cosine distance of unit-normalized vectors (TF1 ``tf.metrics.mean_cosine_distance``).

    Example:
        >>> distance, update = gc.metrics.mean_cosine_distance(unit_y, unit_y_hat, dim=1)
    """
    refuse_eager("mean_cosine_distance")
    labels, predictions, weights = remove_squeezable_dimensions(
        "mean_cosine_distance", labels, predictions, weights)
    labels, predictions = _float_pair(labels, predictions)
    radial = reduce_sum(predictions * labels, axis=[dim], keepdims=True)
    value, update = mean(radial, weights, None, None, name or "mean_cosine_distance")
    value, update = 1.0 - value, 1.0 - update
    collect(metrics_collections, value)
    collect(updates_collections, update)
    return value, update
