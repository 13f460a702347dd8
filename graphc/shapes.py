"""Static shapes: ``TensorShape`` with unknown dims (None) and unknown rank, as in TF1."""
from __future__ import annotations

from typing import Iterable, Optional

import numpy as np

__all__ = ["TensorShape", "Dimension", "dimension_value", "as_shape", "broadcast_shapes",
           "format_shape"]


def _as_dim(value) -> Optional[int]:
    if value is None or (type(value) is int and value >= 0):  # the common cases, first
        return value
    if hasattr(value, "value") and not isinstance(value, np.ndarray):  # TF1 Dimension objects
        value = value.value
        if value is None:
            return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"Shape dimensions must be integers or None, got {value!r}")
    value = int(value)
    if value < 0:
        raise ValueError(f"Shape dimensions must be >= 0 or None, got {value}")
    return value


class TensorShape:
    """The static shape of a tensor: a tuple of dims (int or None), or an unknown rank.

    Compares equal to tuples and lists, so ``x.shape == (None, 3)`` reads naturally.

    Example:
        >>> s = TensorShape([None, 784])
        >>> s.rank, s[1], s.as_list(), str(s)
        (2, 784, [None, 784], '(?, 784)')
    """

    __slots__ = ("_dims",)

    def __new__(cls, dims: Optional[Iterable] = None):
        if type(dims) is tuple:  # the common case: an array's or a shape's dims
            shape = _INTERNED.get(dims)
            if shape is not None and _plain(dims):
                return shape
        if isinstance(dims, TensorShape):
            return dims
        if dims is None:
            return _UNKNOWN
        if isinstance(dims, (int, np.integer)):
            dims = (dims,)
        return _interned(tuple(_as_dim(d) for d in dims))

    def __reduce__(self):
        return (TensorShape, (self._dims,))

    @property
    def dims(self) -> Optional[tuple]:
        """The dims as a tuple, or None when the rank is unknown."""
        return self._dims

    @property
    def rank(self) -> Optional[int]:
        return None if self._dims is None else len(self._dims)

    ndims = rank

    def as_list(self) -> list:
        if self._dims is None:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return list(self._dims)

    def is_fully_defined(self) -> bool:
        return self._dims is not None and None not in self._dims

    def num_elements(self) -> Optional[int]:
        return int(np.prod(self._dims, dtype=np.int64)) if self.is_fully_defined() else None

    def is_compatible_with(self, other) -> bool:
        if other is self:
            return True
        other = as_shape(other)
        if self._dims is None or other._dims is None:
            return True
        if len(self._dims) != len(other._dims):
            return False
        return all(a is None or b is None or a == b for a, b in zip(self._dims, other._dims))

    def merge_with(self, other) -> "TensorShape":
        """The most specific shape compatible with both; raises ValueError if incompatible."""
        other = as_shape(other)
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {other} are not compatible")
        if self._dims is None:
            return other
        if other._dims is None:
            return self
        return TensorShape(a if a is not None else b for a, b in zip(self._dims, other._dims))

    def concatenate(self, other) -> "TensorShape":
        other = as_shape(other)
        if self._dims is None or other._dims is None:
            return TensorShape(None)
        return TensorShape(self._dims + other._dims)

    def __len__(self) -> int:
        if self._dims is None:
            raise ValueError("Cannot take the length of a shape with unknown rank.")
        return len(self._dims)

    def __iter__(self):
        if self._dims is None:
            raise ValueError("Cannot iterate over a shape with unknown rank.")
        # as indexing does: TF1's ``[d.value for d in x.get_shape()]`` works on known dims
        return (None if d is None else KnownDimension(d) for d in self._dims)

    def __getitem__(self, key):
        if self._dims is None:
            return TensorShape(None) if isinstance(key, slice) else None
        if isinstance(key, slice):
            return TensorShape(self._dims[key])
        dim = self._dims[key]
        return None if dim is None else KnownDimension(dim)

    def __eq__(self, other) -> bool:
        try:
            other = as_shape(other)
        except (TypeError, ValueError):
            return NotImplemented
        return self._dims == other._dims

    def __ne__(self, other) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        return hash(self._dims)

    def __repr__(self) -> str:
        return "TensorShape(None)" if self._dims is None else f"TensorShape({list(self._dims)})"

    def __str__(self) -> str:
        return format_shape(self)


