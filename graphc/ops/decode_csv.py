"""``tf.io.decode_csv``: each string of ``records`` split into fields, one output tensor per
column, with TF's parsing rules and error messages.

Fields are separated by ``field_delim``; with ``use_quote_delim`` a field may be quoted
(``"a,b"``, ``""`` inside a quoted field is one quote), and a quote inside an unquoted field
is an error. A column's default gives its dtype (float32, float64, int32, int64, string) and
its value when the field is empty or equals ``na_value``; an empty default (``[]``) makes the
column required. Numbers may have surrounding spaces; strings are kept as they are.

Example:
    >>> line = gc.constant(["1,2.5,cat", "4,,dog"])
    >>> ids, score, name = gc.io.decode_csv(line, [[0], [-1.0], [""]])   # score: [2.5, -1.0]
"""
from __future__ import annotations

import csv
import re

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.ops.common import apply_op
from graphc.registry import ErrorSample, OpDef, Sample

__all__ = ["decode_csv"]

_COLUMN_DTYPES = (gdt.float32, gdt.float64, gdt.int32, gdt.int64, gdt.string)
_INTEGER_TEXT = re.compile(rb"\s*[+-]?\d+\s*\Z")


def _fields(record: bytes, delim: bytes, quoted: bool, index: int) -> list:
    """The fields of one record, by TF's rules (an empty record has none)."""
    fields, position, size = [], 0, len(record)
    if not size:
        return fields
    while position <= size:
        if quoted and position < size and record[position:position + 1] == b'"':
            field, position = _quoted_field(record, position + 1, delim, index)
        else:
            end = record.find(delim, position)
            end = size if end < 0 else end
            field = record[position:end]
            if quoted and b'"' in field:
                raise ValueError(f"Unquoted fields cannot have quotes inside in record {index}")
            position = end
        fields.append(field)
        position += 1  # past the delimiter (or past the end: done)
    return fields


def _quoted_field(record: bytes, position: int, delim: bytes, index: int):
    parts = []
    while True:
        close = record.find(b'"', position)
        if close < 0:
            raise ValueError(f"Quoted field has to end with quote followed by delim or end in "
                             f"record {index}")
        parts.append(record[position:close])
        after = record[close + 1:close + 2]
        if after == b'"':  # an escaped quote
            parts.append(b'"')
            position = close + 2
        elif after in (b"", delim):
            return b"".join(parts), close + 1
        else:
            raise ValueError(f"Quote inside a string has to be escaped by another quote in "
                             f"record {index}")


def _parsed(text: bytes, dtype, column: int, index: int):
    if dtype is gdt.string:
        return text
    value = None
    if dtype.is_integer:
        if _INTEGER_TEXT.match(text):
            value = int(text)
            if not dtype.min <= value <= dtype.max:
                value = None
    else:
        try:
            value = float(text)
        except ValueError:
            value = None
    if value is None:
        kind = "float" if dtype.is_floating else dtype.name
        raise ValueError(f"Field {column} in record {index} is not a valid {kind}: "
                         f"{text.decode('utf-8', 'replace')}")
    return value


def _decode_kernel(records, *defaults, field_delim, use_quote_delim, na_value, select_cols):
    records = np.asarray(records, dtype=object)
    dtypes = [gdt.as_dtype(np.asarray(d).dtype) if np.asarray(d).dtype != object else gdt.string
              for d in defaults]
    columns = list(select_cols) if select_cols else list(range(len(defaults)))
    outputs = [np.empty(records.shape, object if d is gdt.string else d.np) for d in dtypes]
    delim, missing = field_delim.encode(), na_value.encode()
    for index, (position, record) in enumerate(np.ndenumerate(records)):
        record = record if isinstance(record, bytes) else str(record).encode()
        fields = _fields(record, delim, use_quote_delim, index)
        if (len(fields) != len(defaults)) if not select_cols else len(fields) <= columns[-1]:
            expected = len(defaults) if not select_cols else columns[-1] + 1
            raise ValueError(f"Expect {expected} fields but have {len(fields)} in record {index}")
        for out, dtype, default, column in zip(outputs, dtypes, defaults, columns):
            text = fields[column]
            if text == b"" or text == missing:
                default = np.asarray(default).reshape(-1)
                if not default.size:
                    raise ValueError(f"Field {column} is required but missing in record {index}!")
                out[position] = default[0]
            else:
                out[position] = _parsed(text, dtype, column, index)
    return tuple(outputs)


