"""``Session``: runs fetches of a graph with TF1 semantics.

Each distinct (fetches, feeds) signature is optimized once (the compiler pipeline works on a
copy: the user's graph is never modified) and compiled into a cached ``Plan``. A run
stages its variable writes and publishes them only after every step succeeded, so a failing
run (bad feed, kernel error, uninitialized variable) leaves every variable as it was; a run
that updates variables holds their locks until then (``graphc.runtime.state``).
"""
from __future__ import annotations

import threading
from typing import Optional

import numpy as np

from graphc import default_session
from graphc.default_session import get_default_session
from graphc.errors import OpError
from graphc.fetches import FetchStructure
from graphc.graph import Graph, get_default_graph, required_ops
from graphc.ops.state import VariableHandle
from graphc.passes import Interface, OptimizerConfig, collection_paused, optimize_interface

from .feeds import prepare_feeds
from .plan import Plan
from .state import RunContext, SessionState
from .threads import ensure_applied

__all__ = ["Session", "InteractiveSession", "get_default_session", "register_backend"]

# Engines behind ``Session(..., backend=name)``: name -> a loader of that engine's Session
# subclass. The facade registers graphc.dask's, imported only when asked for (the runtime
# never imports the layers above it).
_BACKENDS: dict = {}


def register_backend(name: str, load) -> None:
    """Make ``Session(..., backend=name)`` an instance of ``load()``, a Session subclass
    taking the Session's arguments (and ``backend``) plus its own keyword arguments.

    Example:
        >>> register_backend("dask", lambda: importlib.import_module("graphc.dask").Session)
    """
    _BACKENDS[name] = load


class Session:
    """Runs parts of a graph and holds its variables' values.

    Example:
        >>> with gc.Session(graph=g) as sess:
        ...     sess.run(gc.global_variables_initializer())
        ...     p, l = sess.run([probs, logits], feed_dict={x: batch})
        ...     d = sess.run({"p": probs, "l": [logits, (W,)]}, feed_dict={x: batch})
        >>> with gc.Session(graph=g, backend="dask", chunks="128MiB") as sess:  # graphc.dask
        ...     loss_value = sess.run(loss, feed_dict={x: dask_array})
    """

    def __new__(cls, *args, backend: str = "numpy", **kwargs):
        if backend == "numpy" or cls is not Session:
            return super().__new__(cls)
        load = _BACKENDS.get(backend)
        if load is None:
            raise ValueError(f"Session: unknown backend {backend!r}; the backends are "
                             f"{', '.join(repr(b) for b in ['numpy', *sorted(_BACKENDS)])}")
        return super().__new__(load())  # whose __init__ Python calls next, with these args

    def __init__(self, target: str = "", graph: Optional[Graph] = None, config=None,
                 optimize=True, _state: Optional[SessionState] = None, backend: str = "numpy"):
        self._graph = graph if graph is not None else get_default_graph()
        self._optimizer = OptimizerConfig.coerce(optimize)
        # a traced gc.function's session shares eager execution's variables (_state)
        self._state = SessionState(self._optimizer) if _state is None else _state
        self._plans: dict = {}
        self._plans_lock = threading.Lock()
        self._fast: dict = {}  # (fetches, feed keys) -> _FastRun, for repeated simple runs
        self._closed = False
        self._default_contexts: list = []

    @property
    def graph(self) -> Graph:
        return self._graph

    @property
    def graph_def(self):
        """The session's graph as a GraphDef (TF1: ``tf.train.write_graph(sess.graph_def,
        ...)``)."""
        return self._graph.as_graph_def()

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Compute ``fetches`` (any nesting of tensors, ops, variables or names).

        Returns arrays in the structure of ``fetches``; operations give None. Every array
        is the caller's own (never a view of a feed, a variable or a constant). Runs may
        come from several threads at once: a run's variable updates are atomic with respect
        to other runs (see ``graphc.runtime.state`` for the concurrency model).

        Raises:
            RuntimeError: the session is closed.
            TypeError / ValueError: bad fetches or feeds (nothing is run).
            graphc.errors.OpError: an op failed (no variable is changed).
        """
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        key = _fast_key(fetches, feed_dict)
        fast = self._fast.get(key) if key is not None else None
        feed_values = fast.feed_values(feed_dict) if fast is not None else None
        if feed_values is None:  # first run of this signature, or a feed needing conversion
            structure = FetchStructure(self._graph, fetches)
            feeds = prepare_feeds(self._graph, feed_dict)
            plan = self._plan(structure, tuple(feeds))
            feed_values = list(feeds.values())
            if key is not None and len(feeds) == len(feed_dict or ()):
                fast = self._fast[key] = _FastRun(plan, structure, feeds)
        else:
            plan, structure = fast.plan, fast.structure
        results = self._execute(plan, feed_values)
        if fast is not None and fast.single:
            return results[0]
        return structure.rebuild(dict(zip(structure.tensors, results)))

    def _execute(self, plan: Plan, feed_values: list) -> list:
        """Run ``plan``, holding the locks of the variables it updates from before its
        first step to its commit (the concurrency model: ``graphc.runtime.state``)."""
        ensure_applied()  # the threading policy, once per process (graphc.runtime.threads)
        locks = self._state.update_locks(plan.updated_variables) \
            if plan.updated_variables else ()
        held = 0
        try:
            for lock in locks:
                lock.acquire()
                held += 1
            ctx = RunContext(self._state)
            try:
                with np.errstate(all="ignore"):  # NaN/Inf are values, not errors (TF1)
                    results = plan.run(feed_values, ctx)
            except OpError as err:
                err.op = self._user_op(err.op)
                raise
            ctx.commit()
        finally:
            for lock in locks[:held]:
                lock.release()
        for index, value in enumerate(results):
            if value.__class__ is np.ndarray:
                if value.ndim == 0:  # TF1 gives a scalar as a NumPy scalar (np.float32...)
                    results[index] = value[()]
            elif isinstance(value, VariableHandle):
                results[index] = ctx.read_variable(value.op).copy()  # the caller's own
        return results

    def _plan(self, structure: FetchStructure, feed_tensors: tuple) -> Plan:
        key = (tuple(structure.elements), feed_tensors)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._compile(structure.tensors, structure.operations, list(feed_tensors))
            with self._plans_lock:
                self._plans[key] = plan
        return plan

    def _compile(self, fetches: list, targets: list, feeds: list) -> Plan:
        with collection_paused():
            return self._compile_plan(fetches, targets, feeds)

    def _compile_plan(self, fetches: list, targets: list, feeds: list) -> Plan:
        if self._optimizer is None:
            return Plan(self._graph, fetches, targets, feeds)
        Plan.check_feeds(required_ops(fetches, targets, frozenset(feeds)), frozenset(feeds),
                         fetches, targets)  # named in the user's terms, before any rewrite
        graph, interface, records = optimize_interface(
            self._graph, Interface(tuple(fetches), tuple(targets), tuple(feeds)),
            self._optimizer)
        plan = Plan(graph, list(interface.fetches), list(interface.targets),
                    list(interface.feeds))
        plan.records = records
        return plan

    def optimization_records(self, fetches, feed_dict=None) -> list:
        """The optimizer's PassResults for the plan that runs ``fetches`` with these feeds.

        Example:
            >>> for record in sess.optimization_records(loss, {x: batch}):
            ...     print(record.summary())
        """
        structure = FetchStructure(self._graph, fetches)
        feeds = prepare_feeds(self._graph, feed_dict)
        return list(self._plan(structure, tuple(feeds)).records)

    def _user_op(self, op):
        """The user's op an optimized-graph op is a copy of (errors point at user ops)."""
        if op is None or op.graph is self._graph or op.provenance[0] is not None:
            return op
        return self._graph._by_name.get(op.name, op)

    def load_variable(self, variable, value) -> None:
        """Set a variable's value directly (``Variable.load``), checking dtype and shape."""
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        feeds = prepare_feeds(self._graph, {variable.value(): value})
        with self._state.update_locks((variable.op.name,))[0]:
            ctx = RunContext(self._state)
            ctx.write_variable(variable.op, next(iter(feeds.values())))
            ctx.commit()

    def close(self) -> None:
        """Release the session's state; later runs raise RuntimeError."""
        self._closed = True
        self._plans.clear()
        self._fast.clear()
        self._state.clear()

    def as_default(self):
        """Make this the default session (for ``Tensor.eval`` / ``Operation.run``)."""
        return default_session.entered(self)

    def __enter__(self) -> "Session":
        context = self.as_default()
        context.__enter__()
        self._default_contexts.append(context)
        return self

    def __exit__(self, *exc) -> None:
        self._default_contexts.pop().__exit__(*exc)
        self.close()

    def __del__(self):
        self._closed = True


