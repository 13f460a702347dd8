"""``searchsorted`` (per row of the innermost dimension), ``unravel_index`` and ``repeat``
(TF1 semantics), plus ``where_v2`` and ``parallel_stack`` spellings.

Example:
    >>> gc.searchsorted([[0.0, 1.0, 2.0]], [[0.5, 2.0]])     # [[1, 2]]
    >>> gc.repeat([1, 2], [2, 3])                            # [1, 1, 2, 2, 2]
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.ops.array import stack
from graphc.ops.common import INTEGER, SIGNED_INTEGER, apply_op, check_kind, rand, randint
from graphc.ops.creation import range as _range
from graphc.ops.indexing import unsorted_segment_sum
from graphc.ops.select import where
from graphc.ops.shape_ops import reshape, shape, size, transpose
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape

__all__ = ["searchsorted", "unravel_index", "repeat", "where_v2", "parallel_stack"]


# -- searchsorted ------------------------------------------------------------------------
def _search_dtypes(in_dtypes, attrs):
    if in_dtypes[0] is not in_dtypes[1]:
        raise TypeError(f"searchsorted: sorted_sequence and values must have one dtype, got "
                        f"{in_dtypes[0].name} and {in_dtypes[1].name}")
    out = gdt.as_dtype(attrs["out_type"])
    if out not in (gdt.int32, gdt.int64):
        raise TypeError(f"searchsorted: out_type must be int32 or int64, got {out.name}")
    return [out]


def _search_shapes(inputs, attrs):
    sequence, values = inputs[0].shape, inputs[1].shape
    if attrs["side"] not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {attrs['side']!r}")
    if sequence.rank == 0 or values.rank == 0:
        raise ValueError("searchsorted: sorted_sequence and values need rank >= 1")
    if sequence.rank is not None and values.rank is not None:
        if sequence.rank != values.rank or not TensorShape(sequence.dims[:-1]) \
                .is_compatible_with(TensorShape(values.dims[:-1])):
            raise ValueError(f"searchsorted: sorted_sequence {sequence} and values {values} "
                             "must agree in all but the innermost dimension")
    return [values]


def _search_kernel(sequence, values, side, out_type):
    if values.size == 0:
        return np.zeros(values.shape, gdt.as_dtype(out_type).np)
    count = int(np.prod(values.shape[:-1]))  # rows (explicit: a row may be empty)
    rows = sequence.reshape(count, sequence.shape[-1])
    wanted = values.reshape(count, values.shape[-1])
    out = np.empty(wanted.shape, gdt.as_dtype(out_type).np)
    for row, (sorted_row, value_row) in enumerate(zip(rows, wanted)):
        out[row] = np.searchsorted(sorted_row, value_row, side=side)
    return out.reshape(values.shape)


SEARCHSORTED = registry.register(OpDef(
    name="searchsorted", dtypes=_search_dtypes, shapes=_search_shapes, kernel=_search_kernel,
    grad=registry.NOT_DIFFERENTIABLE, attrs={"side": "left", "out_type": gdt.int32},
    unknown_rank_ok=True,
    reference=lambda sequence, values, side="left", out_type=gdt.int32: np.array(
        [[sum(1 for s in srow if (s < v if side == "left" else s <= v)) for v in vrow]
         for srow, vrow in zip(sequence.reshape(int(np.prod(values.shape[:-1])),
                                                sequence.shape[-1]),
                               values.reshape(int(np.prod(values.shape[:-1])),
                                              values.shape[-1]))]).reshape(values.shape),
    samples=lambda: [Sample((np.sort(rand(2, 5), -1), rand(2, 3))),
                     Sample((np.array([1, 2, 2, 3], np.int32), np.array([2, 0, 4], np.int32),
                             "right")),
                     Sample((np.sort(rand(4)), rand(0))), Sample((rand(2, 0), rand(2, 3)))],
    error_samples=lambda: [ErrorSample((rand(2, 3), rand(3, 2)), match="innermost")],
    doc="Where each value would be inserted into its sorted row."))


@registry.public(SEARCHSORTED)
def searchsorted(sorted_sequence, values, side="left", out_type=gdt.int32, name=None):
    """For each value, its insertion position in the matching row (innermost dimension)
    of ``sorted_sequence`` (TF1 ``tf.searchsorted``; ``side`` 'left' or 'right').

    Example:
        >>> gc.searchsorted([0.0, 1.0, 2.0], [0.5, 2.0], side="right")   # [1, 3]
    """
    return apply_op("searchsorted", [sorted_sequence, values],
                    {"side": str(side), "out_type": gdt.as_dtype(out_type)},
                    name=name or "SearchSorted")


# -- unravel_index -----------------------------------------------------------------------
def _unravel_shapes(inputs, attrs):
    indices, dims = inputs[0].shape, inputs[1].shape
    if dims.rank not in (None, 1):
        raise ValueError(f"unravel_index: dims must be a vector, got shape {dims}")
    if indices.rank is None:
        return [TensorShape(None)]
    lead = dims.dims[0] if dims.rank == 1 else None
    return [TensorShape([lead] + list(indices.dims))]


def _unravel_dtypes(in_dtypes, attrs):
    check_kind("unravel_index", in_dtypes[0], INTEGER, "indices")
    if in_dtypes[0] is not in_dtypes[1]:
        raise TypeError(f"unravel_index: indices and dims must have one dtype, got "
                        f"{in_dtypes[0].name} and {in_dtypes[1].name}")
    return [in_dtypes[0]]


def _unravel_kernel(indices, dims):
    total = int(np.prod(dims))
    if indices.size and (indices.min() < 0 or indices.max() >= total):
        raise IndexError(f"unravel_index: index out of range [0, {total}) for dims "
                         f"{dims.tolist()}")
    return np.stack(np.unravel_index(indices, tuple(int(d) for d in dims))).astype(indices.dtype)


UNRAVEL_INDEX = registry.register(OpDef(
    name="unravel_index", dtypes=_unravel_dtypes, shapes=_unravel_shapes,
    kernel=_unravel_kernel, grad=registry.NOT_DIFFERENTIABLE, raises_on_values=True,
    unknown_rank_ok=True,
    reference=lambda indices, dims: np.array(np.unravel_index(indices, tuple(dims))),
    samples=lambda: [Sample((np.array([2, 5, 7], np.int32), np.array([3, 3], np.int32))),
                     Sample((np.array(5, np.int64), np.array([2, 3], np.int64)))],
    error_samples=lambda: [ErrorSample((np.array([1], np.int32), np.array([[2]], np.int32)),
                                       match="vector")],
    doc="The coordinates of flat indices in an array of shape dims."))


@registry.public(UNRAVEL_INDEX)
def unravel_index(indices, dims, name=None):
    """The coordinates (one row per dimension) of flat ``indices`` in an array of shape
    ``dims`` (TF1 ``tf.unravel_index``).

    Example:
        >>> gc.unravel_index([2, 5, 7], [3, 3])   # [[0, 1, 2], [2, 2, 1]]
    """
    return apply_op("unravel_index", [indices, dims], name=name or "UnravelIndex")


# -- repeat --------------------------------------------------------------------------------
def _repeat_shapes(inputs, attrs):
    x, repeats = inputs[0].shape, inputs[1].shape
    axis = attrs["axis"]
    if repeats.rank not in (None, 0, 1):
        raise ValueError(f"repeat: repeats must be a scalar or a vector, got shape {repeats}")
    if axis is None:
        return [TensorShape([None])]
    if x.rank is None:
        return [TensorShape(None)]
    if not -x.rank <= axis < x.rank:
        raise ValueError(f"repeat: axis {axis} is out of range for rank {x.rank}")
    dims = list(x.dims)
    dims[axis % x.rank] = None
    return [TensorShape(dims)]


def _repeat_kernel(x, repeats, axis):
    if np.any(repeats < 0):
        raise ValueError(f"repeat: repeats must be non-negative, got {repeats.tolist()}")
    return np.repeat(x, repeats, axis=axis)


def _repeat_grad(op, dy):
    # each output slice came from one input slice: sum them back per source position
    x, repeats = op.inputs
    axis = op.attrs["axis"]
    source = _range(size(x)) if axis is None else _range(shape(x)[axis])
    owners = apply_op("repeat", [source, repeats], {"axis": 0})
    if axis is None:
        return [reshape(unsorted_segment_sum(dy, owners, size(x)), shape(x)), None]
    rank = x.shape.rank
    if rank is None:
        raise ValueError(f"repeat: the gradient along axis {axis} needs an input of known "
                         f"rank (op {op.name!r})")
    axis %= rank
    order = [axis] + [d for d in range(rank) if d != axis]
    back = [order.index(d) for d in range(rank)]
    summed = unsorted_segment_sum(transpose(dy, order), owners, shape(x)[axis])
    return [transpose(summed, back), None]


def _repeat_dtypes(in_dtypes, attrs):
    check_kind("repeat", in_dtypes[1], SIGNED_INTEGER, "repeats")  # TF: int32/int64 counts
    return [in_dtypes[0]]


REPEAT = registry.register(OpDef(
    name="repeat", dtypes=_repeat_dtypes, shapes=_repeat_shapes,
    kernel=_repeat_kernel, grad=_repeat_grad, attrs={"axis": None}, raises_on_values=True,
    unknown_rank_ok=True,
    reference=lambda x, repeats, axis=None: np.repeat(x, repeats, axis=axis),
    samples=lambda: [Sample((rand(3, 2), np.array([2, 0, 1], np.int32), 0)),
                     Sample((rand(2, 3), np.array(2, np.int32), 1)),
                     Sample((rand(2, 2), np.array(3, np.int32))),
                     Sample((randint(4), np.array([1, 2, 0, 1], np.int32), -1))],
    error_samples=lambda: [ErrorSample((rand(2), np.zeros((2, 2), np.int32), 0),
                                       match="scalar or a vector"),
                           ErrorSample((rand(2), np.array([1, 2], np.uint64), 0), error=TypeError,
                                       match="requires a signed integer repeats, got uint64")],
    doc="Each slice along axis repeated (flattened first when axis is None)."))


@registry.public(REPEAT)
def repeat(input, repeats, axis=None, name=None):  # noqa: A002
    """Each element (or slice along ``axis``) of ``input`` repeated ``repeats`` times, a
    scalar or one count per slice; ``axis`` None flattens first (TF1 ``tf.repeat``).

    Example:
        >>> gc.repeat([[1, 2], [3, 4]], [1, 2], axis=0)   # [[1, 2], [3, 4], [3, 4]]
    """
    return apply_op("repeat", [input, repeats], {"axis": None if axis is None else int(axis)},
                    name=name or "Repeat")


def where_v2(condition, x=None, y=None, name=None):
    """``where`` with NumPy broadcasting of all three arguments (TF1 ``tf.where_v2``).

    Example:
        >>> gc.where_v2(mask, x, 0.0)
    """
    return where(condition, x, y, name=name)


def parallel_stack(values, name="parallel_stack"):
    """``stack(values)`` along a new first axis (TF1 ``tf.parallel_stack``).

    Example:
        >>> gc.parallel_stack([a, b])
    """
    return stack(values, axis=0, name=name)
