"""Reductions with ``axis`` and ``keepdims`` (reduce_sum ...), and argmax / argmin.

Empty reductions follow TF1: sum 0, prod 1, mean NaN, max -inf (or the dtype's minimum),
min +inf (or the dtype's maximum), logsumexp -inf.
"""
from __future__ import annotations

import math
import threading

import numpy as np
import scipy.special

from graphc import dtypes as gdt
from graphc import registry
from graphc.ops.common import (BOOL, FLOAT, NUMERIC, apply_op, check_kind, normalize_axes,
                               normalize_axis, rand, randbool, randint, static_axis)
from graphc.ops.creation import ones_like, zeros_like
from graphc.ops.elementwise import equal, exp
from graphc.ops.select import cast, where
from graphc.ops.shape_ops import broadcast_to, expand_dims, shape, size
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape

__all__ = ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod",
           "reduce_logsumexp", "reduce_any", "reduce_all", "argmax", "argmin"]


def _reduced_shape(shape: TensorShape, axis, keepdims: bool, op_name: str) -> TensorShape:
    if shape.rank is None:
        return TensorShape([]) if axis is None and not keepdims else TensorShape(None)
    axes = normalize_axes(axis, shape.rank, op_name)
    axes = range(shape.rank) if axes is None else axes
    if keepdims:
        return TensorShape([1 if i in axes else d for i, d in enumerate(shape.dims)])
    return TensorShape([d for i, d in enumerate(shape.dims) if i not in axes])


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _highest(dtype):
    return np.inf if dtype.kind == "f" else np.iinfo(dtype).max


def _mean(x, axis, keepdims):
    count = x.size if axis is None else math.prod([x.shape[a] for a in axis])
    if x.dtype.kind in "iu":
        total = np.sum(x, axis=axis, keepdims=keepdims, dtype=np.float64)
    else:  # floats: the sum reduce_sum takes (a GEMV with ones where that applies)
        total = _leading_sum(x, axis, keepdims)
    if count and x.dtype.kind == "f":  # no 0/0 to silence (np.errstate costs ~10 us)
        return np.asarray(total / x.dtype.type(count)).astype(x.dtype, copy=False)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / x.dtype.type(count) if x.dtype.kind == "f" else np.trunc(total / count)
    return np.asarray(mean).astype(x.dtype, copy=False)


def _logsumexp(x, axis, keepdims):
    shape = _reduced_shape(TensorShape(x.shape), axis, keepdims, "reduce_logsumexp").dims
    if x.size == 0:
        return np.full(shape, -np.inf, dtype=x.dtype)
    # reshaped: scipy keeps a dim of a 0-d input, (1,) where the shape rule says ()
    return np.asarray(scipy.special.logsumexp(x, axis=axis)).astype(x.dtype).reshape(shape)


# A sum over the leading axes of a C-contiguous float array (the gradient of a bias: the
# output gradient summed over batch and pixels) is one product with a vector of ones: NumPy
# reduces such an array one row at a time, paying its inner-loop setup for every row of a
# few channels (1.1 ms for a 32x32x32x24 gradient), the BLAS in one pass (0.2 ms). A sum
# over a run of middle axes (a global average pool's pixels) is the same product for each
# index of the axes before the run, one stacked matmul (W7 (a)'s 64x4x4x56 mean: 4x less
# CPU). Both add each column's terms in float, in row order but for the BLAS's blocking:
# within the float-sum bound (and a sum of zeros may be +0.0 where NumPy gives -0.0), which
# tests/test_leading_sum.py checks against NumPy's sum. Below LEADING_SUM_MIN_ELEMENTS the
# call's setup outweighs the gain.
LEADING_SUM_MIN_ELEMENTS = 1 << 12
_ONES = threading.local()


def _ones(count, dtype):
    """This thread's vector of ``count`` ones of ``dtype`` (grown as needed)."""
    ones = _ONES.__dict__.get(dtype)
    if ones is None or ones.size < count:
        ones = _ONES.__dict__[dtype] = np.ones(count, dtype=dtype)
    return ones[:count]


