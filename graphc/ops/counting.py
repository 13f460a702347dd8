"""Counting ops whose output sizes come from values: ``setdiff1d``,
``invert_permutation``, ``bincount`` and ``histogram_fixed_width`` (TF1 semantics).

Example:
    >>> gc.math.bincount([1, 1, 2, 3, 2, 4, 4, 5])   # [0, 2, 2, 1, 2, 1]
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.ops.common import NUMERIC, apply_op, check_kind, rand, randint
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape

__all__ = ["setdiff1d", "invert_permutation", "bincount", "histogram_fixed_width"]


# -- setdiff1d, invert_permutation ---------------------------------------------------------
SetDiff1D = namedtuple("SetDiff1D", ["out", "idx"])


def _setdiff_dtypes(in_dtypes, attrs):
    if in_dtypes[0] is not in_dtypes[1]:
        raise TypeError(f"setdiff1d: x and y must have one dtype, got {in_dtypes[0].name} and "
                        f"{in_dtypes[1].name}")
    index = gdt.as_dtype(attrs["index_dtype"])
    if index not in (gdt.int32, gdt.int64):
        raise TypeError(f"setdiff1d: index_dtype must be int32 or int64, got {index.name}")
    return [in_dtypes[0], index]


def _vector_rule(op_name, outputs):
    def shapes(inputs, attrs):
        for tensor in inputs:
            if tensor.shape.rank not in (None, 1):
                raise ValueError(f"{op_name}: inputs must be vectors, got shape {tensor.shape}")
        return [TensorShape([None])] * outputs
    return shapes


def _setdiff_kernel(x, y, index_dtype):
    keep = ~np.isin(x, y)
    return x[keep], np.flatnonzero(keep).astype(gdt.as_dtype(index_dtype).np)


SETDIFF1D = registry.register(OpDef(
    name="setdiff1d", dtypes=_setdiff_dtypes, shapes=_vector_rule("setdiff1d", 2),
    kernel=_setdiff_kernel, grad=registry.NOT_DIFFERENTIABLE, unknown_rank_ok=True,
    attrs={"index_dtype": gdt.int32},
    reference=lambda x, y, index_dtype=gdt.int32: (
        np.array([v for v in x.tolist() if v not in y.tolist()], x.dtype),
        np.array([i for i, v in enumerate(x.tolist()) if v not in y.tolist()], np.int64)),
    samples=lambda: [Sample((np.array([1, 2, 3, 4, 5, 6], np.int32),
                             np.array([1, 3, 5], np.int32))),
                     Sample((np.array([2.0, 1.0, 2.0]), np.array([7.0]), gdt.int64)),
                     Sample((np.zeros(0, np.int32), np.array([1], np.int32)))],
    error_samples=lambda: [ErrorSample((randint(2, 2), randint(2)), match="vectors")],
    doc="The values of x not in y, in order, with their positions in x."))


@registry.public(SETDIFF1D)
def setdiff1d(x, y, index=gdt.int32, name=None):
    """``(out, idx)``: the elements of vector ``x`` not in ``y``, in order (repeats kept),
    and their positions in ``x`` (TF1 ``tf.setdiff1d``).

    Example:
        >>> out, idx = gc.setdiff1d([1, 2, 3, 4, 5, 6], [1, 3, 5])   # [2, 4, 6], [1, 3, 5]
    """
    return SetDiff1D(*apply_op("setdiff1d", [x, y], {"index_dtype": gdt.as_dtype(index)},
                               name=name or "ListDiff"))


def _permutation_kernel(x):
    n = x.size
    out = np.full(n, -1, x.dtype)
    if n and (x.min() < 0 or x.max() >= n):
        raise IndexError(f"invert_permutation: {x.tolist()} is not a permutation of 0..{n - 1}")
    out[x] = np.arange(n, dtype=x.dtype)
    if n and (out < 0).any():
        raise ValueError(f"invert_permutation: {x.tolist()} is not a permutation (a value "
                         f"repeats)")
    return out


def _permutation_dtypes(in_dtypes, attrs):
    if in_dtypes[0] not in (gdt.int32, gdt.int64):
        raise TypeError(f"invert_permutation: x must be int32 or int64, got "
                        f"{in_dtypes[0].name}")
    return [in_dtypes[0]]


INVERT_PERMUTATION = registry.register(OpDef(
    name="invert_permutation", dtypes=_permutation_dtypes,
    shapes=lambda inputs, attrs: [_vector_rule("invert_permutation", 1)(inputs, attrs)[0]
                                  .merge_with(inputs[0].shape)
                                  if inputs[0].shape.rank is not None else TensorShape([None])],
    kernel=_permutation_kernel, grad=registry.NOT_DIFFERENTIABLE, raises_on_values=True,
    unknown_rank_ok=True, reference=lambda x: np.argsort(x),
    samples=lambda: [Sample((np.array([3, 4, 0, 2, 1], np.int32),)),
                     Sample((np.zeros(0, np.int64),))],
    error_samples=lambda: [ErrorSample((randint(2, 2),), match="vectors")],
    doc="The inverse permutation: y[x[i]] = i."))


@registry.public(INVERT_PERMUTATION)
def invert_permutation(x, name=None):
    """The inverse of the permutation ``x``: ``y[x[i]] = i`` (TF1
    ``tf.invert_permutation``); a vector that is no permutation fails the run.

    Example:
        >>> gc.invert_permutation([3, 4, 0, 2, 1])   # [2, 4, 3, 0, 1]
    """
    return apply_op("invert_permutation", [x], name=name or "InvertPermutation")


# -- bincount, histogram_fixed_width --------------------------------------------------------
def _bincount_dtypes(in_dtypes, attrs):
    if in_dtypes[0] is not gdt.int32:
        raise TypeError(f"bincount: arr must be int32, got {in_dtypes[0].name}")
    if len(in_dtypes) > 1:
        check_kind("bincount", in_dtypes[1], NUMERIC)
        return [in_dtypes[1]]
    return [gdt.as_dtype(attrs["dtype"])]


def _bincount_kernel(arr, *weights, minlength, maxlength, dtype):
    if arr.size and arr.min() < 0:
        raise ValueError("bincount: input arr must be non-negative")
    length = max(int(arr.max()) + 1 if arr.size else 0, minlength or 0)
    if maxlength is not None:
        length = min(length, maxlength)
    flat = arr.reshape(-1)
    inside = flat < length
    if weights:
        w = np.broadcast_to(weights[0], arr.shape).reshape(-1)
        counts = np.bincount(flat[inside], weights=w[inside], minlength=length)[:length]
        return counts.astype(weights[0].dtype)
    return np.bincount(flat[inside], minlength=length)[:length].astype(
        gdt.as_dtype(dtype).np)


BINCOUNT = registry.register(OpDef(
    name="bincount", dtypes=_bincount_dtypes,
    shapes=lambda inputs, attrs: [TensorShape([None])], kernel=_bincount_kernel,
    grad=registry.NOT_DIFFERENTIABLE, raises_on_values=True, unknown_rank_ok=True,
    attrs={"minlength": None, "maxlength": None, "dtype": gdt.int32},
    reference=lambda arr, weights=None, minlength=None, maxlength=None, dtype=gdt.int32:
        _bincount_kernel(arr, *([] if weights is None else [weights]), minlength=minlength,
                         maxlength=maxlength, dtype=dtype),
    samples=lambda: [Sample((np.array([1, 1, 2, 3, 2, 4, 4, 5], np.int32),)),
                     Sample((np.array([[0, 3], [3, 1]], np.int32), rand(2, 2), 6)),
                     Sample((np.array([1, 7, 2], np.int32), None, None, 4)),
                     Sample((np.zeros(0, np.int32),))],
    error_samples=lambda: [ErrorSample((rand(3),), error=TypeError, match="must be int32")],
    doc="How often each value of arr occurs (or the sum of its weights)."))


@registry.public(BINCOUNT)
def bincount(arr, weights=None, minlength=None, maxlength=None, dtype=gdt.int32, name=None):
    """The count (or, with ``weights``, the summed weight) of each value of the int32
    ``arr``: a vector of length ``max(arr) + 1``, at least ``minlength``, at most
    ``maxlength`` (values past it are not counted) (TF1 ``tf.math.bincount``).

    Example:
        >>> gc.math.bincount([1, 1, 2, 3, 2, 4, 4, 5])   # [0, 2, 2, 1, 2, 1]
    """
    inputs = [arr] if weights is None else [arr, weights]
    attrs = {"minlength": None if minlength is None else int(minlength),
             "maxlength": None if maxlength is None else int(maxlength),
             "dtype": gdt.as_dtype(dtype)}
    return apply_op("bincount", inputs, attrs, name=name or "bincount")


def _histogram_kernel(values, value_range, nbins, dtype):
    low, high = (float(v) for v in np.asarray(value_range).reshape(-1)[:2])
    if not high > low:
        raise ValueError(f"histogram_fixed_width: value_range must be increasing, got "
                         f"[{low}, {high}]")
    flat = np.asarray(values, np.float64).reshape(-1)
    flat = flat[~np.isnan(flat)]
    bins = np.clip(np.floor((flat - low) / (high - low) * nbins), 0, nbins - 1).astype(np.int64)
    return np.bincount(bins, minlength=nbins).astype(gdt.as_dtype(dtype).np)


HISTOGRAM_FIXED_WIDTH = registry.register(OpDef(
    name="histogram_fixed_width",
    dtypes=lambda in_dtypes, attrs: [gdt.as_dtype(attrs["dtype"])],
    shapes=lambda inputs, attrs: [TensorShape([attrs["nbins"]])], kernel=_histogram_kernel,
    grad=registry.NOT_DIFFERENTIABLE, raises_on_values=True, unknown_rank_ok=True,
    attrs={"nbins": 100, "dtype": gdt.int32},
    reference=lambda values, value_range, nbins=100, dtype=gdt.int32: np.histogram(
        np.clip(values, value_range[0], value_range[1]), nbins, tuple(value_range))[0],
    # value_range as a literal: a range drawn at random (random graphs feed arrays) would be
    # a run-time error half of the time, as in TF
    samples=lambda: [Sample((np.array([-1.0, 0.0, 1.5, 2.0, 5.0, 15]), [0.0, 5.0], 5)),
                     Sample((rand(4, 3), [-1.0, 1.0], 4))],
    error_samples=lambda: [],
    doc="Counts of values in nbins equal bins over value_range (outside values in the end bins)."))


@registry.public(HISTOGRAM_FIXED_WIDTH)
def histogram_fixed_width(values, value_range, nbins=100, dtype=gdt.int32, name=None):
    """Counts of ``values`` in ``nbins`` equal-width bins over ``value_range`` ([low,
    high]); values below or above go to the first or last bin (TF1
    ``tf.histogram_fixed_width``).

    Example:
        >>> gc.histogram_fixed_width([-1.0, 0.0, 1.5, 2.0, 5.0, 15], [0.0, 5.0], nbins=5)
        ...                                                            # [2, 1, 1, 0, 2]
    """
    return apply_op("histogram_fixed_width", [values, value_range],
                    {"nbins": int(nbins), "dtype": gdt.as_dtype(dtype)},
                    name=name or "HistogramFixedWidth")
