"""``gc.contrib.seq2seq.sequence_loss``: TF1's weighted cross-entropy of a sequence of
logits, averaged or summed over time steps and batch (``tf.contrib.seq2seq``'s loss; the
decoders and attention of that module are not here)."""
from __future__ import annotations

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor
from graphc.graph import get_default_graph
from graphc.ops.math_extra import count_nonzero
from graphc.ops.reduce import reduce_sum
from graphc.ops.safe_math import div_no_nan
from graphc.ops.shape_ops import reshape, shape
from graphc.ops.sparse_xent import sparse_softmax_cross_entropy_with_logits

__all__ = ["sequence_loss"]


def _check_ranks(logits, targets, weights):
    for tensor, rank, what in ((logits, 3, "Logits must be a [batch_size x sequence_length x "
                                          "logits] tensor"),
                               (targets, 2, "Targets must be a [batch_size x sequence_length] "
                                            "tensor"),
                               (weights, 2, "Weights must be a [batch_size x sequence_length] "
                                            "tensor")):
        if tensor.shape.rank != rank:
            raise ValueError(f"sequence_loss: {what}, got shape {tensor.shape}")


def sequence_loss(logits, targets, weights, average_across_timesteps=True,
                  average_across_batch=True, sum_over_timesteps=False, sum_over_batch=False,
                  softmax_loss_function=None, name=None):
    """The cross-entropy of ``logits`` [batch, time, classes] against int ``targets``
    [batch, time], times ``weights`` [batch, time] (a mask), reduced as TF1 does: averaged
    (divided by the summed weights) or summed-and-divided-by-the-nonzero-weights over time
    and/or batch; a scalar when both are reduced. 0, not NaN, when every weight is 0.

    Example:
        >>> mask = gc.sequence_mask(lengths, max_len, dtype=gc.float32)
        >>> loss = gc.contrib.seq2seq.sequence_loss(logits, targets, mask)
    """
    logits, targets = convert_to_tensor(logits), convert_to_tensor(targets)
    weights = convert_to_tensor(weights)
    _check_ranks(logits, targets, weights)
    if average_across_timesteps and sum_over_timesteps:
        raise ValueError("average_across_timesteps and sum_over_timesteps cannot be set to "
                         "True at same time.")
    if average_across_batch and sum_over_batch:
        raise ValueError("average_across_batch and sum_over_batch cannot be set to True at "
                         "same time.")
    with get_default_graph().name_scope(name or "sequence_loss"):
        classes = shape(logits)[2]
        flat_logits = reshape(logits, [-1, classes])
        flat_targets = reshape(targets, [-1])
        if softmax_loss_function is None:
            crossent = sparse_softmax_cross_entropy_with_logits(labels=flat_targets,
                                                                logits=flat_logits)
        else:
            crossent = softmax_loss_function(labels=flat_targets, logits=flat_logits)
        crossent = crossent * reshape(weights, [-1])
        if average_across_timesteps and average_across_batch:
            return div_no_nan(reduce_sum(crossent), reduce_sum(weights))
        if sum_over_timesteps and sum_over_batch:
            return div_no_nan(reduce_sum(crossent), count_nonzero(weights, dtype=gdt.float32))
        crossent = reshape(crossent, shape(logits)[0:2])
        if average_across_timesteps or average_across_batch:
            axis = [0] if average_across_batch else [1]
            return div_no_nan(reduce_sum(crossent, axis=axis), reduce_sum(weights, axis=axis))
        if sum_over_timesteps or sum_over_batch:
            axis = [0] if sum_over_batch else [1]
            return div_no_nan(reduce_sum(crossent, axis=axis),
                              count_nonzero(weights, axis=axis, dtype=gdt.float32))
        return crossent
