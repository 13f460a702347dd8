"""Execution plans: the pruned, ordered steps that compute some fetches from some feeds.

A plan is built once per (fetches, feeds) signature and cached by the Session. Values live in
a flat list of slots; each slot is cleared right after its last reader, so intermediates are
freed as early as possible.
"""
from __future__ import annotations

import functools
import threading

import networkx as nx

from graphc import registry
from graphc.control_flow.subgraph import variables_updated_inside
from graphc.errors import (InvalidArgumentError, OpError, describe_op, describe_tensor)
from graphc.graph import Graph, Operation, Tensor, required_ops
from graphc.shapes import format_shape

from . import threads as thread_policy
from .arena import plan_arena
from .batch_regions import form_regions
from .codegen import compile_plan
from .memory import (estimate_peak_bytes, fetch_aliases, owned_copy, plan_frees, plan_in_place,
                     unshared, writeable)

__all__ = ["Plan", "LONG_PLAN_STEPS", "LOOP_RUNS"]

# Straight-line code (codegen.py) costs Python's compiler about 5-10 us per step, once; the
# plain step loop costs a fraction of a microsecond per step more on every run. So a plan of
# more than LONG_PLAN_STEPS steps runs the loop for its first LOOP_RUNS runs and is compiled
# when it runs again: a 150,000-step plan gives its first result without a second of
# compiling first, and a plan run in a loop is still compiled early.
LONG_PLAN_STEPS = 10_000
LOOP_RUNS = 8


class Step:
    """One op's kernel bound to its attributes, with the slots it reads and writes."""

    __slots__ = ("op", "fn", "inputs", "outputs", "single", "needs_context", "frees",
                 "constant", "in_place", "arena", "arena_buffers")

    def __init__(self, op: Operation, inputs: list, outputs: list):
        opdef = registry.get(op.type)
        self.op = op
        if opdef.bind is not None:
            self.fn = opdef.bind(op)
        else:
            self.fn = functools.partial(opdef.kernel, **op.attrs) if op.attrs else opdef.kernel
        self.inputs = inputs
        self.outputs = outputs
        self.single = len(outputs) == 1
        self.needs_context = opdef.needs_context
        self.frees: list = []
        # a pure op without inputs (a constant) is evaluated once, when the plan is built
        self.constant = (not inputs and opdef.foldable and not opdef.stateful
                         and not opdef.random and not opdef.needs_context)
        self.in_place = None  # input position whose buffer receives the result
        self.arena = False  # the result goes into a buffer kept across runs (arena.py)
        self.arena_buffers = ()  # which of the arena's buffers, one per result


