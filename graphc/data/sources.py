"""Where elements come from: tensors and arrays (sliced or whole), Python generators,
ranges, and other datasets zipped or concatenated."""
from __future__ import annotations

import itertools
from typing import Callable

import numpy as np

from graphc import dtypes as gdt
from graphc import gfile
from graphc.convert import convert_to_tensor, numpy_value
from graphc.errors import InvalidArgumentError
from graphc.graph import Tensor
from graphc.shapes import TensorShape

from .stage import Stage, check_component, resolve, scalar_arg, tensor_args
from .structure import (Spec, assert_same_structure, flatten, flatten_up_to, map_structure,
                        most_specific_shape, pack_as, specs_of)

__all__ = ["TensorSlices", "Tensors", "Generator", "Range", "Zip", "Concatenate"]


def _is_tensor_like(value) -> bool:
    if isinstance(value, (list, tuple)):
        return any(_is_tensor_like(v) for v in value)
    return isinstance(value, Tensor) or hasattr(value, "_as_graph_element")


def _components(value):
    """The element of ``from_tensors``/``from_tensor_slices`` input: tuples and dicts are
    structures; anything else (a list too, as in TF1) is one component, a Tensor (read when
    the iterator is initialized) or a read-only copy of the array."""
    if isinstance(value, dict):
        return type(value)((key, _components(item)) for key, item in value.items())
    if isinstance(value, tuple):
        parts = [_components(item) for item in value]
        return type(value)(*parts) if hasattr(value, "_fields") else tuple(parts)
    if _is_tensor_like(value):
        return convert_to_tensor(value)
    array = np.array(numpy_value(value, context="Dataset: "))  # a copy, as TF1's constant
    array.flags.writeable = False
    return array


def _spec(component) -> Spec:
    dtype = component.dtype if isinstance(component, Tensor) else gdt.as_dtype(component.dtype)
    return Spec(dtype, component.shape)


def _values(env, leaves) -> list:
    return [env.value(leaf) if isinstance(leaf, Tensor) else leaf for leaf in leaves]


class Tensors(Stage):
    """One element: the given tensors (``Dataset.from_tensors``)."""

    kind = "TensorDataset"

    def __init__(self, tensors):
        components = _components(tensors)
        self.leaves = flatten(components)
        super().__init__(map_structure(_spec, components), tensors=tensor_args(*self.leaves))

    def _elements(self, env):
        yield _values(env, self.leaves)


class TensorSlices(Stage):
    """The slices of the given tensors along their first dim (``from_tensor_slices``)."""

    kind = "TensorSliceDataset"
    chunked = indexable = True

    def __init__(self, tensors):
        components = _components(tensors)
        self.leaves = flatten(components)
        first = TensorShape(None)
        for leaf in self.leaves:
            shape = _spec(leaf).shape
            if shape.rank == 0:
                raise ValueError("Dataset.from_tensor_slices: unbatching a tensor is only "
                                 f"supported for rank >= 1, got a scalar {_describe(leaf)}")
            if shape.rank is not None:
                if not first.is_compatible_with(shape[:1]):
                    raise ValueError(f"Dataset.from_tensor_slices: dimension 0 of the "
                                     f"components must agree, got {first} and "
                                     f"{_describe(leaf)}")
                first = first.merge_with(shape[:1]) if first.rank else shape[:1]
        super().__init__(map_structure(lambda leaf: _sliced(_spec(leaf)), components),
                         tensors=tensor_args(*self.leaves))

    def _resolved(self, env):
        """The components' values and their common length (dim 0)."""
        values = _values(env, self.leaves)
        sizes = {np.shape(v)[0] if np.ndim(v) else None for v in values}
        if None in sizes or len(sizes) != 1:
            raise InvalidArgumentError(None, None, "Dataset.from_tensor_slices: the "
                                       "components must have rank >= 1 and the same dim 0; "
                                       f"got shapes {[list(np.shape(v)) for v in values]}")
        return values, sizes.pop()

    def _elements(self, env):
        values, length = self._resolved(env)
        for index in range(length):
            yield [value[index] for value in values]

    def _chunks(self, env, rows):
        values, length = self._resolved(env)
        for start in range(0, length, rows):
            yield [value[start:start + rows] for value in values]

    def _length(self, env) -> int:
        return self._resolved(env)[1]

    def _gather(self, env, indices) -> list:
        return [value[indices] for value in self._resolved(env)[0]]


def _sliced(spec: Spec) -> Spec:
    return Spec(spec.dtype, spec.shape[1:] if spec.shape.rank else None)


def _describe(leaf) -> str:
    if isinstance(leaf, Tensor):
        return f"tensor {leaf.name!r} of shape {leaf.shape}"
    return f"array of shape {list(leaf.shape)}"