class Dimension:
    """TF1's ``tf.Dimension``: one dim of a shape, an int or unknown (``value`` None).
    Arithmetic and comparisons with an unknown dim give unknown results, as in TF1.

    Example:
        >>> Dimension(3) + 2, Dimension(None).value, int(Dimension(4))
        (Dimension(5), None, 4)
    """

    __slots__ = ("_value",)

    def __init__(self, value=None):
        self._value = _as_dim(value)

    @property
    def value(self) -> Optional[int]:
        return self._value

    def __int__(self) -> int:
        if self._value is None:
            raise TypeError("int() of an unknown Dimension (its value is None)")
        return self._value

    __index__ = __int__

    def __repr__(self) -> str:
        return f"Dimension({self._value})"

    def __str__(self) -> str:
        return "?" if self._value is None else str(self._value)

    def __eq__(self, other):
        other = dimension_value(other)
        return None if self._value is None or other is None else self._value == other

    def __ne__(self, other):
        equal = self.__eq__(other)
        return None if equal is None else not equal

    def __hash__(self) -> int:
        return hash(self._value)

    def is_compatible_with(self, other) -> bool:
        other = dimension_value(other)
        return self._value is None or other is None or self._value == other

    def assert_is_compatible_with(self, other) -> None:
        if not self.is_compatible_with(other):
            raise ValueError(f"Dimensions {self} and {Dimension(other)} are not compatible")

    def merge_with(self, other) -> "Dimension":
        self.assert_is_compatible_with(other)
        return Dimension(self._value if self._value is not None else dimension_value(other))

    def _combine(self, other, fn):
        other = dimension_value(other)
        return Dimension(None if self._value is None or other is None else fn(self._value, other))

    def __add__(self, other):
        return self._combine(other, lambda a, b: a + b)

    def __sub__(self, other):
        return self._combine(other, lambda a, b: a - b)

    def __mul__(self, other):
        return self._combine(other, lambda a, b: a * b)

    def __floordiv__(self, other):
        return self._combine(other, lambda a, b: a // b)

    def __mod__(self, other):
        return self._combine(other, lambda a, b: a % b)

    __radd__, __rmul__ = __add__, __mul__


class KnownDimension(int):
    """A known dim read from a TensorShape (``shape[i]``): a plain int that also answers
    TF1's ``.value`` (``x.get_shape()[1].value``). Unknown dims read as None, as before."""

    __slots__ = ()

    @property
    def value(self) -> int:
        return int(self)

    def is_compatible_with(self, other) -> bool:
        return Dimension(int(self)).is_compatible_with(other)

    def merge_with(self, other) -> Dimension:
        return Dimension(int(self)).merge_with(other)


def dimension_value(dimension) -> Optional[int]:
    """The int (or None) of a dim given as an int, None or ``Dimension`` (TF1
    ``tf.compat.dimension_value``).

    Example:
        >>> dimension_value(x.shape[0])   # None for an unknown batch dim
    """
    if isinstance(dimension, (Dimension, KnownDimension)):
        return dimension.value
    return dimension


# Shapes are immutable, so equal shapes can be one object: a graph of 100k ops over a few
# shapes then holds a few TensorShape objects instead of 100k (less memory, and fewer objects
# for Python's garbage collector to walk while the graph grows). The table is bounded.
_INTERNED: dict = {}
_INTERNED_MAX = 1 << 16


def _plain(dims: tuple) -> bool:
    """Only ints and None: ``(True,)`` and ``(2.0,)`` are equal to ``(1,)`` and ``(2,)`` as
    keys, but no shape (spelled out for the short tuples nearly every shape is)."""
    if len(dims) == 1:
        return type(dims[0]) is int or dims[0] is None
    return all(type(d) is int or d is None for d in dims)


def _interned(dims: tuple) -> TensorShape:
    """The one TensorShape of ``dims`` (already normalized: ints >= 0 or None)."""
    shape = _INTERNED.get(dims)
    if shape is None:
        if len(_INTERNED) >= _INTERNED_MAX:
            _INTERNED.clear()
        shape = object.__new__(TensorShape)
        shape._dims = dims
        _INTERNED[dims] = shape
    return shape


_UNKNOWN = object.__new__(TensorShape)
_UNKNOWN._dims = None


def as_shape(value) -> TensorShape:
    """Convert a TensorShape, tuple, list, int or None to a TensorShape."""
    return value if isinstance(value, TensorShape) else TensorShape(value)


def format_shape(shape) -> str:
    """``(?, 784)`` style text for a shape; ``<unknown>`` for an unknown rank."""
    shape = as_shape(shape)
    if shape.dims is None:
        return "<unknown>"
    inner = ", ".join("?" if d is None else str(d) for d in shape.dims)
    return f"({inner},)" if len(shape.dims) == 1 else f"({inner})"


def _broadcast_dim(a: Optional[int], b: Optional[int]) -> Optional[int]:
    if a == 1:
        return b
    if b == 1:
        return a
    if a is None:
        return b  # b is None or known > 1: a run-time 1 would broadcast, a mismatch fails then
    if b is None or a == b:
        return a
    raise ValueError


def broadcast_shapes(*shapes) -> TensorShape:
    """NumPy broadcasting of static shapes, with None dims and unknown ranks.

    Raises:
        ValueError: when two known dims differ and neither is 1.

    Example:
        >>> broadcast_shapes((None, 1, 3), (4, 1))
        TensorShape([None, 4, 3])
    """
    shapes = [as_shape(s) for s in shapes]
    first = shapes[0] if shapes else _interned(())
    if all(s is first for s in shapes):  # interned: equal known shapes are one object
        return first
    if any(s.dims is None for s in shapes):
        return _UNKNOWN
    if len(shapes) == 2 and () in (first._dims, shapes[1]._dims):  # x op scalar
        return shapes[1] if first._dims == () else first
    rank = max(len(s.dims) for s in shapes)
    result = [1] * rank
    for shape in shapes:
        padded = (1,) * (rank - len(shape.dims)) + shape.dims
        try:
            result = [_broadcast_dim(r, d) for r, d in zip(result, padded)]
        except ValueError:
            listed = " and ".join(format_shape(s) for s in shapes)
            raise ValueError(f"Incompatible shapes for broadcasting: {listed}") from None
    return _interned(tuple(result))
