"""Ordering ops: sort, argsort, top_k, in_top_k, unique and unique_with_counts.

Ties are ordered as TF orders them: equal values keep their original order, ascending or
descending (TF sorts through top_k, which puts the lower index first among equals), so
``argsort`` is always stable and ``top_k`` of ``[1, 3, 3]`` with ``k=1`` picks index 1.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.graph import Tensor
from graphc.ops import creation, shape_ops
from graphc.ops.array import stack
from graphc.ops.cumulative import axis_shape_rule
from graphc.ops.common import (NUMERIC, apply_op, check_kind, normalize_axis, rand, randint,
                               static_axis)
from graphc.ops.indexing import unsorted_segment_sum
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape

__all__ = ["sort", "argsort", "top_k", "in_top_k", "unique", "unique_with_counts"]

_DIRECTIONS = ("ASCENDING", "DESCENDING")
# TF's result tuples, whose fields TF1 code reads by name (``tf.nn.top_k(x, k).indices``)
TopKV2 = namedtuple("TopKV2", ["values", "indices"])
Unique = namedtuple("Unique", ["y", "idx"])
UniqueWithCounts = namedtuple("UniqueWithCounts", ["y", "idx", "count"])


def _stable_order(x, axis, descending):
    """Indices sorting ``x`` along ``axis``; equal values keep their original order."""
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    # a stable ascending sort of the reversed values, reversed, is a descending sort in which
    # equal values come in their original order
    flipped = np.argsort(np.flip(x, axis), axis=axis, kind="stable")
    return x.shape[axis] - 1 - np.flip(flipped, axis)


def _order_reference(x, axis=-1, direction="ASCENDING"):
    """Sorting by Python's (stable) ``sorted`` on each line along ``axis``."""
    moved = np.moveaxis(np.asarray(x), axis, -1)
    out = np.empty(moved.shape, np.int64)
    for position in np.ndindex(*moved.shape[:-1]):
        line = moved[position].tolist()
        key = (lambda i: -line[i]) if direction == "DESCENDING" else (lambda i: line[i])
        out[position] = sorted(range(len(line)), key=key)
    return np.moveaxis(out, -1, axis)


def _scatter_along_last(dy, indices, x):
    """The adjoint of picking ``x[..., indices]``: ``dy`` summed into a zero tensor shaped
    like ``x`` at the picked positions of the last dim (TF's _TopKGrad, by flat offsets)."""
    picked = shape_ops.shape(indices)[-1]
    rows = shape_ops.reshape(indices, stack([-1, picked]))
    width = shape_ops.shape(x)[-1]
    offsets = creation.range(0, shape_ops.shape(rows)[0] * width, width)
    flat = shape_ops.reshape(rows + shape_ops.expand_dims(offsets, -1), [-1])
    summed = unsorted_segment_sum(shape_ops.reshape(dy, [-1]), flat, shape_ops.size(x))
    return shape_ops.reshape(summed, shape_ops.shape(x))


def _order_shapes(op_name):
    along_axis = axis_shape_rule(op_name)

    def shapes(inputs, attrs):
        if attrs["direction"] not in _DIRECTIONS:
            raise ValueError(f"{op_name}: direction must be ASCENDING or DESCENDING, "
                             f"got {attrs['direction']!r}")
        return along_axis(inputs, attrs)
    return shapes


def _order_dtypes(op_name, out=None):
    def dtypes(in_dtypes, attrs):
        check_kind(op_name, in_dtypes[0], NUMERIC)
        return [out or in_dtypes[0]]
    return dtypes


def _sort_kernel(x, axis, direction):
    order = _stable_order(x, axis, direction == "DESCENDING")
    return np.take_along_axis(x, order, axis=axis)


def _sort_grad(op, dy):
    x = op.inputs[0]
    rank = x.shape.rank
    axis = normalize_axis(op.attrs["axis"], rank, "sort")
    perm = list(range(rank))  # the sorted axis swapped with the last one (its own inverse)
    perm[axis], perm[-1] = perm[-1], perm[axis]
    last = axis == rank - 1
    moved_x, moved_dy = (t if last else shape_ops.transpose(t, perm) for t in (x, dy))
    order = argsort(moved_x, -1, op.attrs["direction"])
    grad = _scatter_along_last(moved_dy, order, moved_x)
    return [grad if last else shape_ops.transpose(grad, perm)]


