"""Iterators of ``tf.data`` pipelines in a Session: their element streams, and the compiled
plans that run the datasets' traced functions (``map``, ``filter``, ``flat_map``...).

A dataset (``graphc.data``) describes a pipeline; ``dataset._elements(env)`` makes a Python
iterator of its elements, each a list of NumPy arrays (one per component of the element
structure). ``env`` (a ``DatasetEnv``) is what the stream needs from the Session: the values
the dataset's captured tensors had when the iterator was initialized, a way to call a traced
function (a graph of its own, optimized and compiled once per Session into a ``Plan``), and
per-Session counters that give shuffles a new order each epoch, reproducibly.

Semantics, as TF1: an iterator advances when its ``get_next`` op runs, even in a run that then
fails; such a run still changes no variable (writes are staged, ``graphc.runtime.state``). At
the end of the stream every ``get_next`` raises ``OutOfRangeError`` until the iterator is
initialized again. Errors inside the pipeline (a bad element, a failing map function) are
raised as the OpError they are, naming the ``get_next`` op.
"""
from __future__ import annotations

import threading

import numpy as np

from graphc.errors import (FailedPreconditionError, InvalidArgumentError, OpError,
                           OutOfRangeError, describe_op)
from graphc.passes import Interface, optimize_interface

from .plan import Plan

__all__ = ["IteratorResource", "DatasetEnv", "initialize_iterator", "next_element"]


class IteratorResource:
    """One iterator's state in one Session: the stream it was last initialized with.

    ``lock`` makes taking an element atomic when runs of several threads share the iterator;
    ``copies`` says the stream's arrays are not new (rows of a dataset's array, cached
    elements), so each is copied before a run may see it.
    """

    __slots__ = ("lock", "stream", "done", "copies")

    def __init__(self):
        self.lock = threading.Lock()
        self.stream = None
        self.done = False
        self.copies = False

    def start(self, dataset, env) -> None:
        self.stream = iter(dataset._elements(env))
        self.done = False
        self.copies = not dataset.fresh


class DatasetEnv:
    """What one initialization of an iterator gives its dataset's element streams.

    Example:
        >>> env = DatasetEnv(state, dict(zip(dataset._captures(), values)), RunContext)
        >>> first = next(iter(dataset._elements(env)))
    """

    __slots__ = ("state", "captured", "parent", "context_type", "memo")

    def __init__(self, state, captured: dict, context_type, parent=None):
        self.state = state
        self.captured = captured
        self.context_type = context_type  # RunContext: functions run in contexts of their own
        self.parent = parent
        self.memo: dict = {}  # stage -> what it keeps for this initialization (a cache)

    def value(self, tensor):
        """The value ``tensor`` (a captured tensor of the dataset) had at initialization."""
        env = self
        while env is not None:
            if tensor in env.captured:
                return env.captured[tensor]
            env = env.parent
        raise KeyError(f"tensor {tensor.name!r} was not captured by the dataset")

    def nested(self, tensors, values) -> "DatasetEnv":
        """An env for a dataset made per element (``flat_map``): it sees ``tensors`` with
        ``values`` in addition to everything this env sees."""
        return DatasetEnv(self.state, dict(zip(tensors, values)), self.context_type, self)

    def call(self, function, args) -> list:
        """Run a traced function on one element's components; returns its outputs."""
        plan, function_state = _compiled(self.state, function)
        feeds = list(args) + [self.value(t) for t in function.captured]
        try:
            return plan.run(feeds, self.context_type(function_state))
        except OpError as err:
            raise type(err)(None, None, f"in the function of {function.name} (traced at "
                            f"{function.location}): {err.message}") from err

    def scratch(self, stage) -> dict:
        """A dict ``stage`` may keep things in for this initialization of the iterator."""
        return self.memo.setdefault(stage, {})

    def epoch(self, node) -> int:
        """How many streams of dataset ``node`` this Session started before (0, 1, 2...):
        a seeded shuffle orders epoch ``n`` by ``(seed, n)``, so each epoch differs and every
        Session sees the same sequence of orders."""
        with self.state.lock:
            count = self.state.dataset_epochs.get(node, 0)
            self.state.dataset_epochs[node] = count + 1
        return count


def _compiled(state, function):
    """The function's plan and run state in this Session, compiled on first use with the
    Session's optimizer (function ops' random streams live in that state)."""
    found = state.functions.get(function)
    if found is None:
        with state.lock:
            found = state.functions.get(function)
            if found is None:
                found = state.functions[function] = (_compile(function, state.optimizer),
                                                      type(state)(state.optimizer))
    return found


def _compile(function, optimizer) -> Plan:
    feeds = list(function.inputs) + list(function.capture_placeholders)
    if optimizer is None:
        return Plan(function.graph, list(function.outputs), [], feeds)
    graph, interface, _ = optimize_interface(
        function.graph, Interface(tuple(function.outputs), (), tuple(feeds)), optimizer)
    return Plan(graph, list(interface.fetches), list(interface.targets), list(interface.feeds))


def initialize_iterator(ctx, iterator: str, dataset, captured_values) -> None:
    """(Re)start iterator ``iterator`` of the run's Session on ``dataset``;
    ``captured_values`` are the values of ``dataset._captures()`` in this run."""
    state = ctx.state
    env = DatasetEnv(state, dict(zip(dataset._captures(), captured_values)), type(ctx))
    resource = _resource(state, iterator)
    with resource.lock:
        resource.start(dataset, env)


def next_element(ctx, iterator: str, one_shot) -> list:
    """The next element of the iterator (a one-shot iterator starts on first use)."""
    state, op = ctx.state, ctx.op
    resource = _resource(state, iterator)
    with resource.lock:
        if resource.stream is None:
            if one_shot is None:
                raise FailedPreconditionError(
                    None, op, "GetNext() failed because the iterator has not been initialized"
                    f" ({describe_op(op)}). Ensure that you have run the initializer operation"
                    " for this iterator before getting the next element.")
            dataset, values = one_shot
            resource.start(dataset, DatasetEnv(state, dict(zip(dataset._captures(), values)),
                                               type(ctx)))
        if resource.done:
            raise _end_of_sequence(op)
        try:
            element = next(resource.stream)
            if resource.copies:  # the kernel's results are new arrays (fresh_output)
                element = [a.copy() if isinstance(a, np.ndarray) else a for a in element]
            return element
        except StopIteration:
            resource.done = True
            raise _end_of_sequence(op) from None
        except OpError as err:
            err.op = err.op or op
            raise
        except Exception as err:  # noqa: BLE001 - a pipeline failure, named by its op
            raise InvalidArgumentError(None, op, f"{describe_op(op)}: the input pipeline "
                                       f"failed: {type(err).__name__}: {err}") from err


def _end_of_sequence(op) -> OutOfRangeError:
    return OutOfRangeError(None, op, f"End of sequence ({describe_op(op)})")


def _resource(state, iterator: str) -> IteratorResource:
    resource = state.iterators.get(iterator)
    if resource is None:
        with state.lock:
            resource = state.iterators.setdefault(iterator, IteratorResource())
    return resource
