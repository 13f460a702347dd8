"""String ops on ``gc.string`` tensors (NumPy object arrays of ``bytes``): TF1's
``tf.strings`` family (length, lower, upper, strip, substr, join, reduce_join,
regex_full_match, regex_replace, to_number, as_string). Elementwise ones broadcast like
arithmetic. Patterns are Python's ``re`` syntax, which agrees with TF's RE2 on the common
subset (classes, groups, alternation, anchors, ``\\1`` in rewrites); RE2 has no
backreferences in patterns, Python does.

Example:
    >>> gc.strings.join([["a", "b"], "!"], separator="-")      # [b"a-!", b"b-!"]
    >>> gc.strings.to_number(["1.5", "2"])                      # [1.5, 2.0]
"""
from __future__ import annotations

import re

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.ops.common import apply_op, broadcast_rule
from graphc.registry import OpDef
from graphc.shapes import TensorShape

__all__ = ["length", "lower", "upper", "strip", "substr", "join", "reduce_join",
           "regex_full_match", "regex_replace", "to_number", "as_string"]

_TESTS = "tests/ops/test_strings.py"


def _text(value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def _strings(*values):
    """Object arrays of bytes, broadcast together."""
    arrays = [np.asarray(v, dtype=object) for v in values]
    return np.broadcast_arrays(*arrays) if len(arrays) > 1 else arrays


def _map(fn, out_dtype=object):
    def kernel(x, **attrs):
        x = np.asarray(x, dtype=object)
        out = np.empty(x.shape, out_dtype)
        for index, value in np.ndenumerate(x):
            out[index] = fn(_text(value), **attrs)
        return out
    return kernel


def _string_input(op_name, out=None):
    def rule(in_dtypes, attrs):
        for dtype in in_dtypes:
            if dtype is not gdt.string:
                raise TypeError(f"{op_name}: inputs must be strings, got {dtype.name}")
        return [out or gdt.string]
    return rule


def _unary(op_name, fn, out=None, attrs=None, doc=""):
    return registry.register(OpDef(
        name=op_name, dtypes=_string_input(op_name, out), shapes=lambda ins, a: [ins[0].shape],
        kernel=_map(fn, object if out is None else out.np), grad=registry.NOT_DIFFERENTIABLE,
        attrs=attrs or {}, unknown_rank_ok=True, elementwise=False, tested_elsewhere=_TESTS,
        doc=doc))


def _length(value, unit):
    return len(value.decode("utf-8")) if unit == "UTF8_CHAR" else len(value)


def _cased(method):
    def change(value, encoding):
        if encoding:
            return getattr(value.decode(encoding), method)().encode(encoding)
        return getattr(value, method)()  # bytes: ASCII letters only, as TF without encoding
    return change


LENGTH = _unary("string_length", _length, gdt.int32, {"unit": "BYTE"},
                "The length of each string in bytes or UTF-8 characters.")
LOWER = _unary("string_lower", _cased("lower"), attrs={"encoding": ""},
               doc="Each string in lower case.")
UPPER = _unary("string_upper", _cased("upper"), attrs={"encoding": ""},
               doc="Each string in upper case.")
STRIP = _unary("string_strip", lambda value: value.strip(),
               doc="Each string without leading and trailing whitespace.")


def _substr_kernel(x, pos, length, unit):
    strings, positions, lengths = _strings(x, pos, length)
    out = np.empty(strings.shape, object)
    for index, value in np.ndenumerate(strings):
        text = _text(value)
        units = text.decode("utf-8") if unit == "UTF8_CHAR" else text
        start = int(positions[index])
        if start < 0:
            start += len(units)
        if not 0 <= start <= len(units):
            raise IndexError(f"substr: position {int(positions[index])} is out of range for "
                             f"string of length {len(units)}")
        piece = units[start:start + max(int(lengths[index]), 0)]
        out[index] = piece.encode("utf-8") if unit == "UTF8_CHAR" else piece
    return out


def _substr_dtypes(in_dtypes, attrs):
    if in_dtypes[0] is not gdt.string:
        raise TypeError(f"substr: input must be strings, got {in_dtypes[0].name}")
    if in_dtypes[1] is not in_dtypes[2] or in_dtypes[1] not in (gdt.int32, gdt.int64):
        raise TypeError("substr: pos and len must both be int32 or int64")
    return [gdt.string]


SUBSTR = registry.register(OpDef(
    name="substr", dtypes=_substr_dtypes, shapes=broadcast_rule, kernel=_substr_kernel,
    grad=registry.NOT_DIFFERENTIABLE, attrs={"unit": "BYTE"}, raises_on_values=True,
    unknown_rank_ok=True, tested_elsewhere=_TESTS,
    doc="Substrings from pos of length len (bytes or UTF-8 characters)."))


def _join_kernel(*inputs, separator):
    parts = _strings(*inputs)
    out = np.empty(parts[0].shape, object)
    sep = _text(separator)
    for index in np.ndindex(*parts[0].shape):
        out[index] = sep.join(_text(p[index]) for p in parts)
    return out


STRING_JOIN = registry.register(OpDef(
    name="string_join", dtypes=_string_input("string_join"), shapes=broadcast_rule,
    kernel=_join_kernel, grad=registry.NOT_DIFFERENTIABLE, attrs={"separator": ""},
    unknown_rank_ok=True, tested_elsewhere=_TESTS,
    doc="The inputs joined elementwise with separator (broadcast)."))


def _reduce_join_shapes(inputs, attrs):
    shape = inputs[0].shape
    if shape.rank is None:
        return [TensorShape(None)]
    axes = range(shape.rank) if attrs["axis"] is None else \
        [a % max(shape.rank, 1) for a in attrs["axis"]]
    if attrs["keepdims"]:
        return [TensorShape([1 if i in axes else d for i, d in enumerate(shape.dims)])]
    return [TensorShape([d for i, d in enumerate(shape.dims) if i not in axes])]


def _reduce_join_kernel(x, axis, keepdims, separator):
    x = np.asarray(x, dtype=object)
    axes = tuple(range(x.ndim)) if axis is None else tuple(a % max(x.ndim, 1) for a in axis)
    kept = [i for i in range(x.ndim) if i not in axes]
    moved = np.transpose(x, kept + list(axes)).reshape(
        [x.shape[i] for i in kept] + [int(np.prod([x.shape[a] for a in axes]))])
    out = np.empty(moved.shape[:-1], object)
    sep = _text(separator)
    for index in np.ndindex(*out.shape):
        out[index] = sep.join(_text(v) for v in moved[index])
    if keepdims:
        out = out.reshape([1 if i in axes else d for i, d in enumerate(x.shape)])
    return out


REDUCE_JOIN = registry.register(OpDef(
    name="reduce_join", dtypes=_string_input("reduce_join"), shapes=_reduce_join_shapes,
    kernel=_reduce_join_kernel, grad=registry.NOT_DIFFERENTIABLE,
    attrs={"axis": None, "keepdims": False, "separator": ""}, unknown_rank_ok=True,
    tested_elsewhere=_TESTS, doc="The strings along axis joined with separator."))


def _compiled(pattern: str, op_name: str):
    try:
        return re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
    except re.error as err:
        raise ValueError(f"{op_name}: invalid pattern {pattern!r}: {err}") from None


REGEX_FULL_MATCH = registry.register(OpDef(
    name="regex_full_match", dtypes=_string_input("regex_full_match", gdt.bool),
    shapes=lambda ins, a: [ins[0].shape],
    kernel=lambda x, pattern: _map(lambda v: _compiled(pattern, "regex_full_match")
                                   .fullmatch(v) is not None, np.bool_)(x),
    grad=registry.NOT_DIFFERENTIABLE, attrs={"pattern": ""}, unknown_rank_ok=True,
    tested_elsewhere=_TESTS, doc="Whether each string matches pattern entirely."))


def _replace_kernel(x, pattern, rewrite, replace_global):
    compiled = _compiled(pattern, "regex_replace")
    template = _text(rewrite)
    return _map(lambda v: compiled.sub(template, v, count=0 if replace_global else 1))(x)


REGEX_REPLACE = registry.register(OpDef(
    name="regex_replace", dtypes=_string_input("regex_replace"),
    shapes=lambda ins, a: [ins[0].shape], kernel=_replace_kernel,
    grad=registry.NOT_DIFFERENTIABLE,
    attrs={"pattern": "", "rewrite": "", "replace_global": True}, unknown_rank_ok=True,
    tested_elsewhere=_TESTS, doc="Matches of pattern replaced by rewrite (\\1 for groups)."))


def _to_number(value, out_type):
    text = value.decode("utf-8", "replace").strip()
    dtype = gdt.as_dtype(out_type)
    try:
        number = int(text, 10) if dtype.is_integer else float(text)
    except ValueError:
        raise ValueError(f"StringToNumberOp could not correctly convert string: "
                         f"{value.decode('utf-8', 'replace')}") from None
    if dtype.is_integer and not dtype.min <= number <= dtype.max:
        raise ValueError(f"StringToNumberOp could not correctly convert string: {text} (out "
                         f"of range for {dtype.name})")
    return number


def _to_number_kernel(x, out_type):
    return _map(_to_number, gdt.as_dtype(out_type).np)(x, out_type=out_type)


TO_NUMBER = registry.register(OpDef(
    name="string_to_number", dtypes=lambda d, a: _string_input("string_to_number",
                                                               gdt.as_dtype(a["out_type"]))(d, a),
    shapes=lambda ins, a: [ins[0].shape], kernel=_to_number_kernel,
    grad=registry.NOT_DIFFERENTIABLE, attrs={"out_type": gdt.float32}, raises_on_values=True,
    unknown_rank_ok=True, tested_elsewhere=_TESTS,
    doc="Each string parsed as a number of out_type; a string that is none fails."))


def _as_string_kernel(x, precision, scientific, shortest, width, fill):
    x = np.asarray(x)
    out = np.empty(x.shape, object)
    for index, value in np.ndenumerate(x):
        if x.dtype.kind == "b":
            text = "true" if value else "false"
        elif x.dtype.kind == "f":
            spec = "e" if scientific else ("g" if shortest else "f")
            text = format(float(value), f".{precision}{spec}" if precision >= 0 else
                          ("e" if scientific else ("g" if shortest else "f")))
        else:
            text = str(int(value))
        if width > 0:
            text = text.rjust(width, fill or " ")
        out[index] = text.encode()
    return out


AS_STRING = registry.register(OpDef(
    name="as_string", dtypes=lambda d, a: [gdt.string], shapes=lambda ins, a: [ins[0].shape],
    kernel=_as_string_kernel, grad=registry.NOT_DIFFERENTIABLE,
    attrs={"precision": -1, "scientific": False, "shortest": False, "width": -1, "fill": ""},
    unknown_rank_ok=True, tested_elsewhere=_TESTS,
    doc="Each number or bool written as a string."))


# -- public functions --------------------------------------------------------------------
def length(input, name=None, unit="BYTE"):  # noqa: A002
    """The length of each string, in bytes or (``unit="UTF8_CHAR"``) characters.

    Example:
        >>> gc.strings.length(["hi", "héllo"], unit="UTF8_CHAR")   # [2, 5]
    """
    if unit not in ("BYTE", "UTF8_CHAR"):
        raise ValueError(f"strings.length: unit must be 'BYTE' or 'UTF8_CHAR', got {unit!r}")
    return apply_op("string_length", [input], {"unit": unit}, name=name or "StringLength")


def lower(input, encoding="", name=None):  # noqa: A002
    """Each string in lower case (ASCII letters, or all of ``encoding``'s).

    Example:
        >>> gc.strings.lower(["ABC"])   # [b"abc"]
    """
    return apply_op("string_lower", [input], {"encoding": encoding}, name=name or "StringLower")


def upper(input, encoding="", name=None):  # noqa: A002
    """Each string in upper case (ASCII letters, or all of ``encoding``'s).

    Example:
        >>> gc.strings.upper(["abc"])   # [b"ABC"]
    """
    return apply_op("string_upper", [input], {"encoding": encoding}, name=name or "StringUpper")


def strip(input, name=None):  # noqa: A002
    """Each string without leading and trailing whitespace (TF1 ``tf.string_strip``).

    Example:
        >>> gc.strings.strip(["  hi \\n"])   # [b"hi"]
    """
    return apply_op("string_strip", [input], name=name or "StringStrip")


def substr(input, pos, len, name=None, unit="BYTE"):  # noqa: A002
    """The substring of each string from ``pos`` (negative: from the end) of ``len`` units
    (TF1 ``tf.substr``); a position past the end fails the run.

    Example:
        >>> gc.strings.substr(["hello"], 1, 3)   # [b"ell"]
    """
    return apply_op("substr", [input, pos, len], {"unit": unit}, name=name or "Substr",
                    dtype_hint=gdt.int32)


def join(inputs, separator="", name=None):
    """The strings of the tensors ``inputs`` joined elementwise with ``separator``
    (broadcast) (TF1 ``tf.string_join``).

    Example:
        >>> gc.strings.join([["a", "b"], "x"], separator="-")   # [b"a-x", b"b-x"]
    """
    inputs = list(inputs)
    if not inputs:
        raise ValueError("strings.join: inputs must be a non-empty list")
    return apply_op("string_join", inputs, {"separator": separator}, name=name or "StringJoin")


def reduce_join(inputs, axis=None, keep_dims=None, separator="", name=None, keepdims=None,
                reduction_indices=None):
    """The strings along ``axis`` (all by default) joined with ``separator`` (TF1
    ``tf.reduce_join``).

    Example:
        >>> gc.strings.reduce_join([["a", "b"], ["c", "d"]], axis=1)   # [b"ab", b"cd"]
    """
    axis = reduction_indices if axis is None else axis
    keep = bool(keepdims if keepdims is not None else keep_dims)
    axes = None if axis is None else tuple(int(a) for a in np.atleast_1d(axis))
    return apply_op("reduce_join", [inputs], {"axis": axes, "keepdims": keep,
                                              "separator": separator},
                    name=name or "ReduceJoin")


def regex_full_match(input, pattern, name=None):  # noqa: A002
    """Whether each string matches ``pattern`` entirely (TF1 ``tf.strings.regex_full_match``).

    Example:
        >>> gc.strings.regex_full_match(["ab1", "x"], "[a-z]+[0-9]")   # [True, False]
    """
    _compiled(pattern, "regex_full_match")
    return apply_op("regex_full_match", [input], {"pattern": pattern},
                    name=name or "RegexFullMatch")


def regex_replace(input, pattern, rewrite, replace_global=True, name=None):  # noqa: A002
    """Matches of ``pattern`` replaced by ``rewrite`` (``\\1`` for a group), every match or
    only the first (TF1 ``tf.regex_replace``).

    Example:
        >>> gc.strings.regex_replace(["a-b-c"], "-", "+")   # [b"a+b+c"]
    """
    _compiled(pattern, "regex_replace")
    return apply_op("regex_replace", [input], {"pattern": pattern, "rewrite": rewrite,
                                               "replace_global": bool(replace_global)},
                    name=name or "RegexReplace")


def to_number(string_tensor, out_type=gdt.float32, name=None):
    """Each string parsed as a number (TF1 ``tf.string_to_number``); one that is not a
    number fails the run naming it.

    Example:
        >>> gc.strings.to_number(["1.5", "-2"])   # [1.5, -2.0]
    """
    return apply_op("string_to_number", [string_tensor],
                    {"out_type": gdt.as_dtype(out_type)}, name=name or "StringToNumber")


def as_string(input, precision=-1, scientific=False, shortest=False, width=-1,  # noqa: A002
              fill="", name=None):
    """Each number or bool as a string (TF1 ``tf.as_string``).

    Example:
        >>> gc.as_string([1.5, 2.0], precision=2)   # [b"1.50", b"2.00"]
    """
    return apply_op("as_string", [input], {"precision": int(precision),
                                           "scientific": bool(scientific),
                                           "shortest": bool(shortest), "width": int(width),
                                           "fill": fill}, name=name or "AsString")

