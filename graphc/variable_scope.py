"""Variable sharing as in TF1: ``variable_scope``, ``get_variable`` and ``VariableScope``.

A graph holds one variable store (full name -> the Variable ``get_variable`` made) and, per
thread, the current VariableScope with a count of how often each scope name was opened
(``default_name`` scopes become ``name``, ``name_1``, ...). Both live in private collections
of the graph, as in TF1, so they go with the graph.

Names follow TF1: variables take the *variable* scope's name (``a/w``), ops the *name*
scope opened alongside (``a/...``, and ``a_1/...`` when "a" is entered again, while its
variables are still ``a/w``). ``reuse`` is inherited by nested scopes and cannot be turned
off inside a reusing scope. With ``reuse=False`` (the default), creating an existing variable
is an error; with ``reuse=True``, getting one that does not exist is; ``AUTO_REUSE`` gets or
creates. Partitioned variables are not supported.

Example:
    >>> def layer(x, n, scope):
    ...     with gc.variable_scope(scope, reuse=gc.AUTO_REUSE):
    ...         W = gc.get_variable("W", [x.shape[1], n])     # glorot_uniform
    ...         b = gc.get_variable("b", [n], initializer=gc.zeros_initializer())
    ...         return gc.nn.relu(gc.matmul(x, W) + b)
    >>> h1 = layer(x1, 32, "shared")
    >>> h2 = layer(x2, 32, "shared")      # the same shared/W and shared/b
"""
from __future__ import annotations

import contextlib
import enum
import threading

from graphc import dtypes as gdt
from graphc.convert import graph_of
from graphc.graph import get_default_graph
from graphc.variable_store import VariableStore
from graphc.variables import GraphKeys

__all__ = ["AUTO_REUSE", "VariableScope", "variable_scope", "get_variable_scope",
           "get_variable", "get_local_variable", "no_regularizer"]

_VARSCOPE_KEY = "__varscope"
_VARSTORE_KEY = "__variable_store"


class _ReuseMode(enum.Enum):
    """``reuse=AUTO_REUSE``: get the variable if it exists, else create it."""

    AUTO_REUSE = 1


AUTO_REUSE = _ReuseMode.AUTO_REUSE


