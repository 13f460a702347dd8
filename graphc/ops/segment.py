"""Segment reductions: rows of ``data`` reduced by the segment each belongs to.

``segment_*`` (sum, mean, max, min, prod) take sorted, non-negative ``segment_ids`` of the
first dim and return ``ids[-1] + 1`` rows (known at run time only); an empty segment gives 0
(1 for prod), as in TF.
``unsorted_segment_*`` (max, min, prod, mean; sum lives in ``indexing``) take ids of any
order whose shape is a prefix of data's and ``num_segments``; as in TF, a negative id drops
its row, and an empty segment holds the reduction's identity (the lowest finite value for
max, the highest for min, 1 for prod, 0 for mean); unsorted_segment_mean of integers is
float64, as TF's sum / count is.
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.graph import Tensor
from graphc.ops import creation, elementwise, shape_ops
from graphc.ops.array import concat
from graphc.ops.common import NUMERIC, apply_op, check_kind, rand, randint
from graphc.ops.indexing import gather, unsorted_segment_sum
from graphc.ops.select import cast, where
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape
from graphc.static_values import constant_value

__all__ = ["segment_sum", "segment_mean", "segment_max", "segment_min", "segment_prod",
           "unsorted_segment_max", "unsorted_segment_min", "unsorted_segment_prod",
           "unsorted_segment_mean"]


def _extreme(dtype, lowest: bool):
    """TF's numeric_limits lowest() / max(): finite for floats, not -inf / inf."""
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
    return info.min if lowest else info.max


# reduction: (ufunc accumulating into the output, the empty segment's value of unsorted ops)
_REDUCTIONS = {
    "sum": (np.add, lambda dtype: 0), "mean": (np.add, lambda dtype: 0),
    "max": (np.maximum, lambda dtype: _extreme(dtype, True)),
    "min": (np.minimum, lambda dtype: _extreme(dtype, False)),
    "prod": (np.multiply, lambda dtype: 1),
}


def _segment_kernel(op_name, reduction, ordered):
    accumulate, empty_value = _REDUCTIONS[reduction]

    def kernel(data, ids, num_segments=None):
        if ordered:
            if ids.size and (ids[0] < 0 or (np.diff(ids) < 0).any()):
                raise ValueError(f"{op_name}: segment_ids must be sorted and non-negative, got "
                                 f"{ids.tolist()[:20]}")
            count = int(ids[-1]) + 1 if ids.size else 0
        else:
            count = int(num_segments)
            if ids.size and ids.max() >= count:
                raise IndexError(f"{op_name}: segment id {int(ids.max())} is out of range "
                                 f"[0, {count})")
        if ids.shape != data.shape[:ids.ndim]:
            raise ValueError(f"{op_name}: segment_ids shape {list(ids.shape)} must be a prefix "
                             f"of data shape {list(data.shape)}")
        rest = data.shape[ids.ndim:]
        kept = ids.reshape(-1) >= 0  # TF's unsorted ops drop the rows of negative ids
        flat_ids = ids.reshape(-1)[kept]
        rows = data.reshape((-1,) + rest)[kept]
        sizes = np.bincount(flat_ids, minlength=count)[(...,) + (None,) * len(rest)]
        out = np.full((count,) + rest, empty_value(data.dtype), dtype=data.dtype)
        accumulate.at(out, flat_ids, rows)
        if reduction == "mean":
            divided = out / np.maximum(sizes, 1)
            if not ordered:  # TF's sum / count: a true division, float64 for integers
                return divided.astype(np.float64 if data.dtype.kind in "iu" else data.dtype)
            # TF's SegmentMean kernel divides integers in integer arithmetic (truncating)
            out = (np.trunc(divided) if data.dtype.kind in "iu" else divided).astype(data.dtype)
        elif ordered and reduction in ("max", "min"):  # TF: 0 for an empty segment
            out[np.broadcast_to(sizes == 0, out.shape)] = 0
        return out
    return kernel


