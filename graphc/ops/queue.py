"""Queue ops of TF1's input pipelines: a ``queue`` op makes the queue's handle, the others
take it as input 0 (``queue_enqueue``, ``queue_enqueue_many``, ``queue_dequeue``,
``queue_dequeue_many``, ``queue_dequeue_up_to``, ``queue_close``, ``queue_size``,
``queue_is_closed``).

A queue is a piece of Session state (``RunContext.resource``), named by its ``shared_name``
or else its op's name: two Sessions on one graph have separate queues, and queue ops of one
graph with the same shared name share one queue in a Session, as in TF1. Every op here is
stateful: passes never fold, merge or drop them, and each runs once per ``session.run`` that
needs it. Their kernels block (an enqueue into a full queue, a dequeue from an empty one) and
change the queue at once, not staged: a run that fails after a dequeue has still dequeued.
The queue's semantics: ``graphc.ops.queue_state``; the public classes: ``graphc.queues``.
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.errors import InvalidArgumentError, NotFoundError, describe_op
from graphc.ops.queue_state import QUEUE_KINDS
from graphc.registry import OpDef
from graphc.shapes import TensorShape
from graphc.static_values import constant_value

__all__ = ["queue_of", "resource_of", "QUEUE_OPS"]

_TESTS = "tests/test_queues.py"


def _handle_value(name: str) -> np.ndarray:
    return np.array(name.encode(), dtype=object)


def _make_queue_kernel(ctx, kind, component_types, shapes, capacity, min_after_dequeue,
                       seed, seed2, shared_name):
    op = ctx.op
    name = shared_name or op.name
    spec = (kind, tuple(t.name for t in component_types),
            tuple(str(s) for s in shapes), int(capacity), int(min_after_dequeue))

    def make():
        state = QUEUE_KINDS[kind](name, capacity, min_after_dequeue,
                                  None if seed is None and seed2 is None
                                  else (seed or 0, seed2 or 0))
        state.spec, state.shapes = spec, tuple(shapes)
        return state

    state = ctx.resource(name, make)
    if state.spec != spec:
        raise InvalidArgumentError(None, op, f"{describe_op(op)}: shared queue '{name}' is "
                                   f"a {state.spec[0]} of types {list(state.spec[1])}, shapes "
                                   f"{list(state.spec[2])}, capacity {state.spec[3]}, but "
                                   f"this op asks for a {kind} of types {list(spec[1])}, "
                                   f"shapes {list(spec[2])}, capacity {spec[3]}")
    return _handle_value(name)


def resource_of(ctx, handle, what: str = "queue"):
    """The Session's resource (a queue, a reader) that the run-time ``handle`` value names;
    NotFoundError naming the op when the Session has none of that name."""
    name = handle.item() if isinstance(handle, np.ndarray) else handle
    name = name.decode() if isinstance(name, bytes) else str(name)
    state = ctx.resource(name)
    if state is None:
        raise NotFoundError(None, ctx.op, f"{describe_op(ctx.op)}: no {what} named '{name}' "
                            "in this Session")
    return state


queue_of = resource_of  # the queue a handle names


def _handle_dtypes(in_dtypes, attrs):
    if in_dtypes and in_dtypes[0] is not gdt.string:
        raise TypeError(f"input 0 must be a queue handle (a string scalar), got "
                        f"{in_dtypes[0].name}")
    return None


def _no_outputs(in_dtypes, attrs):
    _handle_dtypes(in_dtypes, attrs)
    return []


def _check_element(state, values, op, many: bool) -> None:
    """Run-time shapes of enqueued values against the queue's declared shapes."""
    for index, (declared, value) in enumerate(zip(state.shapes, values)):
        shape = np.shape(value)[1:] if many else np.shape(value)
        if not declared.is_compatible_with(TensorShape(list(shape))):
            raise InvalidArgumentError(
                None, op, f"Shape mismatch in tuple component {index}. Expected "
                f"{_dims(declared)}, got {list(shape)} ({describe_op(op)} on {state.kind} "
                f"'{state.name}')")


def _dims(shape: TensorShape) -> list:
    return [-1 if d is None else d for d in shape.dims]


def _enqueue_kernel(ctx, handle, *values):
    state = queue_of(ctx, handle)
    _check_element(state, values, ctx.op, many=False)
    dtypes = [t.dtype.np for t in ctx.op.inputs[1:]]  # strings stay object arrays of bytes
    state.enqueue_many([tuple(np.array(v, dtype=d) for v, d in zip(values, dtypes))], ctx.op)


def _enqueue_many_kernel(ctx, handle, *values):
    state, op = queue_of(ctx, handle), ctx.op
    sizes = {np.shape(v)[0] if np.ndim(v) else None for v in values}
    if len(sizes) != 1 or None in sizes:
        raise InvalidArgumentError(None, op, f"{describe_op(op)}: enqueue_many needs every "
                                   "component to have the same size in the 0th dimension, "
                                   f"got shapes {[list(np.shape(v)) for v in values]}")
    _check_element(state, values, op, many=True)
    copies = [np.array(v, copy=True) for v in values]
    # dtype=: a row of a string (object) vector is a bytes object, which np.array alone
    # would make a fixed-width "S" array (dropping trailing NUL bytes)
    state.enqueue_many([tuple(np.array(c[row], dtype=c.dtype) for c in copies)
                        for row in range(sizes.pop())], op)


def _dequeue_kernel(ctx, handle, component_types, shapes):
    [element] = queue_of(ctx, handle).dequeue_many(1, ctx.op)
    return element[0] if len(element) == 1 else tuple(element)


