"""``gc.losses``: TF1's ``tf.losses`` namespace.

Each loss computes TF1's elementwise formula (predictions and labels cast to float32, as
TF1 does; the cross-entropies keep the logits' dtype), then ``compute_weighted_loss``
weights and reduces it (by default: the mean over the nonzero weights) and adds the result
to ``GraphKeys.LOSSES``, which ``get_losses`` and ``get_total_loss`` read. Regularization
penalties collected by ``get_variable(..., regularizer=...)`` are in
``GraphKeys.REGULARIZATION_LOSSES``.

Example:
    >>> loss = gc.losses.softmax_cross_entropy(onehot, logits, label_smoothing=0.1)
    >>> total = gc.losses.get_total_loss()    # loss + the regularization penalties
"""
from __future__ import annotations

import contextlib
from typing import Optional

from graphc.convert import convert_to_tensor, graph_of
from graphc.ops.control import stop_gradient
from graphc.ops.creation import constant, ones_like, zeros_like
from graphc.ops.elementwise import (abs, add, add_n, log, maximum, minimum, multiply, relu,
                                    square, squared_difference, subtract)
from graphc.ops.nn import sigmoid_cross_entropy_with_logits, softmax_cross_entropy_with_logits_v2
from graphc.ops.reduce import reduce_sum
from graphc.ops.select import cast, where
from graphc.ops.shape_ops import shape, squeeze
from graphc.ops.sparse_xent import sparse_softmax_cross_entropy_with_logits
from graphc.variables import GraphKeys, get_collection
from graphc.weighted_loss import (Reduction, add_loss, after, check_broadcastable,  # noqa
                                  compute_weighted_loss, div_no_nan, num_present, static_rank,
                                  to_float32)

__all__ = ["Reduction", "compute_weighted_loss", "add_loss", "get_losses",
           "get_regularization_losses", "get_regularization_loss", "get_total_loss",
           "absolute_difference", "cosine_distance", "hinge_loss", "huber_loss", "log_loss",
           "mean_pairwise_squared_error", "mean_squared_error", "sigmoid_cross_entropy",
           "softmax_cross_entropy", "sparse_softmax_cross_entropy"]

_DEFAULT = Reduction.SUM_BY_NONZERO_WEIGHTS


def get_losses(scope: Optional[str] = None, loss_collection=GraphKeys.LOSSES) -> list:
    """The losses of ``loss_collection`` (those whose name the regex ``scope`` matches).

    Example:
        >>> gc.losses.get_losses()          # every gc.losses.* result so far
    """
    return get_collection(loss_collection, scope)


def get_regularization_losses(scope: Optional[str] = None) -> list:
    """The tensors of ``REGULARIZATION_LOSSES`` (those whose name the regex ``scope``
    matches from the start, if given).

    Example:
        >>> gc.losses.get_regularization_losses(scope="encoder")
    """
    return get_collection(GraphKeys.REGULARIZATION_LOSSES, scope)


def get_regularization_loss(scope: Optional[str] = None, name: str = "total_regularization_loss"):
    """The sum of ``get_regularization_losses(scope)``, or a constant 0.0 when there are none.

    Example:
        >>> total = gc.losses.get_regularization_loss()
    """
    losses = get_regularization_losses(scope)
    if losses:
        return add_n(losses, name=name)
    return constant(0.0)


def get_total_loss(add_regularization_losses: bool = True, name: str = "total_loss",
                   scope: Optional[str] = None):
    """The sum of ``get_losses(scope)`` and (by default) the regularization losses.

    Raises:
        ValueError: when there is no loss to add.

    Example:
        >>> train_op = opt.minimize(gc.losses.get_total_loss())
    """
    losses = get_losses(scope=scope)
    if add_regularization_losses:
        losses += get_regularization_losses(scope=scope)
    if not losses:
        raise ValueError("get_total_loss: no losses in the LOSSES collection"
                         + (" or REGULARIZATION_LOSSES" if add_regularization_losses else "")
                         + (f" matching scope {scope!r}" if scope else ""))
    return add_n(losses, name=name)


