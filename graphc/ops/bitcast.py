"""``tf.bitcast``: a tensor's bytes read as another dtype, without changing them. Same
item sizes keep the shape; a larger input item gains a last dimension of the size ratio; a
smaller one needs that last dimension and loses it (TF's rule).

Example:
    >>> gc.bitcast(gc.constant([1.0], gc.float32), gc.int32)   # [1065353216]
    >>> gc.bitcast(gc.constant([1], gc.int32), gc.uint8).shape  # [1, 4]
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.ops.common import apply_op
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape

__all__ = ["bitcast"]

_CASTABLE = (gdt.float16, gdt.float32, gdt.float64, gdt.int8, gdt.int16, gdt.int32, gdt.int64,
             gdt.uint8, gdt.uint16, gdt.uint32, gdt.uint64)


def _dtypes(in_dtypes, attrs):
    out = gdt.as_dtype(attrs["type"])
    for what, dtype in (("input", in_dtypes[0]), ("type", out)):
        if dtype not in _CASTABLE:
            raise TypeError(f"bitcast: {what} dtype {dtype.name} is not a numeric dtype of "
                            f"fixed size")
    return [out]


def _shapes(inputs, attrs):
    source = inputs[0].dtype.np.itemsize
    target = gdt.as_dtype(attrs["type"]).np.itemsize
    shape = inputs[0].shape
    if source == target or shape.rank is None:
        return [shape if source == target else TensorShape(None)]
    if source > target:
        return [TensorShape(list(shape.dims) + [source // target])]
    if shape.rank == 0 or shape.dims[-1] not in (None, target // source):
        raise ValueError(f"bitcast: casting {inputs[0].dtype.name} to "
                         f"{gdt.as_dtype(attrs['type']).name} needs a last dimension of "
                         f"{target // source}, got shape {shape}")
    return [TensorShape(list(shape.dims[:-1]))]


def _kernel(x, type):  # noqa: A002 - TF's attribute name
    x = np.ascontiguousarray(x)
    target = gdt.as_dtype(type).np
    if x.dtype.itemsize < target.itemsize:
        ratio = target.itemsize // x.dtype.itemsize
        if not x.ndim or x.shape[-1] != ratio:
            raise ValueError(f"bitcast: the last dimension must be {ratio}, got shape "
                             f"{list(x.shape)}")
        return x.view(target).reshape(x.shape[:-1])
    out = x.view(target)
    return out.reshape(x.shape + (x.dtype.itemsize // target.itemsize,)) \
        if x.dtype.itemsize > target.itemsize else out


def _reference(x, type):  # noqa: A002 - TF's attribute name
    """Byte by byte through Python's bytes: the kernel tests' independent check."""
    target = gdt.as_dtype(type).np
    raw = np.frombuffer(np.asarray(x).tobytes(), target)
    size = np.asarray(x).dtype.itemsize
    shape = np.shape(x)
    if size > target.itemsize:
        return raw.reshape(shape + (size // target.itemsize,))
    return raw.reshape(shape[:-1] if size < target.itemsize else shape)


BITCAST = registry.register(OpDef(
    name="bitcast", dtypes=_dtypes, shapes=_shapes, kernel=_kernel,
    grad=registry.NOT_DIFFERENTIABLE, attrs={"type": gdt.int32}, unknown_rank_ok=True,
    reference=_reference,
    samples=lambda: [Sample((np.array([1.0, -2.5, np.inf, np.nan], np.float32), gdt.int32)),
                     Sample((np.arange(6, dtype=np.int32).reshape(2, 3), gdt.uint8)),
                     Sample((np.arange(8, dtype=np.uint8).reshape(2, 4), gdt.float32)),
                     Sample((np.zeros((0, 2), np.int16), gdt.int32))],
    error_samples=lambda: [ErrorSample((np.zeros((2, 3), np.uint8), gdt.int32),
                                       match="needs a last dimension of 4")],
    doc="The input's bytes read as another dtype."))


@registry.public(BITCAST)
def bitcast(input, type, name=None):  # noqa: A002 - TF's argument names
    """``input``'s bytes read as dtype ``type`` (TF1 ``tf.bitcast``); see the module doc for
    the shape rule.

    Example:
        >>> bits = gc.bitcast(gc.constant([-0.0]), gc.uint32)   # [2147483648]
    """
    return apply_op("bitcast", [input], {"type": gdt.as_dtype(type)}, name=name or "Bitcast")
