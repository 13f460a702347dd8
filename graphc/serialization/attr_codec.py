"""Op attributes and other plain data as JSON: a closed set of tagged forms, decoded by table.

JSON has no tuples, NaN, dtypes, shapes or arrays, so those become one-key objects whose key
starts with ``$`` (``{"$tuple": [...]}``, ``{"$dtype": "float32"}``, ``{"$array": "c/0"}``:
the array itself lives in the container's tensor table). Lists, strings, ints, bools and
None stay as they are. Decoding looks each tag up in ``_DECODERS``; an unknown tag or any
other JSON object is an error, so a file can only ever produce these values, never code.

Example:
    >>> arrays = {}
    >>> encoded = encode_value((1, gc.float32, float("nan")), arrays, "op.attr")
    >>> encoded
    {'$tuple': [1, {'$dtype': 'float32'}, {'$float': 'nan'}]}
    >>> decode_value(encoded, arrays, "op.attr")
    (1, gc.float32, nan)
"""
from __future__ import annotations

import base64
import math

import numpy as np

from graphc import dtypes as gdt
from graphc.shapes import TensorShape

__all__ = ["encode_value", "decode_value", "is_plain_data", "FunctionRef"]

_SPECIAL_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
DTYPE_NAMES = frozenset(d.name for d in gdt.ALL_DTYPES)


class FunctionRef:
    """An attribute naming an entry of its GraphDef's function library (a branch, loop body
    or condition stored once, by name): ``{"$function": name}`` in a file.

    Example:
        >>> encode_value(FunctionRef("rnn/while/body"), {}, "rnn/while.body")
        {'$function': 'rnn/while/body'}
    """

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __eq__(self, other) -> bool:
        return isinstance(other, FunctionRef) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("FunctionRef", self.name))

    def __repr__(self) -> str:
        return f"FunctionRef({self.name!r})"


