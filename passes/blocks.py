"""Blocks of tensors for sibling merging (passes/sibling_merge.py): which inputs of an op
are cut into blocks along an axis (``Cut``, from ``OpDef.blocks`` or, for elementwise ops,
from broadcasting), what ops of one group share (``signature``), and what joining blocks
costs: nothing for every piece of one split in order, a small copy for small static
tensors, a copy of activations otherwise.
"""
from __future__ import annotations

from typing import Optional

from graphc import registry
from graphc.ops.array import SPLIT, concat

from .cse import attrs_key

__all__ = ["SMALL_ELEMENTS", "FREE", "SMALL", "COPY", "Cut", "declared_cut", "elementwise_cut",
           "signature", "same_signature", "same_cut", "split_input", "join_cost", "join",
           "costs"]

# A join of tensors this small (filters, biases) costs far less than the work a merge saves
SMALL_ELEMENTS = 1 << 16
FREE, SMALL, COPY = "free", "small", "copy"


class Cut:
    """Which inputs of one op are cut into blocks (position -> axis), the result's axis the
    blocks make (None: the blocks' results are summed) and the shape input, if any."""

    __slots__ = ("blocked", "output_axis", "sizes")

    def __init__(self, blocked: dict, output_axis: Optional[int], sizes: Optional[int]):
        self.blocked, self.output_axis, self.sizes = blocked, output_axis, sizes

    def whole(self, op) -> tuple:
        """The inputs of ``op`` that every block reads whole."""
        return tuple(t for k, t in enumerate(op.inputs)
                     if k not in self.blocked and k != self.sizes)


def declared_cut(op) -> Optional[Cut]:
    """The cut ``op``'s OpDef declares (``OpDef.blocks``), None without one or where a
    blocked input's rank is unknown."""
    blocks = registry.get(op.type).blocks
    if blocks is None or any(op.inputs[k].shape.rank is None for k in blocks.inputs):
        return None
    return Cut({k: blocks.axis for k in blocks.inputs}, blocks.output_axis, blocks.sizes)


def elementwise_cut(op, output_axis: int) -> Optional[Cut]:
    """Inputs with the result's extent along ``output_axis`` are blocked (aligned from the
    right, as broadcasting does); inputs of extent 1 or not reaching it are whole."""
    out = op.outputs[0].shape
    if out.rank is None or not 0 <= output_axis < out.rank or out.dims[output_axis] is None:
        return None
    blocked = {}
    for k, tensor in enumerate(op.inputs):
        rank = tensor.shape.rank
        if rank is None:
            return None
        axis = output_axis - (out.rank - rank)
        if axis < 0:
            continue
        dim = tensor.shape.dims[axis]
        if dim is None or (dim != out.dims[output_axis] and dim != 1):
            return None
        if dim == out.dims[output_axis] and dim != 1:
            blocked[k] = axis
    return Cut(blocked, output_axis, None) if blocked else None


def signature(op, cut: Cut) -> tuple:
    """What members of one group share: type, attributes, dtypes, whole inputs, and the
    blocked inputs' shapes but for the blocked axis."""
    shapes = tuple((k, op.inputs[k].dtype, tuple(d for i, d in enumerate(
        op.inputs[k].shape.dims) if i != axis)) for k, axis in sorted(cut.blocked.items()))
    return (op.type, attrs_key(op.attrs), op.outputs[0].dtype,
            tuple(id(t) for t in cut.whole(op)), shapes)


def split_input(tensors, axis: int):
    """The tensor ``tensors`` are every piece of, in order, split along ``axis``, or None."""
    first = tensors[0].op
    if (first.type != SPLIT.name or list(first.outputs) != list(tensors)
            or first.attrs["axis"] % max(tensors[0].shape.rank, 1) != axis):
        return None
    return first.inputs[0]


def join_cost(tensors, axis: int) -> str:
    if split_input(tensors, axis) is not None:
        return FREE
    if all(t.shape.is_fully_defined() for t in tensors) and sum(
            t.shape.num_elements() for t in tensors) <= SMALL_ELEMENTS:
        return SMALL
    return COPY


def join(tensors, axis: int):
    """``tensors`` joined along ``axis``: their split's input where they are its pieces."""
    whole = split_input(tensors, axis)
    return whole if whole is not None else concat(list(tensors), axis=axis)


def costs(members, cut: Cut) -> list:
    """The join cost of each blocked input over a group's ``members``."""
    return [join_cost([m.inputs[k] for m in members], axis)
            for k, axis in sorted(cut.blocked.items())]


def same_signature(op, key) -> bool:
    """Whether ``op`` declares blocks and has the group signature ``key``."""
    cut = declared_cut(op)
    return cut is not None and signature(op, cut) == key


def same_cut(op, cut: Cut) -> bool:
    """Whether elementwise ``op`` cuts the inputs ``cut`` cuts, along its output axis."""
    mine = elementwise_cut(op, cut.output_axis)
    return mine is not None and mine.blocked == cut.blocked
