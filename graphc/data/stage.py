"""The stages of an input pipeline: what every source and transformation has in common.

A ``Stage`` is one node of a pipeline description: its element structure (a nest of
``Spec``), the stages it reads, the tensors it captured from the graph (placeholders fed at
initialization, tensors given as ``batch_size``...) and the functions it traced. The runtime
(``graphc.runtime.iterators``) asks a stage for two things only:

- ``_captures()``: every tensor the pipeline needs the value of, in a fixed order; the
  iterator's initializer op takes them as inputs, so a run evaluates (or is fed) them;
- ``_elements(env)``: a Python iterator over the elements, each a list of NumPy arrays in
  ``flatten`` order, where ``env`` gives the captured values (``env.value(t)``), runs traced
  functions (``env.call(f, args)``) and counts epochs for shuffles (``env.epoch(stage)``);
- ``fresh``: whether those arrays are new ones nothing else holds (a batch); the iterator
  copies the others (rows of a dataset's array, cached elements) before handing them out.

Stages between the sources and ``batch`` also offer a faster path, by whole arrays:

- ``chunked``: ``_chunks(env, rows)`` yields *chunks*, consecutive runs of elements as one
  array per component with a leading axis (about ``rows`` long), the same elements as
  ``_elements`` in the same order; ``fresh_chunks`` says whether they are new arrays;
- ``indexable``: ``_length(env)`` elements, any of which ``_gather(env, indices)`` returns as
  a chunk (``from_tensor_slices``, and ``map`` over it), which lets ``shuffle`` reorder by
  index and gather, instead of moving elements one by one.
"""
from __future__ import annotations

from typing import Iterator, Optional, Union

import numpy as np

from graphc.convert import convert_to_tensor
from graphc.errors import InvalidArgumentError
from graphc.graph import Tensor

from .structure import Spec, flatten, map_structure

__all__ = ["Stage", "scalar_arg", "static_value", "resolve", "tensor_args", "rows_of",
           "check_component"]


class Stage:
    """One node of a pipeline description (subclasses implement ``_elements``).

    Example:
        >>> stage = TensorSlices((x_array, y_array))
        >>> stage.structure, stage._captures()
        ((Spec(float32, (784,)), Spec(int64, ())), ())
    """

    kind = "Dataset"  # TF1's class name for this stage, shown by repr()
    fresh = False
    chunked = False
    fresh_chunks = False
    indexable = False

    def __init__(self, structure, inputs=(), tensors=(), functions=()):
        self.structure = structure
        self.inputs = tuple(inputs)
        self.tensors = tuple(tensors)
        self.functions = tuple(functions)
        self._captured: Optional[tuple] = None

    @property
    def specs(self) -> list:
        """The element's component specs, flat."""
        return flatten(self.structure)

    def _captures(self) -> tuple:
        """Every tensor this pipeline reads at initialization, each once, in a fixed order:
        its own, its functions' captures, then its inputs' (depth first)."""
        if self._captured is None:
            found: dict = {}
            for tensor in self.tensors:
                found.setdefault(tensor, None)
            for function in self.functions:
                for tensor in function.captured:
                    found.setdefault(tensor, None)
            for stage in self.inputs:
                for tensor in stage._captures():
                    found.setdefault(tensor, None)
            self._captured = tuple(found)
        return self._captured

    def _elements(self, env) -> Iterator[list]:
        raise NotImplementedError(f"{type(self).__name__} defines no elements")

    def _chunks(self, env, rows: int) -> Iterator[list]:
        raise NotImplementedError(f"{type(self).__name__} makes no chunks")

    def _length(self, env) -> int:
        raise NotImplementedError(f"{type(self).__name__} is not indexable")

    def _gather(self, env, indices) -> list:
        raise NotImplementedError(f"{type(self).__name__} is not indexable")

    def __repr__(self) -> str:
        shapes = map_structure(lambda spec: str(spec.shape), self.structure)
        types = map_structure(lambda spec: f"tf.{spec.dtype.name}", self.structure)
        return f"<{self.kind} shapes: {shapes}, types: {types}>".replace("'", "")

    def graphs(self) -> set:
        """The graphs of the captured tensors (an iterator must live in the same one)."""
        return {tensor.graph for tensor in self._captures()}


def rows_of(chunk: list) -> int:
    """The number of elements in a chunk."""
    return len(chunk[0])


def scalar_arg(value, what: str, dtype=None) -> Union[int, bool, Tensor]:
    """A scalar argument (``batch_size``, ``count``...): a Python value, or a scalar tensor
    whose value is read when the iterator is initialized."""
    if isinstance(value, Tensor) or hasattr(value, "_as_graph_element"):
        tensor = convert_to_tensor(value)
        if tensor.shape.rank not in (None, 0):
            raise ValueError(f"{what} must be a scalar, got tensor {tensor.name!r} of shape "
                             f"{tensor.shape}")
        if dtype is not None and not (tensor.dtype.is_integer if dtype == "integer"
                                      else tensor.dtype.is_bool):
            raise TypeError(f"{what} must be {dtype}, got tensor {tensor.name!r} of dtype "
                            f"{tensor.dtype.name}")
        return tensor
    array = np.asarray(value)
    if array.shape != () or (dtype == "integer" and array.dtype.kind not in "iu") or (
            dtype == "bool" and array.dtype.kind != "b"):
        raise TypeError(f"{what} must be a scalar {dtype or 'value'}, got {value!r}")
    return array.item()


def static_value(arg):
    """The argument's value if known when the graph is built, else None."""
    return None if isinstance(arg, Tensor) else arg


def resolve(env, arg):
    """The argument's value in this initialization of the pipeline."""
    return np.asarray(env.value(arg)).item() if isinstance(arg, Tensor) else arg


def tensor_args(*args) -> list:
    """The arguments that are tensors (the stage's captures among them)."""
    return [arg for arg in args if isinstance(arg, Tensor)]


def check_component(value, spec: Spec, what: str, index: int):
    """``value`` as an array of the component's dtype, whose shape must fit the spec."""
    array = np.asarray(value)
    if array.dtype != spec.dtype.np:
        raise InvalidArgumentError(None, None, f"{what} produced an element of dtype "
                                   f"{array.dtype} in component {index}, where "
                                   f"{spec.dtype.name} was expected")
    if not spec.shape.is_compatible_with(array.shape):
        raise InvalidArgumentError(None, None, f"{what} produced an element of shape "
                                   f"{list(array.shape)} in component {index}, where shape "
                                   f"{spec.shape} was expected")
    return array
