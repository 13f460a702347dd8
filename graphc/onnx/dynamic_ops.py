"""ONNX ops whose shape-like operands (slice bounds, axes, repeats) may be run-time values.

ONNX feeds such operands as tensors; many models (and most of the official node tests) give
them as graph inputs, not constants. graphc's own ops want them when the graph is built, so
the importer uses these instead when a value is not static: each is one registry op whose
kernel reads the operand's value at run time, with ONNX's semantics (negative indices,
clamping, ``axes`` defaults) and shape inference that keeps what is known.
"""
from __future__ import annotations

import numpy as np

from graphc import registry
from graphc.ops.common import apply_op
from graphc.registry import OpDef
from graphc.shapes import TensorShape

__all__ = ["onnx_slice", "onnx_tile", "onnx_unsqueeze", "onnx_squeeze", "onnx_reduce",
           "onnx_expand"]

TESTED = "tests/test_onnx.py (ONNX node tests through the importer)"


def _unknown_rank(inputs, attrs):
    return [TensorShape(None)]


def _first_dtype(in_dtypes, attrs):
    return [in_dtypes[0]]


def _slice_kernel(x, starts, ends, axes=None, steps=None):
    starts, ends = np.asarray(starts).ravel(), np.asarray(ends).ravel()
    axes = np.arange(len(starts)) if axes is None else np.asarray(axes).ravel()
    steps = np.ones(len(starts), np.int64) if steps is None else np.asarray(steps).ravel()
    index = [slice(None)] * x.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps):
        axis = int(axis) % x.ndim
        dim = x.shape[axis]
        start, end, step = int(start), int(end), int(step)
        if step == 0:
            raise ValueError("Slice: steps must not be 0")
        # ONNX clamps to [0, dim] (to [-1, dim - 1] for negative steps)
        start = start + dim if start < 0 else start
        end = end + dim if end < 0 else end
        if step > 0:
            start, end = min(max(start, 0), dim), min(max(end, 0), dim)
        else:
            start, end = min(max(start, -1), dim - 1), min(max(end, -1), dim - 1)
        index[axis] = slice(start, None if end < 0 and step < 0 else end, step)
    return x[tuple(index)]


def _slice_apply(x, starts, ends, axes=None, steps=None):
    return _slice_kernel(x, starts, ends, axes, steps)


SLICE = registry.register(OpDef(
    name="onnx_slice", dtypes=_first_dtype, shapes=_unknown_rank, unknown_rank_ok=True,
    kernel=lambda x, *operands: np.ascontiguousarray(_slice_apply(x, *operands)),
    grad=registry.NOT_DIFFERENTIABLE, tested_elsewhere=TESTED,
    doc="ONNX Slice with run-time starts/ends/axes/steps."))


def onnx_slice(x, starts, ends, axes=None, steps=None):
    operands = [x, starts, ends] + [v for v in (axes, steps) if v is not None]
    if axes is None and steps is not None:
        raise ValueError("onnx_slice: steps without axes")
    return apply_op("onnx_slice", operands)


TILE = registry.register(OpDef(
    name="onnx_tile", dtypes=_first_dtype, shapes=_unknown_rank, unknown_rank_ok=True,
    kernel=lambda x, repeats: np.tile(x, np.asarray(repeats).astype(np.int64)),
    grad=registry.NOT_DIFFERENTIABLE, tested_elsewhere=TESTED,
    doc="ONNX Tile with run-time repeats."))


def onnx_tile(x, repeats):
    return apply_op("onnx_tile", [x, repeats])


def _unsqueeze_kernel(x, axes):
    out_rank = x.ndim + np.asarray(axes).size
    for axis in sorted(int(a) % out_rank for a in np.asarray(axes).ravel()):
        x = np.expand_dims(x, axis)
    return x


UNSQUEEZE = registry.register(OpDef(
    name="onnx_unsqueeze", dtypes=_first_dtype, shapes=_unknown_rank, unknown_rank_ok=True,
    kernel=_unsqueeze_kernel, grad=registry.NOT_DIFFERENTIABLE, tested_elsewhere=TESTED,
    doc="ONNX Unsqueeze with run-time axes."))


def onnx_unsqueeze(x, axes):
    return apply_op("onnx_unsqueeze", [x, axes])


