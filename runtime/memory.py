"""Memory planning for a plan's steps: which elementwise results may overwrite a dead
input's buffer and an estimate of the plan's peak bytes (the buffers kept across runs:
arena.py).

An input buffer is reused (``ufunc(a, b, out=a)``) only when nothing else can still see it:
it was freshly allocated by this run (a ufunc or matmul result: never a feed the caller
holds, a variable's stored value or a constant, which are read-only anyway), it dies at this
step, it is not fetched, every reader of it allocates its own result (so no view of it lives
on elsewhere), and its static shape and dtype are exactly the result's.
"""
from __future__ import annotations

import math

import numpy as np

from graphc import registry

__all__ = ["plan_in_place", "estimate_peak_bytes", "fetch_aliases", "owned_copy", "unshared",
           "writeable", "allocates_fresh", "static_bytes", "opdef_of", "takes_out",
           "plan_frees"]


def opdef_of(step):
    """The record the planners ask about a step: its op's OpDef, or the one a step of its
    own kind carries (a batch region's: runtime/batch_regions.py)."""
    return getattr(step, "opdef", None) or registry.get(step.op.type)


def allocates_fresh(step) -> bool:
    """The step's outputs are new arrays that only its slots refer to."""
    opdef = opdef_of(step)
    return (opdef.ufunc and opdef.bind is None) or opdef.fresh_output


def takes_out(step) -> bool:
    """Whether the step's kernel accepts ``out=`` (see ``OpDef.takes_out``)."""
    opdef = opdef_of(step)
    if opdef.ufunc and step.fn is opdef.kernel:
        return True
    return opdef.takes_out(step.op) if callable(opdef.takes_out) else opdef.takes_out


def plan_frees(steps, keep=frozenset()) -> None:
    """Append to each step's ``frees`` the slots it reads last (those in ``keep`` stay)."""
    last_reader: dict = {}
    for index, step in enumerate(steps):
        for slot in step.inputs:
            last_reader[slot] = index
    for slot, index in last_reader.items():
        if slot not in keep:
            steps[index].frees.append(slot)


def plan_in_place(steps, num_feeds: int, fetch_slots, donated=frozenset()) -> None:
    """Set ``step.in_place`` to the input position whose buffer the result may take.

    ``donated``: feed slots whose arrays the caller gives the run to change (a loop's own
    values of the previous iteration), as if this run had allocated them.
    """
    producer, readers = {}, {}
    for step in steps:
        for slot in step.outputs:
            if slot is not None:
                producer[slot] = step
        for slot in step.inputs:
            readers.setdefault(slot, []).append(step)
    fetched = set(fetch_slots)
    for step in steps:
        step.in_place = None
        opdef = opdef_of(step)
        if opdef.updates_input:
            slot = step.inputs[0]
            owned = slot in donated or (slot >= num_feeds and producer.get(slot) is not None
                                        and allocates_fresh(producer[slot]))
            if (owned and slot not in fetched and slot in step.frees
                    and step.inputs.count(slot) == 1
                    and all(allocates_fresh(reader) for reader in readers[slot])):
                step.in_place = 0
            continue
        if not opdef.ufunc or step.op.attrs or len(step.outputs) != 1:
            continue
        result = step.op.outputs[0]
        if not result.shape.is_fully_defined() or not result.shape.rank:
            continue  # 0-d results are NumPy scalars, which cannot receive out=
        for position, (slot, tensor) in enumerate(zip(step.inputs, step.op.inputs)):
            source = producer.get(slot)
            if (slot < num_feeds or slot in fetched or slot not in step.frees or source is None
                    or not allocates_fresh(source) or tensor.dtype is not result.dtype
                    or tensor.shape != result.shape
                    or not all(allocates_fresh(reader) for reader in readers[slot])):
                continue
            step.in_place = position
            break


def fetch_aliases(steps, num_feeds: int, fetch_slots) -> list:
    """For each fetch, the slots of arrays the caller must not receive that its value may be
    or view: feeds (the caller's own arrays), variable values (the session's storage, which
    later updates recycle) and constants (shared by every run). ``()`` when the value is
    certainly this run's own array; ``(slot,)`` of the fetch itself when it is one of them.

    Decided once per plan from the registry: results of kernels that allocate
    (``fresh_output``, ufuncs) are new; stateful ops return session state; any other op's
    result may be (a view of) one of its inputs (``identity``, ``reshape``, slices,
    ``transpose``...), so it inherits their aliases. The plan copies a fetch that is a source
    itself and checks the others with ``np.may_share_memory`` at run time (``unshared``).

    Example:
        >>> fetch_aliases(plan.steps, 1, plan.fetch_slots)   # fetches reshape(x), x*2
        [(0,), ()]
    """
    aliases: dict = {slot: (slot,) for slot in range(num_feeds)}
    for step in steps:
        opdef = opdef_of(step)
        # a stateful op returns session state, unless its results are new (iterator_get_next)
        source = step.constant or (opdef.stateful and not opdef.fresh_output)
        inherited = () if source or allocates_fresh(step) else tuple(sorted(
            {alias for slot in step.inputs for alias in aliases[slot]}))
        for slot in step.outputs:
            if slot is not None:
                aliases[slot] = (slot,) if source else inherited
    return [aliases[slot] for slot in fetch_slots]


def owned_copy(value):
    """A copy the caller owns of an array (NumPy scalars and other values are immutable)."""
    return value.copy() if isinstance(value, np.ndarray) else value


def writeable(value):
    """``value``, or a dense copy of it where it is a read-only array: a fetched value is the
    caller's own array to write into, as TF1 hands it out, and a kernel may return a
    read-only view (np.broadcast_to's, whose elements share their memory)."""
    if isinstance(value, np.ndarray) and not value.flags.writeable:
        return value.copy()
    return value


def unshared(value, *sources):
    """``value``, or a copy of it when it may share memory with one of ``sources``
    (a bounds check: O(1), and exact for the usual case of a view or a new array)."""
    if not isinstance(value, np.ndarray):
        return value  # NumPy scalars and Python values own their data
    for source in sources:
        if np.may_share_memory(value, source):
            return owned_copy(value)
    return value


def static_bytes(tensor) -> int:
    """Bytes of ``tensor`` by its static shape (unknown dims count as 1)."""
    dims = tensor.shape.dims
    if dims is None:
        return tensor.dtype.size
    return math.prod(1 if d is None else d for d in dims) * tensor.dtype.size


def estimate_peak_bytes(steps) -> int:
    """Peak bytes the plan's own results occupy at once, from static shapes (unknown dims
    count as 1: multiply by the batch size for batched inputs); in-place results and
    constants allocate nothing."""
    live, peak, size = 0, 0, {}
    for step in steps:
        for slot, tensor in zip(step.outputs, step.op.outputs):
            if slot is None:
                continue
            size[slot] = 0 if step.in_place is not None or step.constant else static_bytes(tensor)
            live += size[slot]
        peak = max(peak, live)
        for slot in step.frees:
            live -= size.get(slot, 0)
    return peak
