"""``gc.data.experimental``: the TF 1.x ``tf.data.experimental`` helpers TF1 programs use.

Example:
    >>> ds = ds.apply(gc.data.experimental.shuffle_and_repeat(1000, seed=1))
    >>> ds = ds.prefetch(gc.data.experimental.AUTOTUNE)
"""
from __future__ import annotations

from .dataset import AUTOTUNE

__all__ = ["AUTOTUNE", "shuffle_and_repeat", "map_and_batch", "unbatch", "enumerate_dataset"]


def shuffle_and_repeat(buffer_size, count=None, seed=None):
    """A transformation for ``Dataset.apply``: ``shuffle(buffer_size, seed).repeat(count)``."""
    return lambda dataset: dataset.shuffle(buffer_size, seed).repeat(count)


def map_and_batch(map_func, batch_size, num_parallel_batches=None, drop_remainder=False,
                  num_parallel_calls=None):
    """A transformation for ``Dataset.apply``: ``map(map_func).batch(batch_size, ...)``."""
    return lambda dataset: dataset.map(map_func).batch(batch_size, drop_remainder)


def unbatch():
    """A transformation for ``Dataset.apply``: ``dataset.unbatch()``."""
    return lambda dataset: dataset.unbatch()


def enumerate_dataset(start=0):
    """A transformation for ``Dataset.apply``: ``dataset.enumerate(start)``."""
    return lambda dataset: dataset.enumerate(start)
