"""Transformations that select, repeat or reorder elements: take, skip, repeat, shuffle,
cache, shard and unbatch.

Shuffling follows TF's algorithm
(a buffer of ``buffer_size`` elements; each output is a uniformly chosen buffer entry,
replaced by the next input element) with a generator seeded by ``(seed, seed2, epoch)``
(and the shuffle's ordinal in its graph when only the graph seed is set):
the same seeds give the same orders in every Session; each new pass over the shuffle (an
epoch under ``repeat``, a re-initialized iterator) gets the next epoch's order unless
``reshuffle_each_iteration=False``; without any seed every pass draws fresh entropy.
"""
from __future__ import annotations

import itertools

import numpy as np

from graphc.errors import InvalidArgumentError
from graphc.graph import get_default_graph
from graphc.ops.random import get_seed
from graphc.shapes import TensorShape

from .stage import Stage, resolve, rows_of, scalar_arg, static_value, tensor_args
from .structure import Spec, pack_as

__all__ = ["Take", "Skip", "Repeat", "Shuffle", "Cache", "Shard", "Unbatch", "shuffled"]


class _Passing(Stage):
    """A stage whose elements are some of its input's, unchanged: the input's structure,
    and its fresh elements and chunks where the stage keeps them."""

    keeps_chunks = True

    def __init__(self, stage: Stage, tensors=()):
        super().__init__(stage.structure, inputs=(stage,), tensors=tensor_args(*tensors))
        self.fresh = stage.fresh
        self.chunked = stage.chunked and self.keeps_chunks
        self.fresh_chunks = stage.fresh_chunks


class Take(_Passing):
    """The first ``count`` elements (all when ``count`` is -1)."""

    kind = "TakeDataset"

    def __init__(self, stage: Stage, count):
        self.count = scalar_arg(count, "Dataset.take count", "integer")
        super().__init__(stage, (self.count,))

    def _elements(self, env):
        count = resolve(env, self.count)
        elements = self.inputs[0]._elements(env)
        return elements if count < 0 else itertools.islice(elements, count)

    def _chunks(self, env, rows):
        count = resolve(env, self.count)
        chunks = self.inputs[0]._chunks(env, rows)
        if count < 0:
            yield from chunks
            return
        if count == 0:
            return
        for chunk in chunks:
            if count < rows_of(chunk):
                chunk = [component[:count] for component in chunk]
            count -= rows_of(chunk)
            yield chunk
            if count == 0:
                return  # before pulling another chunk from the input


class Skip(_Passing):
    """All but the first ``count`` elements (none when ``count`` is -1)."""

    kind = "SkipDataset"

    def __init__(self, stage: Stage, count):
        self.count = scalar_arg(count, "Dataset.skip count", "integer")
        super().__init__(stage, (self.count,))

    def _elements(self, env):
        count = resolve(env, self.count)
        elements = self.inputs[0]._elements(env)
        return iter(()) if count < 0 else itertools.islice(elements, count, None)

    def _chunks(self, env, rows):
        count = resolve(env, self.count)
        if count < 0:
            return
        for chunk in self.inputs[0]._chunks(env, rows):
            if count >= rows_of(chunk):
                count -= rows_of(chunk)
                continue
            if count:
                chunk, count = [component[count:] for component in chunk], 0
            yield chunk


class Repeat(_Passing):
    """The input's elements ``count`` times over (forever when None or -1)."""

    kind = "RepeatDataset"

    def __init__(self, stage: Stage, count=None):
        self.count = -1 if count is None else scalar_arg(count, "Dataset.repeat count",
                                                          "integer")
        super().__init__(stage, (self.count,))

    def _epochs(self, env, make):
        """The passes of ``make()`` over the input, ``count`` of them; an input that makes
        nothing is not repeated forever (as TF)."""
        count = resolve(env, self.count)
        for _ in itertools.count() if count < 0 else range(count):
            produced = False
            for item in make():
                produced = True
                yield item
            if not produced:
                return

    def _elements(self, env):
        return self._epochs(env, lambda: self.inputs[0]._elements(env))

    def _chunks(self, env, rows):
        return self._epochs(env, lambda: self.inputs[0]._chunks(env, rows))


def _ordinal(graph, kind: str) -> int:
    """0, 1, 2... for the datasets of ``kind`` made in ``graph`` (``kind``, ``kind_1``...)."""
    name = graph.unique_name(kind)
    return 0 if name == kind else int(name[len(kind) + 1:])


_DRAW_BLOCK = 1024


def shuffled(items, size: int, rng: np.random.Generator):
    """``items`` through TF's shuffle buffer of ``size``: each output is a uniformly drawn
    buffer entry, replaced by the next item; when the items end, the buffer drains in random
    order. Slots are drawn in blocks (``_DRAW_BLOCK`` while the buffer is full, one call for
    the drain), the same way for elements and for indices, so both give the same order."""
    items = iter(items)
    buffer = list(itertools.islice(items, size))
    draws: list = []
    for item in items:
        if not draws:
            draws = rng.integers(0, size, _DRAW_BLOCK).tolist()[::-1]
        index = draws.pop()
        yield buffer[index]
        buffer[index] = item
    for index in rng.integers(0, np.arange(len(buffer), 0, -1)).tolist():
        buffer[index], buffer[-1] = buffer[-1], buffer[index]
        yield buffer.pop()


