"""Session state (variable values, random generators) and the per-run context that stages
variable writes so a failed run changes nothing.

Concurrency model: ``session.run`` may be called from many threads at once.

- A run that updates variables (its plan has ``assign``/``assign_add``/``assign_sub`` ops)
  first takes the lock of every variable it updates, in one global order (by name, so two
  runs updating overlapping sets in any order cannot deadlock), and holds them until its
  writes are committed or dropped. Read-modify-write updates are therefore atomic: 8 threads
  running ``group(assign_add(V, 1), assign_add(n, 1))`` 50 times each end with 400 and 400
  (TF1's ``use_locking=True``). Runs updating disjoint variables still run in parallel.
- A run that only reads takes no variable lock. It sees, for each variable, the value last
  committed when it reads it (reads of different variables may straddle another run's
  commit), and its own staged writes first.
- A failing run commits nothing and releases its locks; the others are unaffected.

Example:
    >>> threads = [threading.Thread(target=lambda: [sess.run(step) for _ in range(50)])
    ...            for _ in range(8)]       # every increment of every thread lands
"""
from __future__ import annotations

import sys
import threading

import numpy as np

from graphc.errors import FailedPreconditionError, describe_op
from graphc.passes import OptimizerConfig

from . import iterators

__all__ = ["SessionState", "RunContext"]


class SessionState:
    """What persists across runs of one Session: variable values, random streams, iterators.

    They are keyed by *name* (op names, iterator names): optimized copies of a graph keep the
    names of the user's ops, so every plan of a Session shares one state. ``optimizer`` is
    the Session's, for the functions of its datasets (``graphc.runtime.iterators``).
    """

    def __init__(self, optimizer=OptimizerConfig()):
        self.optimizer = optimizer
        self.iterators: dict = {}  # iterator name -> iterators.IteratorResource
        self.functions: dict = {}  # traced dataset function -> (its Plan, its SessionState)
        self.dataset_epochs: dict = {}  # dataset -> streams of it started (shuffle seeds)
        self.variables: dict = {}  # variable op name -> read-only ndarray
        self.retired: dict = {}  # variable op name -> its previous value, for reuse
        self.generators: dict = {}  # random op name -> np.random.Generator
        # resource name -> a queue or reader of this Session (graphc.ops.queue, .reader)
        self.resources: dict = {}
        self.lock = threading.Lock()
        self._variable_locks: dict = {}  # variable op name -> the lock updating runs hold
        self._lock_sets: dict = {}  # sorted names -> their locks, in that order

    def clear(self) -> None:
        """Drop every value and stream (``Session.close``): iterators' generators close, and
        runs blocked on a queue of this Session raise CancelledError (as in TF1)."""
        with self.lock:
            self.variables.clear()
            self.retired.clear()
            self.iterators.clear()
            self.functions.clear()
            resources, self.resources = list(self.resources.values()), {}
        for resource in resources:
            cancel = getattr(resource, "cancel", None)  # queues wake their waiting runs
            if cancel is not None:
                cancel()

    def update_locks(self, names: tuple) -> tuple:
        """The locks of the variables ``names`` (sorted: the global order they are taken in).

        Example:
            >>> for lock in state.update_locks(("V", "count")): lock.acquire()
        """
        locks = self._lock_sets.get(names)
        if locks is None:
            with self.lock:
                locks = tuple(self._variable_locks.setdefault(name, threading.Lock())
                              for name in names)
                self._lock_sets[names] = locks
        return locks

    def generator(self, op) -> np.random.Generator:
        with self.lock:
            rng = self.generators.get(op.name)
            if rng is None:
                seed, seed2 = op.attrs.get("seed"), op.attrs.get("seed2")
                entropy = None if seed is None else [int(seed) & 0xFFFFFFFF,
                                                     int(seed2 or 0) & 0xFFFFFFFF]
                rng = self.generators[op.name] = np.random.default_rng(entropy)
            return rng


class RunContext:
    """One run's view of the state: reads see this run's staged writes first.

    ``op`` is set by the plan before each context-needing kernel runs.
    """

    __slots__ = ("state", "staged", "op")

    def __init__(self, state: SessionState):
        self.state = state
        self.staged: dict = {}
        self.op = None

    def read_variable(self, variable_op) -> np.ndarray:
        value = self.staged.get(variable_op.name)
        if value is None:
            value = self.state.variables.get(variable_op.name)
        if value is None:
            raise FailedPreconditionError(
                None, self.op, f"Attempting to use uninitialized value {variable_op.name} "
                f"(in {describe_op(self.op)}); run its initializer or "
                "gc.global_variables_initializer() first")
        return value

    def write_variable(self, variable_op, value, owned: bool = False) -> np.ndarray:
        """Stage ``value`` as the variable's new value; ``owned`` says the caller made it
        for this write (so no copy is needed to keep it away from anyone else)."""
        value = np.asarray(value) if owned else np.array(value, copy=True)
        value.flags.writeable = False
        self.staged[variable_op.name] = value
        return value

    def recycled(self, variable_op, shape, dtype):
        """A writable buffer for the variable's next value: its previous value, when nothing
        outside the session holds that array any more (no fetched result, no view of it, no
        other run reading it); otherwise None. Updates then cost no allocation, as
        hand-written in-place NumPy, while staged writes keep failed runs harmless."""
        with self.state.lock:
            buffer = self.state.retired.pop(variable_op.name, None)
        # references: this frame's ``buffer`` and getrefcount's argument, nothing else
        if (buffer is None or sys.getrefcount(buffer) != 2 or buffer.base is not None
                or buffer.shape != shape or buffer.dtype != dtype):
            return None
        buffer.flags.writeable = True
        return buffer

    def rng(self) -> np.random.Generator:
        return self.state.generator(self.op)

    def initialize_iterator(self, iterator: str, dataset, captured_values) -> None:
        """(Re)start a ``tf.data`` iterator of this Session (``make_iterator``'s kernel)."""
        iterators.initialize_iterator(self, iterator, dataset, captured_values)

    def next_element(self, iterator: str, one_shot) -> list:
        """The iterator's next element, a list of arrays (``iterator_get_next``'s kernel)."""
        return iterators.next_element(self, iterator, one_shot)

    def resource(self, name: str, make=None):
        """The Session's resource ``name`` (a queue, a reader); ``make()`` creates it on
        first use (the kernel of the op that defines it), else None when it does not exist.
        Resources hold Session state that runs change at once (never staged, as in TF1)."""
        found = self.state.resources.get(name)
        if found is None and make is not None:
            with self.state.lock:
                found = self.state.resources.get(name)
                if found is None:
                    found = self.state.resources[name] = make()
        return found

    def commit(self) -> None:
        """Publish this run's writes; called only after every step succeeded."""
        if self.staged:
            with self.state.lock:
                variables, retired = self.state.variables, self.state.retired
                for name, value in self.staged.items():
                    previous = variables.get(name)
                    variables[name] = value
                    if previous is not None and previous is not value:
                        retired[name] = previous