def _squeeze_kernel(x, *axes):
    if not axes:
        return np.squeeze(x)
    return np.squeeze(x, axis=tuple(int(a) % x.ndim for a in np.asarray(axes[0]).ravel()))


SQUEEZE = registry.register(OpDef(
    name="onnx_squeeze", dtypes=_first_dtype, shapes=_unknown_rank, unknown_rank_ok=True,
    kernel=_squeeze_kernel, grad=registry.NOT_DIFFERENTIABLE, tested_elsewhere=TESTED,
    doc="ONNX Squeeze with run-time axes."))


def onnx_squeeze(x, axes=None):
    return apply_op("onnx_squeeze", [x] + ([axes] if axes is not None else []))


_REDUCERS = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "prod": np.prod,
             "l1": lambda x, axis, keepdims: np.sum(np.abs(x), axis=axis, keepdims=keepdims),
             "l2": lambda x, axis, keepdims: np.sqrt(np.sum(x * x, axis=axis,
                                                           keepdims=keepdims)),
             "sum_square": lambda x, axis, keepdims: np.sum(x * x, axis=axis,
                                                            keepdims=keepdims),
             "log_sum": lambda x, axis, keepdims: np.log(np.sum(x, axis=axis,
                                                               keepdims=keepdims)),
             "log_sum_exp": lambda x, axis, keepdims: _logsumexp(x, axis, keepdims)}


def _logsumexp(x, axis, keepdims):
    top = np.max(x, axis=axis, keepdims=True) if x.size else np.zeros([1] * x.ndim, x.dtype)
    top = np.where(np.isfinite(top), top, 0)
    out = np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True)) + top
    return out if keepdims else np.squeeze(out, axis=axis)


def _reduce_kernel(x, *axes, kind, keepdims, noop_with_empty_axes):
    chosen = None if not axes else tuple(int(a) % max(x.ndim, 1)
                                         for a in np.asarray(axes[0]).ravel())
    if chosen == () and noop_with_empty_axes:
        return x
    if chosen == ():
        chosen = None
    if x.size == 0 and kind in ("max", "min"):
        # ONNX: the reduction of nothing is the identity of the operation
        fill = -np.inf if kind == "max" else np.inf
        if x.dtype.kind == "b":
            fill = kind == "min"
        elif x.dtype.kind in "iu":
            info = np.iinfo(x.dtype)
            fill = info.min if kind == "max" else info.max
        shape = [1 if (chosen is None or i in chosen) else d for i, d in enumerate(x.shape)]
        out = np.full(shape, fill, x.dtype)
        return out if keepdims else np.squeeze(out, axis=chosen)
    result = _REDUCERS[kind](x, axis=chosen, keepdims=bool(keepdims))
    return np.asarray(result).astype(x.dtype, copy=False)


REDUCE = registry.register(OpDef(
    name="onnx_reduce", dtypes=_first_dtype, shapes=_unknown_rank, unknown_rank_ok=True,
    kernel=_reduce_kernel, attrs={"kind": "sum", "keepdims": 1, "noop_with_empty_axes": 0},
    grad=registry.NOT_DIFFERENTIABLE, tested_elsewhere=TESTED,
    doc="ONNX Reduce* with run-time axes (and ONNX's empty-axes and empty-input rules)."))


def onnx_reduce(x, axes, kind, keepdims=1, noop_with_empty_axes=0):
    attrs = {"kind": kind, "keepdims": int(keepdims),
             "noop_with_empty_axes": int(noop_with_empty_axes)}
    return apply_op("onnx_reduce", [x] + ([axes] if axes is not None else []), attrs)


EXPAND = registry.register(OpDef(
    name="onnx_expand", dtypes=_first_dtype, shapes=_unknown_rank, unknown_rank_ok=True,
    kernel=lambda x, shape: np.ascontiguousarray(
        x * np.ones(np.asarray(shape).astype(np.int64), x.dtype)),
    grad=registry.NOT_DIFFERENTIABLE, tested_elsewhere=TESTED,
    doc="ONNX Expand: broadcast with a shape that may be smaller than the input's."))


def onnx_expand(x, shape):
    return apply_op("onnx_expand", [x, shape])
