"""The kernel of TF1's lookup tables: ``table_lookup`` maps each query to the value of the
equal key in (keys, values), or ``default``; the text-file form reads its keys and values
from a file when it first runs (TF's TextFileInitializer columns: a column index, or -1 for
the whole line, -2 for the line number). Tables are immutable after initialization, so a
lookup is a pure function of its inputs here (``graphc.lookup`` builds the tables).
"""
from __future__ import annotations

import os

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.registry import OpDef

__all__ = ["WHOLE_LINE", "LINE_NUMBER"]

WHOLE_LINE, LINE_NUMBER = -1, -2
_FILES: dict = {}  # (path, mtime, columns, delimiter) -> (keys, values) as read


def _lookup(keys, values, query, default):
    """Sorted search instead of a dict of every key: a table of many keys is looked up
    without a Python loop. A repeated key takes its last value (as a dict built in order
    would): the stable sort keeps equal keys in order, and the search takes the last."""
    keys, values = np.asarray(keys).reshape(-1), np.asarray(values).reshape(-1)
    order = np.argsort(keys, kind="stable")
    ordered_keys, ordered_values = keys[order], values[order]
    flat = np.asarray(query).reshape(-1)
    fill = np.asarray(default).reshape(-1)[0] if np.size(default) else 0
    out = np.full(flat.shape, fill, values.dtype)
    if keys.size and flat.size:
        position = np.searchsorted(ordered_keys, flat, side="right") - 1
        found = position >= 0
        found[found] = ordered_keys[position[found]] == flat[found]
        out[found] = ordered_values[position[found]]
    return out.reshape(np.shape(query))


def _dtypes(in_dtypes, attrs):
    keys, values, query, default = in_dtypes
    if query is not keys:
        raise TypeError(f"table lookup: keys of dtype {query.name} do not match the table's "
                        f"key dtype {keys.name}")
    if default is not values:
        raise TypeError(f"table lookup: default_value of dtype {default.name} does not match "
                        f"the table's value dtype {values.name}")
    return [values]


TABLE_LOOKUP = registry.register(OpDef(
    name="table_lookup", dtypes=_dtypes, shapes=lambda ins, a: [ins[2].shape],
    kernel=_lookup, grad=registry.NOT_DIFFERENTIABLE, unknown_rank_ok=True,
    tested_elsewhere="tests/test_lookup.py",
    doc="Each query's value in the (keys, values) table, else default."))


def _column(fields, line, number, index, dtype):
    if index == LINE_NUMBER:
        raw = number
    elif index == WHOLE_LINE:
        raw = line
    else:
        if index >= len(fields):
            raise ValueError(f"table file line {number + 1} has {len(fields)} columns, not "
                             f"column {index}: {line!r}")
        raw = fields[index]
    if dtype.is_string:
        return raw if isinstance(raw, bytes) else str(raw).encode()
    return dtype.np.type(int(raw) if dtype.is_integer else float(raw))


def _read_table(path, key_index, value_index, delimiter, key_dtype, value_dtype):
    try:
        stamp = os.stat(path).st_mtime_ns
    except FileNotFoundError:
        raise FileNotFoundError(f"table file {path}: No such file or directory") from None
    cache_key = (path, stamp, key_index, value_index, delimiter, key_dtype, value_dtype)
    if cache_key not in _FILES:
        keys, values = [], []
        with open(path, "rb") as handle:
            for number, line in enumerate(handle.read().splitlines()):
                fields = line.split(delimiter.encode())
                keys.append(_column(fields, line, number, key_index, gdt.as_dtype(key_dtype)))
                values.append(_column(fields, line, number, value_index,
                                      gdt.as_dtype(value_dtype)))
        if len(_FILES) > 64:
            _FILES.clear()
        _FILES[cache_key] = (np.array(keys, dtype=gdt.as_dtype(key_dtype).np),
                             np.array(values, dtype=gdt.as_dtype(value_dtype).np))
    return _FILES[cache_key]


def _text_lookup(query, default, filename, key_index, value_index, delimiter, key_dtype,
                 value_dtype):
    keys, values = _read_table(filename, key_index, value_index, delimiter, key_dtype,
                               value_dtype)
    return _lookup(keys, values, query, default)


TEXT_TABLE_LOOKUP = registry.register(OpDef(
    name="text_table_lookup",
    dtypes=lambda d, a: [gdt.as_dtype(a["value_dtype"])],
    shapes=lambda ins, a: [ins[0].shape], kernel=_text_lookup,
    grad=registry.NOT_DIFFERENTIABLE, unknown_rank_ok=True, raises_on_values=True,
    foldable=False,  # the file is read when the graph runs, as TF's initializer reads it
    attrs={"filename": "", "key_index": LINE_NUMBER, "value_index": WHOLE_LINE,
           "delimiter": "\t", "key_dtype": gdt.int64, "value_dtype": gdt.string},
    tested_elsewhere="tests/test_lookup.py",
    doc="Each query's value in the table read from a text file, else default."))