def encode_value(value, arrays: dict, where: str):
    """``value`` as JSON data; arrays go into ``arrays`` under fresh keys. Raises TypeError
    naming ``where`` (the op and attribute) for a value no file can hold (a function...)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return {"$float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if isinstance(value, np.ndarray) and value.dtype == object:  # a gc.string tensor's value
        return {"$strings": [list(value.shape), [base64.b64encode(bytes(item)).decode("ascii")
                                                 for item in value.flat]]}
    if isinstance(value, (np.ndarray, np.generic)):
        key = f"{where}/{len(arrays)}"
        arrays[key] = np.asarray(value)
        return {"$array" if isinstance(value, np.ndarray) else "$scalar": key}
    if isinstance(value, gdt.DType):
        return {"$dtype": value.name}
    if isinstance(value, TensorShape):
        return {"$shape": None if value.rank is None else list(value.as_list())}
    if isinstance(value, tuple):
        return {"$tuple": [encode_value(item, arrays, where) for item in value]}
    if isinstance(value, list):
        return [encode_value(item, arrays, where) for item in value]
    if isinstance(value, dict):
        return {"$dict": [[encode_value(k, arrays, where), encode_value(v, arrays, where)]
                          for k, v in value.items()]}
    if value is Ellipsis:
        return {"$ellipsis": True}
    if isinstance(value, slice):
        return {"$slice": [encode_value(part, arrays, where)
                           for part in (value.start, value.stop, value.step)]}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if isinstance(value, FunctionRef):
        return {"$function": value.name}
    raise TypeError(f"{where} holds a {type(value).__name__} ({value!r:.80}), which cannot be "
                    "saved: files hold only plain data (numbers, strings, lists, tuples, dicts, "
                    "dtypes, shapes and arrays)")


def is_plain_data(value) -> bool:
    """Whether ``encode_value`` can store ``value`` (used for collections and metadata)."""
    try:
        encode_value(value, {}, "value")
    except (TypeError, RecursionError):
        return False
    return True


def _float(text, arrays, where):
    if text not in _SPECIAL_FLOATS:
        raise ValueError(f"{where}: invalid float {text!r}")
    return _SPECIAL_FLOATS[text]


def _array(key, arrays, where):
    if not isinstance(key, str) or key not in arrays:
        raise ValueError(f"{where}: refers to array {key!r}, which the file does not hold")
    return arrays[key]


def _dtype(name, arrays, where):
    if not isinstance(name, str) or name not in DTYPE_NAMES:
        raise ValueError(f"{where}: unknown dtype {name!r}")
    return gdt.as_dtype(name)


def _shape(dims, arrays, where):
    if dims is not None and not (isinstance(dims, list) and all(
            d is None or (isinstance(d, int) and not isinstance(d, bool) and d >= 0)
            for d in dims)):
        raise ValueError(f"{where}: invalid shape {dims!r}")
    return TensorShape(dims)


def _items(items, arrays, where):
    if not isinstance(items, list):
        raise ValueError(f"{where}: expected a list, got {items!r:.80}")
    return [decode_value(item, arrays, where) for item in items]


def _dict(pairs, arrays, where):
    if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2
                                              for p in pairs):
        raise ValueError(f"{where}: invalid dict entries {pairs!r:.80}")
    result = {}
    for key, value in pairs:
        key = decode_value(key, arrays, where)
        try:
            result[key] = decode_value(value, arrays, where)
        except TypeError:
            raise ValueError(f"{where}: unhashable dict key {key!r:.80}") from None
    return result


def _slice(parts, arrays, where):
    parts = _items(parts, arrays, where)
    if len(parts) != 3:
        raise ValueError(f"{where}: a slice needs 3 parts, got {parts!r}")
    return slice(*parts)


def _bytes(text, arrays, where):
    try:
        return base64.b64decode(text, validate=True)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: invalid base64 bytes") from None


def _strings(data, arrays, where):
    """An object array of bytes (a gc.string constant) from its shape and base64 items."""
    if not (isinstance(data, list) and len(data) == 2 and isinstance(data[1], list)):
        raise ValueError(f"{where}: invalid string array {data!r:.80}")
    shape = _shape(data[0], arrays, where)
    if shape.rank is None or shape.num_elements() != len(data[1]):
        raise ValueError(f"{where}: a string array of shape {data[0]!r} with "
                         f"{len(data[1])} items")
    result = np.empty(len(data[1]), dtype=object)
    result[:] = [_bytes(item, arrays, where) for item in data[1]]
    return result.reshape(shape.as_list())


def _function(name, arrays, where):
    if not isinstance(name, str) or not name:
        raise ValueError(f"{where}: invalid function name {name!r:.80}")
    return FunctionRef(name)


_DECODERS = {
    "$float": _float,
    "$array": lambda key, arrays, where: _array(key, arrays, where),
    "$scalar": lambda key, arrays, where: _array(key, arrays, where)[()],
    "$dtype": _dtype,
    "$shape": _shape,
    "$tuple": lambda items, arrays, where: tuple(_items(items, arrays, where)),
    "$dict": _dict,
    "$ellipsis": lambda flag, arrays, where: Ellipsis,
    "$slice": _slice,
    "$bytes": _bytes,
    "$strings": _strings,
    "$function": _function,
}


def decode_value(data, arrays: dict, where: str):
    """The value ``encode_value`` stored as ``data``; ValueError naming ``where`` for
    anything else (an unknown ``$`` tag, a plain JSON object)."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode_value(item, arrays, where) for item in data]
    if isinstance(data, dict) and len(data) == 1:
        (tag, payload), = data.items()
        decoder = _DECODERS.get(tag)
        if decoder is not None:
            return decoder(payload, arrays, where)
    raise ValueError(f"{where}: {data!r:.80} is not a value graphc files hold (known tags: "
                     f"{sorted(_DECODERS)})")
