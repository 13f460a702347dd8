"""Element structures: nests of tuples, namedtuples, lists and dicts around components.

A dataset's element is a structure (``(image, label)``, ``{"x": x, "y": y}``...) whose
leaves are tensors; its ``_structure`` holds a ``Spec`` (dtype, static shape) per leaf.
Flattening visits dict values in sorted key order, as TF's ``nest`` does, and packing puts
values back into the same containers.
"""
from __future__ import annotations

from typing import Any, Callable

from graphc import dtypes as gdt
from graphc.shapes import TensorShape, as_shape

__all__ = ["Spec", "Composite", "composite_starts", "flatten", "flatten_up_to", "pack_as",
           "map_structure", "assert_same_structure", "most_specific_shape", "shape_of_spec_arg",
           "specs_of"]


class Spec:
    """The dtype and static shape of one component of a dataset's elements."""

    __slots__ = ("dtype", "shape")

    def __init__(self, dtype, shape):
        self.dtype = gdt.as_dtype(dtype)
        self.shape = as_shape(shape)

    def __repr__(self) -> str:
        return f"Spec({self.dtype.name}, {self.shape})"


class Composite:
    """A composite value (a SparseTensor) in a structure of Specs or arrays: its class and its
    parts. Structures treat composites as containers of their component tensors, so a
    dataset's element may hold a SparseTensor: its three tensors travel as components and
    ``get_next`` gives the SparseTensor back."""

    __slots__ = ("kind", "parts")

    def __init__(self, kind, parts):
        self.kind, self.parts = kind, tuple(parts)

    def __repr__(self) -> str:
        return f"{self.kind.__name__}Spec{self.parts!r}"


def _is_composite(value) -> bool:
    return isinstance(value, Composite) or hasattr(value, "_composite_parts")


def _is_nested(value) -> bool:
    return isinstance(value, (tuple, list, dict)) or _is_composite(value)


def _children(value) -> list:
    if isinstance(value, dict):
        return [value[key] for key in sorted(value)]
    if isinstance(value, Composite):
        return list(value.parts)
    if _is_composite(value):
        return list(value._composite_parts())
    return list(value)


def _composite_kind(value):
    return value.kind if isinstance(value, Composite) else type(value)


def composite_starts(structure) -> list:
    """The flat positions (``flatten`` order) of the first part of each composite (a
    SparseTensor: indices, values, dense_shape follow one another) in ``structure``."""
    starts: list = []
    position = 0

    def walk(node):
        nonlocal position
        if _is_composite(node):
            starts.append(position)
        if _is_nested(node):
            for child in _children(node):
                walk(child)
        else:
            position += 1
    walk(structure)
    return starts


def flatten(structure) -> list:
    """The leaves of ``structure`` in TF's order (dict values by sorted key).

    Example:
        >>> flatten({"b": 1, "a": (2, 3)})
        [2, 3, 1]
    """
    if not _is_nested(structure):
        return [structure]
    leaves: list = []
    for child in _children(structure):
        leaves.extend(flatten(child))
    return leaves


def pack_as(structure, flat: list):
    """``flat`` (leaves in ``flatten`` order) in the containers of ``structure``."""
    leaves = iter(flat)
    packed = _pack(structure, leaves)
    if next(leaves, _END) is not _END:
        raise ValueError(f"pack_as: more values than the {len(flatten(structure))} leaves of "
                         f"{structure!r}")
    return packed


_END = object()


def _pack(structure, leaves):
    if not _is_nested(structure):
        value = next(leaves, _END)
        if value is _END:
            raise ValueError("pack_as: fewer values than leaves")
        return value
    if isinstance(structure, dict):
        packed = {key: _pack(structure[key], leaves) for key in sorted(structure)}
        return type(structure)((key, packed[key]) for key in structure)
    if _is_composite(structure):
        parts = [_pack(child, leaves) for child in _children(structure)]
        kind = _composite_kind(structure)
        # tensors make the composite itself; Specs or arrays a Composite record of them
        if all(hasattr(part, "op") for part in parts):
            return kind._from_composite_parts(parts)
        return Composite(kind, parts)
    children = [_pack(child, leaves) for child in structure]
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):
        return type(structure)(*children)
    return type(structure)(children)