def _segment_reference(reduction, ordered):
    def reference(data, ids, num_segments=None):
        count = (int(ids.max()) + 1 if ids.size else 0) if ordered else int(num_segments)
        groups = [[] for _ in range(count)]
        # integers stay exact: a uint64's or int64's extremes (empty max/min) are no float64s
        work = data.dtype if data.dtype.kind in "iu" else np.float64
        for position in np.ndindex(*ids.shape):
            if ids[position] >= 0:
                groups[ids[position]].append(np.asarray(data[position], work))
        rest = data.shape[ids.ndim:]
        empties = {"sum": 0.0, "mean": 0.0, "prod": 1.0, "max": _extreme(data.dtype, True),
                   "min": _extreme(data.dtype, False)}
        empty = 0.0 if ordered and reduction in ("max", "min") else empties[reduction]
        reduce = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min,
                  "prod": np.prod}[reduction]
        rows = [reduce(np.stack(g), axis=0) if g else
                np.full(rest, empty, work if reduction in ("max", "min") else None)
                for g in groups]
        out = np.array(rows).reshape((count,) + rest)
        truncating = ordered and data.dtype.kind in "iu" and reduction == "mean"
        return np.trunc(out) if truncating else out
    return reference


def _segment_dtypes(op_name, ordered):
    def dtypes(in_dtypes, attrs):
        check_kind(op_name, in_dtypes[0], NUMERIC, "data")
        check_kind(op_name, in_dtypes[1], "integer", "segment_ids")
        if not ordered:
            check_kind(op_name, in_dtypes[2], "integer", "num_segments")
            if op_name.endswith("mean") and in_dtypes[0].is_integer:
                return [gdt.float64]
        return [in_dtypes[0]]
    return dtypes


def _segment_shapes(op_name, ordered):
    def shapes(inputs, attrs):
        data, ids = inputs[0].shape, inputs[1].shape
        if ordered and ids.rank not in (None, 1):
            raise ValueError(f"{op_name}: segment_ids must be a vector, got shape {ids}")
        if ids.rank is None or data.rank is None:
            return [TensorShape(None)]
        if not ids.is_compatible_with(data[:ids.rank]):
            raise ValueError(f"{op_name}: segment_ids shape {ids} must be a prefix of data "
                             f"shape {data}")
        known = None if ordered else constant_value(inputs[2])
        count = None if known is None else int(known)  # sorted: ids[-1] + 1 at run time
        return [TensorShape([count] + list(data.dims[ids.rank:]))]
    return shapes


def _num_segments(op):
    return op.inputs[2] if len(op.inputs) == 3 else shape_ops.shape(op.outputs[0])[0]


def _row_mask(mask, ids, data):
    """``mask`` (shaped like ids) reshaped to broadcast against data's trailing dims."""
    trailing = shape_ops.rank(data) - shape_ops.rank(ids)
    return shape_ops.reshape(mask, concat([shape_ops.shape(ids), creation.fill(
        shape_ops.expand_dims(trailing, 0), 1)], 0))


def _gather_kept(values, ids, data):
    """``values[ids]``, zero where an id is negative (a row the op dropped)."""
    kept = elementwise.greater_equal(ids, 0)
    gathered = gather(values, elementwise.maximum(ids, 0))
    return where(_row_mask(kept, ids, data), gathered, creation.zeros_like(gathered))


def _kept_sum(values, ids, count):
    """unsorted_segment_sum that leaves out the rows of negative ids."""
    kept = elementwise.greater_equal(ids, 0)
    mask = _row_mask(kept, ids, values)
    return unsorted_segment_sum(where(mask, values, creation.zeros_like(values)),
                                elementwise.maximum(ids, 0), count)


def _sum_grad(op, dy):
    return [_gather_kept(dy, op.inputs[1], op.inputs[0])] + [None] * (len(op.inputs) - 1)


def _mean_grad(op, dy):
    data, ids = op.inputs[0], op.inputs[1]
    sizes = _kept_sum(creation.ones_like(data), ids, _num_segments(op))
    share = dy / elementwise.maximum(sizes, creation.ones_like(sizes))
    return [_gather_kept(share, ids, data)] + [None] * (len(op.inputs) - 1)


def _extremum_grad(op, dy):
    # TF's _SegmentMinOrMaxGrad: the rows equal to their segment's extremum share its
    # gradient evenly
    data, ids = op.inputs[0], op.inputs[1]
    chosen = elementwise.equal(data, _gather_kept(op.outputs[0], ids, data))
    chosen = elementwise.logical_and(chosen, _row_mask(elementwise.greater_equal(ids, 0),
                                                       ids, data))
    counts = _kept_sum(cast(chosen, dy.dtype), ids, _num_segments(op))
    shared = _gather_kept(dy / counts, ids, data)
    return [where(chosen, shared, creation.zeros_like(shared))] + [None] * (len(op.inputs) - 1)


