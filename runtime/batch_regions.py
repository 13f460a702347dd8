"""Batch regions: runs of ops that split along the batch, run as one step whose pieces of
the batch each go through every op of the run on one thread.

Splitting op by op (graphc.ops.batch_split) hands each conv's, pool's and copy's pieces to
the pool and waits for all of them before the next op: a barrier per op, each op as slow as
its slower piece, and each op's piece read from wherever the previous op's other thread left
it. A region hands out its pieces once: on W7 (b)'s forward pass (2-vCPU Xeon host,
in-process, cache flushed before each call, medians) the ten ops split one by one took
7.4-8.1 ms, the same ops run as two pieces of 16 images each through all ten 5.9-6.3 ms.

Which steps form a region (``form_regions``, when a plan is built for several threads):
consecutive steps whose ops declare how they split along the batch (``OpDef.distribution``:
rowwise ops, the sums over the batch of ``"reduction"`` ops, rowwise ops with batch-sum
results at ``Split.sums``), pure ones only, save those that share their own work better
(``Split.splits_itself``: 2-D GEMMs); steps between them that need no value of the
region and write nothing in place (variable reads, shapes and sizes of earlier values,
constants) move before it. A region value is only ever read at a position where its op
takes rows; an input of the region is read the same way by each of its ops.

How a region runs: runtime/region_step.py.

Example:
    >>> steps = form_regions(steps, fetch_slots, kernel_error, threads=2)
"""
from __future__ import annotations

import numpy as np

from graphc import registry
from graphc.ops import batch_split

from .memory import takes_out
from .region_pieces import BATCH_SHAPE, ROWS, SUM, WHOLE
from .region_step import BatchRegion, row_elements

__all__ = ["form_regions", "LARGEST_BATCH"]

_UNSEEN = object()
# a run of ops too small to share among threads at this batch (``_bounds``) stays steps of
# the plan: as one piece a region costs ~14 us a call more than its ops (55 regions of
# tests/metrics_scenario.py's 12 rows: 2.06 ms a run, 1.29 without)
LARGEST_BATCH = 4096


class _Member:
    """A step of a region: how each of its inputs and results follows the batch."""

    __slots__ = ("step", "kinds", "results", "accumulate", "out")

    def __init__(self, step, kinds, results, accumulate):
        self.step, self.kinds, self.results, self.accumulate = step, kinds, results, accumulate
        self.out = takes_out(step)


def _member(step):
    """The step as a region member, or None where its op may not run in pieces."""
    opdef = registry.get(step.op.type)
    if (step.constant or opdef.stateful or opdef.random or opdef.needs_context
            or opdef.subgraphs or opdef.updates_input or opdef.updates_variable
            or not step.outputs):
        return None
    try:
        split = registry.declared_split(opdef, step.op, (None,) * len(step.inputs))
    except Exception:  # noqa: BLE001 - a rule that needs host values: not declared here
        return None
    if not isinstance(split, registry.Split) or split.splits_itself:
        return None
    if split.kind == "elementwise":
        return _elementwise_member(step)
    if split.kind == "rowwise":
        results = tuple(SUM if k in split.sums else ROWS for k in range(len(step.outputs)))
    elif split.kind == "reduction" and split.combine == "sum" and len(step.outputs) == 1:
        results = (SUM,)
    else:
        return None
    kinds = []
    for position, tensor in enumerate(step.op.inputs):
        if position in split.chunked:
            if tensor.shape.rank == 0:
                return None
            kinds.append(ROWS)
        else:
            kinds.append(BATCH_SHAPE if position == split.batch_shape else WHOLE)
    if ROWS not in kinds:
        return None
    return _Member(step, tuple(kinds), results,
                   np.dtype(split.accumulate) if split.accumulate else None)


def _elementwise_member(step):
    """An elementwise op as a member: inputs of its result's rank (not of static size 1
    along axis 0) are rows; inputs of lower rank broadcast along the trailing axes: whole."""
    rank = step.op.outputs[0].shape.rank if len(step.op.outputs) == 1 else None
    if not rank:
        return None
    kinds = []
    for tensor in step.op.inputs:
        if tensor.shape.rank is None or tensor.shape.rank > rank:
            return None
        rows = tensor.shape.rank == rank and tensor.shape.dims[0] != 1
        kinds.append(ROWS if rows else WHOLE)
    if ROWS not in kinds:
        return None
    return _Member(step, tuple(kinds), (ROWS,), None)


