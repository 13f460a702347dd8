"""Gradients of eager values: ``GradientTape`` (TF2's API) and ``tensor.partial(other)``.

Nothing here differentiates by itself. Eager ops are recorded as graph ops (core.py), so a
gradient is ``gc.gradients`` over the recorded tree: the registry's grad rules build the
gradient ops, which run eagerly as they are built. An eager gradient is therefore itself an
eager tensor with a recorded tree (renderable, differentiable again).

A tape adds TF2's bookkeeping on top: which ops ran while it was recording, which tensors it
watches. Paths through ops it did not record, or from tensors it does not watch, carry no
gradient (``gc.gradients`` gets them as ``stop_gradients``).

Example:
    >>> with gc.eager():
    ...     x = gc.constant(3.0)
    ...     with gc.GradientTape() as tape:
    ...         tape.watch(x)
    ...         y = x * x
    ...     tape.gradient(y, x).numpy()
    6.0
"""
from __future__ import annotations

import numpy as np

from graphc.convert import convert_to_tensor
from graphc.data.structure import flatten, pack_as
from graphc.graph import Tensor, get_default_graph, required_ops
from graphc.ops.array import stack
from graphc.ops.creation import zeros_like
from graphc.ops.shape_ops import reshape
from graphc.passes.gradients import gradients

from .core import EagerGraph, EagerTensor

__all__ = ["GradientTape", "partial", "UnconnectedGradients"]


class UnconnectedGradients:
    """TF2's choices for a source the target does not depend on."""

    NONE = "none"
    ZERO = "zero"