def _decode_dtypes(in_dtypes, attrs):
    if in_dtypes[0] is not gdt.string:
        raise TypeError(f"decode_csv: records must be strings, got {in_dtypes[0].name}")
    for column, dtype in enumerate(in_dtypes[1:]):
        if dtype not in _COLUMN_DTYPES:
            raise TypeError(f"decode_csv: record_defaults[{column}] has dtype {dtype.name}; "
                            f"columns are float32, float64, int32, int64 or string")
    return list(in_dtypes[1:])


def _decode_shapes(inputs, attrs):
    records, defaults = inputs[0], inputs[1:]
    if not defaults:
        raise ValueError("decode_csv: record_defaults must name at least one column")
    for column, default in enumerate(defaults):
        dims = default.shape.dims
        if default.shape.rank is not None and (default.shape.rank > 1 or (
                default.shape.rank == 1 and dims[0] not in (None, 0, 1))):
            raise ValueError(f"decode_csv: record_defaults[{column}] must be a scalar, a "
                             f"1-element vector or empty (required), got shape {default.shape}")
    select = attrs["select_cols"]
    if select and (len(select) != len(defaults) or list(select) != sorted(set(select))
                   or select[0] < 0):
        raise ValueError(f"decode_csv: select_cols {list(select)} must be increasing, "
                         f"non-negative and one per record default ({len(defaults)})")
    if len(attrs["field_delim"]) != 1:
        raise ValueError(f"decode_csv: field_delim must be one character, got "
                         f"{attrs['field_delim']!r}")
    return [records.shape] * len(defaults)


def _csv_reference(records, defaults, field_delim=",", use_quote_delim=True, na_value="",
                   select_cols=None):
    """Python's csv module's reading of well-formed records: the kernel tests' reference."""
    records = np.asarray(records, dtype=object)
    lines = [r.decode() for r in records.reshape(-1)]
    quoting = csv.QUOTE_MINIMAL if use_quote_delim else csv.QUOTE_NONE
    rows = list(csv.reader(lines, delimiter=field_delim, quoting=quoting, strict=True))
    columns = list(select_cols) if select_cols else list(range(len(defaults)))
    outputs = []
    for default, column in zip(defaults, columns):
        default = np.asarray(default)
        texts = [row[column] for row in rows]
        values = [default.reshape(-1)[0] if t in ("", na_value) else
                  t.encode() if default.dtype == object else default.dtype.type(t.strip())
                  for t in texts]
        outputs.append(np.array(values, dtype=default.dtype).reshape(records.shape))
    return outputs


DECODE_CSV = registry.register(OpDef(
    name="decode_csv", dtypes=_decode_dtypes, shapes=_decode_shapes, kernel=_decode_kernel,
    grad=registry.NOT_DIFFERENTIABLE, raises_on_values=True, unknown_rank_ok=True,
    attrs={"field_delim": ",", "use_quote_delim": True, "na_value": "", "select_cols": ()},
    samples=lambda: [
        Sample((np.array([b"1,2.5,abc", b'4,,"x,y"'], object),
                [np.array([0], np.int32), np.array([-1.0], np.float32),
                 np.array([b""], object)])),
        Sample((np.array([[b"NA|7"], [b"3|NA"]], object),
                [np.array([9], np.int64), np.array([0.5])]),
               {"field_delim": "|", "na_value": "NA"})],
    error_samples=lambda: [ErrorSample((np.array([b"1"], object), [np.zeros((2, 2))]),
                                       match="must be a scalar")],
    reference=_csv_reference, doc="Records split into typed columns (TF's CSV rules)."))


@registry.public(DECODE_CSV)
def decode_csv(records, record_defaults, field_delim=",", use_quote_delim=True, name=None,
               na_value="", select_cols=None):
    """One tensor per column of the CSV ``records`` (TF1 ``tf.decode_csv`` /
    ``tf.io.decode_csv``); ``record_defaults`` gives each column's dtype and default.

    Example:
        >>> x, y = gc.io.decode_csv(["1,2", "3,"], record_defaults=[[0.0], [-1.0]])
    """
    graph = graph_of(records, record_defaults)
    with graph.as_default(), graph.atomic():
        records = convert_to_tensor(records, dtype_hint=gdt.string)
        defaults = [convert_to_tensor(d) for d in record_defaults]
        attrs = {"field_delim": field_delim, "use_quote_delim": bool(use_quote_delim),
                 "na_value": na_value, "select_cols": tuple(int(c) for c in select_cols or ())}
        outputs = apply_op("decode_csv", [records, *defaults], attrs, name=name or "DecodeCSV")
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
