"""``gc.data.Dataset``: TF1's input pipelines, as descriptions the Session runs.

A Dataset is a chain of stages (``sources``, ``transforms``, ``batching``); building one
adds no op to any graph. Functions given to ``map``, ``filter``, ``flat_map`` and
``interleave`` are traced once into graphs of their own (``functions``). Elements are made
by NumPy on the host when an iterator's ``get_next`` op runs (``graphc.data.iterator``).
"""
from __future__ import annotations

import os

import numpy as np

from graphc import dtypes as gdt
from graphc.graph import Tensor

from . import batching, functional, sources, transforms
from .iterator import Iterator
from .stage import Stage
from .structure import map_structure

_ALL_FILES = 1 << 20  # list_files shuffles all the names it finds, as TF does

__all__ = ["Dataset", "AUTOTUNE"]

AUTOTUNE = -1  # tf.data.experimental.AUTOTUNE: accepted wherever TF1 accepts it


class Dataset:
    """A sequence of elements, each a structure (tuples, dicts) of tensors (TF1 semantics).

    Example:
        >>> ds = gc.data.Dataset.from_tensor_slices((images, labels))
        >>> ds = ds.map(lambda x, y: (x / 255.0, y)).shuffle(1000, seed=1).batch(32)
        >>> images_batch, labels_batch = ds.make_one_shot_iterator().get_next()
    """

    def __init__(self, stage: Stage):
        self._stage = stage

    # -- sources --------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors) -> "Dataset":
        """The slices of ``tensors`` (arrays, tensors, tuples or dicts of them) along dim 0.

        Example:
            >>> ds = gc.data.Dataset.from_tensor_slices({"x": x_train, "y": y_train})
        """
        return Dataset(sources.TensorSlices(tensors))

    @staticmethod
    def from_tensors(tensors) -> "Dataset":
        """A single element: ``tensors``."""
        return Dataset(sources.Tensors(tensors))

    @staticmethod
    def from_generator(generator, output_types, output_shapes=None, args=None) -> "Dataset":
        """The elements ``generator(*args)`` yields, converted to ``output_types``.

        Example:
            >>> def gen():
            ...     for i in range(3):
            ...         yield i, [1.0] * i
            >>> ds = gc.data.Dataset.from_generator(gen, (gc.int64, gc.float32),
            ...                                     ((), (None,)))
        """
        return Dataset(sources.Generator(generator, output_types, output_shapes, args))

    @staticmethod
    def range(*args, output_type=gdt.int64) -> "Dataset":
        """``range(stop)``, ``range(start, stop)`` or ``range(start, stop, step)``, int64."""
        return Dataset(sources.Range(*args, output_type=output_type))

    @staticmethod
    def list_files(file_pattern, shuffle=None, seed=None) -> "Dataset":
        """The file names matching ``file_pattern`` (a glob, a list of them or a string
        tensor), one string per element, shuffled unless ``shuffle=False`` (TF1's default
        shuffles). No match is an InvalidArgumentError when the iterator runs.

        Example:
            >>> files = gc.data.Dataset.list_files("data/train-*.tfrecord", seed=1)
            >>> records = files.interleave(gc.data.TFRecordDataset, cycle_length=4)
        """
        dataset = Dataset(sources.MatchingFiles(file_pattern))
        if shuffle is False:
            return dataset
        return dataset.shuffle(_ALL_FILES, seed=seed)

    @staticmethod
    def zip(datasets) -> "Dataset":
        """Elements of the (nested tuple or dict of) ``datasets`` side by side."""
        return Dataset(sources.Zip(map_structure(_stage_of, datasets)))

    # -- transformations ------------------------------------------------------------------
    def map(self, map_func, num_parallel_calls=None, deterministic=None) -> "Dataset":
        """``map_func`` of each element, traced once (a tuple element gives positional
        arguments); ``num_parallel_calls`` is accepted, elements are made in order."""
        return Dataset(functional.Map(self._stage, map_func))

    def filter(self, predicate) -> "Dataset":
        """The elements for which the traced ``predicate`` gives a true scalar bool."""
        return Dataset(functional.Filter(self._stage, predicate))

    def flat_map(self, map_func) -> "Dataset":
        """The elements of the datasets ``map_func`` builds from each element."""
        return Dataset(functional.FlatMap(self._stage, map_func))

    def interleave(self, map_func, cycle_length=AUTOTUNE, block_length=1,
                   num_parallel_calls=None, deterministic=None) -> "Dataset":
        """The datasets ``map_func`` builds, ``cycle_length`` at a time, ``block_length``
        elements from each in turn (AUTOTUNE: one per CPU core, as TF)."""
        if cycle_length is None or (not isinstance(cycle_length, Tensor) and
                                    cycle_length == AUTOTUNE):
            cycle_length = os.cpu_count() or 1
        return Dataset(functional.Interleave(self._stage, map_func, cycle_length,
                                             block_length))

    def batch(self, batch_size, drop_remainder=False) -> "Dataset":
        """Consecutive elements stacked; the batch dim is None unless ``drop_remainder``."""
        return Dataset(batching.Batch(self._stage, batch_size, drop_remainder))

    def padded_batch(self, batch_size, padded_shapes=None, padding_values=None,
                     drop_remainder=False) -> "Dataset":
        """Consecutive elements padded to ``padded_shapes`` (None dims: the batch's longest)
        with ``padding_values`` (default 0) and stacked.

        Example:
            >>> ds.padded_batch(4, padded_shapes=([None], []), padding_values=(-1, 0))
        """
        return Dataset(batching.PaddedBatch(self._stage, batch_size, padded_shapes,
                                            padding_values, drop_remainder))

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None) -> "Dataset":
        """Elements in random order from a buffer of ``buffer_size`` (seeded by ``seed``
        and the graph seed, TF1's rules; a new order each epoch unless
        ``reshuffle_each_iteration=False``)."""
        return Dataset(transforms.Shuffle(self._stage, buffer_size, seed,
                                          reshuffle_each_iteration))

    def repeat(self, count=None) -> "Dataset":
        """The elements ``count`` times over (None or -1: forever)."""
        return Dataset(transforms.Repeat(self._stage, count))

    def take(self, count) -> "Dataset":
        """The first ``count`` elements (-1: all)."""
        return Dataset(transforms.Take(self._stage, count))

    def skip(self, count) -> "Dataset":
        """All but the first ``count`` elements (-1: none)."""
        return Dataset(transforms.Skip(self._stage, count))

    def prefetch(self, buffer_size) -> "Dataset":
        """The same elements: graphc makes them when ``get_next`` runs, so there is nothing
        to overlap; accepted for TF1 programs."""
        return self

    def cache(self, filename="") -> "Dataset":
        """The elements, kept in memory after the first complete pass (``filename`` is
        accepted; the cache lives in memory while the iterator is initialized)."""
        return Dataset(transforms.Cache(self._stage, filename))

    def concatenate(self, dataset) -> "Dataset":
        """This dataset's elements, then ``dataset``'s (same structure and types)."""
        return Dataset(sources.Concatenate(self._stage, _stage_of(dataset)))

    def shard(self, num_shards, index) -> "Dataset":
        """Every ``num_shards``-th element starting at ``index``."""
        return Dataset(transforms.Shard(self._stage, num_shards, index))

    def unbatch(self) -> "Dataset":
        """The rows of each element (the inverse of ``batch``)."""
        return Dataset(transforms.Unbatch(self._stage))

    def enumerate(self, start=0) -> "Dataset":
        """``(index, element)`` pairs, the index an int64 counting from ``start``."""
        return Dataset.zip((Dataset.range(start, np.iinfo(np.int64).max), self))

    def apply(self, transformation_func) -> "Dataset":
        """``transformation_func(self)``, which must return a Dataset."""
        result = transformation_func(self)
        if not isinstance(result, Dataset):
            raise TypeError(f"Dataset.apply: `transformation_func` must return a Dataset, "
                            f"got {result!r}")
        return result

    # -- iterators (TF1) ------------------------------------------------------------------
    def make_one_shot_iterator(self):
        """An iterator that starts by itself on first use (the dataset may capture only
        constants). See ``gc.data.Iterator``."""
        return Iterator._one_shot(self)

    def make_initializable_iterator(self, shared_name=None):
        """An iterator with an ``initializer`` op, to run (with its feeds) before use."""
        return Iterator._initializable(self, shared_name)

    # -- structure ------------------------------------------------------------------------
    @property
    def output_types(self):
        """The element's dtypes, in its structure."""
        return map_structure(lambda spec: spec.dtype, self._stage.structure)

    @property
    def output_shapes(self):
        """The element's static shapes (TensorShape), in its structure."""
        return map_structure(lambda spec: spec.shape, self._stage.structure)

    @property
    def output_classes(self):
        """``gc.Tensor`` for every component (graphc has no sparse tensors)."""
        return map_structure(lambda spec: Tensor, self._stage.structure)

    def _captures(self) -> tuple:
        return self._stage._captures()

    def _elements(self, env):
        return self._stage._elements(env)

    def __iter__(self):
        raise RuntimeError("__iter__() is only supported inside of tf.function or when eager "
                           "execution is enabled; in graph mode use "
                           "dataset.make_one_shot_iterator().get_next() and session.run")

    def __repr__(self) -> str:
        return repr(self._stage)


def _stage_of(dataset) -> Stage:
    if not isinstance(dataset, Dataset):
        raise TypeError(f"Expected a Dataset, got {dataset!r}")
    return dataset._stage