def _order_samples(ties_dtype):
    """Samples with ties of ``ties_dtype``: float ties only where no finite differences are
    taken (sort has no derivative where a small change reorders equal values)."""
    def samples():
        ties = np.array([[2, 1, 2, 0.5, 1], [3, 3, 3, -1, 0]]).astype(ties_dtype)
        return [Sample((rand(6),)), Sample((rand(3, 4), 0, "DESCENDING")),
                Sample((rand(2, 3, 4), 1)), Sample((ties, -1, "DESCENDING")), Sample((ties,)),
                Sample((randint(3, 5, low=0, high=3), -1, "DESCENDING"))]
    return samples


def _order_errors():
    return [ErrorSample((rand(3, 4), 2), match="out of range"),
            ErrorSample((np.array([True, False]),), error=TypeError, match="numeric"),
            ErrorSample((rand(3), -1, "UP"), match="direction")]


SORT = registry.register(OpDef(
    name="sort", dtypes=_order_dtypes("sort"), shapes=_order_shapes("sort"),
    kernel=_sort_kernel, grad=_sort_grad, attrs={"axis": -1, "direction": "ASCENDING"},
    finite_outputs=registry.finite_if_inputs_finite,
    reference=lambda x, axis=-1, direction="ASCENDING": np.take_along_axis(
        x, _order_reference(x, axis, direction), axis=axis),
    samples=_order_samples(np.int64), error_samples=_order_errors,
    doc="Values sorted along axis, ascending or descending."))

ARGSORT = registry.register(OpDef(
    name="argsort", dtypes=_order_dtypes("argsort", gdt.int32), shapes=_order_shapes("argsort"),
    kernel=lambda x, axis, direction: _stable_order(x, axis, direction == "DESCENDING").astype(
        np.int32), grad=registry.NOT_DIFFERENTIABLE, attrs={"axis": -1, "direction": "ASCENDING"},
    reference=_order_reference, samples=_order_samples(np.float64), error_samples=_order_errors,
    doc="Indices that sort along axis; equal values keep their order (always stable)."))


def _order_attrs(op_name, axis, direction):
    direction = str(direction).upper()
    return {"axis": int(static_axis(axis, op_name)), "direction": direction}


@registry.public(SORT)
def sort(values, axis=-1, direction="ASCENDING", name=None) -> Tensor:
    """``values`` sorted along ``axis`` (TF ``tf.sort``).

    Example:
        >>> gc.sort([3.0, 1.0, 2.0], direction="DESCENDING")   # [3, 2, 1]
    """
    return apply_op("sort", [values], _order_attrs("sort", axis, direction), name=name or "sort")


@registry.public(ARGSORT)
def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None) -> Tensor:
    """int32 indices that sort ``values`` along ``axis`` (TF ``tf.argsort``); the order is
    always stable (``stable`` is accepted for TF's signature).

    Example:
        >>> gc.argsort([3.0, 1.0, 2.0])   # [1, 2, 0]
    """
    return apply_op("argsort", [values], _order_attrs("argsort", axis, direction),
                    name=name or "argsort")


def _top_k_shapes(inputs, attrs):
    shape, k = inputs[0].shape, attrs["k"]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ValueError(f"top_k: k must be a non-negative int, got {k!r}")
    if shape.rank == 0:
        raise ValueError(f"top_k: input must have rank >= 1, got shape {shape}")
    if shape.rank is None:
        return [TensorShape(None)] * 2
    if shape.dims[-1] is not None and k > shape.dims[-1]:
        raise ValueError(f"top_k: input must have at least k={k} columns, got shape {shape}")
    out = TensorShape(shape.dims[:-1] + (k,))
    return [out, out]


def _top_k_kernel(x, k, sorted):  # noqa: A002 - TF's attr name
    if x.shape[-1] < k:
        raise ValueError(f"top_k: input must have at least k={k} columns, got shape "
                         f"{list(x.shape)}")
    order = _stable_order(x, -1, True)[..., :k]
    return np.take_along_axis(x, order, axis=-1), order.astype(np.int32)


def _top_k_grad(op, dy, _dindices):
    return [_scatter_along_last(dy, op.outputs[1], op.inputs[0])]


def _top_k_reference(x, k=1, sorted=True):  # noqa: A002
    order = _order_reference(x, -1, "DESCENDING")[..., :k]
    return np.take_along_axis(x, order, axis=-1), order


