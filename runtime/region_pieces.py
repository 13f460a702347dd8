"""One piece of a batch region (runtime/region_step.py): its members compiled as a plan of
their own over the piece's rows.

Example:
    >>> program = PieceProgram(members, inputs, outputs, out_kinds, kernel_error)
    >>> sums = program.run(program.new_arena(), args, kinds, 0, 16, results, alone=False)
"""
from __future__ import annotations

import contextlib
import dataclasses

import numpy as np

from graphc import registry
from graphc.errors import OpError
from graphc.ops import batch_split

from .arena import plan_arena
from .codegen import compile_plan
from .memory import fetch_aliases, plan_frees, plan_in_place

__all__ = ["PieceProgram", "piece_inputs", "ROWS", "WHOLE", "BATCH_SHAPE", "SUM"]

# how a region's value follows the batch: its rows, whole (the same for every piece), a
# shape whose first entry is the batch size, a sum over the batch
ROWS, WHOLE, BATCH_SHAPE, SUM = "rows", "whole", "batch shape", "sum"


def piece_inputs(args, kinds, lo: int, hi: int) -> list:
    """A region's inputs as the piece of rows lo:hi reads them."""
    values = []
    for value, kind in zip(args, kinds):
        if kind == ROWS:
            value = value[lo:hi]
        elif kind == BATCH_SHAPE:
            value = np.array(value, copy=True)
            if value[0] != -1:
                value[0] = hi - lo
        values.append(value)
    return values


class _IntoRows:
    """A member's kernel writing its results into the piece's rows of the region's results,
    passed as its last inputs (``out=``); a kernel may return its result elsewhere (the
    fused engines where they cannot write in place), which is then copied there."""

    __slots__ = ("kernel", "count", "single")

    def __init__(self, kernel, count: int, single: bool):
        self.kernel, self.count, self.single = kernel, count, single

    def __call__(self, *args):
        outs = args[self.count:]
        produced = self.kernel(*args[:self.count], out=outs[0] if self.single else outs)
        for result, target in zip((produced,) if self.single else produced, outs):
            if result is not target:
                np.copyto(target, result)
        return outs[0] if self.single else outs


class _SubStep:
    """A member's step renumbered for its region's piece program, with the record the
    planners ask (``opdef``: its op's, or what the step's changed kernel does)."""

    __slots__ = ("op", "fn", "inputs", "outputs", "single", "needs_context", "frees",
                 "constant", "in_place", "arena", "arena_buffers", "opdef")

    def __init__(self, step):
        self.op, self.fn, self.single = step.op, step.fn, step.single
        self.needs_context, self.constant = step.needs_context, step.constant
        self.inputs, self.outputs, self.frees = list(step.inputs), list(step.outputs), []
        self.in_place, self.arena, self.arena_buffers, self.opdef = None, False, (), None


class PieceProgram:
    """The members compiled as a plan of their own (codegen.compile_plan) over one piece:
    straight-line calls, values freed after their last reader, internal values in an arena
    of the piece's own, rows results read after the region written into its rows of the
    region's results (``_IntoRows``, members that take ``out=``) or copied there."""

    def __init__(self, members, inputs, outputs, out_kinds, on_error):
        wanted = {slot: k for k, slot in enumerate(outputs)}
        into = [member for member in members if member.out and all(
            slot is not None and wanted.get(slot) is not None
            and out_kinds[wanted[slot]] == ROWS for slot in member.step.outputs)]
        self.into = [wanted[slot] for member in into for slot in member.step.outputs]
        renumber = {slot: i for i, slot in enumerate(inputs)}
        feeds = len(inputs) + len(self.into)
        into_feed = {outputs[k]: len(inputs) + i for i, k in enumerate(self.into)}
        steps = []
        for member in members:
            step = _SubStep(member.step)
            step.inputs = [renumber[slot] for slot in member.step.inputs]
            if member in into:
                step.inputs += [into_feed[slot] for slot in member.step.outputs]
                step.fn = _IntoRows(member.step.fn, len(member.step.inputs), step.single)
                # its results are the region's own arrays (new: views of no input), kept
                # to the end (no later step may write into them) and in no arena
                step.opdef = dataclasses.replace(registry.get(step.op.type), kernel=step.fn,
                                                 takes_out=False, fresh_output=True)
            step.outputs = []
            for slot in member.step.outputs:
                if slot is not None:
                    renumber[slot] = feeds + len(renumber)
                step.outputs.append(None if slot is None else renumber[slot])
            steps.append(step)
        self.fetched = [k for k, slot in enumerate(outputs) if k not in self.into]
        fetch_slots = [renumber[outputs[k]] for k in self.fetched]
        aliases = fetch_aliases(steps, feeds, fetch_slots)
        plan_frees(steps, set(fetch_slots).union(
            *aliases, (renumber[outputs[k]] for k in self.into)))
        plan_in_place(steps, feeds, fetch_slots)
        self.buffers = plan_arena(steps, fetch_slots)
        self.keys = len(steps)
        self.run_steps = compile_plan(
            steps, feeds, fetch_slots, lambda step, args, err: on_error(step.op, args, err),
            passthrough=(OpError,), fetch_aliases=aliases,
            own_fetches=False)
        self.out_kinds = out_kinds

    def new_arena(self) -> tuple:
        return [None] * self.buffers, [None] * self.keys

    def run(self, arena, args, kinds, lo: int, hi: int, results: list, alone: bool) -> list:
        """Rows lo:hi through the members; rows results into ``results``; returns the
        piece's partial sums (None for rows). ``alone``: the one piece of the batch, whose
        rows results not written into ``results`` by their kernels are returned too."""
        feeds = piece_inputs(args, kinds, lo, hi) + [results[k][lo:hi] for k in self.into]
        with contextlib.nullcontext() if alone else batch_split.unsplit():
            fetched = self.run_steps(feeds, None, arena[0], arena[1])
        mine: list = [None] * len(results)
        for k, value in zip(self.fetched, fetched):
            if self.out_kinds[k] == ROWS and not alone:
                np.copyto(results[k][lo:hi], value)
            else:
                mine[k] = value
        return mine
