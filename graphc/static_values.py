"""Values known when the graph is built (TF1's ``get_static_value`` / ``constant_value``).

Shape inference uses these to give ``reshape(x, shape(y))`` or ``zeros([batch, 3])`` a static
shape whenever the shape argument is computable from constants and static shapes.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from graphc.graph import Tensor
from graphc.index_spec import spec_to_index
from graphc.shapes import TensorShape

__all__ = ["constant_value", "constant_value_as_shape"]

_PASS_THROUGH = ("identity", "stop_gradient")


def constant_value(tensor: Tensor) -> Optional[np.ndarray]:
    """The value of ``tensor`` if it is computable without running the graph, else None.

    Example:
        >>> constant_value(gc.shape(gc.zeros([2, 3])))
        array([2, 3], dtype=int32)
    """
    while tensor.op.type in _PASS_THROUGH:
        tensor = tensor.op.inputs[0]
    op = tensor.op
    if op.type == "const":
        return op.attrs["value"]
    if op.type in ("shape", "size", "rank"):
        source = op.inputs[0].shape
        out_dtype = tensor.dtype.np
        if op.type == "rank" and source.rank is not None:
            return np.array(source.rank, dtype=out_dtype)
        if source.is_fully_defined():
            value = source.dims if op.type == "shape" else source.num_elements()
            return np.array(value, dtype=out_dtype)
        return None
    if op.type in ("zeros_like", "ones_like") and op.inputs[0].shape.is_fully_defined():
        return np.full(op.inputs[0].shape.dims, 0 if op.type == "zeros_like" else 1,
                       dtype=tensor.dtype.np)
    if op.type == "strided_slice" and op.inputs[0].op.type == "shape":
        return _slice_of_shape(op, tensor)
    if op.type == "cast":
        inner = constant_value(op.inputs[0])
        return None if inner is None else inner.astype(tensor.dtype.np)
    if op.type == "stack":
        parts = [constant_value(t) for t in op.inputs]
        if any(p is None for p in parts):
            return None
        return np.stack(parts, axis=op.attrs["axis"])
    return None


def _slice_of_shape(op, tensor) -> Optional[np.ndarray]:
    """``shape(x)[i]`` (or a slice of it) when the selected dims of x are known."""
    dims = op.inputs[0].op.inputs[0].shape.dims
    if dims is None:
        return None
    picked = np.asarray(np.array(dims, dtype=object)[spec_to_index(op.attrs["spec"])])
    if any(d is None for d in picked.ravel()):
        return None
    return picked.astype(tensor.dtype.np)


def constant_value_as_shape(tensor: Tensor) -> TensorShape:
    """Read a 1-D int tensor as a (partially known) shape: ``-1`` and unknowns become None."""
    value = constant_value(tensor)
    if value is not None:
        return TensorShape([None if int(v) < 0 else int(v) for v in np.ravel(value)])
    op = tensor.op
    if op.type == "shape":
        return op.inputs[0].shape
    if op.type == "stack" and op.attrs["axis"] == 0:
        dims = []
        for part in op.inputs:
            known = constant_value(part)
            dims.append(None if known is None or int(known) < 0 else int(known))
        return TensorShape(dims)
    if op.type == "concat":
        result = TensorShape([])
        for part in op.inputs:
            result = result.concatenate(constant_value_as_shape(part))
        return result
    length = tensor.shape[0] if tensor.shape.rank == 1 else None
    return TensorShape(None if length is None else [None] * length)
