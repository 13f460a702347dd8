"""``gc.data.experimental``: the TF 1.x ``tf.data.experimental`` helpers TF1 programs use.

Example:
    >>> ds = ds.apply(gc.data.experimental.shuffle_and_repeat(1000, seed=1))
    >>> ds = ds.prefetch(gc.data.experimental.AUTOTUNE)
"""
from __future__ import annotations

from graphc.parsing import parse_example

from .dataset import AUTOTUNE, Dataset
from .files import TFRecordDataset

__all__ = ["AUTOTUNE", "shuffle_and_repeat", "map_and_batch", "unbatch", "enumerate_dataset",
           "parse_example_dataset", "make_batched_features_dataset"]


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


def parse_example_dataset(features, num_parallel_calls=1, deterministic=None):
    """A transformation for ``Dataset.apply``: batches of serialized Examples parsed by
    ``features`` (``map(lambda records: parse_example(records, features))``)."""
    return lambda dataset: dataset.map(lambda records: parse_example(records, features))


def make_batched_features_dataset(file_pattern, batch_size, features, reader=None,
                                  label_key=None, reader_args=None, num_epochs=None,
                                  shuffle=True, shuffle_buffer_size=10000, shuffle_seed=None,
                                  prefetch_buffer_size=None, reader_num_threads=None,
                                  parser_num_threads=None, sloppy_ordering=False,
                                  drop_final_batch=False):
    """Batches of parsed Examples from the files matching ``file_pattern``, as TF builds
    them: ``list_files`` (shuffled with ``shuffle``), the files' records interleaved
    (``reader``, TFRecordDataset by default), shuffled, repeated ``num_epochs`` times (None:
    forever), batched and parsed with ``parse_example``; with ``label_key``, elements are
    ``(features, label)``.

    Example:
        >>> ds = gc.data.experimental.make_batched_features_dataset(
        ...     "train-*.tfrecord", 32, features, label_key="label", num_epochs=1)
    """
    if label_key is not None and label_key not in features:
        raise ValueError(f"make_batched_features_dataset: label_key {label_key!r} is not one "
                         f"of the features {sorted(features)}")
    reader = TFRecordDataset if reader is None else reader
    files = Dataset.list_files(file_pattern, shuffle=shuffle, seed=shuffle_seed)
    dataset = files.interleave(lambda name: reader(name, *(reader_args or [])),
                               cycle_length=reader_num_threads or 1)
    if shuffle:
        dataset = dataset.shuffle(shuffle_buffer_size, seed=shuffle_seed)
    dataset = dataset.repeat(num_epochs).batch(batch_size, drop_remainder=drop_final_batch)
    dataset = dataset.apply(parse_example_dataset(features))
    if label_key is not None:
        dataset = dataset.map(lambda parsed: (
            {key: value for key, value in parsed.items() if key != label_key},
            parsed[label_key]))
    return dataset