def _fast_key(fetches, feed_dict):
    """A hashable key for a run whose fetches are one element or a flat list/tuple of
    elements, or None (nested or dict fetches take the general path every time)."""
    try:
        kind = type(fetches)
        flat = tuple(fetches) if kind is list or kind is tuple else fetches
        key = (kind, flat, tuple(feed_dict) if feed_dict else ())
        hash(key)
    except TypeError:
        return None
    if kind is list or kind is tuple:
        if any(isinstance(f, (list, tuple, dict)) for f in flat):
            return None
    elif isinstance(fetches, dict):
        return None
    return key


class _FastRun:
    """What a repeated run with the same fetches and feed keys can skip: resolving fetches
    and feed keys, and converting feeds that already are arrays of the right dtype and shape."""

    __slots__ = ("plan", "structure", "single", "specs")

    def __init__(self, plan: Plan, structure: FetchStructure, feeds: dict):
        self.plan, self.structure = plan, structure
        marker = object()
        self.single = len(structure.elements) == 1 and bool(structure.tensors) and \
            structure.rebuild({structure.tensors[0]: marker}) is marker
        self.specs = []
        for tensor in feeds:
            dims = tensor.shape.dims
            known = None if dims is None else tuple(
                (axis, d) for axis, d in enumerate(dims) if d is not None)
            exact = tuple(dims) if dims is not None and len(known) == len(dims) else None
            self.specs.append((tensor.dtype.np, exact, None if dims is None else len(dims),
                               known))

    def feed_values(self, feed_dict) -> Optional[list]:
        """Read-only views of the fed arrays, or None when one needs the full checks."""
        if not feed_dict:
            return [] if not self.specs else None
        values = []
        for value, (dtype, exact, rank, known) in zip(feed_dict.values(), self.specs):
            if type(value) is not np.ndarray or value.dtype != dtype:
                return None
            shape = value.shape
            if exact is not None:
                if shape != exact:
                    return None
            elif rank is not None and (len(shape) != rank or any(
                    shape[axis] != d for axis, d in known)):
                return None
            view = value.view()
            view.flags.writeable = False
            values.append(view)
        return values


class InteractiveSession(Session):
    """A Session that makes itself the default on creation (for notebooks and shells).

    Example:
        >>> sess = gc.InteractiveSession()
        >>> x.eval()
    """

    def __init__(self, target: str = "", graph: Optional[Graph] = None, config=None):
        super().__init__(target, graph, config)
        default_session.push(self)

    def close(self) -> None:
        super().close()
        default_session.remove(self)