def _leading_sum(x, axis, keepdims):
    """``np.sum(x, axis, keepdims)``: a GEMV with ones (one per index of the axes before
    them) where ``axis`` is a run of consecutive axes of a C-contiguous float32/float64
    ``x`` that leaves its last axis, else NumPy's sum."""
    run = None if axis is None else tuple(sorted(a % x.ndim for a in axis))
    if (run is None or x.dtype not in (np.float32, np.float64) or not x.flags.c_contiguous
            or x.size < LEADING_SUM_MIN_ELEMENTS or not run or len(set(run)) != len(run)
            or run != tuple(range(run[0], run[-1] + 1)) or run[-1] >= x.ndim - 1):
        return np.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype)
    first, end = run[0], run[-1] + 1
    outer, kept = x.shape[:first], x.shape[end:]
    rows = math.prod(x.shape[first:end])
    if not outer:
        total = np.matmul(_ones(rows, x.dtype), x.reshape(rows, -1))
    else:
        total = np.matmul(_ones(rows, x.dtype), x.reshape(math.prod(outer), rows, -1))
    return total.reshape(outer + ((1,) * len(run) if keepdims else ()) + kept)


def _as_array(fn):
    def kernel(x, axis, keepdims):
        return np.asarray(fn(x, axis, keepdims))
    return kernel


KERNELS = {
    "reduce_sum": _as_array(_leading_sum),
    "reduce_prod": _as_array(lambda x, a, k: np.prod(x, axis=a, keepdims=k, dtype=x.dtype)),
    "reduce_mean": _mean,
    "reduce_max": _as_array(lambda x, a, k: np.max(x, axis=a, keepdims=k,
                                                   initial=_lowest(x.dtype))),
    "reduce_min": _as_array(lambda x, a, k: np.min(x, axis=a, keepdims=k,
                                                   initial=_highest(x.dtype))),
    "reduce_logsumexp": _logsumexp,
    "reduce_any": _as_array(lambda x, a, k: np.any(x, axis=a, keepdims=k)),
    "reduce_all": _as_array(lambda x, a, k: np.all(x, axis=a, keepdims=k)),
}


def _python_logsumexp(values):
    if not values:
        return -math.inf
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


SCALAR_REFERENCES = {
    "reduce_sum": sum,
    "reduce_prod": math.prod,
    "reduce_mean": lambda v: sum(v) / len(v) if v else math.nan,
    "reduce_max": lambda v: max(v) if v else -math.inf,
    "reduce_min": lambda v: min(v) if v else math.inf,
    "reduce_logsumexp": _python_logsumexp,
    "reduce_any": any,
    "reduce_all": all,
}


def _reduction_reference(fn):
    """Reduce each output position's values with a Python function over a plain list."""
    def reference(x, axis=None, keepdims=False):
        x = np.asarray(x)
        axes = normalize_axes(axis, x.ndim, "reference") or tuple(range(x.ndim))
        kept = [a for a in range(x.ndim) if a not in axes]
        count = int(np.prod([x.shape[a] for a in axes]))
        rows = np.transpose(x, kept + list(axes)).reshape(-1, count) if x.size else \
            np.zeros((int(np.prod([x.shape[a] for a in kept])), 0))
        out = np.array([fn(row.tolist()) for row in rows]).reshape([x.shape[a] for a in kept])
        if keepdims:
            out = out.reshape([1 if a in axes else x.shape[a] for a in range(x.ndim)])
        return out
    return reference


def _samples(kind):
    def samples():
        if kind == BOOL:
            return [Sample((randbool(3, 4),)), Sample((randbool(3, 4), 1)),
                    Sample((randbool(2, 3), [0], True)), Sample((randbool(2, 3), None, True))]
        cases = [Sample((rand(3, 4),)), Sample((rand(3, 4), 1)), Sample((rand(2, 3, 4), [0, 2])),
                 Sample((rand(3, 4, dtype=np.float32), -1, True), rtol=1e-5),
                 Sample((rand(0, 3), 0)), Sample((rand(),)),
                 Sample((rand(2, 3), None, True)),  # every axis, kept: shape (1, 1)
                 Sample((rand(), None, True))]  # a 0-d input, kept: still 0-d
        if kind == NUMERIC:
            cases.append(Sample((randint(3, 4, low=-3, high=4), 0)))
        return cases
    return samples