class GradientTape:
    """Record eager ops to differentiate them (TF2's ``tf.GradientTape``).

    Args:
        persistent: allow more than one ``gradient`` call.
        watch_accessed_variables: watch every trainable variable read while recording.

    Outside eager execution (a ``gc.function`` being traced, a graph) the tape records
    nothing and ``gradient`` is ``gc.gradients`` of the graph.

    Example:
        >>> w = gc.Variable([1.0, 2.0])
        >>> with gc.GradientTape() as tape:
        ...     loss = gc.reduce_sum(w * w)
        >>> tape.gradient(loss, w).numpy()
        array([2., 4.], dtype=float32)
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        self.persistent = bool(persistent)
        self.watch_accessed_variables = bool(watch_accessed_variables)
        self._recorded: set = set()  # ids of the ops run while recording
        self._watched: dict = {}  # id -> watched tensor (or variable handle)
        self._graph = None
        self._recording = False
        self._used = False

    # -- recording ------------------------------------------------------------------------
    def __enter__(self) -> "GradientTape":
        graph = get_default_graph()
        if isinstance(graph, EagerGraph):
            self._graph = graph
            self._start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop()

    def _start(self) -> None:
        if self._graph is not None and not self._recording:
            self._graph.observers.append(self)
            self._recording = True

    def _stop(self) -> None:
        if self._recording:
            self._graph.observers.remove(self)
            self._recording = False

    def _record(self, op) -> None:
        self._recorded.add(op._id)

    def stop_recording(self):
        """A ``with`` block in which ops run without being recorded."""
        return _Paused(self)

    def reset(self) -> None:
        """Forget everything recorded so far (the tape keeps recording)."""
        self._recorded.clear()
        self._watched.clear()

    def watch(self, tensor) -> None:
        """Differentiate with respect to ``tensor`` (a tensor, a Variable, or a nest)."""
        for item in flatten(tensor):
            target = _source(item)
            self._watched[id(target)] = target

    def watched_variables(self) -> tuple:
        reads = self._graph._variable_reads if self._graph is not None else {}
        return tuple(reads[t.op] for t in self._watched.values() if t.op in reads)

    # -- differentiating -------------------------------------------------------------------
    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients: str = UnconnectedGradients.NONE):
        """The gradient of ``target`` (summed over a nest of tensors) with respect to each
        of ``sources``, in the nest structure of ``sources``.

        Raises:
            RuntimeError: a non-persistent tape asked a second time.
        """
        if self._used and not self.persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute "
                               "one set of gradients (or jacobians); pass persistent=True")
        self._used = True
        targets = [convert_to_tensor(t) for t in flatten(target)]
        flat_sources = flatten(sources)
        for source in flat_sources:
            _source(source)  # a clear error for what cannot be a source
        grad_ys = None if output_gradients is None else flatten(output_gradients)
        stop = self._unrecorded(targets) if self._graph is not None else []
        # Variables as themselves: gradients() takes a bare handle for a read of it
        grads = gradients(targets, flat_sources, grad_ys=grad_ys, stop_gradients=stop,
                          unconnected_gradients=unconnected_gradients)
        return pack_as(sources, grads)

    def jacobian(self, target, sources, unconnected_gradients=UnconnectedGradients.NONE):
        """``d target[i...] / d source[j...]``, shaped ``target.shape + source.shape``; one
        gradient per element of ``target``."""
        target = convert_to_tensor(target)
        if not target.shape.is_fully_defined():
            raise ValueError(f"jacobian: the target needs a fully defined shape, got "
                             f"{target.shape}")
        was_recording = self._recording
        self._start()  # the elements are picked on the tape, so gradients reach through
        try:
            flat = reshape(target, [-1])
            elements = [flat[i] for i in range(target.shape.num_elements())]
        finally:
            if not was_recording:
                self._stop()
        persistent, self.persistent = self.persistent, True
        try:
            results = []
            for source in flatten(sources):
                rows = [self.gradient(element, source,
                                      unconnected_gradients=unconnected_gradients)
                        for element in elements]
                results.append(_stacked(rows, target, _source(source)))
            return pack_as(sources, results)
        finally:
            self.persistent = persistent

    def _unrecorded(self, targets) -> list:
        """The tensors gradients must not flow into: inputs of recorded ops made by ops
        this tape did not record, unless watched or a trainable variable read while
        recording; and targets the tape did not record."""
        recorded = self._recorded
        wanted = set(self._watched)  # sources themselves are not watched (TF2: None)
        stop = [t for t in targets if t.op._id not in recorded and id(t) not in wanted]
        seen = set()
        for op in required_ops(targets, control=False):
            if op._id not in recorded:
                continue
            for tensor in op.inputs:
                if tensor.op._id in recorded or id(tensor) in wanted or id(tensor) in seen:
                    continue
                seen.add(id(tensor))
                if not self._auto_watched(tensor):
                    stop.append(tensor)
        return stop

    def _auto_watched(self, tensor) -> bool:
        if not self.watch_accessed_variables:
            return False
        variable = self._graph._variable_reads.get(tensor.op)  # set for variable handles
        return variable is not None and variable.trainable


class _Paused:
    def __init__(self, tape: GradientTape):
        self.tape = tape

    def __enter__(self):
        self.tape._stop()

    def __exit__(self, *exc):
        self.tape._start()


def _source(value) -> Tensor:
    """A Variable is differentiated through its handle (every read of it counts)."""
    handle = getattr(value, "_handle", None)
    if isinstance(handle, Tensor):
        return handle
    if not isinstance(value, Tensor):
        raise TypeError(f"GradientTape: cannot differentiate with respect to {value!r}: "
                        "expected a tensor or a Variable")
    return value


def _stacked(rows, target, source):
    """Jacobian rows (None: no dependence) stacked into ``target.shape + source.shape``."""
    filled = [zeros_like(source) if row is None else row for row in rows]
    return reshape(stack(filled), list(target.shape.dims) + list(source.shape.dims))


# -- tensor.partial -----------------------------------------------------------------------
def partial(tensor: EagerTensor, other) -> EagerTensor:
    """``d sum(tensor) / d other``, where ``other`` is a tensor ``tensor`` was computed from
    or one equal to a subexpression of it (``theta[0]`` written again selects the same
    element: the same op on the same inputs or equal constants).

    Raises:
        ValueError: ``tensor`` was not computed from anything equal to ``other``.
    """
    other = convert_to_tensor(other)
    history = required_ops([tensor], control=False)
    match = other if other.op in history else _equal_subexpression(history, other)
    if match is None:
        raise ValueError(f"partial: {tensor.name!r} was not computed from {other.name!r} "
                         f"({other.op.type}) nor from any expression equal to it")
    [grad] = gradients(tensor, [match], unconnected_gradients="zero")
    return grad


def _equal_subexpression(history, other):
    for op in history:
        if op.type == other.op.type and _same_expression(op.outputs[other.value_index], other):
            return op.outputs[other.value_index]
    return None


def _same_expression(a: Tensor, b: Tensor, depth: int = 16) -> bool:
    if a is b:
        return True
    if depth == 0 or a.op.type != b.op.type or a.value_index != b.value_index:
        return False
    if a.op.opdef.stateful or a.op.opdef.random:
        return False  # two reads or draws are two values
    if len(a.op.inputs) != len(b.op.inputs) or a.op.attrs.keys() != b.op.attrs.keys():
        return False
    for key, value in a.op.attrs.items():
        if not _same_attr(value, b.op.attrs[key]):
            return False
    return all(_same_expression(x, y, depth - 1) for x, y in zip(a.op.inputs, b.op.inputs))


def _same_attr(x, y) -> bool:
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        x, y = np.asarray(x), np.asarray(y)
        return x.dtype == y.dtype and x.shape == y.shape and bool(np.array_equal(x, y))
    try:
        return bool(x == y)
    except (TypeError, ValueError):
        return x is y


EagerTensor.partial = partial  # the method lives here: differentiating is above the IR
