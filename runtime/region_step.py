"""A batch region's step (runtime/batch_regions.py forms them): its members' kernels run
over pieces of the batch, each piece through every member on one thread.

At run time (``BatchRegion.__call__``):
- The batch ``n`` is axis 0 of the region's row inputs; every row input (of one rank per op)
  must have it and every shape a rowwise op takes (``Split.batch_shape``) must start with it,
  and n >= 2; otherwise the ops run whole, one after another, as without the region.
- The pieces are ``threads`` runs of rows (``n * k // threads``), the same for any load, so
  the results follow from the shapes and the thread count alone (one piece, each kernel
  splitting itself, where the ops are too small to share: ``_bounds``); each piece runs
  every op's kernel on its rows of the row values (the other inputs whole), unsplit
  (``batch_split.unsplit``), on the pool's threads (one after another under load).
- A piece runs the ops compiled as a plan of their own (``PieceProgram``, codegen.py):
  values freed after their last reader, the values only the region reads in an arena of the
  piece's own (a buffer written a few ops before, still in the cache), results read after
  the region written straight into their rows of the region's results (``out=``, buffers
  the plan's arena keeps across runs where free); sums are added piece by piece in piece
  order, in ``Split.accumulate``'s dtype where it is wider.
- A key (the inputs' shapes) first runs its pieces one after another, collecting, to learn
  the results' shapes; where a piece's rows result lacks the piece's rows, the key runs
  whole from then on.
- An error in a piece reruns the ops whole, one after another, so that the error is the one
  the op raises on the whole batch, naming it and the user's line (the ops are pure: there
  is nothing to undo); where they then succeed, the key runs whole from then on.

Example:
    >>> region = BatchRegion(members, outputs, kind_of, kernel_error, threads=2)
    >>> results = region(*inputs, out=buffers)   # as a plan step
"""
from __future__ import annotations

import contextlib
import math
import threading
from collections import OrderedDict

import numpy as np

from graphc import registry
from graphc.errors import OpError
from graphc.ops import batch_split

from . import threads as thread_policy
from .region_pieces import BATCH_SHAPE, ROWS, SUM, WHOLE, PieceProgram, piece_inputs

__all__ = ["BatchRegion", "REGION_OPDEF", "LAYOUTS_KEPT", "row_elements", "ROWS", "WHOLE",
           "BATCH_SHAPE", "SUM"]

LAYOUTS_KEPT = 16  # input shapes a region remembers its results' layout for
# pieces pay for sums over the batch: each writes a whole partial sum, and the calling thread
# adds them after the pieces, where the ops split themselves by their results' rows (a
# weight gradient's GEMM by the weight's rows) and write each sum once. The pieces run only
# where the partials are at most 1/SUMS_SHARE of the rows results' elements: W1's MLP step
# (partials 1.4x its rows results) made 679 steps/s in pieces, 854 with its ops split one by
# one; W7 (b)'s filter and bias gradients are ~1/1000 of its rows.
SUMS_SHARE = 8


def _whole_call(*arrays, **attrs):  # pragma: no cover - a region's record is never run
    raise TypeError("a batch region runs through its own step")


# what the planners (memory.py, arena.py) ask of a region's step: new arrays, into out=
REGION_OPDEF = registry.OpDef(
    name="batch_region", dtypes=lambda d, attrs: (), shapes=lambda s, attrs: (),
    kernel=_whole_call, foldable=False, fresh_output=True, takes_out=True,
    doc="Several ops over pieces of the batch (runtime/batch_regions.py); never in a graph.")


def row_elements(members) -> int:
    """Elements per batch row of the members' rows results (unknown sizes count as 1)."""
    return sum(math.prod(1 if d is None else d for d in tensor.shape.dims[1:])
               for member in members for tensor, kind in zip(member.step.op.outputs,
                                                             member.results)
               if kind == ROWS and tensor.shape.rank)


def sum_elements(members) -> int:
    """Elements of the members' sums over the batch (unknown sizes count as 1)."""
    return sum(math.prod(1 if d is None else d for d in tensor.shape.dims)
               for member in members for tensor, kind in zip(member.step.op.outputs,
                                                             member.results)
               if kind == SUM and tensor.shape.rank is not None)