def _errors(kind):
    def errors():
        data = randbool(3, 4) if kind == BOOL else rand(3, 4)
        wrong = rand(3, 4) if kind == BOOL else randbool(3, 4)
        return [ErrorSample((data, 2), match="out of range"),
                ErrorSample((data, [1, 1]), match="duplicate axis"),
                ErrorSample((wrong,), error=TypeError, match="requires a")]
    return errors


def _restore(op, value):
    """A reduced ``value`` broadcast back to the shape of the op's input."""
    x = op.inputs[0]
    if op.attrs["axis"] is None:  # a scalar (or all-ones keepdims) broadcasts to any rank
        return broadcast_to(value, shape(x))
    if x.shape.rank is None:
        raise ValueError(f"the gradient of {op.type} '{op.name}' over axis "
                         f"{op.attrs['axis']} needs the rank of its input")
    if not op.attrs["keepdims"]:
        axes = normalize_axes(op.attrs["axis"], x.shape.rank, op.type)
        for axis in sorted(range(x.shape.rank) if axes is None else axes):
            value = expand_dims(value, axis)
    return broadcast_to(value, shape(x))


def _count_ratio(op, dtype):
    """How many input elements each output element summarizes, as ``dtype``."""
    return cast(size(op.inputs[0]), dtype) / cast(size(op.outputs[0]), dtype)


def _extremum_grad(op, dy):
    """Ties share the gradient equally, as TF1 does."""
    x = op.inputs[0]
    hits = cast(equal(x, _restore(op, op.outputs[0])), x.dtype)
    counts = _restore(op, reduce_sum(hits, axis=op.attrs["axis"], keepdims=op.attrs["keepdims"]))
    return [_restore(op, dy) * hits / counts]


def _prod_grad(op, dy):
    """d prod / d x_i = product of the others, computed without dividing by zero."""
    x = op.inputs[0]
    axis, keep = op.attrs["axis"], op.attrs["keepdims"]
    is_zero = equal(x, 0.0)
    nonzero_product = _restore(op, reduce_prod(where(is_zero, ones_like(x), x), axis=axis,
                                               keepdims=keep))
    zero_count = _restore(op, reduce_sum(cast(is_zero, x.dtype), axis=axis, keepdims=keep))
    zeros = zeros_like(x)
    others = where(is_zero, where(equal(zero_count, 1.0), nonzero_product, zeros),
                   where(equal(zero_count, 0.0), nonzero_product / where(is_zero, ones_like(x),
                                                                           x), zeros))
    return [_restore(op, dy) * others]


def _logsumexp_grad(op, dy):
    return [_restore(op, dy) * exp(op.inputs[0] - _restore(op, op.outputs[0]))]


GRADS = {
    "reduce_sum": lambda op, dy: [_restore(op, dy)],
    "reduce_mean": lambda op, dy: [_restore(op, dy) / _count_ratio(op, dy.dtype)],
    "reduce_max": _extremum_grad,
    "reduce_min": _extremum_grad,
    "reduce_prod": _prod_grad,
    "reduce_logsumexp": _logsumexp_grad,
    "reduce_any": registry.NOT_DIFFERENTIABLE,
    "reduce_all": registry.NOT_DIFFERENTIABLE,
}


# how partial results over chunks of the batch join (graphc.dask); logsumexp has no such rule
_COMBINE = {"reduce_sum": "sum", "reduce_mean": "mean", "reduce_max": "max", "reduce_min": "min",
            "reduce_prod": "prod", "reduce_any": "any", "reduce_all": "all"}


