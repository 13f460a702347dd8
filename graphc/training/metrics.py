"""Metric tensors for classifiers, and the running means ``fit``/``evaluate`` keep.

Example:
    >>> loss = gc.training.sparse_softmax_loss(labels, logits)
    >>> acc = gc.training.accuracy(labels, logits)
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc.ops.elementwise import equal
from graphc.ops.reduce import argmax, reduce_mean
from graphc.ops.select import cast
from graphc.ops.sparse_xent import sparse_softmax_cross_entropy_with_logits as sparse_xent

__all__ = ["accuracy", "sparse_softmax_loss", "RunningMeans"]


def accuracy(labels, logits, name="accuracy"):
    """The fraction of rows whose largest logit is at the label (a float32 scalar).

    Example:
        >>> acc = gc.training.accuracy(labels, logits)
    """
    predicted = argmax(logits, axis=-1, output_type=labels.dtype)
    return reduce_mean(cast(equal(predicted, labels), gdt.float32), name=name)


def sparse_softmax_loss(labels, logits, name="loss"):
    """The mean softmax cross-entropy of integer ``labels`` against ``logits``.

    Example:
        >>> loss = gc.training.sparse_softmax_loss(labels, logits)
    """
    return reduce_mean(sparse_xent(labels=labels, logits=logits), name=name)


class RunningMeans:
    """Means of per-batch values weighted by batch size: the epoch's exact mean of metrics
    that are means over a batch (loss, accuracy)."""

    def __init__(self, names):
        self.names = list(names)
        self.sums = np.zeros(len(self.names))
        self.count = 0

    def add(self, values, size: int) -> None:
        self.sums += np.asarray([float(v) for v in values]) * size
        self.count += size

    def result(self) -> dict:
        return {name: float(s / max(self.count, 1)) for name, s in zip(self.names, self.sums)}
