"""The two kinds of graph element, as in TF1: ``Operation`` (a node: an op type applied to
inputs with attributes) and ``Tensor`` (one output of an operation, with a static shape and
dtype). ``Graph`` (graph.py) creates and owns them."""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Iterable, Optional

if TYPE_CHECKING:
    from graphc.graph import Graph

from graphc import registry
from graphc.default_session import session_for
from graphc.errors import describe_tensor
from graphc.gradient_overrides import override_for_op
from graphc.shapes import TensorShape, as_shape

__all__ = ["Operation", "Tensor"]


def _user_location() -> Optional[str]:
    """``file:line`` of the innermost caller outside graphc, i.e. the user's line."""
    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module != "graphc" and not module.startswith("graphc."):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return None


class Tensor:
    """A symbolic value: output ``value_index`` of ``op``, with a static shape and dtype.

    Tensors hash and compare by identity (TF1 semantics), so they can key a feed_dict;
    use ``gc.equal`` for elementwise equality.

    Example:
        >>> x = gc.placeholder(gc.float32, (None, 3), name="x")
        >>> x.name, x.shape.as_list(), x.dtype
        ('x:0', [None, 3], gc.float32)
    """

    __slots__ = ("op", "value_index", "_shape", "dtype", "_consumers", "__weakref__")
    __array_priority__ = 100  # numpy_array + tensor builds a graph op, not an object array

    def __init__(self, op: "Operation", value_index: int, shape: TensorShape, dtype):
        self.op = op
        self.value_index = value_index
        self._shape = shape
        self.dtype = dtype
        # the ops reading this tensor: None, the one op, or a list (one entry per input
        # position): most tensors have one reader, and a list each would double the objects
        # Python's garbage collector walks while a big graph grows
        self._consumers = None

    @property
    def name(self) -> str:
        return f"{self.op.name}:{self.value_index}"

    @property
    def graph(self) -> "Graph":
        return self.op.graph

    @property
    def device(self) -> str:
        return self.op.device

    @property
    def shape(self) -> TensorShape:
        return self._shape

    def get_shape(self) -> TensorShape:
        return self._shape

    def set_shape(self, shape) -> None:
        """Refine the static shape (TF1); raises ValueError when incompatible."""
        try:
            self._shape = self._shape.merge_with(as_shape(shape))
        except ValueError:
            raise ValueError(f"set_shape: {as_shape(shape)} is incompatible with "
                             f"{describe_tensor(self)}") from None

    def consumers(self) -> list["Operation"]:
        """The ops that take this tensor as a data input (an op reading it twice, twice)."""
        readers = self._consumers
        if readers is None:
            return []
        return list(readers) if type(readers) is list else [readers]

    def _add_consumer(self, op: "Operation") -> None:
        readers = self._consumers
        if readers is None:
            self._consumers = op
        elif type(readers) is list:
            readers.append(op)
        else:
            self._consumers = [readers, op]

    def _drop_consumers(self, gone) -> None:
        """Forget every reader in the set ``gone`` (one pass, however many go)."""
        readers = self._consumers
        if type(readers) is list:
            kept = [op for op in readers if op not in gone]
            self._consumers = kept if len(kept) > 1 else (kept[0] if kept else None)
        elif readers in gone:
            self._consumers = None

    def eval(self, feed_dict=None, session=None):
        """Run this tensor in ``session`` (default: the default session)."""
        return session_for(session, self).run(self, feed_dict)

    def __repr__(self) -> str:
        return f"<gc.Tensor '{self.name}' shape={self._shape} dtype={self.dtype.name}>"

    __hash__ = object.__hash__

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other

    def __bool__(self):
        raise TypeError(f"Using a gc.Tensor ({self.name}) as a Python bool is not allowed: "
                        "the value is only known when the graph runs. Use gc.where or "
                        "compute it with session.run first.")

    def __len__(self):
        first = self._shape[0] if self._shape.rank else None
        if first is None:
            raise TypeError(f"len() of {describe_tensor(self)} is not known statically")
        return first

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]


class Operation:
    """A node: an op type applied to input tensors with attributes, producing outputs.

    Example:
        >>> y = gc.matmul(a, b, name="mm")
        >>> y.op.type, y.op.name, [t.name for t in y.op.inputs]
        ('matmul', 'mm', ['a:0', 'b:0'])
    """

    __slots__ = ("graph", "type", "name", "_inputs", "outputs", "_control_inputs",
                 "attrs", "location", "_id", "_provenance", "device", "gradient_override",
                 "__weakref__")

    def __init__(self, graph, op_type, name, inputs, attrs, location, control_inputs):
        self.graph = graph
        self.type = op_type
        self.name = name
        self._inputs = tuple(inputs)
        self.attrs = attrs
        self.location = location
        # a tuple: the empty one is shared and not tracked by the GC (one object less per op)
        self._control_inputs = tuple(control_inputs)
        self.outputs: tuple[Tensor, ...] = ()
        self._id = -1
        self._provenance = None  # made on first read: a user's op stands for itself
        self.device = ""  # the device asked for by gc.device scopes (ops run on the host)
        # the gradient function a Graph.gradient_override_map scope gave it (None: its rule's)
        self.gradient_override = (override_for_op(graph, op_type)
                                  if getattr(graph, "_gradient_overrides", None) else None)

    @property
    def provenance(self) -> tuple:
        """``(pass/rule that made this op or None, names of the user ops it stands for)``."""
        return self._provenance or (None, (self.name,))

    @provenance.setter
    def provenance(self, value: tuple) -> None:
        self._provenance = value

    @property
    def inputs(self) -> tuple:
        return self._inputs

    @property
    def control_inputs(self) -> tuple:
        return self._control_inputs

    @property
    def opdef(self) -> registry.OpDef:
        return registry.get(self.type)

    def values(self) -> tuple:
        return self.outputs

    def get_attr(self, name: str):
        try:
            return self.attrs[name]
        except KeyError:
            raise ValueError(f"Operation '{self.name}' ({self.type}) has no attr {name!r}; "
                             f"it has {sorted(self.attrs)}") from None

    def run(self, feed_dict=None, session=None) -> None:
        """Run this op in ``session`` (default: the default session)."""
        session_for(session, self).run(self, feed_dict)

    def _add_control_input(self, op: "Operation") -> None:
        """Make ``op`` run before this op; refuses an edge that would close a cycle."""
        op = _as_operation(op)
        if op.graph is not self.graph:
            raise ValueError(f"Cannot add control input '{op.name}' from another graph "
                             f"to '{self.name}'")
        if op is self or self in self.graph._ancestors([op]):
            raise ValueError(
                f"Adding control input '{op.name}' to '{self.name}' would create a cycle: "
                f"'{op.name}' already depends on '{self.name}'")
        if op not in self._control_inputs:
            self._control_inputs += (op,)
            self.graph._any_control_edges = True
            if op._id > self._id:
                self.graph._creation_order_is_topological = False

    def _add_control_inputs(self, ops: Iterable["Operation"]) -> None:
        for op in ops:
            self._add_control_input(op)

    def __repr__(self) -> str:
        return f"<gc.Operation '{self.name}' type={self.type}>"


def _as_operation(value) -> Operation:
    if isinstance(value, Operation):
        return value
    if isinstance(value, Tensor):
        return value.op
    op = getattr(value, "op", None)  # Variables
    if isinstance(op, Operation):
        return op
    raise TypeError(f"Expected an Operation or Tensor for a control dependency, got {value!r}")
