"""Reversing and masking: reverse (TF1's ReverseV2), reverse_sequence, and the compositions
boolean_mask and sequence_mask (built from existing ops, as TF builds them)."""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.graph import Tensor
from graphc.ops import creation, elementwise, reduce, shape_ops
from graphc.ops.array import concat
from graphc.ops.common import (SIGNED_INTEGER, apply_op, check_kind, normalize_axis, rand,
                               randint, same_shape_rule, static_axis)
from graphc.ops.indexing import gather
from graphc.ops.select import cast, where
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import format_shape

__all__ = ["reverse", "reverse_v2", "reverse_sequence", "boolean_mask", "sequence_mask"]


def _reverse_shapes(inputs, attrs):
    rank = inputs[0].shape.rank
    for axis in attrs["axis"]:
        normalize_axis(axis, rank, "reverse")
    if len({a % rank for a in attrs["axis"]}) != len(attrs["axis"]):
        raise ValueError(f"reverse: axis {list(attrs['axis'])} names a dim twice")
    return same_shape_rule(inputs, attrs)


REVERSE = registry.register(OpDef(
    name="reverse", dtypes=lambda d, a: [d[0]], shapes=_reverse_shapes,
    kernel=lambda x, axis: np.flip(x, axis).copy(), attrs={"axis": ()},
    grad=lambda op, dy: [reverse(dy, list(op.attrs["axis"]))],
    finite_outputs=registry.finite_if_inputs_finite,
    reference=lambda x, axis: x[tuple(slice(None, None, -1) if d in [a % x.ndim for a in axis]
                                      else slice(None) for d in range(x.ndim))],
    samples=lambda: [Sample((rand(5), [0])), Sample((rand(3, 4), [1])),
                     Sample((rand(2, 3, 4), [0, -1])), Sample((randint(3, 2), []))],
    error_samples=lambda: [ErrorSample((rand(3, 4), [2]), match="out of range"),
                           ErrorSample((rand(3, 4), [1, -1]), match="twice")],
    doc="The tensor with the order of the elements along each axis reversed."))


@registry.public(REVERSE)
def reverse(tensor, axis, name=None) -> Tensor:
    """``tensor`` with the dims in ``axis`` reversed (TF1 ``tf.reverse`` / ``reverse_v2``).

    Example:
        >>> gc.reverse([[1, 2], [3, 4]], [1])   # [[2, 1], [4, 3]]
    """
    axes = static_axis(axis, "reverse")
    axes = [axes] if isinstance(axes, int) else list(axes)
    return apply_op("reverse", [tensor], {"axis": tuple(int(a) for a in axes)},
                    name=name or "ReverseV2")


reverse_v2 = reverse


def _reverse_sequence_dtypes(in_dtypes, attrs):
    check_kind("reverse_sequence", in_dtypes[1], SIGNED_INTEGER, "seq_lengths")
    return [in_dtypes[0]]


def _reverse_sequence_shapes(inputs, attrs):
    shape, lengths = inputs[0].shape, inputs[1].shape
    seq = normalize_axis(attrs["seq_axis"], shape.rank, "reverse_sequence", "seq_axis")
    batch = normalize_axis(attrs["batch_axis"], shape.rank, "reverse_sequence", "batch_axis")
    if seq == batch:
        raise ValueError(f"reverse_sequence: seq_axis and batch_axis must differ, both are "
                         f"{seq} for shape {shape}")
    if lengths.rank not in (None, 1) or not lengths.is_compatible_with([shape[batch]]):
        raise ValueError(f"reverse_sequence: seq_lengths must be a vector of length "
                         f"{shape[batch]} (the batch dim of {shape}), got shape {lengths}")
    return [shape]


def _reverse_sequence_kernel(x, lengths, seq_axis, batch_axis):
    if lengths.size and (lengths.min() < 0 or lengths.max() > x.shape[seq_axis]):
        raise ValueError(f"reverse_sequence: seq_lengths {lengths.tolist()} must lie in "
                         f"[0, {x.shape[seq_axis]}] (seq_axis {seq_axis} of shape "
                         f"{list(x.shape)})")
    # each output position reads position length-1-i along seq_axis below its length
    positions = np.arange(x.shape[seq_axis])
    source = np.where(positions < lengths[:, None], lengths[:, None] - 1 - positions, positions)
    shape = [1] * x.ndim
    shape[batch_axis], shape[seq_axis] = source.shape[0], source.shape[1]
    order = (0, 1) if batch_axis < seq_axis else (1, 0)
    index = np.transpose(source, order).reshape(shape)
    return np.take_along_axis(x, np.broadcast_to(index, x.shape), axis=seq_axis)


def _reverse_sequence_reference(x, lengths, seq_axis, batch_axis=0):
    out = np.array(x, np.float64 if x.dtype.kind == "f" else x.dtype)
    for b, length in enumerate(lengths.tolist()):
        line = [slice(None)] * x.ndim
        line[batch_axis] = b
        line[seq_axis] = slice(0, length)
        part = np.array(x[tuple(line)])
        out[tuple(line)] = np.flip(part, axis=seq_axis - (batch_axis < seq_axis))
    return out


