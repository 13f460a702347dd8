"""``embedding_lookup`` and TF1's sampled losses, ``nce_loss`` and ``sampled_softmax_loss``,
composed as TF1's ``nn_impl`` composes them: the rows of the true and of the sampled classes
are gathered (gather's gradient is the scatter-add ``unsorted_segment_sum``), their logits
corrected by the log of each class's expected count under the sampler (``subtract_log_q``),
and accidental hits (a sampled class that is one of the row's labels) pushed to -FLT_MAX."""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc.clip_ops import clip_by_norm
from graphc.convert import convert_to_tensor, graph_of
from graphc.ops.array import concat, stack
from graphc.ops.control import stop_gradient
from graphc.ops.creation import ones_like, zeros_like
from graphc.ops.elementwise import equal, log
from graphc.ops.indexing import gather
from graphc.ops.linalg import matmul
from graphc.ops.nn import sigmoid_cross_entropy_with_logits, softmax_cross_entropy_with_logits_v2
from graphc.ops.reduce import reduce_any, reduce_sum
from graphc.ops.sampling import log_uniform_candidate_sampler
from graphc.ops.select import cast
from graphc.ops.shape_ops import expand_dims, reshape

__all__ = ["embedding_lookup", "nce_loss", "sampled_softmax_loss"]

FLOAT_MAX = float(np.finfo(np.float32).max)  # what TF1 subtracts from accidental hits


def _joined(params, partition_strategy: str):
    """One table from TF1's list of partitions: "div" gives each a contiguous id range
    (concatenated in order), "mod" gives id i to partition i % P as its row i // P
    (interleaved, which needs partitions of one size)."""
    if not isinstance(params, (list, tuple)):
        return convert_to_tensor(params, name="params")
    parts = [convert_to_tensor(p, name="params") for p in params]
    if not parts:
        raise ValueError("embedding_lookup: params must not be an empty list")
    if len(parts) == 1:
        return parts[0]
    if partition_strategy == "div":
        return concat(parts, 0)
    if partition_strategy != "mod":
        raise ValueError(f"embedding_lookup: partition_strategy must be 'mod' or 'div', got "
                         f"{partition_strategy!r}")
    rows = {p.shape.dims[0] if p.shape.rank else None for p in parts}
    if len(rows) != 1 or None in rows:
        raise ValueError(f"embedding_lookup: 'mod' partitions of different or unknown sizes "
                         f"({[str(p.shape) for p in parts]}) are not supported; use 'div'")
    interleaved = stack(parts, axis=1)  # [rows, P, ...]: row r of partition p is id r P + p
    return reshape(interleaved, [-1] + [-1 if d is None else d for d in parts[0].shape.dims[1:]])


def embedding_lookup(params, ids, partition_strategy="mod", name=None, validate_indices=True,
                     max_norm=None):
    """The rows of ``params`` for ``ids`` of any shape: ``ids.shape + params.shape[1:]`` (TF1
    ``tf.nn.embedding_lookup``); with ``max_norm``, each looked-up embedding is rescaled to
    an L2 norm of at most ``max_norm``. ``params`` may be a list of partitions.

    Example:
        >>> embeddings = gc.Variable(gc.random_uniform([vocabulary, 128], -1.0, 1.0))
        >>> embed = gc.nn.embedding_lookup(embeddings, train_inputs)   # [batch, 128]
    """
    graph = graph_of(params if not isinstance(params, (list, tuple)) else params[0], ids)
    with graph.as_default(), graph.atomic(), graph.name_scope(name or "embedding_lookup"):
        table = _joined(params, partition_strategy)
        ids = convert_to_tensor(ids, name="ids")
        found = gather(table, ids)
        if max_norm is None:
            return found
        if ids.shape.rank is None or found.shape.rank is None:
            raise ValueError("embedding_lookup: max_norm needs ids and params of known rank")
        return clip_by_norm(found, max_norm, axes=list(range(ids.shape.rank,
                                                              found.shape.rank)))