def map_structure(fn: Callable, structure, *others):
    """``fn`` applied to the leaves of ``structure`` (and the matching leaves of ``others``)."""
    for other in others:
        assert_same_structure(structure, other)
    columns = [flatten(s) for s in (structure,) + others]
    return pack_as(structure, [fn(*leaves) for leaves in zip(*columns)])


def _skeleton(structure) -> Any:
    if not _is_nested(structure):
        return None
    if isinstance(structure, dict):
        return ("dict", tuple((key, _skeleton(structure[key])) for key in sorted(structure)))
    if _is_composite(structure):
        return (_composite_kind(structure).__name__, tuple(
            _skeleton(child) for child in _children(structure)))
    kind = "tuple" if isinstance(structure, tuple) else "list"
    return (kind, tuple(_skeleton(child) for child in structure))


def assert_same_structure(a, b, what: str = "structures") -> None:
    """Raise ValueError (TypeError for different container kinds) unless ``a`` and ``b``
    nest the same way."""
    if _skeleton(a) != _skeleton(b):
        raise ValueError(f"The two {what} don't have the same nested structure: {a!r} and "
                         f"{b!r}")


def flatten_up_to(shallow, value, mismatch=None) -> list:
    """``value``'s parts where ``shallow`` has its leaves: ``flatten_up_to((t1, t2),
    ([None, 3], []))`` is ``[[None, 3], []]`` (the lists are leaves here). Sequences match
    tuples and lists; dicts match by key. ``mismatch()`` makes the error (ValueError)."""
    if isinstance(shallow, dict):
        if not isinstance(value, dict) or set(value) != set(shallow):
            raise mismatch() if mismatch else _not_matching(shallow, value)
        return [leaf for key in sorted(shallow)
                for leaf in flatten_up_to(shallow[key], value[key], mismatch)]
    if isinstance(shallow, (tuple, list)):
        if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__") or \
                len(value) != len(shallow):
            raise mismatch() if mismatch else _not_matching(shallow, value)
        return [leaf for s, v in zip(shallow, value) for leaf in flatten_up_to(s, v, mismatch)]
    return [value]


def _not_matching(shallow, value) -> ValueError:
    return ValueError(f"The structures don't match: expected the structure of {shallow!r}, "
                      f"got {value!r}")


def specs_of(output_types, output_shapes=None):
    """The nest of Specs for ``output_types`` and ``output_shapes`` (None: unknown shapes)
    as ``from_generator`` and ``Iterator.from_structure`` take them."""
    types = flatten(output_types)
    shapes = [None] * len(types) if output_shapes is None else flatten_up_to(
        output_types, output_shapes)
    return pack_as(output_types, [Spec(t, shape_of_spec_arg(s)) for t, s in zip(types, shapes)])


def most_specific_shape(a: TensorShape, b: TensorShape) -> TensorShape:
    """The most specific shape both ``a`` and ``b`` are instances of (TF's rule for
    ``concatenate`` and iterator structures): equal dims kept, others unknown."""
    if a.rank is None or b.rank is None or a.rank != b.rank:
        return TensorShape(None)
    return TensorShape([x if x == y else None for x, y in zip(a.dims, b.dims)])


def shape_of_spec_arg(value) -> TensorShape:
    """A shape argument as users write it: a TensorShape, a list with None or -1 for an
    unknown dim, or None for an unknown rank."""
    if value is None or isinstance(value, TensorShape):
        return as_shape(value)
    if hasattr(value, "as_list"):
        return as_shape(value.as_list())
    return as_shape([None if d is None or d == -1 else d for d in value])