TOP_K = registry.register(OpDef(
    name="top_k", dtypes=lambda d, a: [_order_dtypes("top_k")(d, a)[0], gdt.int32],
    shapes=_top_k_shapes, unknown_rank_ok=True, kernel=_top_k_kernel, grad=_top_k_grad,
    attrs={"k": 1, "sorted": True}, reference=_top_k_reference,
    samples=lambda: [Sample((rand(6),)), Sample((rand(3, 5), 3)),
                     Sample((np.array([[1, 3, 3, 2], [0, 0, 0, 0]], np.int32), 2)),
                     Sample((randint(2, 2, 6, low=0, high=3), 4))],
    error_samples=lambda: [ErrorSample((rand(3, 4), 5), match="at least k"),
                           ErrorSample((np.float64(2.0),), match="rank"),
                           ErrorSample((rand(3, 4), -1), match="k must be")],
    doc="The k largest values of the last dim and their indices (lower index first on ties)."))


@registry.public(TOP_K)
def top_k(input, k=1, sorted=True, name=None):  # noqa: A002 - TF1 names
    """The ``k`` largest entries of the last dim and their int32 indices (TF1 ``tf.nn.top_k``).

    Returns ``(values, indices)``; among equal values the lower index comes first.

    Example:
        >>> values, indices = gc.nn.top_k([1.0, 3.0, 3.0, 2.0], k=2)   # [3, 3], [1, 2]
    """
    k = static_axis(k, "top_k")
    return TopKV2(*apply_op("top_k", [input], {"k": k, "sorted": bool(sorted)},
                            name=name or "TopKV2"))


def _in_top_k_dtypes(in_dtypes, attrs):
    check_kind("in_top_k", in_dtypes[0], "floating", "predictions")
    check_kind("in_top_k", in_dtypes[1], "integer", "targets")
    return [gdt.bool]


def _in_top_k_shapes(inputs, attrs):
    predictions, targets = inputs[0].shape, inputs[1].shape
    if predictions.rank not in (None, 2) or targets.rank not in (None, 1):
        raise ValueError(f"in_top_k: predictions must be a matrix and targets a vector, got "
                         f"shapes {predictions} and {targets}")
    batch = TensorShape([None]) if predictions.rank is None else predictions[:1]
    if not batch.is_compatible_with(targets):
        raise ValueError(f"in_top_k: predictions {predictions} and targets {targets} differ "
                         "in batch size")
    return [batch.merge_with(targets) if targets.rank is not None else batch]


def _in_top_k_kernel(predictions, targets, k):
    """TF's InTopK: false for a target outside [0, classes) or a row holding NaN or Inf;
    otherwise true when fewer than k classes score strictly higher than the target (so
    classes tied with the target at the boundary all count as in the top k)."""
    classes = predictions.shape[1]
    valid = (targets >= 0) & (targets < classes)
    rows = np.arange(len(targets))
    target_scores = predictions[rows, np.where(valid, targets, 0)]
    higher = (predictions > target_scores[:, None]).sum(axis=1)
    finite = np.isfinite(predictions).all(axis=1)
    return valid & finite & (higher < k)


def _in_top_k_reference(predictions, targets, k):
    out = []
    for row, target in zip(predictions.tolist(), targets.tolist()):
        ok = 0 <= target < len(row) and all(np.isfinite(row))
        out.append(ok and sum(v > row[target] for v in row) < k)
    return np.array(out, bool)


IN_TOP_K = registry.register(OpDef(
    name="in_top_k", dtypes=_in_top_k_dtypes, shapes=_in_top_k_shapes,
    kernel=_in_top_k_kernel, grad=registry.NOT_DIFFERENTIABLE, attrs={"k": 1},
    reference=_in_top_k_reference,
    samples=lambda: [Sample((rand(4, 5), randint(4, low=0, high=5), 2)),
                     Sample((np.array([[1.0, 2.0, 2.0, 0.0], [0.1, np.nan, 0.3, 0.2],
                                       [0.5, 0.5, 0.5, 0.5]]),
                             np.array([1, 2, 7], np.int64), 1))],
    error_samples=lambda: [
        ErrorSample((rand(4), randint(4, low=0, high=4), 1), match="matrix"),
        ErrorSample((rand(4, 3), randint(4, low=0, high=3).astype(np.float64), 1),
                    error=TypeError, match="integer targets")],
    doc="Whether each row's target class is among its k highest predictions (TF's ties)."))


