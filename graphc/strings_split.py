"""TF1's ``tf.string_split`` and ``tf.compat.v1.strings.split`` (SparseTensor results; the
kernels are graphc/ops/string_split.py). graphc has no RaggedTensor, so
``result_type="RaggedTensor"`` is refused by name.

Example:
    >>> tokens = gc.string_split(["hello world", "a b c"])       # SparseTensor [2, 3]
    >>> fields = gc.strings.split(["a,b,,c"], sep=",")            # [[a, b, '', c]]
"""
from __future__ import annotations

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor
from graphc.ops.common import apply_op
from graphc.sparse.tensor import SparseTensor

__all__ = ["string_split", "split"]


def string_split(source, sep=None, skip_empty=True, delimiter=None, name=None):
    """Split each string of vector ``source`` at any byte of ``sep`` (default " "; ""
    splits into bytes), dropping empty tokens unless ``skip_empty`` is False (TF1's
    ``tf.string_split``); a SparseTensor of strings.

    Example:
        >>> gc.string_split(["a b", "c"]).values      # [b"a", b"b", b"c"]
    """
    if sep is not None and delimiter is not None and sep != delimiter:
        raise ValueError("string_split: give sep or its old name delimiter, not both")
    sep = delimiter if sep is None else sep
    parts = apply_op("string_split", [convert_to_tensor(source, dtype=gdt.string),
                                      convert_to_tensor(" " if sep is None else sep,
                                                        dtype=gdt.string)],
                     {"skip_empty": bool(skip_empty)}, name=name or "StringSplit")
    return SparseTensor(*parts)


def split(input=None, sep=None, maxsplit=-1, result_type="SparseTensor", source=None,  # noqa
          name=None):
    """Split each string of vector ``input`` at ``sep`` (a whole delimiter, empty tokens
    kept), or at whitespace runs when ``sep`` is None or "", at most ``maxsplit`` times
    (TF1's ``tf.strings.split`` with its SparseTensor result).

    Example:
        >>> gc.strings.split(["1<>2<><>3"], sep="<>").values     # [b"1", b"2", b"", b"3"]
    """
    if input is None:
        input = source  # noqa: A001 - TF1's old name
    if input is None:
        raise ValueError("strings.split: input (or source) is required")
    if result_type != "SparseTensor":
        raise ValueError(f"strings.split: result_type {result_type!r} is not supported: "
                         "graphc has no RaggedTensor; use 'SparseTensor'")
    parts = apply_op("string_split_v2", [convert_to_tensor(input, dtype=gdt.string),
                                         convert_to_tensor(sep or "", dtype=gdt.string)],
                     {"maxsplit": int(maxsplit)}, name=name or "StringSplitV2")
    return SparseTensor(*parts)