class Plan:
    """Compiled steps for one signature. ``run(feed_values, ctx)`` returns the fetch values.

    Example:
        >>> plan = Plan(graph, [probs], [], [x])
        >>> [p] = plan.run([batch], RunContext(state))
    """

    def __init__(self, graph: Graph, fetch_tensors: list, targets: list, feed_tensors: list,
                 own_fetches: bool = True, donated_feeds=frozenset()):
        fed = frozenset(feed_tensors)
        needed = required_ops(fetch_tensors, targets, fed)
        self.check_feeds(needed, fed, fetch_tensors, targets)
        self.graph = graph
        self.records: list = []
        try:
            order = graph.topological_order(needed)
        except nx.NetworkXUnfeasible:
            raise ValueError("The graph has a cycle through control dependencies; "
                             "it cannot be run") from None
        slot_of: dict = {t: i for i, t in enumerate(feed_tensors)}
        self.steps: list[Step] = []
        for op in order:
            inputs = [slot_of[t] for t in op.inputs]
            outputs = []
            for tensor in op.outputs:
                if tensor in fed:
                    outputs.append(None)  # computed but superseded by the feed
                else:
                    slot_of[tensor] = len(slot_of)
                    outputs.append(slot_of[tensor])
            self.steps.append(Step(op, inputs, outputs))
        # the variables this plan's runs update, in the order their locks are taken
        self.updated_variables = tuple(sorted({
            step.op.inputs[0].op.name for step in self.steps
            if registry.get(step.op.type).updates_variable}.union(*(
                variables_updated_inside(step.op) for step in self.steps
                if registry.get(step.op.type).subgraphs))))
        self.num_slots = len(slot_of)
        self.num_feeds = len(feed_tensors)
        self.fetch_slots = [slot_of[t] for t in fetch_tensors]
        # runs of ops that split along the batch run piece by piece on the pool's threads
        self.steps = form_regions(self.steps, self.fetch_slots, _kernel_error,
                                  thread_policy.current_policy().pool_threads)
        # fetched arrays are the caller's own: never a feed, variable value or constant
        # (unless the caller is a loop handing them to its next iteration: own_fetches)
        self.output_aliases = fetch_aliases(self.steps, self.num_feeds, self.fetch_slots)
        self.own_fetches = own_fetches
        self.fetch_aliases = self.output_aliases if own_fetches else [()] * len(
            self.fetch_slots)
        plan_frees(self.steps, set(self.fetch_slots).union(*self.fetch_aliases))
        plan_in_place(self.steps, self.num_feeds, self.fetch_slots, frozenset(donated_feeds))
        self.arena_buffers = plan_arena(self.steps, self.fetch_slots)
        self.arena_steps = sum(step.arena for step in self.steps)
        self._arenas: list = []  # idle (buffers, keys) pairs; each run takes one of its own
        self.estimated_peak_bytes = estimate_peak_bytes(self.steps)
        self._compiled = None
        self._looped_runs = 0
        self._compile_lock = threading.Lock()
        if len(self.steps) <= LONG_PLAN_STEPS:
            self._compile()

    def _compile(self):
        with self._compile_lock:
            if self._compiled is None:
                self._compiled = compile_plan(
                    self.steps, self.num_feeds, self.fetch_slots,
                    lambda step, args, err: _kernel_error(step.op, args, err),
                    passthrough=(OpError,), fetch_aliases=self.fetch_aliases,
                    own_fetches=self.own_fetches)
        return self._compiled

    @staticmethod
    def check_feeds(needed, fed, fetch_tensors, targets) -> None:
        """Raise InvalidArgumentError naming an unfed placeholder and the fetch needing it."""
        placeholders = [op for op in needed if op.type == "placeholder"]
        for op in sorted(placeholders, key=lambda o: o._id):
            if op.outputs[0] not in fed:
                placeholder = op.outputs[0]
                needers = [e.name for e in list(fetch_tensors) + list(targets)
                           if op in required_ops([e] if isinstance(e, Tensor) else [],
                                                 [e] if isinstance(e, Operation) else [], fed)]
                raise InvalidArgumentError(
                    None, op, f"You must feed a value for placeholder tensor "
                    f"'{placeholder.name}' with dtype {placeholder.dtype.name} and shape "
                    f"{format_shape(placeholder.shape)}: it is needed by fetch "
                    f"{', '.join(repr(n) for n in needers)} ({describe_op(op)})")

    @property
    def source(self) -> str:
        """The generated Python of this plan (one line per op)."""
        return self._compile().source

    def run(self, feed_values: list, ctx) -> list:
        """Execute the plan: ``feed_values`` in feed order; returns the fetch values.

        Runs in several threads at once each take an arena (the buffers kept across runs)
        of their own from the plan's idle list, and give it back when done. A long plan
        runs the step loop until it is hot (``LONG_PLAN_STEPS``)."""
        compiled = self._compiled
        if compiled is None:
            self._looped_runs += 1
            if self._looped_runs <= LOOP_RUNS:
                return self.run_interpreted(feed_values, ctx)
            compiled = self._compile()
        if not self.arena_steps:
            return compiled(feed_values, ctx, None, None)
        arenas = self._arenas
        try:
            buffers, keys = arenas.pop()
        except IndexError:
            buffers, keys = [None] * self.arena_buffers, [None] * len(self.steps)
        try:
            return compiled(feed_values, ctx, buffers, keys)
        finally:
            arenas.append((buffers, keys))

    def run_interpreted(self, feed_values: list, ctx) -> list:
        """The same as ``run`` through a plain loop over the steps (a reference for tests)."""
        slots: list = [None] * self.num_slots
        slots[:self.num_feeds] = feed_values
        for step in self.steps:
            args = [slots[i] for i in step.inputs]
            try:
                if step.needs_context:
                    ctx.op = step.op
                    result = step.fn(ctx, *args)
                else:
                    result = step.fn(*args)
            except OpError:
                raise
            except Exception as err:  # noqa: BLE001 - every kernel failure gets the op's context
                raise _kernel_error(step.op, args, err) from err
            if step.single:
                if step.outputs[0] is not None:
                    slots[step.outputs[0]] = result
            else:
                for slot, value in zip(step.outputs, result):
                    if slot is not None:
                        slots[slot] = value
            for slot in step.frees:
                slots[slot] = None
        return [_owned(slots, slot, aliases, self.own_fetches)
                for slot, aliases in zip(self.fetch_slots, self.fetch_aliases)]


def _owned(slots: list, slot: int, aliases: tuple, own: bool):
    """The fetched value of ``slot`` as the caller may keep it (see ``fetch_aliases``):
    where the caller owns its fetches (``own``), never read-only (``writeable``)."""
    if aliases == (slot,):
        return owned_copy(slots[slot])
    value = unshared(slots[slot], *(slots[alias] for alias in aliases))
    return writeable(value) if own else value


def _kernel_error(op: Operation, args: list, err: Exception) -> InvalidArgumentError:
    inputs = []
    for tensor, value in zip(op.inputs, args):
        shape = getattr(value, "shape", None)
        dtype = getattr(value, "dtype", type(value).__name__)
        inputs.append(f"{describe_tensor(tensor)} got value of shape {shape} dtype {dtype}")
    listed = "; ".join(inputs) or "no inputs"
    return InvalidArgumentError(None, op, f"{describe_op(op)} failed at run time: {err} "
                                f"[inputs: {listed}]")