def _define_reduction(name: str, kind: str):
    def dtypes(in_dtypes, attrs):
        check_kind(name, in_dtypes[0], kind)
        return [in_dtypes[0]]

    opdef = registry.register(OpDef(
        name=name, dtypes=dtypes,
        shapes=lambda ins, attrs: [_reduced_shape(ins[0].shape, attrs["axis"],
                                                  attrs["keepdims"], name)],
        kernel=KERNELS[name], grad=GRADS[name], attrs={"axis": None, "keepdims": False},
        unknown_rank_ok=True, distribution=registry.batch_reduction(_COMBINE.get(name)),
        reference=_reduction_reference(SCALAR_REFERENCES[name]), samples=_samples(kind),
        error_samples=_errors(kind), doc=f"{name} over axis (all axes when None)."))

    def api(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
            keep_dims=None):
        axis = static_axis(axis if axis is not None else reduction_indices, opdef.name)
        if isinstance(axis, (list, tuple)):
            axis = tuple(int(a) for a in axis)
        elif axis is not None:
            axis = (int(axis),)
        keep = bool(keepdims if keepdims is not None else keep_dims)
        attrs = {"axis": axis, "keepdims": keep}
        return apply_op(opdef.name, [input_tensor], attrs, name=name)
    api.__name__ = api.__qualname__ = name
    api.__doc__ = (f"{name} of ``input_tensor`` over ``axis`` (all when None); ``keepdims`` "
                   f"keeps reduced dims as 1.\n\n    Example:\n        >>> s = gc.{name}(x, "
                   "axis=1)\n")
    registry.public(opdef)(api)
    globals()[name] = api


for _name, _kind in [("reduce_sum", NUMERIC), ("reduce_mean", NUMERIC), ("reduce_max", NUMERIC),
                     ("reduce_min", NUMERIC), ("reduce_prod", NUMERIC),
                     ("reduce_logsumexp", FLOAT), ("reduce_any", BOOL), ("reduce_all", BOOL)]:
    _define_reduction(_name, _kind)


def _define_arg(name: str, pick):
    def dtypes(in_dtypes, attrs):
        check_kind(name, in_dtypes[0], NUMERIC)
        out = gdt.as_dtype(attrs["output_type"])
        check_kind(name, out, "integer", "output_type")
        return [out]

    def shapes(inputs, attrs):
        dims = list(inputs[0].shape.dims)
        del dims[normalize_axis(attrs["axis"], len(dims), name)]
        return [TensorShape(dims)]

    def kernel(x, axis, output_type):
        if x.shape[axis] == 0:
            raise ValueError(f"{name}: cannot reduce over an empty axis {axis}")
        return pick(x, axis=axis).astype(gdt.as_dtype(output_type).np)

    def reference(x, axis=0, output_type=None):
        moved = np.moveaxis(x, axis, -1)
        flat = moved.reshape(-1, moved.shape[-1])
        best = max if pick is np.argmax else min
        return np.array([row.tolist().index(best(row.tolist())) for row in flat]).reshape(
            moved.shape[:-1])

    opdef = registry.register(OpDef(
        name=name, dtypes=dtypes, shapes=shapes, kernel=kernel, grad=registry.NOT_DIFFERENTIABLE,
        attrs={"axis": 0, "output_type": gdt.int64}, reference=reference,
        samples=lambda: [Sample((rand(3, 4),)), Sample((rand(3, 4), 1)),
                         Sample((randint(2, 5), -1))],
        error_samples=lambda: [ErrorSample((rand(3, 4), 2), match="out of range")],
        doc=f"Index of the {'largest' if pick is np.argmax else 'smallest'} value along axis "
            "(first one on ties)."))

    def api(input, axis=None, name=None, dimension=None, output_type=gdt.int64):  # noqa: A002
        axis = static_axis(axis if axis is not None else dimension, opdef.name)
        attrs = {"axis": 0 if axis is None else int(axis),
                 "output_type": gdt.as_dtype(output_type)}
        return apply_op(opdef.name, [input], attrs, name=name)
    api.__name__ = api.__qualname__ = name
    api.__doc__ = (f"{opdef.doc}\n\n    Example:\n        >>> i = gc.{name}(logits, axis=1)\n")
    registry.public(opdef)(api)
    globals()[name] = api


_define_arg("argmax", np.argmax)
_define_arg("argmin", np.argmin)
