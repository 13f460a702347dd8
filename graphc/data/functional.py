"""Transformations by traced functions: map, filter, flat_map and interleave.

Each function is traced once (``functions``) and run in the Session through ``env.call``:
one compiled plan per function and Session. Where the function commutes with a leading
batch axis (``vectorize``), ``map`` and ``filter`` also run on chunks of elements when the
stage after them takes chunks (``batch``): one plan run per chunk instead of per element.
"""
from __future__ import annotations

from graphc.errors import InvalidArgumentError

from .functions import TracedFunction
from .stage import Stage, resolve, scalar_arg, tensor_args
from .structure import Spec
from .vectorize import batched

__all__ = ["Map", "Filter", "FlatMap", "Interleave"]


class Map(Stage):
    """``fn`` applied to each element (``Dataset.map``)."""

    kind = "MapDataset"
    fresh = fresh_chunks = True  # a plan's fetched results are the caller's own

    def __init__(self, stage: Stage, fn):
        self.function = TracedFunction(fn, stage.structure, "Dataset.map()")
        super().__init__(self.function.output_structure, inputs=(stage,),
                         functions=(self.function,))
        self.on_chunks = batched(self.function) if stage.chunked or stage.indexable else None
        self.chunked = stage.chunked and self.on_chunks is not None
        self.indexable = stage.indexable and self.on_chunks is not None

    def _elements(self, env):
        call, function = env.call, self.function
        for element in self.inputs[0]._elements(env):
            yield call(function, element)

    def _chunks(self, env, rows):
        for chunk in self.inputs[0]._chunks(env, rows):
            yield env.call(self.on_chunks, chunk)

    def _length(self, env) -> int:
        return self.inputs[0]._length(env)

    def _gather(self, env, indices) -> list:
        return env.call(self.on_chunks, self.inputs[0]._gather(env, indices))


class Filter(Stage):
    """The elements for which ``predicate`` is true (``Dataset.filter``)."""

    kind = "FilterDataset"
    fresh_chunks = True  # boolean indexing copies

    def __init__(self, stage: Stage, predicate):
        self.function = TracedFunction(predicate, stage.structure, "Dataset.filter()")
        result = self.function.output_structure
        if not isinstance(result, Spec) or not result.dtype.is_bool or \
                result.shape.rank not in (0, None):
            raise ValueError(f"Dataset.filter: `predicate` must return a scalar boolean "
                             f"tensor, got {result} (traced at {self.function.location})")
        super().__init__(stage.structure, inputs=(stage,), functions=(self.function,))
        self.fresh = stage.fresh
        self.on_chunks = batched(self.function) if stage.chunked else None
        self.chunked = self.on_chunks is not None

    def _elements(self, env):
        call, function = env.call, self.function
        for element in self.inputs[0]._elements(env):
            if call(function, element)[0]:
                yield element

    def _chunks(self, env, rows):
        for chunk in self.inputs[0]._chunks(env, rows):
            (keep,) = env.call(self.on_chunks, chunk)
            if keep.any():
                yield [component[keep] for component in chunk]


class FlatMap(Stage):
    """The elements of the datasets ``fn`` makes of each element (``flat_map``)."""

    kind = "FlatMapDataset"

    def __init__(self, stage: Stage, fn, name="Dataset.flat_map()"):
        self.function = TracedFunction(fn, stage.structure, name, returns_dataset=True)
        self.inner = self.function.output_structure
        super().__init__(self.inner.structure, inputs=(stage,), functions=(self.function,))
        self.fresh = self.inner.fresh

    def _inner_elements(self, env, element):
        values = env.call(self.function, element)
        return self.inner._elements(env.nested(self.inner._captures(), values))

    def _elements(self, env):
        for element in self.inputs[0]._elements(env):
            yield from self._inner_elements(env, element)


class Interleave(FlatMap):
    """``cycle_length`` of the datasets ``fn`` makes, ``block_length`` elements from each in
    turn (``Dataset.interleave``, TF's deterministic order)."""

    kind = "InterleaveDataset"

    def __init__(self, stage: Stage, fn, cycle_length, block_length=1):
        super().__init__(stage, fn, "Dataset.interleave()")
        self.cycle_length = scalar_arg(cycle_length, "cycle_length", "integer")
        self.block_length = scalar_arg(block_length, "block_length", "integer")
        self.tensors = tuple(tensor_args(self.cycle_length, self.block_length))

    def _elements(self, env):
        cycle, block = resolve(env, self.cycle_length), resolve(env, self.block_length)
        if cycle <= 0 or block <= 0:
            raise InvalidArgumentError(None, None, "Dataset.interleave: cycle_length and "
                                       f"block_length must be > 0, got {cycle}, {block}")
        # TF's state machine: ``block`` elements from a slot's stream, then the next slot; a
        # stream that ends frees its slot (the next slot goes on), and an empty slot takes
        # the next input element's stream while there is input.
        sources = iter(self.inputs[0]._elements(env))
        slots, open_count, index, in_block, input_done = [None] * cycle, 0, 0, 0, False
        while not input_done or open_count:
            stream = slots[index]
            if stream is not None:
                element = next(stream, _END)
                if element is not _END:
                    in_block += 1
                    if in_block == block:
                        index, in_block = (index + 1) % cycle, 0
                    yield element
                    continue
                slots[index], open_count = None, open_count - 1
                index, in_block = (index + 1) % cycle, 0
            elif not input_done:
                source = next(sources, _END)
                if source is _END:
                    input_done = True
                else:
                    slots[index] = iter(self._inner_elements(env, source))
                    open_count += 1
            else:
                index, in_block = (index + 1) % cycle, 0


_END = object()