class VariableScope:
    """A variable scope: a name and the defaults ``get_variable`` uses inside it.

    Attributes:
        name: the full scope name (``"outer/inner"``; ``""`` at the root).
        original_name_scope: the name scope opened when the scope was made (``"outer/"``).
        reuse: False, True or AUTO_REUSE.

    Example:
        >>> with gc.variable_scope("tower") as scope:
        ...     w = gc.get_variable("w", [3])
        ...     scope.reuse_variables()
        ...     assert gc.get_variable("w", [3]) is w
    """

    def __init__(self, reuse, name="", initializer=None, regularizer=None,
                 caching_device=None, partitioner=None, custom_getter=None, name_scope="",
                 dtype=gdt.float32, use_resource=None, constraint=None):
        self._name, self._reuse, self._name_scope = name, reuse, name_scope
        self._initializer, self._regularizer = initializer, regularizer
        self._caching_device, self._partitioner = caching_device, partitioner
        self._custom_getter, self._use_resource = custom_getter, use_resource
        self._dtype, self._constraint = gdt.as_dtype(dtype), constraint

    name = property(lambda self: self._name)
    original_name_scope = property(lambda self: self._name_scope)
    reuse = property(lambda self: self._reuse)
    initializer = property(lambda self: self._initializer)
    regularizer = property(lambda self: self._regularizer)
    dtype = property(lambda self: self._dtype)
    caching_device = property(lambda self: self._caching_device)
    partitioner = property(lambda self: self._partitioner)
    custom_getter = property(lambda self: self._custom_getter)
    use_resource = property(lambda self: self._use_resource)
    constraint = property(lambda self: self._constraint)

    def reuse_variables(self) -> None:
        """From now on, ``get_variable`` in this scope only gets existing variables."""
        self._reuse = True

    def set_initializer(self, initializer) -> None:
        self._initializer = initializer

    def set_regularizer(self, regularizer) -> None:
        self._regularizer = regularizer

    def set_dtype(self, dtype) -> None:
        self._dtype = gdt.as_dtype(dtype)

    def set_caching_device(self, caching_device) -> None:
        self._caching_device = caching_device

    def set_partitioner(self, partitioner) -> None:
        self._partitioner = partitioner

    def set_custom_getter(self, custom_getter) -> None:
        self._custom_getter = custom_getter

    def set_use_resource(self, use_resource) -> None:
        self._use_resource = use_resource

    def get_collection(self, name) -> list:
        """Items of collection ``name`` of the default graph inside this scope."""
        return get_default_graph().get_collection(name, self._name + "/" if self._name else "")

    def global_variables(self) -> list:
        return self.get_collection(GraphKeys.GLOBAL_VARIABLES)

    def trainable_variables(self) -> list:
        return self.get_collection(GraphKeys.TRAINABLE_VARIABLES)

    def local_variables(self) -> list:
        return self.get_collection(GraphKeys.LOCAL_VARIABLES)

    def get_variable(self, var_store, name, shape=None, dtype=None, initializer=None,
                     regularizer=None, reuse=None, trainable=None, collections=None,
                     caching_device=None, partitioner=None, validate_shape=True,
                     use_resource=None, custom_getter=None, constraint=None,
                     synchronization=None, aggregation=None):
        """``var_store``'s variable ``<scope name>/<name>``, with this scope's defaults for
        the arguments left None (TF1's signature; users call ``gc.get_variable``)."""
        regularizer = self._regularizer if regularizer is None else regularizer
        partitioner = self._partitioner if partitioner is None else partitioner
        custom_getter = self._custom_getter if custom_getter is None else custom_getter
        reuse = self._reuse if reuse is None else reuse
        initializer = self._initializer if initializer is None else initializer
        constraint = self._constraint if constraint is None else constraint
        full_name = f"{self._name}/{name}" if self._name else name
        arguments = dict(shape=shape, dtype=dtype, initializer=initializer,
                         regularizer=regularizer, reuse=reuse, trainable=trainable,
                         collections=collections, caching_device=caching_device,
                         partitioner=partitioner, validate_shape=validate_shape, use_resource=use_resource,
                         constraint=constraint, default_dtype=self._dtype)
        # Variable names follow the variable scope only, so the name scope is reset.
        with get_default_graph().name_scope(None):
            if custom_getter is None:
                return var_store.get_variable(full_name, **arguments)
            default_dtype = arguments.pop("default_dtype")
            arguments["dtype"] = default_dtype if dtype is None else dtype

            def getter(name, *args, **kwargs):
                return var_store.get_variable(name, *args, default_dtype=default_dtype, **kwargs)
            return custom_getter(getter, full_name, **arguments)

    def __repr__(self) -> str:
        return f"<gc.VariableScope '{self._name}' reuse={self._reuse}>"