class _RegionOp:
    """What the planners read of a region's step as its ``op``: its inputs' and results'
    tensors (for static shapes), no attributes; where an error names it, its first op's
    graph and user's line."""

    type = REGION_OPDEF.name
    attrs: dict = {}
    control_inputs: tuple = ()

    def __init__(self, first, inputs, outputs):
        self.name, self.inputs, self.outputs = f"batch_region/{first.name}", inputs, outputs
        self.graph, self.provenance = first.graph, first.provenance


class BatchRegion:
    """A plan step running its member steps over pieces of the batch (module docstring);
    it has the slots of a Step (runtime/plan.py) and is called as the step's kernel."""

    __slots__ = ("op", "fn", "inputs", "outputs", "single", "needs_context", "frees",
                 "constant", "in_place", "arena", "arena_buffers", "opdef", "members",
                 "_kinds", "_out_kinds", "_threads", "_on_error", "_layouts", "_lock",
                 "_wanted", "_row_elements", "_sum_elements", "_program", "_arenas")

    def __init__(self, members: list, outputs: list, kind_of: dict, on_error, threads: int):
        self.members = members
        self.opdef = REGION_OPDEF
        produced = {slot for member in members for slot in member.step.outputs}
        inputs: list = []
        for member in members:
            inputs += [slot for slot in member.step.inputs
                       if slot not in produced and slot not in inputs]
        self.inputs, self.outputs = inputs, outputs
        tensor_of = {}
        for member in members:
            tensor_of.update(zip(member.step.inputs, member.step.op.inputs))
            tensor_of.update(zip(member.step.outputs, member.step.op.outputs))
        self.op = _RegionOp(members[0].step.op, [tensor_of[s] for s in inputs],
                            [tensor_of[s] for s in outputs])
        self._kinds = [kind_of[slot] for slot in inputs]
        self._out_kinds = [kind_of[slot] for slot in outputs]
        self._threads, self._on_error = threads, on_error
        self.fn, self.single = self, len(outputs) == 1
        self.needs_context, self.constant, self.in_place = False, False, None
        self.frees: list = []
        self.arena, self.arena_buffers = False, ()
        self._layouts: OrderedDict = OrderedDict()  # input shapes -> results' layout
        self._lock = threading.Lock()
        self._wanted = {slot: k for k, slot in enumerate(outputs)}
        self._program = None  # the members compiled for one piece (PieceProgram)
        self._arenas: list = []  # idle per-piece arenas; each run takes one set of its own
        self._row_elements = row_elements(members)
        self._sum_elements = sum_elements(members)

    # -- running ---------------------------------------------------------------------------
    def __call__(self, *args, out=None):
        batch = self._batch(args)
        if batch is None:
            return self._whole(args, out)
        key = tuple(getattr(a, "shape", None) for a in args)
        layout = self._layouts.get(key)
        if layout is None:
            return self._learn(key, args, batch, out)
        if layout == WHOLE:
            return self._whole(args, out)
        results = list(out) if isinstance(out, tuple) else [out] if out is not None else None
        if results is None or any(r is None for r in results):
            results = [np.empty(shape, dtype) for shape, dtype in layout]
        bounds = self._bounds(batch)
        program = self._program or self._compile()
        arenas = self._arenas
        try:
            arena = arenas.pop()
        except IndexError:
            arena = [program.new_arena() for _ in range(self._threads)]
        alone = len(bounds) == 2
        # the closure holds the arrays through a list emptied after the call: a pool worker
        # may keep the closure until its next job, and an arena writes a buffer again only
        # where nothing else refers to it
        held = [results, {}]

        def piece(lo, hi):
            index = bounds.index(lo)
            held[1][lo] = program.run(arena[index], args, self._kinds, lo, hi, held[0], alone)
        try:
            pool = thread_policy.pool()
            if pool is None or alone:
                piece(bounds[0], bounds[1])
            else:
                pool.run_pieces(piece, bounds, long_pieces=True)
            partials = [held[1][lo] for lo in bounds[:-1]]
        except Exception:  # noqa: BLE001 - the whole ops raise it again, naming the op
            results = self._whole(args, out)
            self._remember(key, WHOLE)  # they did not: pieces do not hold for this key
            return results
        finally:
            held.clear()
            arenas.append(arena)
        if alone:
            self._hand_over(results, partials[0], args)
        else:
            self._join(results, partials)
        return results[0] if self.single else tuple(results)

    def _hand_over(self, results, whole, args) -> None:
        """One piece's values are the whole batch's: they become the results as they are
        (no copy into the buffers ``out`` offered; W7 (a)'s step, every region one piece,
        4.86 ms with the copies, 3.96 without the regions), copied only where one is a view
        of an input or of another result (the results are new arrays: REGION_OPDEF)."""
        handed: list = []
        for k, value in enumerate(whole):
            if value is None:
                continue  # written into its buffer by its kernel (PieceProgram.into)
            if isinstance(value, np.ndarray) and any(
                    isinstance(a, np.ndarray) and np.may_share_memory(value, a)
                    for a in list(args) + handed):
                value = np.array(value, copy=True)
            results[k] = value
            handed.append(value)

    def _compile(self):
        with self._lock:
            if self._program is None:
                self._program = PieceProgram(self.members, self.inputs, self.outputs,
                                              self._out_kinds, self._on_error)
        return self._program

    def _bounds(self, batch: int) -> list:
        """Where the pieces of a batch start, then its end: ``threads`` pieces, or one
        (each kernel splitting itself, as without the region) where the region's ops give
        fewer than MIN_SPLIT_ELEMENTS elements each on average (W7 (a)'s 64 8x8 images:
        two pieces took 6.5 ms a step, the ops one by one 4.4)."""
        rows = batch * self._row_elements
        if rows < batch_split.MIN_SPLIT_ELEMENTS * len(self.members):
            return [0, batch]
        pieces = min(self._threads, batch)
        if pieces * self._sum_elements * SUMS_SHARE > rows:
            return [0, batch]
        return [batch * k // pieces for k in range(pieces + 1)]

    def _batch(self, args):
        """The batch size of the row inputs, or None where they do not all have one (or
        it is below 2)."""
        batch = None
        for value, kind in zip(args, self._kinds):
            if kind == ROWS:
                if not isinstance(value, np.ndarray) or value.ndim == 0:
                    return None
                batch = value.shape[0] if batch is None else batch
                if value.shape[0] != batch:
                    return None
        if batch is None or batch < 2:
            return None
        for value, kind in zip(args, self._kinds):
            if kind == BATCH_SHAPE:
                shape = np.asarray(value)
                if shape.ndim != 1 or not len(shape) or int(shape[0]) not in (batch, -1):
                    return None
        return batch

    def _piece(self, args, lo, hi, alone: bool) -> list:
        """Every member, one by one, on rows lo:hi, checking that each rows result has the
        piece's rows (a key's first run); returns the piece's values of the region's
        results (sums: its partial sums)."""
        values = dict(zip(self.inputs, piece_inputs(args, self._kinds, lo, hi)))
        with contextlib.nullcontext() if alone else batch_split.unsplit():
            for member in self.members:
                step = member.step
                call_args = [values[slot] for slot in step.inputs]
                ranks = {np.ndim(v) for v, kind in zip(call_args, member.kinds) if kind == ROWS}
                if len(ranks) > 1:  # a row input broadcast against another: not rows
                    raise _NotRows(step)
                produced = step.fn(*call_args)
                produced = (produced,) if step.single else tuple(produced)
                for slot, kind, value in zip(step.outputs, member.results, produced):
                    if slot is None:
                        continue
                    if kind == ROWS and (np.ndim(value) == 0 or len(value) != hi - lo):
                        raise _NotRows(step)
                    values[slot] = value
        return [values[slot] for slot in self.outputs]

    def _join(self, results, partials) -> None:
        """Add each sum's partials in piece order into ``results``."""
        for k, kind in enumerate(self._out_kinds):
            if kind != SUM:
                continue
            parts = [p[k] for p in partials]
            dtype = np.result_type(parts[0])
            wider = self._accumulate_dtype(k, dtype)
            target = results[k]
            if wider == dtype and isinstance(target, np.ndarray) and \
                    target.shape == np.shape(parts[0]) and target.dtype == dtype:
                np.copyto(target, parts[0])  # added straight into the result's buffer
                for part in parts[1:]:
                    target += part
                continue
            total = np.array(parts[0], dtype=wider, copy=True)
            for part in parts[1:]:
                total += part
            if isinstance(target, np.ndarray) and target.shape == total.shape:
                np.copyto(target, total, casting="unsafe")
            else:
                results[k] = total.astype(dtype, copy=False)

    def _accumulate_dtype(self, k: int, dtype):
        slot = self.outputs[k]
        member = next(m for m in self.members if slot in m.step.outputs)
        wider = member.accumulate
        if wider is not None and wider.kind == "f" and dtype.kind == "f" and \
                wider.itemsize > dtype.itemsize:
            return wider
        return dtype

    def _learn(self, key, args, batch, out):
        """The first run of ``key``: the pieces one after another, their results joined;
        remembers the results' layout (or that the key runs whole)."""
        bounds = self._bounds(batch)
        try:
            partials = [self._piece(args, lo, hi, len(bounds) == 2)
                        for lo, hi in zip(bounds, bounds[1:])]
        except Exception:  # noqa: BLE001 - _NotRows, or an op's error: run whole
            self._remember(key, WHOLE)
            return self._whole(args, out)
        results: list = [None] * len(self.outputs)
        for k, kind in enumerate(self._out_kinds):
            if kind == ROWS:
                results[k] = np.concatenate([p[k] for p in partials])
        self._join(results, partials)
        if not all(isinstance(r, np.ndarray) and not r.dtype.hasobject for r in results):
            self._remember(key, WHOLE)
        else:
            self._remember(key, tuple((r.shape, r.dtype) for r in results))
        results = _into(results, out)
        return results[0] if self.single else tuple(results)

    def _remember(self, key, layout) -> None:
        with self._lock:
            self._layouts[key] = layout
            while len(self._layouts) > LAYOUTS_KEPT:
                self._layouts.popitem(last=False)

    def _whole(self, args, out):
        """The members one after another on the whole batch, as a plan without regions."""
        values = dict(zip(self.inputs, args))
        for member in self.members:
            step = member.step
            call_args = [values[slot] for slot in step.inputs]
            try:
                produced = step.fn(*call_args)
            except OpError:
                raise
            except Exception as err:  # noqa: BLE001 - every kernel failure names its op
                raise self._on_error(step.op, call_args, err) from err
            produced = (produced,) if step.single else tuple(produced)
            for slot, value in zip(step.outputs, produced):
                if slot is not None:
                    values[slot] = value
        # the results are new arrays (REGION_OPDEF.fresh_output): never an input, a view of
        # one or of another result
        results: list = []
        for r in (values[slot] for slot in self.outputs):
            if isinstance(r, np.ndarray) and any(
                    isinstance(a, np.ndarray) and np.may_share_memory(r, a)
                    for a in list(args) + results):
                r = np.array(r, copy=True)
            results.append(r)
        results = _into(results, out)
        return results[0] if self.single else tuple(results)


class _NotRows(Exception):
    """A member's rows result lacks its piece's rows: its declaration does not hold here."""

    def __init__(self, step):
        super().__init__(f"{step.op.name}: a rows result without the piece's rows")


def _into(results: list, out) -> list:
    """``results``, copied into the arena's buffers ``out`` where given and fitting."""
    if out is None:
        return results
    outs = list(out) if isinstance(out, tuple) else [out]
    placed = []
    for result, target in zip(results, outs):
        if (isinstance(target, np.ndarray) and isinstance(result, np.ndarray)
                and target.shape == result.shape and target.dtype == result.dtype):
            np.copyto(target, result)
            placed.append(target)
        else:
            placed.append(result)
    return placed
