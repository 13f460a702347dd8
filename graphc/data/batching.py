"""Batching: ``batch`` stacks consecutive elements, ``padded_batch`` pads them to a common
shape first.

The batch dim is statically unknown (None) unless ``drop_remainder`` holds, as in TF1: the
last batch of an epoch may be smaller. Stacking elements of different shapes is an
``InvalidArgumentError`` naming the component and both shapes.
"""
from __future__ import annotations

import itertools

import numpy as np

from graphc.convert import convert_to_tensor
from graphc.errors import InvalidArgumentError
from graphc.graph import Tensor
from graphc.shapes import TensorShape
from graphc.static_values import constant_value

from .stage import Stage, resolve, rows_of, scalar_arg, static_value, tensor_args
from .structure import (Spec, composite_starts, flatten_up_to, pack_as,
                        shape_of_spec_arg)

__all__ = ["Batch", "PaddedBatch"]


class Batch(Stage):
    """Consecutive elements stacked along a new first dim (``Dataset.batch``); from the
    input's chunks when it makes them (one copy per batch, no per-element work)."""

    kind = "BatchDataset"
    fresh = True

    def __init__(self, stage: Stage, batch_size, drop_remainder=False, name="Dataset.batch"):
        self.batch_size = scalar_arg(batch_size, f"{name} batch_size", "integer")
        if static_value(self.batch_size) is not None and self.batch_size <= 0:
            raise ValueError(f"{name}: batch_size must be > 0, got {batch_size}")
        self.drop_remainder = scalar_arg(drop_remainder, f"{name} drop_remainder", "bool")
        fixed = static_value(self.batch_size) if static_value(self.drop_remainder) else None
        self._sparse_starts = composite_starts(stage.structure)
        if self._sparse_starts and type(self) is not Batch:
            raise TypeError(f"{name}: the elements hold a SparseTensor, which {name} does not "
                            "pad; use Dataset.batch for it")
        specs = [Spec(spec.dtype, TensorShape([fixed]).concatenate(spec.shape))
                 for spec in self._element_specs(stage)]
        for start in self._sparse_starts:
            specs[start:start + 3] = _batched_sparse_specs(stage.specs[start:start + 3])
        super().__init__(pack_as(stage.structure, specs), inputs=(stage,),
                         tensors=tensor_args(self.batch_size, self.drop_remainder))

    def _element_specs(self, stage: Stage) -> list:
        return stage.specs

    def _batches(self, env):
        """Lists of consecutive elements, ``batch_size`` long but maybe the last."""
        size, drop = resolve(env, self.batch_size), resolve(env, self.drop_remainder)
        if size <= 0:
            raise InvalidArgumentError(None, None, f"batch_size must be > 0, got {size}")
        elements = iter(self.inputs[0]._elements(env))
        while True:
            batch = list(itertools.islice(elements, size))
            if not batch or (drop and len(batch) < size):
                return
            yield batch

    def _elements(self, env):
        if self.inputs[0].chunked and not self._sparse_starts:
            yield from self._from_chunks(env)
            return
        for batch in self._batches(env):
            out = [None] * len(batch[0])
            for start in self._sparse_starts:
                out[start:start + 3] = _batched_sparse([e[start:start + 3] for e in batch])
            yield [_stacked([element[i] for element in batch], i) if value is None else value
                   for i, value in enumerate(out)]

    def _from_chunks(self, env):
        size, drop = resolve(env, self.batch_size), resolve(env, self.drop_remainder)
        if size <= 0:
            raise InvalidArgumentError(None, None, f"batch_size must be > 0, got {size}")
        stage = self.inputs[0]
        pieces, have = [], 0
        for chunk in stage._chunks(env, size):
            start, rows = 0, rows_of(chunk)
            while start < rows:
                taken = min(size - have, rows - start)
                pieces.append(chunk if taken == rows else
                              [component[start:start + taken] for component in chunk])
                have, start = have + taken, start + taken
                if have == size:
                    yield _joined(pieces, stage.fresh_chunks)
                    pieces, have = [], 0
        if pieces and not drop:
            yield _joined(pieces, stage.fresh_chunks)


def _batched_sparse_specs(specs: list) -> list:
    """The specs of a batch of SparseTensors: one more leading dim in indices and shape."""
    indices, values, _ = specs
    rank = indices.shape[1] if indices.shape.rank == 2 else None
    rank = None if rank is None else rank + 1
    return [Spec(indices.dtype, [None, rank]), Spec(values.dtype, [None]),
            Spec(indices.dtype, [rank])]


def _batched_sparse(parts: list) -> list:
    """A batch of SparseTensor values (indices, values, dense_shape per element) as one
    SparseTensor, as TF batches them: the element's position leads each index, and the
    dense shape is the batch size and each dim's largest."""
    ranks = {len(shape) for _, _, shape in parts}
    if len(ranks) != 1:
        raise InvalidArgumentError(None, None, f"Cannot batch SparseTensors of different "
                                   f"ranks {sorted(ranks)}")
    indices = [np.hstack([np.full((len(index), 1), row, np.int64), index])
               for row, (index, _, _) in enumerate(parts)]
    shape = np.max(np.stack([np.asarray(shape, np.int64) for _, _, shape in parts]), axis=0)
    return [np.concatenate(indices), np.concatenate([values for _, values, _ in parts]),
            np.concatenate([[len(parts)], shape]).astype(np.int64)]


