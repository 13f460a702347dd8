"""Tensor element types, named and behaving as in ``tf.compat.v1`` (``gc.float32`` ...).

Each DType is a singleton wrapping a NumPy dtype, so ``x.dtype is gc.float32`` and
``x.dtype == gc.float32`` both hold, and ``x.dtype == np.float32`` works as in TF1.
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "DType", "as_dtype", "float16", "float32", "float64", "int8", "int16", "int32", "int64",
    "uint8", "uint16", "bool", "half", "double",
]


class DType:
    """An element type. Use the module constants (``gc.float32``), or ``as_dtype``.

    Example:
        >>> import graphc as gc
        >>> gc.as_dtype("float32") is gc.float32
        True
    """

    __slots__ = ("name", "_np", "short")

    def __init__(self, name: str, np_dtype, short: str):
        self.name = name
        self._np = np.dtype(np_dtype)
        self.short = short  # compact form used by the text IR (f32, i64, b1)

    @property
    def as_numpy_dtype(self):
        """The NumPy scalar type, e.g. ``np.float32`` (TF1's attribute name)."""
        return self._np.type

    @property
    def np(self) -> np.dtype:
        """The NumPy dtype object."""
        return self._np

    @property
    def base_dtype(self) -> "DType":
        return self

    @property
    def is_floating(self) -> bool:
        return self._np.kind == "f"

    @property
    def is_integer(self) -> bool:
        return self._np.kind in "iu"

    @property
    def is_unsigned(self) -> bool:
        return self._np.kind == "u"

    @property
    def is_bool(self) -> bool:
        return self._np.kind == "b"

    @property
    def is_numeric(self) -> bool:
        return self._np.kind in "iuf"

    @property
    def size(self) -> int:
        return self._np.itemsize

    @property
    def min(self):
        return np.finfo(self._np).min if self.is_floating else np.iinfo(self._np).min

    @property
    def max(self):
        return np.finfo(self._np).max if self.is_floating else np.iinfo(self._np).max

    def __repr__(self) -> str:
        return f"gc.{self.name}"

    def __eq__(self, other) -> bool:
        if other is self:
            return True
        try:
            return as_dtype(other) is self
        except TypeError:
            return False

    def __ne__(self, other) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self.name)

    def __reduce__(self):
        return (as_dtype, (self.name,))


float16 = DType("float16", np.float16, "f16")
float32 = DType("float32", np.float32, "f32")
float64 = DType("float64", np.float64, "f64")
int8 = DType("int8", np.int8, "i8")
int16 = DType("int16", np.int16, "i16")
int32 = DType("int32", np.int32, "i32")
int64 = DType("int64", np.int64, "i64")
uint8 = DType("uint8", np.uint8, "u8")
uint16 = DType("uint16", np.uint16, "u16")
bool = DType("bool", np.bool_, "b1")  # noqa: A001 - TF1's public name is tf.bool
half = float16
double = float64

ALL_DTYPES = (float16, float32, float64, int8, int16, int32, int64, uint8, uint16, bool)
_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_NAME.update(half=float16, double=float64)
_BY_NP = {d.np: d for d in ALL_DTYPES}


def as_dtype(value) -> DType:
    """Convert a DType, name, NumPy dtype or Python type to a graphc DType.

    Raises:
        TypeError: when the value names no supported element type.

    Example:
        >>> as_dtype(np.int32) is int32
        True
    """
    if isinstance(value, DType):
        return value
    if isinstance(value, str) and value in _BY_NAME:
        return _BY_NAME[value]
    if value is float:
        return float32  # TF1 converts Python floats to float32
    if value is int:
        return int32
    try:
        found = _BY_NP.get(np.dtype(value))
    except TypeError:
        found = None
    if found is None:
        supported = ", ".join(d.name for d in ALL_DTYPES)
        raise TypeError(f"Cannot convert {value!r} to a graphc dtype; supported: {supported}")
    return found
