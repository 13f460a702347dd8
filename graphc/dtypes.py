"""Tensor element types, named and behaving as in ``tf.compat.v1`` (``gc.float32`` ...).

Each DType is a singleton wrapping a NumPy dtype, so ``x.dtype is gc.float32`` and
``x.dtype == gc.float32`` both hold, and ``x.dtype == np.float32`` works as in TF1.
"""
from __future__ import annotations

import builtins
import weakref

import numpy as np

__all__ = [
    "DType", "as_dtype", "float16", "float32", "float64", "int8", "int16", "int32", "int64",
    "uint8", "uint16", "uint32", "uint64", "bool", "half", "double", "string",
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
    def is_string(self) -> bool:
        return self._np.kind == "O"

    @property
    def min(self):
        if self.is_string:
            raise TypeError("dtype string has no minimum")
        return np.finfo(self._np).min if self.is_floating else np.iinfo(self._np).min

    @property
    def max(self):
        if self.is_string:
            raise TypeError("dtype string has no maximum")
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
# TF's unsigned 32/64-bit types: arithmetic wraps modulo 2**32 / 2**64 (NumPy and TF alike);
# the ops TF declares for signed types only (negative, abs, sign) refuse every unsigned type
uint32 = DType("uint32", np.uint32, "u32")
uint64 = DType("uint64", np.uint64, "u64")
bool = DType("bool", np.bool_, "b1")  # noqa: A001 - TF1's public name is tf.bool
# TF's DT_STRING: byte strings of any length, held as NumPy object arrays of ``bytes`` (str
# values are stored UTF-8 encoded, as TF does). It exists for the values of summary ops (a
# serialized ``Summary`` protobuf) and the text they take (``tf.summary.text``); strings
# are no numbers: arithmetic ops refuse them through their dtype rules.
string = DType("string", np.object_, "str")
half = float16
double = float64

ALL_DTYPES = (float16, float32, float64, int8, int16, int32, int64, uint8, uint16, uint32, uint64,
              bool, string)
_BY_NP = {d.np: d for d in ALL_DTYPES}
# TF's dtype strings (tensorflow/python/framework/dtypes.py, _STRING_TO_TF): the canonical
# names, their ``_ref`` forms (graphc has no reference dtypes: a ref reads as its value) and
# the three C-style aliases. "float" is float32, not NumPy's float64; "int" and "long" are no
# TF names at all (NumPy would read them as int64).
_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_NAME.update(half=float16, float=float32, double=float64)
_BY_NAME.update({f"{name}_ref": d for name, d in list(_BY_NAME.items())})
# TF names graphc has no element type for: named in the error instead of "unknown".
_UNSUPPORTED_TF_NAMES = ("complex64", "complex128", "bfloat16",
                         "qint8", "quint8", "qint16", "quint16", "qint32", "resource", "variant")


def as_dtype(value) -> DType:
    """Convert a DType, TF dtype name, NumPy dtype or Python type to a graphc DType.

    Strings follow TF's table: the canonical names (``"float32"``, ``"int64"``, ``"bool"``)
    and ``"half"``, ``"float"``, ``"double"`` (float16, float32, float64).

    Raises:
        TypeError: when the value names no supported element type.

    Example:
        >>> as_dtype("float") is float32 and as_dtype(np.int32) is int32
        True
    """
    if isinstance(value, DType):
        return value
    if isinstance(value, str):
        return _from_name(value)
    if value is float:
        return float32  # TF1 converts Python floats to float32
    if value is int:
        return int32
    if value is builtins.bool:
        return bool
    found = _numpy_dtype(value)
    if found is None and not isinstance(getattr(value, "dtype", None), (DType, type(None))):
        found = _numpy_dtype(value.dtype)  # an array or NumPy scalar
    if found is None:
        raise TypeError(f"Cannot convert {value!r} to a graphc dtype; supported: "
                        f"{', '.join(d.name for d in ALL_DTYPES)}")
    return found


def _numpy_dtype(value):
    try:
        found = np.dtype(value)
    except TypeError:
        return None
    # NumPy's fixed-width text (np.str_, "S5") holds what a string tensor holds
    return string if found.kind in "US" else _BY_NP.get(found)


def _from_name(name: str) -> DType:
    found = _BY_NAME.get(name)
    if found is not None:
        return found
    supported = ", ".join(d.name for d in ALL_DTYPES)
    if name.removesuffix("_ref") in _UNSUPPORTED_TF_NAMES:
        raise TypeError(f"dtype {name!r} is a TensorFlow dtype graphc does not support; "
                        f"supported: {supported}")
    hint = ""
    try:
        numpy_meaning = np.dtype(name)
    except TypeError:
        numpy_meaning = None
    if numpy_meaning is not None and numpy_meaning in _BY_NP:
        hint = (f" (NumPy would read it as {numpy_meaning.name}; TF does not: write "
                f"{_BY_NP[numpy_meaning].name!r})")
    raise TypeError(f"Cannot convert the string {name!r} to a graphc dtype{hint}; dtype "
                    f"strings are TF's names: {supported}, and 'half', 'float' (float32), "
                    "'double' (float64)")


def string_note(given, dtype: DType) -> str:
    """What a dtype given as a string means, for messages: `` (dtype 'float' given as a
    string means float32)``; empty when ``given`` is no string."""
    if not isinstance(given, str):
        return ""
    return f" (dtype {given!r} given as a string means {dtype.name})"


# The ops whose dtype was given as a string (placeholder("float"), cast(x, "double")...),
# so that a dtype mismatch further down can say where a dtype came from. Weak: the table
# never keeps an op alive.
_GIVEN_AS_STRING: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def remember_string(op, given) -> None:
    """Record that ``op`` was built with the dtype string ``given`` (no-op for non-strings)."""
    if isinstance(given, str):
        _GIVEN_AS_STRING[op] = given


def string_notes(tensors, max_steps: int = 8) -> str:
    """For each tensor whose dtype comes from a dtype string, through at most ``max_steps``
    ops that pass a same-dtype first input on (reads, identities): ``; 'x:0' is float32
    because its dtype was given as the string 'float' (to placeholder 'x')``."""
    notes = []
    for tensor in tensors:
        op = tensor.op
        for _ in range(max_steps):
            given = _GIVEN_AS_STRING.get(op)
            if given is not None:
                notes.append(f"'{tensor.name}' is {tensor.dtype.name} because its dtype was "
                             f"given as the string {given!r} (to {op.type} '{op.name}')")
                break
            if not op.inputs or op.inputs[0].dtype is not tensor.dtype:
                break
            op = op.inputs[0].op
    return "".join(f"; {note}" for note in notes)