def _joined(pieces: list, fresh: bool) -> list:
    """One batch of consecutive pieces of chunks: a whole fresh chunk as it is, else copied."""
    if len(pieces) == 1 and fresh:
        return pieces[0]
    try:
        return [np.concatenate([piece[i] for piece in pieces]) for i in range(len(pieces[0]))]
    except ValueError as err:
        raise InvalidArgumentError(None, None, f"Cannot batch tensors with different shapes: "
                                   f"{err}") from None


def _stacked(values: list, component: int) -> np.ndarray:
    try:
        return np.stack(values)
    except ValueError:
        first = np.shape(values[0])
        index, shape = next((i, np.shape(v)) for i, v in enumerate(values)
                            if np.shape(v) != first)
        raise InvalidArgumentError(
            None, None, f"Cannot batch tensors with different shapes in component "
            f"{component}. First element had shape {list(first)} and element {index} had "
            f"shape {list(shape)}.") from None


class PaddedBatch(Batch):
    """Consecutive elements padded to a common shape and stacked (``padded_batch``).

    ``padded_shapes`` has one shape per component; its None (or -1) dims pad to the longest
    element of each batch. Without it every unknown dim pads that way.
    """

    kind = "PaddedBatchDataset"
    # pads element by element: chunks of the input are not used

    def __init__(self, stage: Stage, batch_size, padded_shapes=None, padding_values=None,
                 drop_remainder=False):
        specs = stage.specs
        shapes = ([spec.shape for spec in specs] if padded_shapes is None else
                  [shape_of_spec_arg(_static_shape(s)) for s in
                   flatten_up_to(stage.structure, padded_shapes)])
        self.padded_shapes = []
        for index, (spec, shape) in enumerate(zip(specs, shapes)):
            if shape.rank is None or not _fits(spec.shape, shape):
                raise ValueError(f"Dataset.padded_batch: the padded shape {shape} is not "
                                 f"compatible with the shape {spec.shape} of component "
                                 f"{index}")
            self.padded_shapes.append(shape)
        values = [None] * len(specs) if padding_values is None else \
            flatten_up_to(stage.structure, padding_values)
        self.padding_values = [_padding(value, spec, index) for index, (value, spec) in
                               enumerate(zip(values, specs))]
        super().__init__(stage, batch_size, drop_remainder, "Dataset.padded_batch")
        self.tensors += tuple(tensor_args(*self.padding_values))

    def _element_specs(self, stage: Stage) -> list:
        return [Spec(spec.dtype, shape) for spec, shape in zip(stage.specs, self.padded_shapes)]

    def _elements(self, env):
        pads = [np.asarray(env.value(value) if isinstance(value, Tensor) else value,
                           spec.dtype.np) for value, spec in zip(self.padding_values, self.specs)]
        for batch in self._batches(env):
            yield [self._padded([element[i] for element in batch], i, pads[i])
                   for i in range(len(batch[0]))]

    def _padded(self, values: list, component: int, pad) -> np.ndarray:
        shapes = [np.shape(v) for v in values]
        target = tuple(max(s[axis] for s in shapes) if dim is None else dim
                       for axis, dim in enumerate(self.padded_shapes[component].dims))
        out = np.full((len(values),) + target, pad, dtype=pad.dtype)
        for row, (value, shape) in enumerate(zip(values, shapes)):
            if len(shape) != len(target) or any(s > t for s, t in zip(shape, target)):
                raise InvalidArgumentError(
                    None, None, "Attempted to pad to a smaller size than the input element: "
                    f"component {component} has shape {list(shape)}, padded shape "
                    f"{list(target)}")
            out[(row,) + tuple(slice(0, s) for s in shape)] = value
        return out


def _static_shape(shape):
    """A padded shape given as a tensor must have a constant value."""
    if isinstance(shape, Tensor):
        value = constant_value(shape)
        if value is None:
            raise ValueError(f"Dataset.padded_batch: padded shape {shape.name!r} must be "
                             "known when the graph is built")
        return [int(d) for d in value]
    return shape


def _fits(component: TensorShape, padded: TensorShape) -> bool:
    """Every element of ``component``'s shape can be padded to ``padded``."""
    if component.rank is None:
        return True
    return component.rank == padded.rank and all(
        c is None or p is None or c <= p for c, p in zip(component.dims, padded.dims))


def _padding(value, spec: Spec, index: int):
    """A component's padding value: a scalar of its dtype (a scalar tensor is read when the
    iterator is initialized); 0 (False) by default."""
    if value is None:
        return np.zeros((), spec.dtype.np)
    if isinstance(value, Tensor) or hasattr(value, "_as_graph_element"):
        tensor = convert_to_tensor(value)
        if tensor.dtype is not spec.dtype or tensor.shape.rank not in (None, 0):
            raise TypeError(f"Dataset.padded_batch: padding value {tensor.name!r} of "
                            f"component {index} must be a {spec.dtype.name} scalar")
        return tensor
    array = np.asarray(value)
    if array.shape != ():
        raise ValueError(f"Dataset.padded_batch: padding value {value!r} of component "
                         f"{index} must be a scalar")
    return array.astype(spec.dtype.np)

