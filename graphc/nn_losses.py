"""``gc.nn.weighted_cross_entropy_with_logits`` and ``gc.nn.log_poisson_loss``: TF1's
numerically stable forms, composed of registry ops (their gradients come from those ops)."""
from __future__ import annotations

import math

from graphc.convert import convert_to_tensor, graph_of
from graphc.ops.creation import zeros_like
from graphc.ops.elementwise import abs, add, exp, log, log1p, logical_and, relu
from graphc.ops.select import where

__all__ = ["weighted_cross_entropy_with_logits", "log_poisson_loss"]


def weighted_cross_entropy_with_logits(labels=None, logits=None, pos_weight=None, name=None,
                                       targets=None):
    """Sigmoid cross-entropy whose positive term is weighted by ``pos_weight``::

        (1 - z) * x + (1 + (pos_weight - 1) * z) * (log1p(exp(-|x|)) + max(-x, 0))

    (TF1's stable form of ``z * -log(sigmoid(x)) * pos_weight + (1 - z) * -log(1 -
    sigmoid(x))``); ``targets`` is TF1's older name for ``labels``.

    Example:
        >>> loss = gc.nn.weighted_cross_entropy_with_logits(labels=z, logits=x, pos_weight=3.0)
    """
    labels = targets if labels is None else labels
    if labels is None or logits is None or pos_weight is None:
        raise ValueError("weighted_cross_entropy_with_logits: labels (or targets), logits and "
                         "pos_weight are required")
    graph = graph_of(labels, logits, pos_weight)
    with graph.as_default(), graph.atomic(), \
            graph.name_scope(name or "logistic_loss") as scope:
        logits = convert_to_tensor(logits, name="logits")
        labels = convert_to_tensor(labels, name="labels", dtype_hint=logits.dtype)
        if not logits.shape.is_compatible_with(labels.shape):
            raise ValueError(f"weighted_cross_entropy_with_logits: logits and labels must have "
                             f"the same shape ({logits.shape} vs {labels.shape})")
        log_weight = 1.0 + (pos_weight - 1.0) * labels
        softplus_of_negative = log1p(exp(-abs(logits))) + relu(-logits)
        return add((1.0 - labels) * logits, log_weight * softplus_of_negative, name=scope)


def log_poisson_loss(targets, log_input, compute_full_loss=False, name=None):
    """Poisson negative log-likelihood of ``targets`` given ``log_input = log(rate)``:
    ``exp(log_input) - log_input * targets``, plus with ``compute_full_loss`` Stirling's
    approximation of ``log(targets!)`` (for targets above 1; 0 for targets in [0, 1]).

    Example:
        >>> loss = gc.nn.log_poisson_loss(counts, log_rate, compute_full_loss=True)
    """
    graph = graph_of(targets, log_input)
    with graph.as_default(), graph.atomic(), graph.name_scope(name or "log_poisson_loss"):
        log_input = convert_to_tensor(log_input, name="log_input")
        targets = convert_to_tensor(targets, name="targets", dtype_hint=log_input.dtype)
        if not log_input.shape.is_compatible_with(targets.shape):
            raise ValueError(f"log_poisson_loss: log_input and targets must have the same "
                             f"shape ({log_input.shape} vs {targets.shape})")
        result = exp(log_input) - log_input * targets
        if compute_full_loss:
            stirling = targets * log(targets) - targets + 0.5 * log(2 * math.pi * targets)
            zeros = zeros_like(targets)
            small = logical_and(targets >= 0.0, targets <= 1.0)
            result += where(small, zeros, stirling)
        return result
