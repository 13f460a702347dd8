"""Static cost estimates per op (FLOPs and output bytes) for the cost view.

Estimates come from static shapes; unknown (None) dims count as ``unknown_dim`` (default 1,
i.e. per example), which the picture's legend states.
"""
from __future__ import annotations

import math

from graphc import registry

__all__ = ["op_flops", "op_bytes"]


def _elements(shape, unknown_dim: int) -> int:
    if shape.rank is None:
        return unknown_dim
    return math.prod(unknown_dim if d is None else d for d in shape.dims)


def op_bytes(op, unknown_dim: int = 1) -> int:
    """Bytes of all of ``op``'s outputs."""
    return sum(_elements(t.shape, unknown_dim) * t.dtype.size for t in op.outputs)


def _dim(shape, index, unknown_dim):
    value = shape.dims[index] if shape.rank else None
    return unknown_dim if value is None else value


def op_flops(op, unknown_dim: int = 1) -> int:
    """Floating-point operations of one run of ``op`` (rough, by op family)."""
    out = sum(_elements(t.shape, unknown_dim) for t in op.outputs)
    if op.type == "matmul":
        a = op.inputs[0].shape
        k = _dim(a, -2 if op.attrs["transpose_a"] else -1, unknown_dim)
        return 2 * out * k
    if op.type in ("conv2d", "conv2d_backprop_input", "conv2d_backprop_filter"):
        x, w = (op.inputs[0].shape, op.inputs[1].shape) if op.type == "conv2d" else (None, None)
        if op.type == "conv2d" and w.is_fully_defined():
            return 2 * out * w.dims[0] * w.dims[1] * w.dims[2]
        return 2 * sum(_elements(t.shape, unknown_dim) for t in op.inputs) * 9
    if op.type in ("tensordot", "einsum"):
        return 2 * max(out, max(_elements(t.shape, unknown_dim) for t in op.inputs))
    if op.type == "fused_elementwise":
        return out * len(op.attrs["program"])
    if op.type.startswith("reduce_") or op.type in ("softmax", "log_softmax", "l2_loss") \
            or "cross_entropy" in op.type:
        inputs = sum(_elements(t.shape, unknown_dim) for t in op.inputs)
        return inputs * (5 if "softmax" in op.type or "entropy" in op.type else 1)
    if op.type in ("max_pool", "avg_pool"):
        return out * op.attrs["ksize"][0] * op.attrs["ksize"][1]
    return out if registry.get(op.type).elementwise else 0
