"""The graph IR: ``Graph`` of ``Operation`` nodes whose outputs are ``Tensor`` values (TF1's model).

Ownership model: a Graph only grows. Ops are appended by ``Graph.create_op`` after their
shapes and dtypes are inferred, so a failing build leaves the graph exactly as it was.
Compiler passes never edit the user's graph: they build a new, optimized graph from it.

Creation order is a topological order of the data edges (an input must exist before its
consumer); only ``Operation._add_control_input`` can add an edge against it, and it refuses
cycles. Every walk over the graph is iterative, so depth is never limited by recursion.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Iterable, Optional

from graphc import registry
from graphc.algorithms import required_ops, to_networkx, topological_order
from graphc.devices import device_for_op, device_scope
from graphc.dtypes import string_notes
from graphc.editing import GraphEditing, _Atomic
from graphc.errors import describe_tensor, op_context
from graphc.graph_collections import GraphCollections
from graphc.gradient_overrides import override_scope
from graphc.nodes import Operation, Tensor, _as_operation, _user_location
from graphc.printing import graph_as_text
from graphc.serialization.graph_def import GraphSerialization
from graphc.shapes import TensorShape, as_shape

__all__ = ["Graph", "Operation", "Tensor", "get_default_graph", "reset_default_graph",
           "required_ops"]


class Graph(GraphCollections, GraphEditing, GraphSerialization):
    """A TF1-style graph: a growing list of operations plus naming, scopes and collections.

    Example:
        >>> g = gc.Graph()
        >>> with g.as_default():
        ...     x = gc.placeholder(gc.float32, (None, 3), name="x")
        >>> g.get_tensor_by_name("x:0") is x
        True
    """

    _operation_class, _tensor_class, executes_eagerly = Operation, Tensor, False  # EagerGraph's differ

    def __init__(self):
        self._ops: list[Operation] = []
        self._by_name: dict[str, Operation] = {}
        self._used_names: dict[str, int] = {}
        self._name_stack = ""
        self._control_stack: list[list[Operation]] = []
        self._device_stack: list = []  # gc.device scopes: device names, functions or None
        self._gradient_overrides: dict = {}  # TF1 op type -> RegisterGradient name
        self._collections: dict[str, list] = {}
        self._creation_order_is_topological = True
        self._finalized = False
        self.seed: Optional[int] = None
        self._variable_reads: dict = {}  # variable op -> its Variable (for conversions)
        self._journal: Optional[list] = None  # name reservations to undo on a failed build
        self._journal_ops: list = []  # the ops made inside the outermost atomic() block
        self._lock = threading.RLock()
        self._next_id = 0  # creation serial numbers: after any edit, positions in _ops
        self._any_control_edges = False
        self._init_editing()

    # -- building -------------------------------------------------------------------------
    def create_op(self, op_type: str, inputs: Iterable[Tensor] = (), attrs=None,
                  name: Optional[str] = None, specs=None) -> Operation:
        """Append one op after validating inputs and inferring output shapes and dtypes.

        ``specs``, a ``(shape, dtype)`` per output, replaces inference where a compiler pass
        already knows them (a fused node has its root op's); the verifier re-infers them.

        Raises ValueError (shapes, attrs) or TypeError (dtypes) naming the op, its inputs with
        their shapes and dtypes, and the user's line; the graph is left unchanged then.
        """
        opdef = registry.get(op_type)
        inputs = list(inputs)
        location = _user_location()
        with self._lock:
            if self._finalized:
                raise RuntimeError("Graph is finalized and cannot be modified.")
            # A name ending in "/" is absolute: a composite op takes its name_scope's name.
            absolute = bool(name) and name.endswith("/")
            scoped = name[:-1] if absolute else self._name_stack + (name or op_type)
            if absolute and scoped in self._by_name:
                raise ValueError(f"Duplicate op name {scoped!r} for a {op_type} op")
            # the name the op will get, reserved only once it is built (a failure keeps it free)
            final_name, taken = (scoped, None) if absolute else self._unique(scoped)
            for tensor in inputs:
                if not isinstance(tensor, Tensor):
                    raise TypeError(f"Input {tensor!r} to op '{final_name}' ({op_type}) "
                                    "is not a Tensor")
                if tensor.op.graph is not self:
                    raise ValueError(f"Tensor {describe_tensor(tensor)} must be from the same "
                                     f"graph as op '{final_name}' ({op_type})")
            full_attrs = dict(opdef.attrs)
            if attrs:
                for key, value in attrs.items():
                    if key not in full_attrs:
                        raise ValueError(f"Unknown attr {key!r} for op '{final_name}' "
                                         f"({op_type}); known attrs: {sorted(opdef.attrs)}")
                    full_attrs[key] = value
            if specs is None:
                specs = _infer(opdef, inputs, full_attrs, final_name, location)
            if absolute:
                if final_name.lower() not in self._used_names:
                    self._reserve(final_name.lower(), 1)
            else:
                self._claim(taken)
            op = self._operation_class(self, op_type, final_name, inputs, full_attrs, location,
                                       self._current_control_inputs(inputs)
                                       if self._control_stack else ())
            op.outputs = tuple([self._tensor_class(op, i, shape, dtype)
                                for i, (shape, dtype) in enumerate(specs)])
            if self._device_stack:
                op.device = device_for_op(self._device_stack, op)
            self._append(op)
            return op

    def _current_control_inputs(self, inputs) -> list[Operation]:
        if not self._control_stack:
            return []
        input_ops = {t.op for t in inputs}
        seen: list[Operation] = []
        for frame in self._control_stack:
            for op in frame:
                if op not in input_ops and op not in seen:
                    seen.append(op)
        return seen

    # -- names ----------------------------------------------------------------------------
    def unique_name(self, name: str, mark_used: bool = True) -> str:
        """``name``, or ``name_1``, ``name_2``... if taken (TF1's rule, case-insensitive)."""
        unique, taken = self._unique(name)
        if mark_used:
            self._claim(taken)
        return unique

    def _unique(self, name: str) -> tuple:
        """``(unique name, claim)``, reserving nothing; ``_claim(claim)`` reserves it."""
        key = name.lower()
        count = self._used_names.get(key, 0)
        unique = unique_key = name
        if count:
            while True:
                unique = f"{name}_{count}"
                unique_key = unique.lower()
                if unique_key not in self._used_names:
                    break
                count += 1
        return unique, (key, count, unique_key)

    def _claim(self, claim: tuple) -> None:
        key, count, unique_key = claim
        self._reserve(key, count + 1)
        if count:
            self._reserve(unique_key, 1)

    def _reserve(self, key: str, count: int) -> None:
        if self._journal is not None:
            self._journal.append((key, self._used_names.get(key)))
        self._used_names[key] = count

    def atomic(self):
        """Undo every op (and name) added inside the block if the block raises; the block
        gets the list of ops it creates.

        Public functions that build several ops use this, so a build error changes nothing.

        Example:
            >>> with graph.atomic() as created:
            ...     y = gc.tanh(x) * 2.0
            >>> [op.type for op in created]
            ['tanh', 'const', 'multiply']
        """
        return _Atomic(self)

    def get_name_scope(self) -> str:
        return self._name_stack.rstrip("/")

    @contextlib.contextmanager
    def name_scope(self, name: Optional[str]):
        """Push a name scope; yields the scope prefix ``"outer/inner/"`` (TF1 semantics).

        A name ending in "/" re-enters that exact scope; None or "" resets to the root.
        """
        old = self._name_stack
        if not name:
            new = ""
        elif name.endswith("/"):
            new = name
        else:
            new = self.unique_name(old + name) + "/"
        self._name_stack = new
        try:
            yield new
        finally:
            self._name_stack = old

    # -- control dependencies ---------------------------------------------------------
    @contextlib.contextmanager
    def control_dependencies(self, control_inputs):
        """Ops created inside run after ``control_inputs``; ``None`` clears outer ones."""
        saved = self._control_stack
        if control_inputs is None:
            self._control_stack = []
        else:
            ops = [_as_operation(c) for c in control_inputs]
            for op in ops:
                if op.graph is not self:
                    raise ValueError(f"Control input '{op.name}' is not in this graph")
            self._control_stack = saved + [ops]
        try:
            yield
        finally:
            self._control_stack = saved

    @property
    def in_control_dependencies(self) -> bool:
        """Whether ops created now get control inputs (inside ``control_dependencies``)."""
        return bool(self._control_stack)

    def device(self, device_name_or_function):
        """TF1's device scope: a name, a function of each new op, or None (devices.py)."""
        return device_scope(self._device_stack, device_name_or_function)

    def gradient_override_map(self, op_type_map):
        """TF1's gradient overrides for ops created inside (gradient_overrides.py)."""
        return override_scope(self, op_type_map)

    # -- lookup ----------------------------------------------------------------------------
    def get_operations(self) -> list[Operation]:
        self._settle()
        return list(self._ops)

    def get_operation_by_name(self, name: str) -> Operation:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"The name {name!r} refers to an Operation not in the graph.") from None

    def get_tensor_by_name(self, name: str) -> Tensor:
        op_name, sep, index = name.rpartition(":")
        if not sep or not index.isdigit():
            raise ValueError(f"The name {name!r} looks like an Operation name, not a Tensor "
                             "name; Tensor names have the form '<op_name>:<output_index>'.")
        op = self._by_name.get(op_name)
        if op is None:
            raise KeyError(f"The name {name!r} refers to a Tensor which does not exist. "
                           f"The operation {op_name!r} does not exist in the graph.")
        if int(index) >= len(op.outputs):
            raise KeyError(f"The name {name!r} refers to a Tensor which does not exist: "
                           f"'{op_name}' has {len(op.outputs)} outputs.")
        return op.outputs[int(index)]

    def as_graph_element(self, obj, allow_tensor: bool = True, allow_operation: bool = True):
        """Resolve a Tensor, Operation, Variable or name to an element of this graph."""
        if isinstance(obj, str):
            if ":" in obj and allow_tensor:
                return self.get_tensor_by_name(obj)
            if allow_operation:
                return self.get_operation_by_name(obj)
        if hasattr(obj, "_as_graph_element"):
            obj = obj._as_graph_element()
        if isinstance(obj, (Tensor, Operation)):
            if obj.graph is not self:
                raise ValueError(f"{obj!r} is not an element of this graph.")
            if isinstance(obj, Tensor) and allow_tensor:
                return obj
            if isinstance(obj, Operation) and allow_operation:
                return obj
        raise TypeError(f"Can not convert {obj!r} to a Tensor or Operation of this graph.")

    # -- state ---------------------------------------------------------------------------
    def finalize(self) -> None:
        """Make the graph read-only (TF1): later create_op calls raise."""
        self._finalized = True

    finalized = property(lambda self: self._finalized)

    def as_default(self):
        """Make this graph the default graph inside the ``with`` block."""
        return _DefaultGraph(self)

    def __len__(self) -> int:
        self._settle()
        return len(self._ops)

    # -- algorithms (iterative; networkx for the general ones, see algorithms.py) ----------
    def _ancestors(self, ops: Iterable[Operation]) -> set:
        """Every op that ``ops`` depend on through data or control edges (inclusive)."""
        return required_ops([], targets=list(ops))

    def to_networkx(self):
        """A networkx DiGraph over operation names: data edges and ``control`` edges."""
        return to_networkx(self)

    def topological_order(self, ops: Optional[Iterable[Operation]] = None) -> list[Operation]:
        """``ops`` (default: all) in an order where every op follows its dependencies."""
        self._settle()
        chosen = self._ops if ops is None else ops
        if self._creation_order_is_topological:
            if ops is None:
                return list(chosen)
            if isinstance(chosen, (set, frozenset)) and len(chosen) > len(self._ops) // 8:
                return [op for op in self._ops if op in chosen]  # most ops: no sorting
            return sorted(chosen, key=_position)
        return topological_order(self, chosen)

    def as_text(self, ops=None) -> str:
        """The graph (or just ``ops``) as a stable SSA-like listing, one op per line."""
        return graph_as_text(self, ops)

    __str__ = as_text

    def __repr__(self) -> str:
        return f"<gc.Graph with {len(self)} ops>"


def _position(op: Operation) -> int:
    return op._id


class _DefaultGraph:
    """``with graph.as_default():`` (a class, not a generator: every op built enters one)."""

    __slots__ = ("graph",)

    def __init__(self, graph: Graph):
        self.graph = graph

    def __enter__(self) -> Graph:
        _stack().append(self.graph)
        return self.graph

    def __exit__(self, *exc) -> None:
        _stack().pop()


# Elementwise ops without attributes infer their outputs from the input shapes and dtypes
# alone, and shapes are interned: a chain of 100k such ops asks a few distinct questions.
_ELEMENTWISE_SPECS: dict = {}


def _infer(opdef, inputs, attrs, name, location):
    """Output (shape, dtype) specs of an op, with errors that carry the full context."""
    if opdef.elementwise and not attrs:
        key = (opdef.name, *[(t.dtype.name, t._shape._dims) for t in inputs])  # C-level hashes
        specs = _ELEMENTWISE_SPECS.get(key)
        if specs is None:
            if len(_ELEMENTWISE_SPECS) > 4096:
                _ELEMENTWISE_SPECS.clear()
            specs = _ELEMENTWISE_SPECS[key] = _infer_specs(opdef, inputs, attrs, name, location)
        return specs
    return _infer_specs(opdef, inputs, attrs, name, location)


def _infer_specs(opdef, inputs, attrs, name, location):
    try:
        dtypes = list(opdef.dtypes([t.dtype for t in inputs], attrs))
    except TypeError as err:
        raise TypeError(f"{err} -- in {op_context(opdef.name, name, inputs, location)}"
                        f"{string_notes(inputs)}") from None
    if not opdef.unknown_rank_ok and any(t._shape._dims is None for t in inputs):
        return tuple((TensorShape(None), d) for d in dtypes)
    try:
        shapes = [as_shape(s) for s in opdef.shapes(inputs, attrs)]
    except ValueError as err:
        raise ValueError(f"{err} -- in {op_context(opdef.name, name, inputs, location)}") from None
    if len(shapes) != len(dtypes):
        raise AssertionError(f"op {opdef.name}: shape and dtype rules disagree on outputs")
    return tuple(zip(shapes, dtypes))


class _DefaultGraphStack(threading.local):
    def __init__(self):
        self.stack: list[Graph] = []


_GLOBAL_DEFAULT = [Graph()]
_THREAD = _DefaultGraphStack()


def _stack() -> list:
    return _THREAD.stack


def get_default_graph() -> Graph:
    """The innermost ``as_default`` graph of this thread, else the global default graph."""
    return _THREAD.stack[-1] if _THREAD.stack else _GLOBAL_DEFAULT[0]


def reset_default_graph() -> None:
    """Replace the global default graph with a new empty one (TF1)."""
    if _THREAD.stack:
        raise AssertionError("Do not use reset_default_graph() inside a graph.as_default() "
                             "block.")
    _GLOBAL_DEFAULT[0] = Graph()
