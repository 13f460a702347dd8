"""What every streaming metric shares: its local variables, the shape rules of labels,
predictions and weights, and the running (weighted) mean most metrics are.

A TF1 metric returns ``(value, update_op)``: ``update_op`` folds one batch into local
variables (collections ``LOCAL_VARIABLES`` and ``METRIC_VARIABLES``, zero-initialized by
``gc.local_variables_initializer()``) and gives the metric so far; ``value`` reads it
without updating. Both are made under a variable scope named after the metric
(``accuracy/total``, ``accuracy/count``), uniquified like TF1's.
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc.compat import executing_eagerly
from graphc.convert import convert_to_tensor
from graphc.graph import get_default_graph
from graphc.ops.creation import ones_like, zeros
from graphc.ops.reduce import reduce_sum
from graphc.ops.safe_math import div_no_nan
from graphc.ops.select import cast
from graphc.ops.shape_ops import expand_dims, size, squeeze
from graphc.variable_scope import variable_scope
from graphc.variables import GraphKeys, Variable, add_to_collections, assign_add

__all__ = ["metric_variable", "mean", "mean_tensor"]


def refuse_eager(metric: str) -> None:
    if executing_eagerly():
        raise RuntimeError(f"tf.metrics.{metric} is not supported when eager execution is "
                           "enabled (TF1's rule: use the Keras-style metric objects instead)")


def metric_variable(shape, dtype, validate_shape=True, name=None) -> Variable:
    """A zero-initialized local variable of a metric (TF1 ``metric_variable``): not
    trainable, in ``LOCAL_VARIABLES`` and ``METRIC_VARIABLES``.

    Example:
        >>> total = gc.metrics.metric_variable([], gc.float32, name="total")
    """
    return Variable(lambda: zeros(shape, dtype), trainable=False, name=name,
                    collections=[GraphKeys.LOCAL_VARIABLES, GraphKeys.METRIC_VARIABLES],
                    validate_shape=validate_shape)


def collect(collections, value) -> None:
    if collections:
        add_to_collections(collections, value)


def remove_squeezable_dimensions(metric: str, labels, predictions, weights=None):
    """TF1's rule: a trailing dimension of 1 on labels or predictions (one rank more than
    the other) is squeezed, and so is weights' against predictions (weights one rank less
    get one); otherwise labels and predictions must have compatible shapes."""
    predictions = convert_to_tensor(predictions)
    labels = convert_to_tensor(labels)
    p_rank, l_rank = predictions.shape.rank, labels.shape.rank
    if p_rank is not None and l_rank is not None:
        if l_rank == p_rank + 1 and labels.shape.dims[-1] in (1, None):
            labels = squeeze(labels, [-1])
        elif p_rank == l_rank + 1 and predictions.shape.dims[-1] in (1, None):
            predictions = squeeze(predictions, [-1])
    if not predictions.shape.is_compatible_with(labels.shape):
        raise ValueError(f"tf.metrics.{metric}: predictions of shape {predictions.shape} and "
                         f"labels of shape {labels.shape} are incompatible")
    if weights is not None:
        weights = convert_to_tensor(weights)
        w_rank, p_rank = weights.shape.rank, predictions.shape.rank
        if w_rank is not None and p_rank is not None and w_rank > 0:
            if w_rank == p_rank + 1 and weights.shape.dims[-1] in (1, None):
                weights = squeeze(weights, [-1])
            elif w_rank == p_rank - 1:
                weights = expand_dims(weights, -1)
    return labels, predictions, weights


def broadcast_weights(metric: str, weights, values):
    """``weights`` as float32 broadcast to ``values``' shape: a scalar, or each dimension 1
    or equal (TF1 ``broadcast_weights``)."""
    weights = cast(convert_to_tensor(weights), gdt.float32)
    w_dims, v_dims = weights.shape.dims, values.shape.dims
    if w_dims is not None and v_dims is not None and w_dims:
        fits = len(w_dims) == len(v_dims) and all(
            w in (1, None) or v is None or w == v for w, v in zip(w_dims, v_dims))
        if not fits:
            raise ValueError(f"tf.metrics.{metric}: weights of shape {weights.shape} cannot be "
                             f"broadcast to values of shape {values.shape}")
    return weights * ones_like(values, dtype=gdt.float32)


def _running_mean(metric, values, weights, shape, metrics_collections, updates_collections):
    """(mean so far, update op) of ``values`` (float32) summed into ``total`` and counted
    into ``count``, both of ``shape`` ([] for a scalar mean, values' shape elementwise)."""
    suffix = "_tensor" if shape else ""  # TF1's names: total / count, total_tensor...
    total = metric_variable(shape, gdt.float32, name="total" + suffix)
    count = metric_variable(shape, gdt.float32, name="count" + suffix)
    if weights is None:
        counted = ones_like(values) if shape else cast(size(values), gdt.float32)
    else:
        weights = broadcast_weights(metric, weights, values)
        values = values * weights
        counted = weights if shape else reduce_sum(weights)
    summed = values if shape else reduce_sum(values)
    update_total = assign_add(total, summed)
    with get_default_graph().control_dependencies([values]):
        update_count = assign_add(count, counted)
    value = div_no_nan(total.read_value(), count.read_value(), name="value")
    update = div_no_nan(update_total, update_count, name="update_op")
    collect(metrics_collections, value)
    collect(updates_collections, update)
    return value, update


def mean(values, weights=None, metrics_collections=None, updates_collections=None,
         name=None):
    """The (weighted) mean of ``values`` over every batch fed to ``update_op`` (TF1
    ``tf.metrics.mean``): ``total / count``, 0 before any update.

    Example:
        >>> loss_mean, update = gc.metrics.mean(loss)
        >>> sess.run(gc.local_variables_initializer()); sess.run(update, feed)
    """
    refuse_eager("mean")
    with variable_scope(name, "mean", (values, weights)):
        values = cast(convert_to_tensor(values), gdt.float32)
        if weights is not None:
            _, values, weights = remove_squeezable_dimensions("mean", values, values, weights)
        return _running_mean("mean", values, weights, [], metrics_collections,
                             updates_collections)


def mean_tensor(values, weights=None, metrics_collections=None, updates_collections=None,
                name=None):
    """The elementwise (weighted) mean of ``values`` over every batch (TF1
    ``tf.metrics.mean_tensor``); values need a fully known shape.

    Example:
        >>> per_class, update = gc.metrics.mean_tensor(per_class_loss)
    """
    refuse_eager("mean_tensor")
    with variable_scope(name, "mean", (values, weights)):
        values = cast(convert_to_tensor(values), gdt.float32)
        if not values.shape.is_fully_defined():
            raise ValueError(f"tf.metrics.mean_tensor: values need a fully defined shape, got "
                             f"{values.shape}")
        if weights is not None:
            _, values, weights = remove_squeezable_dimensions("mean_tensor", values, values,
                                                              weights)
        return _running_mean("mean_tensor", values, weights, values.shape.as_list(),
                             metrics_collections, updates_collections)


def check_thresholds(metric: str, thresholds) -> list:
    values = [float(t) for t in np.asarray(thresholds, np.float64).ravel()]
    if not values:
        raise ValueError(f"tf.metrics.{metric}: thresholds must not be empty")
    return values