def _sampled_logits(weights, biases, labels, inputs, num_sampled, num_classes, num_true,
                    sampled_values, subtract_log_q, remove_accidental_hits,
                    partition_strategy, seed):
    """TF1's ``_compute_sampled_logits``: ``(logits, labels)`` of shape ``[batch, num_true +
    num_sampled]``, the true classes first."""
    labels = convert_to_tensor(labels, name="labels")
    labels = cast(labels, gdt.int64) if labels.dtype is not gdt.int64 else labels
    if labels.shape.rank == 1 and num_true == 1:  # TF1 documents [batch, num_true]; be kind
        labels = expand_dims(labels, 1)
    if sampled_values is None:
        sampled_values = log_uniform_candidate_sampler(labels, num_true, num_sampled, True,
                                                       num_classes, seed=seed)
    sampled, true_expected, sampled_expected = (stop_gradient(v) for v in sampled_values)
    sampled = cast(sampled, gdt.int64) if sampled.dtype is not gdt.int64 else sampled
    inputs = convert_to_tensor(inputs, name="inputs")
    weights, biases = _joined(weights, partition_strategy), _joined(biases, partition_strategy)

    # [batch, num_true]: each row's inputs against the weights of its true classes
    true_logits = reduce_sum(expand_dims(inputs, 1) * gather(weights, labels), 2)
    true_logits += gather(biases, labels)
    sampled_logits = matmul(inputs, gather(weights, sampled), transpose_b=True)
    sampled_logits += gather(biases, sampled)  # [batch, num_sampled]
    if remove_accidental_hits:
        hits = reduce_any(equal(expand_dims(labels, 2), sampled), 1)  # [batch, num_sampled]
        sampled_logits += cast(hits, sampled_logits.dtype) * -FLOAT_MAX
    if subtract_log_q:  # logits of log(p / q): corrects for classes the sampler favours
        true_logits -= log(cast(true_expected, true_logits.dtype))
        sampled_logits -= log(cast(sampled_expected, sampled_logits.dtype))
    logits = concat([true_logits, sampled_logits], 1)
    targets = concat([ones_like(true_logits) / float(num_true), zeros_like(sampled_logits)], 1)
    return logits, targets


def nce_loss(weights, biases, labels, inputs, num_sampled, num_classes, num_true=1,
             sampled_values=None, remove_accidental_hits=False, partition_strategy="mod",
             name="nce_loss", seed=None):
    """Noise-contrastive estimation loss per example, ``[batch]`` (TF1 ``tf.nn.nce_loss``):
    logistic regression of the true classes (label ``1 / num_true``) against
    ``num_sampled`` classes from the log-uniform sampler (unless ``sampled_values``).

    Args:
        weights: ``[num_classes, dim]`` class embeddings (or a list of partitions).
        biases: ``[num_classes]``.
        labels: int ``[batch, num_true]`` target classes.
        inputs: ``[batch, dim]`` activations.
        num_sampled / num_classes / num_true: as TF1.
        sampled_values: a ``(sampled, true_expected_count, sampled_expected_count)`` triple
            from a ``*_candidate_sampler``; by default the log-uniform one, unique.
        remove_accidental_hits: push sampled classes that are a row's label to -FLT_MAX.

    Example:
        >>> loss = gc.reduce_mean(gc.nn.nce_loss(nce_weights, nce_biases, train_labels,
        ...                                      embed, num_sampled=64, num_classes=50000))
    """
    graph = graph_of(inputs, labels)
    with graph.as_default(), graph.atomic(), graph.name_scope(name or "nce_loss"):
        logits, targets = _sampled_logits(weights, biases, labels, inputs, num_sampled,
                                          num_classes, num_true, sampled_values, True,
                                          remove_accidental_hits, partition_strategy, seed)
        losses = sigmoid_cross_entropy_with_logits(labels=targets, logits=logits)
        return reduce_sum(losses, 1)


def sampled_softmax_loss(weights, biases, labels, inputs, num_sampled, num_classes,
                         num_true=1, sampled_values=None, remove_accidental_hits=True,
                         partition_strategy="mod", name="sampled_softmax_loss", seed=None):
    """Softmax cross-entropy over the true classes and ``num_sampled`` sampled ones, per
    example ``[batch]`` (TF1 ``tf.nn.sampled_softmax_loss``; arguments as ``nce_loss``).

    Example:
        >>> loss = gc.reduce_mean(gc.nn.sampled_softmax_loss(W, b, labels, h, 20, 10000))
    """
    graph = graph_of(inputs, labels)
    with graph.as_default(), graph.atomic(), \
            graph.name_scope(name or "sampled_softmax_loss"):
        logits, targets = _sampled_logits(weights, biases, labels, inputs, num_sampled,
                                          num_classes, num_true, sampled_values, True,
                                          remove_accidental_hits, partition_strategy, seed)
        return softmax_cross_entropy_with_logits_v2(labels=stop_gradient(targets),
                                                    logits=logits)