def _movable(step) -> bool:
    """Whether the step may run before ops that came before it (pure ones: a region's):
    it writes no array in place that they might read."""
    opdef = registry.get(step.op.type)
    return not (opdef.updates_variable or opdef.updates_input or opdef.subgraphs)


class _Forming:
    """A region being formed: its members, the steps moved before it, its values' kinds."""

    def __init__(self):
        self.members: list = []
        self.before: list = []
        self.kind_of: dict = {}  # slot -> kind, of the members' results and the inputs read
        self.produced: set = set()  # slots the members compute
        self.ops: set = set()
        self.batch = _UNSEEN  # the row inputs' static leading size (None: unknown)

    def admits(self, member) -> bool:
        step = member.step
        batch = self.batch
        ranks = {tensor.shape.rank for tensor, kind in zip(step.op.inputs, member.kinds)
                 if kind == ROWS}
        if len(ranks - {None}) > 1:
            return False  # a row input broadcast against another
        for slot, kind, tensor in zip(step.inputs, member.kinds, step.op.inputs):
            known = self.kind_of.get(slot)
            if slot in self.produced:
                if known != ROWS or kind != ROWS:
                    return False
            elif known is not None and known != kind:
                return False
            if kind == ROWS and tensor.shape.rank:
                # one batch: static sizes equal, or all unknown (a dynamic batch and a
                # weight's leading axis are different axes, whatever their sizes)
                dim = tensor.shape.dims[0]
                if batch is not _UNSEEN and dim != batch:
                    return False
                batch = dim
        return True

    def add(self, member) -> None:
        step = member.step
        for slot, kind, tensor in zip(step.inputs, member.kinds, step.op.inputs):
            self.kind_of.setdefault(slot, kind)
            if kind == ROWS and tensor.shape.rank:
                self.batch = tensor.shape.dims[0]
        for slot, kind in zip(step.outputs, member.results):
            if slot is not None:
                self.kind_of[slot] = kind
                self.produced.add(slot)
        self.members.append(member)
        self.ops.add(step.op)

    def needs(self, step) -> bool:
        """Whether the step reads a value of the region or waits for one of its ops."""
        return (any(slot in self.produced for slot in step.inputs)
                or any(op in self.ops for op in step.op.control_inputs))

    def close(self, readers: dict, fetched: set, on_error, threads: int) -> list:
        if len(self.members) < 2 or row_elements(self.members) * LARGEST_BATCH < \
                batch_split.MIN_SPLIT_ELEMENTS * len(self.members):
            return self.before + [member.step for member in self.members]
        inside = {id(member.step) for member in self.members}
        outputs = [slot for member in self.members for slot in member.step.outputs
                   if slot is not None and (slot in fetched or any(
                       reader not in inside for reader in readers.get(slot, ())))]
        return self.before + [BatchRegion(self.members, outputs, self.kind_of, on_error,
                                          threads)]


def form_regions(steps: list, fetch_slots, on_error, threads: int) -> list:
    """``steps`` with each run of at least two steps that split along the batch (see the
    module docstring) replaced by one ``BatchRegion`` step, and the steps moved before it;
    ``steps`` itself when ``threads`` < 2. ``on_error(op, args, err)`` makes the error a
    failing op raises (an OpError)."""
    if threads < 2:
        return steps
    readers: dict = {}
    for step in steps:
        for slot in step.inputs:
            readers.setdefault(slot, set()).add(id(step))
    fetched = set(fetch_slots)
    result: list = []
    forming = None
    for step in steps:
        member = _member(step)
        if forming is not None:
            if member is not None and forming.admits(member):
                forming.add(member)
                continue
            if not forming.needs(step) and _movable(step):
                forming.before.append(step)
                continue
            result += forming.close(readers, fetched, on_error, threads)
            forming = None
        if member is not None:
            forming = _Forming()
            forming.add(member)
        else:
            result.append(step)
    if forming is not None:
        result += forming.close(readers, fetched, on_error, threads)
    return result