@contextlib.contextmanager
def _loss_scope(scope, default: str, *values):
    graph = graph_of(*values)
    with graph.as_default(), graph.atomic(), graph.name_scope(scope or default) as name:
        yield name


def _required(**values) -> None:
    for what, value in values.items():
        if value is None:
            raise ValueError(f"{what} must not be None.")


def _compatible(loss: str, first, second, names=("predictions", "labels")) -> None:
    if not first.shape.is_compatible_with(second.shape):
        raise ValueError(f"{loss}: {names[0]} of shape {first.shape} and {names[1]} of shape "
                         f"{second.shape} are incompatible")


def _floats(loss: str, labels, predictions, name="predictions"):
    """``labels`` and ``predictions`` (or logits) as float32, of compatible shapes."""
    predictions, labels = to_float32(predictions), to_float32(labels)
    _compatible(loss, predictions, labels, (name, "labels"))
    return labels, predictions


def _in_logits_dtype(loss: str, labels, logits, labels_name: str):
    """Labels cast to the logits' dtype (the cross-entropies keep it), of compatible shapes."""
    logits = convert_to_tensor(logits)
    labels = cast(labels, logits.dtype)
    _compatible(loss, logits, labels, ("logits", labels_name))
    return labels, logits


def absolute_difference(labels, predictions, weights=1.0, scope=None,
                        loss_collection=GraphKeys.LOSSES, reduction=_DEFAULT):
    """Weighted ``|predictions - labels|``.

    Example:
        >>> loss = gc.losses.absolute_difference(y, pred)
    """
    _required(labels=labels, predictions=predictions)
    with _loss_scope(scope, "absolute_difference", predictions, labels, weights) as scope:
        labels, predictions = _floats("absolute_difference", labels, predictions)
        losses = abs(subtract(predictions, labels))
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def mean_squared_error(labels, predictions, weights=1.0, scope=None,
                       loss_collection=GraphKeys.LOSSES, reduction=_DEFAULT):
    """Weighted ``(predictions - labels)^2``, by default averaged over the nonzero weights.

    Example:
        >>> loss = gc.losses.mean_squared_error(labels=y, predictions=pred)
    """
    _required(labels=labels, predictions=predictions)
    with _loss_scope(scope, "mean_squared_error", predictions, labels, weights) as scope:
        labels, predictions = _floats("mean_squared_error", labels, predictions)
        losses = squared_difference(predictions, labels)
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def huber_loss(labels, predictions, weights=1.0, delta=1.0, scope=None,
               loss_collection=GraphKeys.LOSSES, reduction=_DEFAULT):
    """Weighted Huber loss of ``e = predictions - labels``: ``0.5 e^2`` for ``|e| <= delta``,
    ``0.5 delta^2 + delta (|e| - delta)`` beyond, written as TF1 writes it so the gradient
    at ``|e| = delta`` is not doubled.

    Example:
        >>> loss = gc.losses.huber_loss(y, pred, delta=2.0)
    """
    _required(labels=labels, predictions=predictions)
    with _loss_scope(scope, "huber_loss", predictions, labels, weights) as scope:
        labels, predictions = _floats("huber_loss", labels, predictions)
        abs_error = abs(subtract(predictions, labels))
        quadratic = minimum(abs_error, delta)
        linear = subtract(abs_error, quadratic)  # max(|e| - delta, 0) with gradient 0 at delta
        losses = add(multiply(0.5, multiply(quadratic, quadratic)), multiply(delta, linear))
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def log_loss(labels, predictions, weights=1.0, epsilon=1e-7, scope=None,
             loss_collection=GraphKeys.LOSSES, reduction=_DEFAULT):
    """Weighted ``-labels log(predictions + eps) - (1 - labels) log(1 - predictions + eps)``
    for probabilities ``predictions``.

    Example:
        >>> loss = gc.losses.log_loss(y, gc.sigmoid(logits))
    """
    _required(labels=labels, predictions=predictions)
    with _loss_scope(scope, "log_loss", predictions, labels, weights) as scope:
        labels, predictions = _floats("log_loss", labels, predictions)
        losses = (-multiply(labels, log(predictions + epsilon))
                  - multiply(1.0 - labels, log(1.0 - predictions + epsilon)))
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def hinge_loss(labels, logits, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
               reduction=_DEFAULT):
    """Weighted ``max(0, 1 - (2 labels - 1) logits)`` for labels in {0, 1}.

    Example:
        >>> loss = gc.losses.hinge_loss(labels=y01, logits=scores)
    """
    _required(labels=labels, logits=logits)
    with _loss_scope(scope, "hinge_loss", logits, labels, weights) as scope:
        labels, logits = _floats("hinge_loss", labels, logits, name="logits")
        all_ones = ones_like(labels)
        signs = subtract(2.0 * labels, all_ones)  # {0, 1} -> {-1, 1}
        losses = relu(subtract(all_ones, multiply(signs, logits)))
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def cosine_distance(labels, predictions, axis=None, weights=1.0, scope=None,
                    loss_collection=GraphKeys.LOSSES, reduction=_DEFAULT, dim=None):
    """Weighted ``1 - sum(predictions * labels, axis)`` (kept as a size-1 axis), for inputs
    already unit-normalized along ``axis``.

    Example:
        >>> loss = gc.losses.cosine_distance(gc.nn.l2_normalize(y, 1), unit_pred, axis=1)
    """
    if dim is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'dim'")
        axis = dim
    if axis is None:
        raise ValueError("You must specify 'axis'.")
    _required(labels=labels, predictions=predictions)
    with _loss_scope(scope, "cosine_distance_loss", predictions, labels, weights) as scope:
        labels, predictions = _floats("cosine_distance", labels, predictions)
        losses = 1.0 - reduce_sum(multiply(predictions, labels), axis=(axis,), keepdims=True)
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def mean_pairwise_squared_error(labels, predictions, weights=1.0, scope=None,
                                loss_collection=GraphKeys.LOSSES):
    """Per batch row, the mean over pairs ``(i, j)`` of ``((p_i - p_j) - (l_i - l_j))^2``
    (pairs among the elements with nonzero weight), weighted and summed over the batch
    (TF1.15's definition; 0 when no weight is nonzero).

    Example:
        >>> loss = gc.losses.mean_pairwise_squared_error(depth, predicted_depth)
    """
    _required(labels=labels, predictions=predictions)
    with _loss_scope(scope, "mean_pairwise_squared_error", predictions, labels,
                     weights) as scope:
        weights, labels = to_float32(weights), to_float32(labels)
        with after(check_broadcastable(weights, labels)):
            mean_loss = _mean_pairwise(labels, predictions, weights, scope)
        add_loss(mean_loss, loss_collection)
        return mean_loss