def _dequeue_n(allow_smaller: bool):
    def kernel(ctx, handle, count, component_types, shapes):
        state, op = queue_of(ctx, handle), ctx.op
        count = int(count)
        if count < 0:
            raise InvalidArgumentError(None, op, f"{describe_op(op)}: the number of elements "
                                       f"to dequeue must be >= 0, got {count}")
        padded = state.kind == "PaddingFIFOQueue"
        if not padded and not all(s.is_fully_defined() for s in shapes):
            raise InvalidArgumentError(None, op, f"{describe_op(op)}: {state.kind}'s "
                                       "DequeueMany and DequeueUpTo require the components to "
                                       f"have specified shapes, got {[str(s) for s in shapes]}")
        if count == 0:
            arrays = [np.zeros([0] + [d or 0 for d in s.dims], t.np)
                      for s, t in zip(shapes, component_types)]
        else:
            arrays = state.batch(state.dequeue_many(count, op, allow_smaller), op)
        return arrays[0] if len(arrays) == 1 else tuple(arrays)
    return kernel


def _close_kernel(ctx, handle, cancel_pending_enqueues):
    queue_of(ctx, handle).close(bool(cancel_pending_enqueues))


def _size_kernel(ctx, handle):
    return np.array(queue_of(ctx, handle).size(), np.int32)


def _is_closed_kernel(ctx, handle):
    return np.array(queue_of(ctx, handle).is_closed())


def _batched_shapes(first_dim):
    def rule(inputs, attrs):
        dim = first_dim(inputs)
        return [TensorShape([dim]).concatenate(s) for s in attrs["shapes"]]
    return rule


def _static_count(inputs):
    value = constant_value(inputs[1])
    return None if value is None else int(value)


def _component_dtypes(in_dtypes, attrs):
    _handle_dtypes(in_dtypes, attrs)
    return list(attrs["component_types"])


_COMMON = dict(grad=registry.NOT_DIFFERENTIABLE, stateful=True, foldable=False,
               needs_context=True, unknown_rank_ok=True, tested_elsewhere=_TESTS)
_DEQUEUE_ATTRS = {"component_types": (), "shapes": ()}

QUEUE = registry.register(OpDef(
    name="queue", dtypes=lambda d, attrs: [gdt.string], shapes=lambda ins, attrs: [()],
    kernel=_make_queue_kernel,
    attrs={"kind": "FIFOQueue", "component_types": (), "shapes": (), "capacity": -1,
           "min_after_dequeue": 0, "seed": None, "seed2": None, "shared_name": ""},
    doc="Makes (on first use in a Session) the queue and gives its handle.", **_COMMON))
QUEUE_ENQUEUE = registry.register(OpDef(
    name="queue_enqueue", dtypes=_no_outputs, shapes=lambda ins, attrs: [],
    kernel=_enqueue_kernel, doc="Puts one element (one value per component) in the queue, "
    "waiting while it is full.", **_COMMON))
QUEUE_ENQUEUE_MANY = registry.register(OpDef(
    name="queue_enqueue_many", dtypes=_no_outputs, shapes=lambda ins, attrs: [],
    kernel=_enqueue_many_kernel, doc="Puts the rows of the components (sliced along axis 0) "
    "in the queue as elements, waiting for room as needed.", **_COMMON))
QUEUE_DEQUEUE = registry.register(OpDef(
    name="queue_dequeue", dtypes=_component_dtypes,
    shapes=lambda ins, attrs: list(attrs["shapes"]), kernel=_dequeue_kernel,
    attrs=dict(_DEQUEUE_ATTRS), fresh_output=True,
    doc="Takes one element, waiting until there is one; OutOfRangeError once the queue is "
        "closed and empty.", **_COMMON))
QUEUE_DEQUEUE_MANY = registry.register(OpDef(
    name="queue_dequeue_many", dtypes=_component_dtypes,
    shapes=_batched_shapes(_static_count), kernel=_dequeue_n(False),
    attrs=dict(_DEQUEUE_ATTRS), fresh_output=True,
    doc="Takes n elements as one batch per component, waiting until there are n.",
    **_COMMON))
QUEUE_DEQUEUE_UP_TO = registry.register(OpDef(
    name="queue_dequeue_up_to", dtypes=_component_dtypes,
    shapes=_batched_shapes(lambda inputs: None), kernel=_dequeue_n(True),
    attrs=dict(_DEQUEUE_ATTRS), fresh_output=True,
    doc="Like queue_dequeue_many, but a closed queue gives its last elements (fewer than n).",
    **_COMMON))
QUEUE_CLOSE = registry.register(OpDef(
    name="queue_close", dtypes=_no_outputs, shapes=lambda ins, attrs: [],
    kernel=_close_kernel, attrs={"cancel_pending_enqueues": False},
    doc="Closes the queue: later enqueues fail; with cancel_pending_enqueues, the waiting "
        "ones too.", **_COMMON))
QUEUE_SIZE = registry.register(OpDef(
    name="queue_size", dtypes=lambda d, attrs: _handle_dtypes(d, attrs) or [gdt.int32],
    shapes=lambda ins, attrs: [()], kernel=_size_kernel,
    doc="The number of elements in the queue (int32).", **_COMMON))
QUEUE_IS_CLOSED = registry.register(OpDef(
    name="queue_is_closed", dtypes=lambda d, attrs: _handle_dtypes(d, attrs) or [gdt.bool],
    shapes=lambda ins, attrs: [()], kernel=_is_closed_kernel,
    doc="Whether the queue is closed.", **_COMMON))

QUEUE_OPS = (QUEUE, QUEUE_ENQUEUE, QUEUE_ENQUEUE_MANY, QUEUE_DEQUEUE, QUEUE_DEQUEUE_MANY,
             QUEUE_DEQUEUE_UP_TO, QUEUE_CLOSE, QUEUE_SIZE, QUEUE_IS_CLOSED)
