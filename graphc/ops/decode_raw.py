"""``decode_raw``: the bytes of each string read as a vector of numbers (TF1
``tf.decode_raw`` / ``tf.io.decode_raw``), e.g. the pixels of a fixed-length binary record.

Example:
    >>> pixels = gc.io.decode_raw(record, gc.uint8)     # [record_bytes]
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.ops.common import apply_op
from graphc.registry import OpDef
from graphc.shapes import TensorShape

__all__ = ["decode_raw"]


def _dtypes(in_dtypes, attrs):
    if in_dtypes[0] is not gdt.string:
        raise TypeError(f"decode_raw: input must be strings, got {in_dtypes[0].name}")
    out = gdt.as_dtype(attrs["out_type"])
    if not (out.is_integer or out.is_floating):
        raise TypeError(f"decode_raw: out_type must be numeric, got {out.name}")
    return [out]


def _shapes(inputs, attrs):
    shape = inputs[0].shape
    return [TensorShape(None) if shape.rank is None else TensorShape(list(shape.dims) + [None])]


def _kernel(x, out_type, little_endian):
    dtype = np.dtype(gdt.as_dtype(out_type).np).newbyteorder("<" if little_endian else ">")
    flat = np.asarray(x, dtype=object).reshape(-1)
    if not flat.size:
        return np.zeros(np.shape(x) + (0,), dtype.newbyteorder("="))
    lengths = {len(v) for v in flat}
    if len(lengths) != 1 or next(iter(lengths)) % dtype.itemsize:
        raise ValueError(f"decode_raw: every string must have one length, a multiple of "
                         f"{dtype.itemsize} bytes, got lengths {sorted(lengths)[:5]}")
    rows = [np.frombuffer(v, dtype) for v in flat]
    out = np.stack(rows).astype(dtype.newbyteorder("="))
    return out.reshape(np.shape(x) + (out.shape[-1],))


DECODE_RAW = registry.register(OpDef(
    name="decode_raw", dtypes=_dtypes, shapes=_shapes, kernel=_kernel,
    grad=registry.NOT_DIFFERENTIABLE, attrs={"out_type": gdt.uint8, "little_endian": True},
    raises_on_values=True, unknown_rank_ok=True, tested_elsewhere="tests/test_data_files.py",
    doc="The bytes of each string as a vector of out_type numbers."))


@registry.public(DECODE_RAW)
def decode_raw(input_bytes=None, out_type=gdt.uint8, little_endian=True, name=None,
               bytes=None):  # noqa: A002 - TF1's argument names
    """Each string's bytes as a vector of ``out_type`` (all strings of one length) (TF1
    ``tf.decode_raw``).

    Example:
        >>> gc.decode_raw(gc.constant([b"\\x01\\x02"]), gc.uint8)   # [[1, 2]]
    """
    value = input_bytes if input_bytes is not None else bytes
    return apply_op("decode_raw", [value], {"out_type": gdt.as_dtype(out_type),
                                            "little_endian": bool(little_endian)},
                    name=name or "DecodeRaw")