REVERSE_SEQUENCE = registry.register(OpDef(
    raises_on_values=True,  # seq_lengths out of range
    name="reverse_sequence", dtypes=_reverse_sequence_dtypes, shapes=_reverse_sequence_shapes,
    kernel=_reverse_sequence_kernel, attrs={"seq_axis": 1, "batch_axis": 0},
    grad=lambda op, dy: [reverse_sequence(dy, op.inputs[1], **op.attrs), None],
    reference=_reverse_sequence_reference,
    samples=lambda: [Sample((rand(3, 5), np.array([5, 0, 2], np.int64), 1)),
                     Sample((rand(4, 2, 3), np.array([1, 3], np.int32), 0, 1)),
                     Sample((randint(2, 4, 3), np.array([4, 2], np.int32), 1, 0))],
    error_samples=lambda: [
        ErrorSample((rand(3, 5), np.array([1, 2], np.int64), 1), match="vector of length"),
        ErrorSample((rand(3, 5), rand(3), 1), error=TypeError, match="seq_lengths"),
        ErrorSample((rand(3, 5), np.array([5, 0, 2], np.uint64), 1), error=TypeError,
                    match="requires a signed integer seq_lengths, got uint64"),
        ErrorSample((rand(3, 5), np.array([1, 2, 1]), 0, 0), match="must differ")],
    doc="Reverses the first seq_lengths[b] elements along seq_axis of each batch entry b."))


@registry.public(REVERSE_SEQUENCE)
def reverse_sequence(input, seq_lengths, seq_axis=None, batch_axis=None, name=None,  # noqa
                     seq_dim=None, batch_dim=None) -> Tensor:
    """Reverse the first ``seq_lengths[b]`` elements along ``seq_axis`` of each entry ``b``
    of ``batch_axis``; the rest stay in place (TF1 ``tf.reverse_sequence``).

    Example:
        >>> gc.reverse_sequence([[1, 2, 3], [4, 5, 6]], [2, 3], seq_axis=1)  # [[2,1,3],[6,5,4]]
    """
    seq_axis = seq_axis if seq_axis is not None else seq_dim
    batch_axis = batch_axis if batch_axis is not None else (batch_dim or 0)
    if seq_axis is None:
        raise ValueError("reverse_sequence: seq_axis (or seq_dim) is required")
    attrs = {"seq_axis": int(static_axis(seq_axis, "reverse_sequence")),
             "batch_axis": int(static_axis(batch_axis, "reverse_sequence"))}
    graph = graph_of(input, seq_lengths)
    with graph.as_default(), graph.atomic():
        lengths = convert_to_tensor(seq_lengths, dtype_hint=gdt.int64)
        return apply_op("reverse_sequence", [input, lengths], attrs,
                        name=name or "ReverseSequence")


def boolean_mask(tensor, mask, name="boolean_mask", axis=None) -> Tensor:
    """The entries of ``tensor`` where ``mask`` is true: mask's dims (starting at ``axis``)
    collapse into one dim whose size is known at run time only (TF1 ``tf.boolean_mask``).

    Example:
        >>> gc.boolean_mask([[1, 2], [3, 4], [5, 6]], [True, False, True])  # [[1, 2], [5, 6]]
    """
    graph = graph_of(tensor, mask)
    with graph.as_default(), graph.name_scope(name or "boolean_mask"):
        tensor, mask = convert_to_tensor(tensor), convert_to_tensor(mask)
        shape, mask_shape = tensor.shape, mask.shape
        described = (f"tensor {tensor.name} {format_shape(shape)} {tensor.dtype.name}, mask "
                     f"{mask.name} {format_shape(mask_shape)} {mask.dtype.name}")
        if not mask.dtype.is_bool:
            raise TypeError(f"boolean_mask: mask must be bool ({described})")
        if mask_shape.rank is None or mask_shape.rank == 0:
            raise ValueError(f"boolean_mask: mask must have a known rank >= 1 ({described})")
        axis = 0 if axis is None else int(static_axis(axis, "boolean_mask"))
        if shape.rank is None:
            raise ValueError(f"boolean_mask: the tensor's rank must be known ({described})")
        axis = normalize_axis(axis, shape.rank, "boolean_mask")
        covered = shape[axis:axis + mask_shape.rank]
        if covered.rank != mask_shape.rank or not covered.is_compatible_with(mask_shape):
            last = axis + mask_shape.rank - 1
            raise ValueError(f"boolean_mask: mask must match dims {axis}..{last} of the "
                             f"tensor ({described})")
        sizes = shape_ops.shape(tensor)
        flat = reduce.reduce_prod(sizes[axis:axis + mask_shape.rank], axis=0, keepdims=True)
        tensor = shape_ops.reshape(tensor, concat(
            [sizes[:axis], flat, sizes[axis + mask_shape.rank:]], 0))
        picked = shape_ops.squeeze(where(shape_ops.reshape(mask, [-1])), axis=[1])
        return gather(tensor, picked, axis=axis)


def sequence_mask(lengths, maxlen=None, dtype=gdt.bool, name=None) -> Tensor:
    """``mask[..., j] = j < lengths[...]`` for ``j`` below ``maxlen`` (default: the largest
    length), as ``dtype`` (TF1 ``tf.sequence_mask``).

    Example:
        >>> gc.sequence_mask([1, 3, 2], 5)   # [[T, F, F, F, F], [T, T, T, F, F], [T, T, F, F, F]]
    """
    graph = graph_of(lengths, maxlen)
    with graph.as_default(), graph.name_scope(name or "SequenceMask"):
        lengths = convert_to_tensor(lengths)
        check_kind("sequence_mask", lengths.dtype, "integer", "lengths")
        if maxlen is None:
            maxlen = elementwise.maximum(reduce.reduce_max(lengths),
                                         creation.constant(0, dtype=lengths.dtype))
        else:
            maxlen = cast(convert_to_tensor(maxlen), lengths.dtype)
        if maxlen.shape.rank not in (None, 0):
            raise ValueError(f"sequence_mask: maxlen must be a scalar, got shape {maxlen.shape}")
        columns = creation.range(creation.constant(0, dtype=lengths.dtype), maxlen)
        result = elementwise.less(columns, shape_ops.expand_dims(lengths, -1))
        return result if gdt.as_dtype(dtype) is gdt.bool else cast(result, dtype)