def _prod_grad(op, dy):
    # TF's _UnsortedSegmentProdGrad: the product of the other rows, kept exact where one
    # row is zero (then only that row has a gradient) or several are (then none has)
    data, ids = op.inputs[0], op.inputs[1]
    count = _num_segments(op)
    is_zero = elementwise.equal(data, creation.zeros_like(data))
    zeros = _kept_sum(cast(is_zero, dy.dtype), ids, count)
    dy = where(elementwise.greater(zeros, creation.ones_like(zeros)),
               creation.zeros_like(dy), dy)
    nonzero = where(is_zero, creation.ones_like(data), data)
    nonzero_prod = unsorted_segment_prod(nonzero, ids, count)
    others = where(is_zero, _gather_kept(nonzero_prod, ids, data),
                   _gather_kept(op.outputs[0], ids, data) / nonzero)
    return [_gather_kept(dy, ids, data) * others] + [None] * (len(op.inputs) - 1)


_GRADS = {"sum": _sum_grad, "mean": _mean_grad, "max": _extremum_grad, "min": _extremum_grad,
          "prod": _prod_grad}


def _samples(ordered):
    def samples():
        if ordered:
            return [Sample((rand(6, 3), np.array([0, 0, 1, 3, 3, 3], np.int32))),
                    Sample((rand(4), np.array([1, 1, 2, 2], np.int64))),
                    Sample((randint(5, 2), np.array([0, 1, 1, 1, 4], np.int32)))]
        # empty segments only in the integer sample: the lowest float max of an empty
        # segment would overflow the finite-difference objective
        return [Sample((rand(6, 3), np.array([2, 0, 2, -1, 0, 1], np.int32), np.int32(3))),
                Sample((rand(2, 3, 2), np.array([[1, 0, 1], [2, 1, 0]], np.int64),
                        np.int32(3))),
                Sample((randint(5), np.array([1, 1, 0, 3, 1], np.int32), np.int64(5)))]
    return samples


def _errors(ordered):
    def errors():
        if ordered:
            return [ErrorSample((rand(4, 2), np.zeros((4, 1), np.int32)), match="vector"),
                    ErrorSample((rand(4, 2), rand(4)), error=TypeError, match="segment_ids")]
        return [ErrorSample((rand(4, 2), np.zeros(3, np.int32), np.int32(2)), match="prefix"),
                ErrorSample((rand(4, 2), np.zeros(4, np.int32), np.float64(2.0)),
                            error=TypeError, match="num_segments")]
    return errors


def _define(reduction, ordered):
    op_name = ("segment_" if ordered else "unsorted_segment_") + reduction
    opdef = registry.register(OpDef(
        raises_on_values=True,  # segment ids out of range or unsorted
        name=op_name, dtypes=_segment_dtypes(op_name, ordered),
        shapes=_segment_shapes(op_name, ordered), unknown_rank_ok=True,
        kernel=_segment_kernel(op_name, reduction, ordered), grad=_GRADS[reduction],
        reference=_segment_reference(reduction, ordered), samples=_samples(ordered),
        error_samples=_errors(ordered),
        doc=f"The {reduction} of data's rows per segment ({'sorted' if ordered else 'any'} "
            "segment ids)."))
    tf_type = "".join(part.capitalize() for part in op_name.split("_"))

    if ordered:
        def api(data, segment_ids, name=None) -> Tensor:
            return apply_op(op_name, [data, segment_ids], name=name or tf_type)
        signature, call = "data, segment_ids", f"gc.math.{op_name}(x, [0, 0, 1])"
    else:
        def api(data, segment_ids, num_segments, name=None) -> Tensor:
            return apply_op(op_name, [data, segment_ids, num_segments], name=name or tf_type)
        signature, call = "data, segment_ids, num_segments", f"gc.math.{op_name}(x, ids, 4)"
    api.__name__ = api.__qualname__ = op_name
    api.__doc__ = (f"``{op_name}({signature})``: {opdef.doc}\n\n    Example:\n        >>> "
                   f"{call}\n")
    registry.public(opdef)(api)
    return api


segment_sum = _define("sum", True)
segment_mean = _define("mean", True)
segment_max = _define("max", True)
segment_min = _define("min", True)
segment_prod = _define("prod", True)
unsorted_segment_max = _define("max", False)
unsorted_segment_min = _define("min", False)
unsorted_segment_prod = _define("prod", False)
unsorted_segment_mean = _define("mean", False)
