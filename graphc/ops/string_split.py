"""Splitting strings into tokens, as SparseTensor parts (TF1's ``tf.string_split`` and the
SparseTensor form of ``tf.compat.v1.strings.split``): row i of the result holds the tokens of
string i of a vector, in order; the last dimension is as wide as the longest row.

- ``string_split`` (TF's StringSplit): every byte of ``delimiter`` is a split point ("" splits
  into single bytes); ``skip_empty`` drops empty tokens.
- ``string_split_v2`` (TF's StringSplitV2): ``sep`` is one whole delimiter, as Python's
  ``bytes.split(sep, maxsplit)`` (empty tokens kept); ``sep`` "" splits on runs of ASCII
  whitespace with none at the ends, as ``bytes.split(None, maxsplit)``; ``maxsplit`` 0 keeps
  the whole string.

Example:
    >>> indices, values, shape = apply_op("string_split_v2", [lines, ","], {"maxsplit": -1})
"""
from __future__ import annotations

import re

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.ops.strings import _text
from graphc.registry import OpDef
from graphc.shapes import TensorShape

__all__ = ["STRING_SPLIT", "STRING_SPLIT_V2"]

_TESTS = "tests/test_string_split.py"


def _sparse_parts(rows):
    """(indices [N, 2] int64, values [N] strings, shape [2] int64) of token lists."""
    counts = [len(tokens) for tokens in rows]
    indices = np.array([(i, j) for i, n in enumerate(counts) for j in range(n)],
                       np.int64).reshape(-1, 2)
    values = np.empty(len(indices), object)
    values[:] = [token for tokens in rows for token in tokens]
    return indices, values, np.array([len(rows), max(counts, default=0)], np.int64)


def _vector(op_name, strings):
    strings = np.asarray(strings, dtype=object)
    if strings.ndim != 1:
        raise ValueError(f"{op_name}: input must be a vector of strings, got shape "
                         f"{list(strings.shape)}")
    return [_text(s) for s in strings]


def _split_kernel(strings, delimiter, skip_empty):
    delimiter = _text(np.asarray(delimiter, dtype=object).item())
    rows = []
    for text in _vector("string_split", strings):
        if not delimiter or not text:  # an empty string has no tokens (TF's kernel)
            tokens = [text[i:i + 1] for i in range(len(text))]
        else:
            tokens = re.split(b"[" + re.escape(delimiter) + b"]", text)
        rows.append([t for t in tokens if t] if skip_empty else tokens)
    return _sparse_parts(rows)


def _split_v2_kernel(strings, sep, maxsplit):
    sep = _text(np.asarray(sep, dtype=object).item())
    limit = -1 if maxsplit is None or maxsplit < 0 else int(maxsplit)
    rows = []
    for text in _vector("string_split_v2", strings):
        if limit == 0:  # the whole string, whitespace and all (TF's rule, not Python's)
            rows.append([text])
        else:  # Python's rules otherwise, as TF's kernel says: ASCII whitespace for ""
            rows.append(text.split(sep or None, limit))
    return _sparse_parts(rows)


def _dtypes(op_name):
    def rule(in_dtypes, attrs):
        if any(d is not gdt.string for d in in_dtypes):
            raise TypeError(f"{op_name}: the input and the delimiter must be strings, got "
                            f"{[d.name for d in in_dtypes]}")
        return [gdt.int64, gdt.string, gdt.int64]
    return rule


def _shapes(op_name):
    def rule(inputs, attrs):
        strings, delimiter = inputs
        if strings.shape.rank not in (None, 1):
            raise ValueError(f"{op_name}: input must be a vector of strings, got shape "
                             f"{strings.shape}")
        if delimiter.shape.rank not in (None, 0):
            raise ValueError(f"{op_name}: the delimiter must be a scalar, got shape "
                             f"{delimiter.shape}")
        return [TensorShape([None, 2]), TensorShape([None]), TensorShape([2])]
    return rule


STRING_SPLIT = registry.register(OpDef(
    name="string_split", dtypes=_dtypes("string_split"), shapes=_shapes("string_split"),
    kernel=_split_kernel, grad=registry.NOT_DIFFERENTIABLE, attrs={"skip_empty": True},
    tested_elsewhere=_TESTS,
    doc="Tokens of each string of a vector split at any byte of delimiter, as SparseTensor "
        "parts."))

STRING_SPLIT_V2 = registry.register(OpDef(
    name="string_split_v2", dtypes=_dtypes("string_split_v2"),
    shapes=_shapes("string_split_v2"), kernel=_split_v2_kernel,
    grad=registry.NOT_DIFFERENTIABLE, attrs={"maxsplit": -1}, tested_elsewhere=_TESTS,
    doc="Tokens of each string of a vector split at sep (whitespace runs for ''), as "
        "SparseTensor parts."))