class _ScopeState(threading.local):
    """The current scope and the open counts of scope names, per thread (TF1)."""

    def __init__(self):
        self.current = VariableScope(False)
        self.counts: dict = {}

    def open(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def close_subscopes(self, name: str) -> None:
        """Leaving scope ``name`` resets the counts below it, so re-entering ``name`` gives
        its ``default_name`` children the same names again (how re-entered layers share)."""
        for key in self.counts:
            if key.startswith(name + "/"):
                self.counts[key] = 0


def _private(graph, key, make):
    # a graph traced inside another (a loop body, a branch, a function) has its scopes
    while getattr(graph, "outer_graph", None) is not None:
        graph = graph.outer_graph
    items = graph.get_collection_ref(key)
    if not items:
        items.append(make())
    return items[0]


def _scope_state(graph=None) -> _ScopeState:
    return _private(graph or get_default_graph(), _VARSCOPE_KEY, _ScopeState)


def _variable_store(graph=None) -> VariableStore:
    return _private(graph or get_default_graph(), _VARSTORE_KEY, VariableStore)


def get_variable_scope() -> VariableScope:
    """The current VariableScope of the default graph (the root scope has name "").

    Example:
        >>> gc.get_variable_scope().reuse_variables()
    """
    return _scope_state().current


def _unique_scope_name(state: _ScopeState, prefix: str) -> str:
    """``prefix``, or ``prefix_1``, ``prefix_2``... unused in the current variable scope."""
    parent = state.current.name
    full = f"{parent}/{prefix}" if parent else prefix
    if not state.counts.get(full):
        return prefix
    index = 1
    while state.counts.get(f"{full}_{index}"):
        index += 1
    return f"{prefix}_{index}"


def _wrap_custom_getter(custom_getter, outer_getter):
    """Nested custom getters compose: the inner one receives the outer one as its getter."""
    if custom_getter is None or outer_getter is None:
        return custom_getter or outer_getter

    def wrapped(getter, *args, **kwargs):
        return custom_getter(lambda *a, **k: outer_getter(getter, *a, **k), *args, **kwargs)
    return wrapped


@contextlib.contextmanager
def _pure_variable_scope(state, name_or_scope, reuse, overrides, name_scope):
    """Make the new VariableScope current (without touching name scopes) and restore the
    old one afterwards: TF1's ``_pure_variable_scope``."""
    old = state.current
    if isinstance(name_or_scope, VariableScope):  # jump to a shared scope, whatever the nesting
        base, new_name = name_or_scope, name_or_scope.name
        reuse = reuse or name_or_scope.reuse
        name_scope = name_or_scope.original_name_scope
    else:
        base = old
        new_name = f"{old.name}/{name_or_scope}" if old.name else name_or_scope
        reuse = reuse or old.reuse  # reuse is inherited by nested scopes
        name_scope = name_or_scope if name_scope is None else name_scope
    given = {key: base_value if overrides.get(key) is None else overrides[key]
             for key, base_value in _defaults(base).items()}
    given["custom_getter"] = _wrap_custom_getter(overrides.get("custom_getter"),
                                                 base.custom_getter)
    scope = VariableScope(reuse, new_name, name_scope=name_scope, **given)
    state.open(new_name)
    counts_inside = dict(state.counts)
    state.current = scope
    try:
        yield scope
    finally:
        if state.current is not scope:
            raise RuntimeError("Improper nesting of variable_scope.")
        if isinstance(name_or_scope, VariableScope):
            state.counts = counts_inside
        else:
            state.close_subscopes(new_name)
        state.current = old


def _defaults(scope: VariableScope) -> dict:
    """The ``get_variable`` defaults a scope passes on to the scopes inside it."""
    return {key: getattr(scope, key) for key in (
        "initializer", "regularizer", "caching_device", "partitioner", "custom_getter",
        "dtype", "use_resource", "constraint")}


class variable_scope:  # noqa: N801 - TF1's name
    """A context manager that opens a variable scope and its name scope (TF1).

    Args:
        name_or_scope: a name (nested under the current variable scope) or a VariableScope
            (entered as it is, wherever this is); None uses ``default_name``, made unique.
        default_name: the name when ``name_or_scope`` is None (``scope``, ``scope_1``...).
        values: tensors whose graph to use.
        initializer, regularizer, dtype, custom_getter: defaults for ``get_variable`` here.
        reuse: True, AUTO_REUSE, or None/False to inherit the enclosing scope's.
        auxiliary_name_scope: False opens no name scope for ops.

    Raises:
        ValueError: for a bad ``reuse``, or ``reuse=True`` with only a ``default_name``.

    Example:
        >>> with gc.variable_scope("encoder"):
        ...     with gc.variable_scope("layer1"):
        ...         W = gc.get_variable("W", [4, 4])        # encoder/layer1/W:0
    """

    def __init__(self, name_or_scope, default_name=None, values=None, initializer=None,
                 regularizer=None, caching_device=None, partitioner=None, custom_getter=None,
                 reuse=None, dtype=None, use_resource=None, constraint=None,
                 auxiliary_name_scope=True):
        if name_or_scope is None and default_name is None:
            raise TypeError("variable_scope: if default_name is None then name_or_scope is "
                            "required")
        if name_or_scope is not None and not isinstance(name_or_scope, (str, VariableScope)):
            raise TypeError(f"variable_scope: name_or_scope must be a string or VariableScope, "
                            f"got {name_or_scope!r}")
        reuse = None if reuse is False else reuse  # False means "inherit" here, as in TF1
        if not (reuse is True or reuse is None or reuse is AUTO_REUSE):
            raise ValueError(f"variable_scope: the reuse parameter must be True or False or "
                             f"None (or AUTO_REUSE), got {reuse!r}")
        if not isinstance(auxiliary_name_scope, bool):
            raise TypeError("variable_scope: auxiliary_name_scope must be True or False, got "
                            f"{auxiliary_name_scope!r}")
        if name_or_scope is None and reuse:
            raise ValueError("variable_scope: reuse=True cannot be used without a "
                             "name_or_scope")
        self._name_or_scope, self._default_name, self._reuse = name_or_scope, default_name, reuse
        self._overrides = dict(initializer=initializer, regularizer=regularizer,
                               caching_device=caching_device, partitioner=partitioner,
                               custom_getter=custom_getter, dtype=dtype,
                               use_resource=use_resource, constraint=constraint)
        self._auxiliary_name_scope = auxiliary_name_scope
        self._graph = graph_of(*(values or []))
        self._exits: list = []

    def __enter__(self) -> VariableScope:
        stack = contextlib.ExitStack()
        with stack:
            stack.enter_context(self._graph.as_default())
            scope = self._enter(stack)
            self._exits.append(stack.pop_all())
        return scope

    def __exit__(self, *exc):
        return self._exits.pop().__exit__(*exc)

    def _enter(self, stack) -> VariableScope:
        graph, state = self._graph, _scope_state(self._graph)
        ops_scope = None
        if not self._auxiliary_name_scope:  # stay in the current name scope
            current = graph.get_name_scope()
            ops_scope = graph.name_scope(current + "/" if current else "")
        if self._name_or_scope is None:
            opened = stack.enter_context(ops_scope or graph.name_scope(self._default_name))
            name = _unique_scope_name(state, self._default_name)
            return stack.enter_context(_pure_variable_scope(state, name, None,
                                                            self._overrides, opened))
        given = self._name_or_scope
        short = given if isinstance(given, str) else given.name.split("/")[-1]
        name_scope = None
        if short or ops_scope is not None:
            opened = stack.enter_context(ops_scope or graph.name_scope(short))
            name_scope = opened if isinstance(given, str) else given.original_name_scope
        return stack.enter_context(_pure_variable_scope(state, given, self._reuse,
                                                        self._overrides, name_scope))


def get_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                 trainable=None, collections=None, caching_device=None, partitioner=None,
                 validate_shape=True, use_resource=None, custom_getter=None, constraint=None,
                 synchronization=None, aggregation=None):
    """The variable ``<current variable scope>/<name>``, created or reused (TF1).

    Args:
        name: the name inside the current variable scope.
        shape: the shape of a new variable (must be fully defined), checked on reuse.
        dtype: default the scope's (float32); checked on reuse.
        initializer: an initializer or callable ``(shape, dtype, partition_info)``, a class of
            one, or a value (Tensor, array, Python number or list: then give no shape).
            Default: the scope's, else glorot_uniform for floats and zeros otherwise.
        regularizer: ``variable -> penalty`` added to ``REGULARIZATION_LOSSES``.
        trainable, collections: as for ``Variable``.

    Raises:
        ValueError: creating an existing variable without reuse, reusing a missing one, a
            shape or dtype different from the existing variable's, a shape not fully defined.

    Example:
        >>> with gc.variable_scope("layer1"):
        ...     W = gc.get_variable("W", [784, 256])
        >>> W.name
        'layer1/W:0'
    """
    return get_variable_scope().get_variable(
        _variable_store(), name, shape=shape, dtype=dtype, initializer=initializer,
        regularizer=regularizer, trainable=trainable, collections=collections,
        caching_device=caching_device, partitioner=partitioner, validate_shape=validate_shape,
        use_resource=use_resource, custom_getter=custom_getter, constraint=constraint)


def get_local_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                       trainable=False, collections=None, **kwargs):
    """``get_variable`` of a non-trainable variable in ``LOCAL_VARIABLES`` (not global).

    Example:
        >>> count = gc.get_local_variable("count", [], dtype=gc.int32)
    """
    collections = list(collections or []) + [GraphKeys.LOCAL_VARIABLES]
    return get_variable(name, shape=shape, dtype=dtype, initializer=initializer,
                        regularizer=regularizer, trainable=False, collections=collections,
                        **kwargs)


def no_regularizer(_):
    """A regularizer that adds no penalty (to switch off a scope's regularizer)."""
    return None