def _mean_pairwise(labels, predictions, weights, scope):
    """TF1.15's per-row pair means from the sums of the differences and of their squares:
    sum_(i<j) (d_i - d_j)^2 = n sum d^2 - (sum d)^2 over the n present elements."""
    predictions = to_float32(predictions)
    _compatible("mean_pairwise_squared_error", predictions, labels)
    diffs = subtract(predictions, labels)
    axes = list(range(1, static_rank(diffs, "mean_pairwise_squared_error")))
    present = num_present(diffs, weights, per_batch=True)
    squares_per_batch = reduce_sum(square(diffs), axis=axes, keepdims=True)
    term1 = 2.0 * div_no_nan(squares_per_batch, maximum(present - 1.0, 0.0))
    sum_diff = reduce_sum(diffs, axis=axes, keepdims=True)
    term2 = 2.0 * div_no_nan(square(sum_diff),
                             maximum(multiply(present, present - 1.0), 0.0))
    loss = reduce_sum(multiply(term1 - term2, weights))
    return where(reduce_sum(present) > 0.0, loss, zeros_like(loss), name=scope)


def sigmoid_cross_entropy(multi_class_labels, logits, weights=1.0, label_smoothing=0,
                          scope=None, loss_collection=GraphKeys.LOSSES, reduction=_DEFAULT):
    """Weighted ``sigmoid_cross_entropy_with_logits``; ``label_smoothing`` moves the labels
    toward 1/2: ``labels * (1 - s) + 0.5 s``.

    Example:
        >>> loss = gc.losses.sigmoid_cross_entropy(multi_hot, logits, label_smoothing=0.1)
    """
    _required(multi_class_labels=multi_class_labels, logits=logits)
    with _loss_scope(scope, "sigmoid_cross_entropy_loss", logits, multi_class_labels,
                     weights) as scope:
        labels, logits = _in_logits_dtype("sigmoid_cross_entropy", multi_class_labels, logits,
                                          "multi_class_labels")
        if label_smoothing > 0:
            labels = labels * (1.0 - label_smoothing) + 0.5 * label_smoothing
        losses = sigmoid_cross_entropy_with_logits(labels=labels, logits=logits,
                                                   name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=GraphKeys.LOSSES, reduction=_DEFAULT):
    """Weighted ``softmax_cross_entropy_with_logits_v2`` per example (labels get no
    gradient); ``label_smoothing`` mixes in the uniform distribution: ``labels * (1 - s) +
    s / num_classes``.

    Example:
        >>> loss = gc.losses.softmax_cross_entropy(gc.one_hot(y, 10), logits)
    """
    _required(onehot_labels=onehot_labels, logits=logits)
    with _loss_scope(scope, "softmax_cross_entropy_loss", logits, onehot_labels,
                     weights) as scope:
        labels, logits = _in_logits_dtype("softmax_cross_entropy", onehot_labels, logits,
                                          "onehot_labels")
        if label_smoothing > 0:
            num_classes = cast(shape(labels)[-1], logits.dtype)
            labels = labels * (1.0 - label_smoothing) + label_smoothing / num_classes
        labels = stop_gradient(labels, name="labels_stop_gradient")
        losses = softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits,
                                                      name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def sparse_softmax_cross_entropy(labels, logits, weights=1.0, scope=None,
                                 loss_collection=GraphKeys.LOSSES, reduction=_DEFAULT):
    """Weighted ``sparse_softmax_cross_entropy_with_logits`` of class ids ``labels``; labels
    (or weights) with a trailing size-1 axis are squeezed, as TF1 does.

    Example:
        >>> loss = gc.losses.sparse_softmax_cross_entropy(labels=y, logits=logits)
    """
    _required(labels=labels, logits=logits)
    with _loss_scope(scope, "sparse_softmax_cross_entropy_loss", logits, labels,
                     weights) as scope:
        labels, logits = convert_to_tensor(labels), convert_to_tensor(logits)
        weights = convert_to_tensor(weights, dtype_hint=logits.dtype)
        labels, logits, weights = _squeezed(labels, logits, weights)
        losses = sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits,
                                                          name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def _squeezed(labels, logits, weights):
    """TF1's ``_remove_squeezable_dimensions`` with ranks known statically: where the ranks
    differ by one more or one less than the expected 1, the operand with the extra trailing
    size-1 axis loses it; then weights one rank above the labels lose theirs."""
    if labels.shape.rank is not None and logits.shape.rank is not None:
        rank_diff = logits.shape.rank - labels.shape.rank
        if rank_diff == 2 and logits.shape.dims[-1] in (1, None):
            logits = squeeze(logits, [-1])
        elif rank_diff == 0 and labels.shape.dims[-1] in (1, None):
            labels = squeeze(labels, [-1])
        if weights.shape.rank is not None and weights.shape.rank - labels.shape.rank == 1:
            weights = squeeze(weights, [-1])
    return labels, logits, weights