class Shuffle(_Passing):
    """The input's elements in random order, drawn from a buffer of ``buffer_size``.

    Over an indexable input (``from_tensor_slices``, maybe mapped) the chunks are gathered
    by index in the shuffled order: the same order, without moving elements one by one.
    """

    kind = "ShuffleDataset"
    keeps_chunks = False
    fresh_chunks = True  # gathered by index: copies

    def __init__(self, stage: Stage, buffer_size, seed=None, reshuffle_each_iteration=None):
        self.buffer_size = scalar_arg(buffer_size, "Dataset.shuffle buffer_size", "integer")
        if static_value(self.buffer_size) is not None and self.buffer_size <= 0:
            raise ValueError(f"Dataset.shuffle: buffer_size must be > 0, got {buffer_size}")
        self.seeds = get_seed(None if seed is None else int(seed))
        # TF1 derives an op seed from the graph's op count, and datasets add no op: the
        # ordinal of this shuffle in its graph tells two seedless shuffles apart
        self.ordinal = 0 if seed is not None else _ordinal(get_default_graph(), "ShuffleDataset")
        self.reshuffle = True if reshuffle_each_iteration is None else \
            bool(reshuffle_each_iteration)
        super().__init__(stage, (self.buffer_size,))
        self.chunked, self.fresh_chunks = stage.indexable, True

    def _start(self, env):
        """The buffer size and this pass's generator, seeded by ``(seed, seed2, epoch)``."""
        size = resolve(env, self.buffer_size)
        if size <= 0:
            raise InvalidArgumentError(None, None, "Dataset.shuffle: buffer_size must be > 0,"
                                       f" got {size}")
        seed, seed2 = self.seeds
        epoch = env.epoch(self)
        if seed is None:
            return size, np.random.default_rng()
        return size, np.random.default_rng([seed & 0xFFFFFFFF, seed2 & 0xFFFFFFFF,
                                            self.ordinal, epoch if self.reshuffle else 0])

    def _elements(self, env):
        size, rng = self._start(env)
        return shuffled(self.inputs[0]._elements(env), size, rng)

    def _chunks(self, env, rows):
        size, rng = self._start(env)
        stage = self.inputs[0]
        length = stage._length(env)
        order = np.fromiter(shuffled(range(length), size, rng), np.int64, length)
        for start in range(0, length, rows):
            yield stage._gather(env, order[start:start + rows])


class Cache(Stage):
    """The input's elements, recorded in memory on the first complete pass and replayed
    after it, for the lifetime of one initialization of the iterator (``Dataset.cache``)."""

    kind = "CacheDataset"

    def __init__(self, stage: Stage, filename=""):
        self.filename = filename  # accepted; the cache lives in memory
        super().__init__(stage.structure, inputs=(stage,))

    def _elements(self, env):
        memo = env.scratch(self)
        if "elements" in memo:
            yield from memo["elements"]
            return
        recorded = []
        for element in self.inputs[0]._elements(env):
            recorded.append(element)
            yield element
        memo["elements"] = recorded  # only a complete pass is kept (as TF)


class Shard(_Passing):
    """Every ``num_shards``-th element, starting at ``index`` (``Dataset.shard``)."""

    kind = "ShardDataset"
    keeps_chunks = False

    def __init__(self, stage: Stage, num_shards, index):
        self.num_shards = scalar_arg(num_shards, "Dataset.shard num_shards", "integer")
        self.index = scalar_arg(index, "Dataset.shard index", "integer")
        shards, position = static_value(self.num_shards), static_value(self.index)
        if shards is not None and (shards <= 0 or position is not None and
                                   not 0 <= position < shards):
            raise ValueError(f"Dataset.shard: need 0 <= index < num_shards, got index "
                             f"{index} and num_shards {num_shards}")
        super().__init__(stage, (self.num_shards, self.index))

    def _elements(self, env):
        shards, position = resolve(env, self.num_shards), resolve(env, self.index)
        return itertools.islice(self.inputs[0]._elements(env), position, None, shards)


class Unbatch(Stage):
    """The rows of each element's components (``Dataset.unbatch``)."""

    kind = "UnbatchDataset"

    def __init__(self, stage: Stage):
        specs = stage.specs
        if any(spec.shape.rank == 0 for spec in specs):
            raise ValueError("Dataset.unbatch: the components must have rank >= 1")
        super().__init__(pack_as(stage.structure, [Spec(s.dtype, s.shape[1:] if s.shape.rank
                                                        else TensorShape(None)) for s in specs]),
                         inputs=(stage,))

    def _elements(self, env):
        for element in self.inputs[0]._elements(env):
            rows = {np.shape(component)[0] if np.ndim(component) else None
                    for component in element}
            if None in rows or len(rows) != 1:
                raise InvalidArgumentError(None, None, "Dataset.unbatch: the components "
                                           "must have the same dim 0, got shapes "
                                           f"{[list(np.shape(c)) for c in element]}")
            for index in range(rows.pop()):
                yield [component[index] for component in element]