@registry.public(IN_TOP_K)
def in_top_k(predictions, targets, k, name=None) -> Tensor:
    """bool per row: is ``targets[i]`` among the ``k`` top classes of ``predictions[i]``
    (TF1 ``tf.nn.in_top_k``)? Classes tied with the target at the boundary count as in.

    Example:
        >>> correct = gc.nn.in_top_k(logits, labels, 1)
    """
    return apply_op("in_top_k", [predictions, targets], {"k": int(static_axis(k, "in_top_k"))},
                    name=name or "InTopKV2")


def _unique_dtypes(count_output):
    def dtypes(in_dtypes, attrs):
        index = gdt.as_dtype(attrs["out_idx"])
        if index not in (gdt.int32, gdt.int64):
            raise TypeError(f"unique: out_idx must be int32 or int64, got {index.name}")
        return [in_dtypes[0], index] + ([index] if count_output else [])
    return dtypes


def _unique_shapes(count_output, op_name):
    def shapes(inputs, attrs):
        shape = inputs[0].shape
        if shape.rank not in (None, 1):
            raise ValueError(f"{op_name}: x must be a vector, got shape {shape}")
        found = TensorShape([None])  # how many values are distinct is known at run time only
        return [found, TensorShape([None]) if shape.rank is None else shape] + (
            [found] if count_output else [])
    return shapes


def _unique_kernel(count_output):
    def kernel(x, out_idx):
        values, first, inverse, counts = np.unique(x, return_index=True, return_inverse=True,
                                                   return_counts=True)
        order = np.argsort(first, kind="stable")  # TF lists values as they first occur
        position = np.empty_like(order)
        position[order] = np.arange(len(order))
        index_dtype = gdt.as_dtype(out_idx).np
        outputs = (values[order], position[inverse.reshape(-1)].astype(index_dtype))
        return outputs + ((counts[order].astype(index_dtype),) if count_output else ())
    return kernel


def _unique_reference(count_output):
    def reference(x, out_idx=gdt.int32):
        values, idx, counts = [], [], []
        for v in x.tolist():
            if v not in values:
                values.append(v)
                counts.append(0)
            idx.append(values.index(v))
            counts[idx[-1]] += 1
        return (np.array(values, x.dtype), np.array(idx)) + (
            (np.array(counts),) if count_output else ())
    return reference


def _define_unique(op_name, count_output):
    opdef = registry.register(OpDef(
        name=op_name, dtypes=_unique_dtypes(count_output),
        shapes=_unique_shapes(count_output, op_name), unknown_rank_ok=True,
        kernel=_unique_kernel(count_output), grad=registry.NOT_DIFFERENTIABLE,
        attrs={"out_idx": gdt.int32}, reference=_unique_reference(count_output),
        samples=lambda: [Sample((randint(9, low=0, high=4),)),
                         Sample((np.array([1.5, -2.0, 1.5, 0.0, -2.0, 7.0]), gdt.int64)),
                         Sample((np.zeros(0, np.float32),))],
        error_samples=lambda: [ErrorSample((rand(2, 3),), match="vector")],
        doc="The distinct values of x in order of first occurrence and each element's index"
            + (" and count" if count_output else "") + "."))
    return opdef


UNIQUE = _define_unique("unique", False)
UNIQUE_WITH_COUNTS = _define_unique("unique_with_counts", True)


@registry.public(UNIQUE)
def unique(x, out_idx=gdt.int32, name=None):
    """``(y, idx)``: the distinct values of the vector ``x`` as they first occur, and for each
    element of ``x`` the position of its value in ``y`` (TF1 ``tf.unique``).

    Example:
        >>> y, idx = gc.unique([1, 1, 2, 4, 4, 4, 7, 8, 8])   # [1, 2, 4, 7, 8], [0, 0, 1, ...]
    """
    return Unique(*apply_op("unique", [x], {"out_idx": gdt.as_dtype(out_idx)},
                            name=name or "Unique"))


@registry.public(UNIQUE_WITH_COUNTS)
def unique_with_counts(x, out_idx=gdt.int32, name=None):
    """``(y, idx, count)``: as ``unique``, with how often each value of ``y`` occurs.

    Example:
        >>> y, idx, count = gc.unique_with_counts([1, 1, 2])   # [1, 2], [0, 0, 1], [2, 1]
    """
    return UniqueWithCounts(*apply_op("unique_with_counts", [x],
                                      {"out_idx": gdt.as_dtype(out_idx)},
                                      name=name or "UniqueWithCounts"))
