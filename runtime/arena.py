"""The buffers a plan keeps from run to run (its arena), and which steps share one.

A step whose kernel takes ``out=`` writes each result into a view carved from one of the
arena's buffers instead of allocating (``kernel(..., out=ndarray(shape, dtype, buffer))``,
codegen.py). Results whose lifetimes within a run do not overlap share a buffer: each takes
the smallest free buffer of its kind that holds it (freed last among equals, as TF's
allocator hands out the chunk freed last), and a buffer grows to the largest result it
holds. The view's shape and dtype are those the step made on an earlier run with inputs of
the same shapes (``remember``).

Why share: with a buffer per step, W7 (b)'s step kept 80 MB of results and each op wrote
memory no op had touched for a whole step, long evicted from the cache (about 50 MB held
data on the 2-vCPU Xeon host, measured by flushing): its memory-bound ops ran at DRAM speed
(the first ReLU gradient 1.43 ms in the step, 0.69 ms run alone). Shared, the results take
38 MB and the buffer a step writes was last written a few ops before.

Sharing never rests on the lifetimes computed here, which only choose who shares: a buffer
is written only when the arena holds its sole reference (no result carved from it is alive:
no value of this run or of the caller's, no view and no variable refers to one) and it is
large enough; otherwise the step allocates, as without an arena, and ``remember`` grows the
buffer for the next run.

Example:
    >>> buffers = plan_arena(plan.steps, plan.fetch_slots)   # sets step.arena_buffers
"""
from __future__ import annotations

import heapq

import numpy as np

from .memory import allocates_fresh, static_bytes, takes_out

__all__ = ["plan_arena", "remember", "ARENA_MIN_BYTES"]

# Smaller results come from malloc's free lists at no cost. Larger ones, allocated and freed
# by the thousand per run, make glibc grow and trim its heap every run: W5's gradients
# (16 KB each, 3 MB per run) cost 780 page faults and 1.6x the time without the arena.
ARENA_MIN_BYTES = 4 << 10


def plan_arena(steps, fetch_slots=()) -> int:
    """Set ``step.arena`` on steps whose results may be written into buffers the plan keeps
    from run to run, fetched results included, and ``step.arena_buffers`` to the indices of
    those buffers, one per result; returns how many buffers the arena has. Results known
    to be smaller than ``ARENA_MIN_BYTES`` are left to malloc."""
    for step in steps:
        step.arena, step.arena_buffers = False, ()
        if (step.constant or step.needs_context or step.in_place is not None
                or all(slot is None for slot in step.outputs) or not takes_out(step)):
            continue
        results = step.op.outputs
        if not all(result.shape.rank for result in results):
            continue  # 0-d or unknown rank: results are NumPy scalars or of unknown size
        step.arena = not all(result.shape.is_fully_defined()
                             and static_bytes(result) < ARENA_MIN_BYTES for result in results)
    return _share_buffers(steps, _buffer_ends(steps, fetch_slots))


def _kind(result):
    """Results of one kind may share a buffer: those whose size follows the batch (unknown
    dims) apart from those of fixed size (weights' gradients), so that a small fixed result
    never holds a large batch buffer for long; sizes compare within a kind."""
    return result.shape.is_fully_defined(), static_bytes(result)


def _share_buffers(steps, ends: dict) -> int:
    """Give each arena step's results a buffer each: among the free ones of their kind the
    smallest that holds them, freed last among equals, else a new one (``ends``: the last
    step that may see each result's buffer)."""
    free: dict = {}  # buffer -> the step after which it is free, while free
    sizes: list = []  # per buffer, (kind, the largest static size written into it)
    releases: list = []  # (last step seeing it, step, buffer), a heap
    for index, step in enumerate(steps):
        while releases and releases[0][0] < index:
            end, _, buffer = heapq.heappop(releases)
            free[buffer] = end
        if not step.arena:
            continue
        chosen = []
        for slot, result in zip(step.outputs, step.op.outputs):
            fixed, size = _kind(result)
            fitting = [b for b in free if sizes[b][0] == fixed and sizes[b][1] >= size]
            growing = [b for b in free if sizes[b][0] == fixed]
            if fitting:
                buffer = min(fitting, key=lambda b: (sizes[b][1], -free[b]))
            elif growing:
                buffer = max(growing, key=lambda b: (sizes[b][1], free[b]))
            else:
                buffer = len(sizes)
                sizes.append((fixed, 0))
            free.pop(buffer, None)
            sizes[buffer] = (fixed, max(sizes[buffer][1], size))
            chosen.append(buffer)
            end = index if slot is None else ends.get(slot, index)
            heapq.heappush(releases, (end, index, buffer))
        step.arena_buffers = tuple(chosen)
    return len(sizes)


def _buffer_ends(steps, fetch_slots) -> dict:
    """For each result slot, the last step that may read the buffer it was written into:
    its own last reader, or that of a value that may view it (a reshape, a slice, an
    in-place result), or past the end where the run returns it or a view of it."""
    buffers_of: dict = {}  # slot -> the result slots whose buffers its value may be or view
    ends: dict = {}
    for index, step in enumerate(steps):
        for slot in step.inputs:
            for buffer in buffers_of.get(slot, ()):
                ends[buffer] = index
        if step.in_place is not None:
            inherited = buffers_of.get(step.inputs[step.in_place], ())
        elif step.arena or step.constant or allocates_fresh(step):
            inherited = None  # a buffer of its own
        else:
            inherited = tuple({buffer for slot in step.inputs
                               for buffer in buffers_of.get(slot, ())})
        for slot in step.outputs:
            if slot is not None:
                buffers_of[slot] = (slot,) if inherited is None else inherited
    for slot in fetch_slots:
        for buffer in buffers_of.get(slot, ()):
            ends[buffer] = len(steps)
    return ends


def remember(buffers: list, indices: tuple, shapes: tuple, results: tuple):
    """The key a step keeps after allocating its results itself (its first run, or its
    buffers were busy or too small): its inputs' shapes, then each result's shape, dtype
    and bytes, by which later runs carve the results from ``buffers[indices]``; the buffers
    missing or too small to hold them are replaced by larger ones. None (the step never
    writes into the arena) where a result is not an array NumPy can place in a buffer."""
    key = [shapes]
    for buffer, result in zip(indices, results):
        if not isinstance(result, np.ndarray) or result.dtype.hasobject:
            return None
        key += (result.shape, result.dtype, result.nbytes)
        held = buffers[buffer]
        if held is None or held.nbytes < result.nbytes:
            buffers[buffer] = np.empty(max(result.nbytes, 1), np.uint8)
    return tuple(key)
