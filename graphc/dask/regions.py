"""Row-wise regions: connected elementwise and row-wise ops over the same batch chunks, and
the batch reductions they feed, run as ONE task per chunk: a compiled graphc plan (the NumPy
Session's straight-line code, fused loops and buffer reuse) of a small graph copied from the
region's ops. Its results per chunk are the region's rows that other ops need and the
partial results of its reductions, which dask joins in a tree as for a single reduction.

A task carries the region as a recipe of (op type, name, attrs, inputs, output shapes and
dtypes) and rebuilds the graph and its plan once per process where it runs, so regions
pickle to ``dask.distributed`` workers as single kernels do.
"""
from __future__ import annotations

import hashlib
import pickle
import threading
from collections import OrderedDict

from graphc import dtypes
from graphc.errors import OpError, describe_op
from graphc.graph import Graph
from graphc.runtime.plan import Plan
from graphc.shapes import TensorShape

from .tasks import ChunkTaskError, blas_limited, in_row_blocks

__all__ = ["Region", "RegionValue", "RegionTask"]

# recipe token -> the plan built from it in this process: the runs of one signature (and
# the tasks of one run) share their region's plan; the least recently used go first
_PLANS: OrderedDict = OrderedDict()
_PLANS_LOCK = threading.Lock()
PLANS_KEPT = 64


class RegionValue:
    """A value an open region computes: rows of a chunked tensor, or (``partial``) a batch
    reduction's result that needs the region's per-chunk partials joined first."""

    def __init__(self, region: "Region", tensor, partial: bool = False):
        self.region, self.tensor, self.partial = region, tensor, partial
        self.dtype = tensor.dtype.np
        trailing = tuple(tensor.shape.as_list()[1:]) if tensor.shape.rank else ()
        self.shape = trailing if partial else (region.rows,) + trailing
        self.ndim = len(self.shape)


class Region:
    """The ops of one region, in order, with their inputs: chunked dask arrays (one block
    per task) and host values (whole, in every task)."""

    def __init__(self, chunks: tuple):
        self.chunks, self.rows = chunks, sum(chunks)
        self.ops: list = []
        self.inputs: list = []  # (value, chunked)
        self._input_of: dict = {}  # tensor -> input position
        self.terminals: dict = {}  # reduction op -> its partial_kind

    def add(self, op, inputs, chunked, terminal=None) -> None:
        """Add ``op``; ``inputs`` are its values, ``chunked`` says which are row-chunked."""
        for tensor, value, is_chunked in zip(op.inputs, inputs, chunked):
            if not (isinstance(value, RegionValue) and value.region is self) and \
                    tensor not in self._input_of:
                self._input_of[tensor] = len(self.inputs)
                self.inputs.append((value, is_chunked))
        self.ops.append(op)
        if terminal is not None:
            self.terminals[op] = terminal

    def outputs(self, used_outside) -> list:
        """The region's tensors ``used_outside(tensor)`` says other ops or fetches need."""
        return [t for op in self.ops for t in op.outputs if op in self.terminals
                or used_outside(t)]

    def task(self, outputs: list, user_op, block_rows: int) -> "RegionTask":
        refs = {t: ("in", i) for t, i in self._input_of.items()}
        steps = []
        for index, op in enumerate(self.ops):
            user = user_op(op)
            steps.append((op.type, op.name, dict(op.attrs), tuple(refs[t] for t in op.inputs),
                          tuple((_spec_shape(t, op not in self.terminals), t.dtype.name)
                                for t in op.outputs),
                          user.name, describe_op(user)))
            refs.update({t: ("step", index, k) for k, t in enumerate(op.outputs)})
        inputs = tuple((t.dtype.name, _spec_shape(t, chunked), chunked)
                       for t, (_, chunked) in zip(self._input_of, self.inputs))
        kinds = tuple(self.terminals.get(t.op, ("rows",)) for t in outputs)
        recipe = (inputs, tuple(steps), tuple(refs[t] for t in outputs), kinds, block_rows)
        return RegionTask(hashlib.sha1(pickle.dumps(recipe)).hexdigest(), *recipe)


def _spec_shape(tensor, rows: bool):
    """The tensor's static shape as a list (None: unknown rank); a chunk's rows vary, so a
    row-chunked tensor's batch dimension is unknown in the region's graph."""
    if tensor.shape.rank is None:
        return None
    dims = tensor.shape.as_list()
    return [None] + dims[1:] if rows and dims else dims


class RegionTask:
    """``task(*blocks)``: the region's plan on one chunk's blocks (host inputs whole), run on
    ``block_rows`` rows at a time (``in_row_blocks``: it bounds the task's intermediates and
    accumulates the partial results over the blocks); returns a tuple of its outputs: rows,
    or partial results with a leading axis of one."""

    def __init__(self, token: str, inputs: tuple, steps: tuple, outputs: tuple, kinds: tuple,
                 block_rows: int):
        self.token, self.inputs, self.steps = token, inputs, steps
        self.outputs, self.kinds, self.block_rows = outputs, kinds, block_rows
        self.__name__ = f"graphc region ({len(steps)} ops)"

    def __reduce__(self):
        return RegionTask, (self.token, self.inputs, self.steps, self.outputs, self.kinds,
                            self.block_rows)

    def plan(self) -> Plan:
        with _PLANS_LOCK:
            plan = _PLANS.get(self.token)
            if plan is None:
                plan = _PLANS[self.token] = self._build()
                while len(_PLANS) > PLANS_KEPT:
                    _PLANS.popitem(last=False)
            _PLANS.move_to_end(self.token)
        return plan

    def _build(self) -> Plan:
        graph = Graph()
        feeds = [graph.create_op("placeholder", [], {"dtype": dtypes.as_dtype(dtype),
                                                     "shape": TensorShape(shape)},
                                 name=f"region_input_{i}").outputs[0]
                 for i, (dtype, shape, _) in enumerate(self.inputs)]
        made = []
        for op_type, name, attrs, refs, specs, _, _ in self.steps:
            ins = [feeds[ref[1]] if ref[0] == "in" else made[ref[1]].outputs[ref[2]]
                   for ref in refs]
            made.append(graph.create_op(op_type, ins, attrs, name=name, specs=[
                (TensorShape(shape), dtypes.as_dtype(dtype)) for shape, dtype in specs]))
        fetches = [feeds[ref[1]] if ref[0] == "in" else made[ref[1]].outputs[ref[2]]
                   for ref in self.outputs]
        return Plan(graph, fetches, [], feeds)

    def __call__(self, *blocks):
        plan = self.plan()
        try:
            return blas_limited(in_row_blocks, lambda block: plan.run(block, None),
                                list(blocks), [chunked for _, _, chunked in self.inputs],
                                self.block_rows, self.kinds)
        except OpError as err:
            step = next((s for s in self.steps if err.op is not None and s[1] == err.op.name),
                        None)
            if step is None:
                raise
            cause = err.__cause__ if err.__cause__ is not None else err.message
            shapes = ", ".join(f"{getattr(b, 'shape', '?')} {getattr(b, 'dtype', type(b))}"
                               for b in blocks)
            raise ChunkTaskError(step[5], f"{step[6]} failed at run time on a chunk: "
                                 f"{cause} [region inputs: {shapes}]") from None