class Generator(Stage):
    """Elements yielded by a Python generator (``Dataset.from_generator``)."""

    kind = "FlatMapDataset"
    fresh = True  # converted copies of what the generator yields

    def __init__(self, generator: Callable, output_types, output_shapes=None, args=None):
        if not callable(generator):
            raise TypeError("Dataset.from_generator: `generator` must be callable")
        self.generator = generator
        self.args = [_generator_arg(a) for a in (args or ())]
        super().__init__(specs_of(output_types, output_shapes), tensors=tensor_args(*self.args))

    def _elements(self, env):
        args = [env.value(a) if isinstance(a, Tensor) else a for a in self.args]
        specs = self.specs
        for value in self.generator(*args):
            flat = flatten_up_to(self.structure, value, lambda: _mismatch(self.structure,
                                                                          value))
            element = []
            for index, (item, spec) in enumerate(zip(flat, specs)):
                try:
                    array = np.array(item, dtype=spec.dtype.np)  # a copy: generators reuse
                except (TypeError, ValueError) as err:
                    raise InvalidArgumentError(None, None, f"`generator` yielded {item!r} in"
                                               f" component {index}, which is not convertible"
                                               f" to {spec.dtype.name}: {err}") from None
                element.append(check_component(array, spec, "`generator`", index))
            yield element


def _generator_arg(value):
    """A generator argument: a tensor (read at initialization) or a NumPy value."""
    return convert_to_tensor(value) if _is_tensor_like(value) else np.asarray(value)


def _mismatch(structure, value) -> InvalidArgumentError:
    expected = map_structure(lambda spec: spec.dtype.name, structure)
    return InvalidArgumentError(None, None, "`generator` yielded an element that did not "
                                f"match the expected structure. The expected structure was "
                                f"{expected}, but the yielded element was {value!r}.")


class Range(Stage):
    """``start, start + step, ...`` below ``stop`` (``Dataset.range``), int64 scalars."""

    kind = "RangeDataset"
    fresh = True  # NumPy scalars, immutable

    def __init__(self, *args, output_type=gdt.int64):
        if not 1 <= len(args) <= 3:
            raise ValueError(f"Dataset.range takes 1 to 3 arguments, got {len(args)}")
        args = [scalar_arg(a, "Dataset.range argument", "integer") for a in args]
        start, stop, step = ([0] + args + [1])[:3] if len(args) == 1 else (args + [1])[:3]
        if step == 0:
            raise ValueError("Dataset.range: step must not be 0")
        self.bounds = (start, stop, step)
        self.dtype = gdt.as_dtype(output_type)
        super().__init__(Spec(self.dtype, []), tensors=tensor_args(start, stop, step))

    def _elements(self, env):
        start, stop, step = (resolve(env, a) for a in self.bounds)
        if step == 0:
            raise InvalidArgumentError(None, None, "Dataset.range: step must not be 0")
        scalar = self.dtype.np.type
        for value in range(start, stop, step):
            yield [scalar(value)]


class Zip(Stage):
    """Elements of several datasets side by side, until the shortest ends (``zip``)."""

    kind = "ZipDataset"

    def __init__(self, stages):
        leaves = flatten(stages)
        if not leaves or not all(isinstance(s, Stage) for s in leaves):
            raise TypeError(f"Dataset.zip expects a (nested) structure of datasets, got "
                            f"{stages!r}")
        super().__init__(pack_as(stages, [stage.structure for stage in leaves]), inputs=leaves)
        self.fresh = all(stage.fresh for stage in leaves)

    def _elements(self, env):
        for parts in zip(*(stage._elements(env) for stage in self.inputs)):
            yield [component for part in parts for component in part]


class Concatenate(Stage):
    """The elements of one dataset, then those of another (``concatenate``)."""

    kind = "ConcatenateDataset"

    def __init__(self, first: Stage, second: Stage):
        assert_same_structure(first.structure, second.structure, "datasets to concatenate")
        for a, b in zip(first.specs, second.specs):
            if a.dtype is not b.dtype:
                raise TypeError(f"Dataset.concatenate: the datasets have different types: "
                                f"{a.dtype.name} and {b.dtype.name}")
        super().__init__(map_structure(lambda a, b: Spec(a.dtype, most_specific_shape(
            a.shape, b.shape)), first.structure, second.structure), inputs=(first, second))
        self.fresh = first.fresh and second.fresh

    def _elements(self, env):
        return itertools.chain(self.inputs[0]._elements(env), self.inputs[1]._elements(env))


class MatchingFiles(Stage):
    """The file names matching a glob pattern (or a list or string tensor of them), sorted,
    found when the iterator is initialized (``Dataset.list_files``)."""

    kind = "ListFilesDataset"
    fresh = True

    def __init__(self, file_pattern):
        if isinstance(file_pattern, Tensor) or hasattr(file_pattern, "_as_graph_element"):
            self.patterns = convert_to_tensor(file_pattern)
            if self.patterns.dtype is not gdt.string:
                raise TypeError(f"Dataset.list_files: file_pattern must be strings, got "
                                f"{self.patterns.dtype.name}")
        else:
            self.patterns = [file_pattern] if isinstance(file_pattern, (str, bytes)) else \
                list(file_pattern)
        super().__init__(Spec(gdt.string, []), tensors=tensor_args(
            *([self.patterns] if isinstance(self.patterns, Tensor) else [])))

    def _elements(self, env):
        patterns = self.patterns
        if isinstance(patterns, Tensor):
            patterns = list(np.asarray(env.value(patterns), dtype=object).reshape(-1))
        patterns = [p.decode() if isinstance(p, bytes) else str(p) for p in patterns]
        found = sorted(set(gfile.glob(patterns)))
        if not found:
            raise InvalidArgumentError(None, None, f"Dataset.list_files: no files matched "
                                       f"pattern: {', '.join(patterns)}")
        for name in found:
            yield [np.array(name.encode(), dtype=object)]
