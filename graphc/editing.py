"""Copying and editing graphs in place: the API compiler passes use (``Graph`` inherits it).

A user's graph only grows. The optimizer copies it once (``empty_like`` + ``copy_op``, or
``copy``) and then edits its own copy in place, touching only what it changes:

- ``inserting_before(op)``: ops built inside the block take their place just before ``op``,
  so a replacement stands where the op it replaces stood;
- ``replace_uses(old, new)``: every reader of tensor ``old`` reads ``new`` instead;
- ``remove_ops(ops)``: drop ops that nothing reads any more.

The creation order stays a topological order, which every walk relies on. Edits are applied
to the op list lazily (``_settle``, linear, on the next read of the order), so a pass that
makes 50,000 edits pays for one pass over the list, not 50,000. A graph being edited belongs
to one thread (the optimizer's working copy does): an edit is not atomic with respect to ops
another thread builds in the same graph.

Example:
    >>> work, op_map = graph.copy()
    >>> old = op_map[y.op].outputs[0]
    >>> with work.as_default(), work.inserting_before(old.op):
    ...     new = gc.tanh(old.op.inputs[0])
    >>> work.replace_uses(old, new)
    >>> work.remove_ops([old.op])
"""
from __future__ import annotations

from typing import Iterable, Optional

from graphc.errors import describe_tensor
from graphc.nodes import Operation, Tensor

__all__ = ["GraphEditing"]


class GraphEditing:
    """The copying and in-place editing half of ``Graph`` (see the module docstring)."""

    def _init_editing(self) -> None:
        self._anchor: Optional[Operation] = None  # new ops go before it (None: at the end)
        self._insertions: dict = {}  # op -> ops placed just before it, not yet in _ops
        self._removed: set = set()  # ops removed, not yet taken out of _ops
        self._touched: list = []  # ops placed or rewired since the last settle
        self._type_counts: dict = {}  # op type -> ops of it (pass reports ask after each pass)

    def _append(self, op: Operation) -> None:
        """Give ``op`` its place (at the end, or before the ``inserting_before`` op)."""
        op._id = self._next_id
        self._next_id += 1
        if self._anchor is None:
            self._ops.append(op)
        else:
            self._insertions.setdefault(self._anchor, []).append(op)
            self._touched.append(op)
        self._by_name[op.name] = op
        counts = self._type_counts
        counts[op.type] = counts.get(op.type, 0) + 1
        self._link(op)

    def _link(self, op: Operation) -> None:
        """Tell ``op``'s inputs their new reader, and the open ``atomic`` block its op."""
        for tensor in op._inputs:
            tensor._add_consumer(op)
        if op._control_inputs:
            self._any_control_edges = True
        if self._journal is not None:
            self._journal_ops.append(op)

    def _rollback(self) -> None:
        created = self._journal_ops
        gone = set(created)
        for op in created:
            del self._by_name[op.name]
            self._variable_reads.pop(op, None)
            self._type_counts[op.type] -= 1
        for tensor in {t for op in created for t in op._inputs}:
            tensor._drop_consumers(gone)
        count = len(created)
        if count and not self._insertions and self._ops[-count:] == created:
            del self._ops[-count:]  # the usual case: the block appended them
            self._next_id = created[0]._id
        elif count:
            self._removed |= gone
        for op in created:
            op._id = -1
        self._restore_names()

    def _restore_names(self) -> None:
        """Give back the names reserved inside the failed ``atomic`` block."""
        for key, previous in reversed(self._journal):
            if previous is None:
                self._used_names.pop(key, None)
            else:
                self._used_names[key] = previous

    # -- copies ------------------------------------------------------------------------------
    def empty_like(self):
        """A new empty graph with this one's seed, taken names and variables: ops copied
        into it keep their names, and new ops get names no op of this graph has.

        Example:
            >>> target = graph.empty_like()
            >>> copied = target.copy_op(x.op, [])
        """
        target = _plain_graph(type(self))()  # a copy is a plain Graph, as the optimizer's are
        target.seed = self.seed
        target._used_names = dict(self._used_names)
        target._variable_reads = self._variable_reads
        return target

    def copy_op(self, source: Operation, inputs: Iterable[Tensor],
                control_inputs: Iterable[Operation] = ()) -> Operation:
        """Append a copy of ``source`` (from any graph) reading ``inputs``: same type, name,
        attributes, output shapes and dtypes, user line, device and provenance. Shapes and dtypes are
        copied, not inferred again, so the inputs must match the source's.

        Raises:
            ValueError: naming the op and input when an input differs from the source's.
        """
        self._refuse_if_finalized()
        inputs = tuple(inputs)
        if len(inputs) != len(source._inputs):
            raise ValueError(f"copy_op: '{source.name}' ({source.type}) takes "
                             f"{len(source._inputs)} inputs, got {len(inputs)}")
        for new, old in zip(inputs, source._inputs):
            if (not isinstance(new, Tensor) or new.op.graph is not self
                    or new.dtype is not old.dtype or (new._shape is not old._shape
                                                      and not new._shape.is_compatible_with(
                                                          old._shape))):
                raise ValueError(f"copy_op: input {new!r} of '{source.name}' ({source.type}) "
                                 f"must be a tensor of this graph like {describe_tensor(old)}")
        self._used_names.setdefault(source.name.lower(), 1)
        return self._copy_op(source, inputs, control_inputs)

    def _copy_op(self, source: Operation, inputs, control_inputs) -> Operation:
        """``copy_op`` for callers whose inputs are copies of the source's own and whose
        graph came from ``empty_like`` (so the name is taken): a whole-graph copy."""
        op = Operation(self, source.type, source.name, inputs, source.attrs, source.location,
                       control_inputs)
        op._provenance, op.device = source._provenance, source.device
        op.outputs = tuple([Tensor(op, i, t._shape, t.dtype)
                            for i, t in enumerate(source.outputs)])
        self._append(op)
        return op

    def copy(self, ops: Optional[Iterable[Operation]] = None) -> tuple:
        """``(copy, op_map)``: a graph holding copies of ``ops`` (default: all) and their
        data and control edges among them, and the map from each op to its copy.

        Example:
            >>> work, op_map = graph.copy()
            >>> op_map[y.op].outputs[0].name == y.name
            True
        """
        target = self.empty_like()
        op_map: dict = {}
        for op in self.topological_order(ops):
            inputs = [op_map[t.op].outputs[t.value_index] for t in op._inputs]
            controls = [op_map[c] for c in op._control_inputs if c in op_map]
            op_map[op] = target._copy_op(op, inputs, controls)
        return target, op_map

    # -- edits -------------------------------------------------------------------------------
    def inserting_before(self, op: Operation) -> "_Inserting":
        """Ops created inside the ``with`` block are placed just before ``op`` in the order.

        Example:
            >>> with work.as_default(), work.inserting_before(root):
            ...     replacement = gc.exp(x)
        """
        self._refuse_if_finalized()
        if not self._holds(op):
            raise ValueError(f"inserting_before: '{op.name}' is not in this graph")
        return _Inserting(self, op)

    def replace_uses(self, old: Tensor, new: Tensor) -> None:
        """Make every op that reads ``old`` read ``new`` instead (data edges only).

        Raises:
            ValueError: if either tensor is not in this graph, or ``new`` has another dtype
                or a shape incompatible with ``old``'s.
        """
        self._refuse_if_finalized()
        if old is new:
            return
        for tensor in (old, new):
            if not (isinstance(tensor, Tensor) and tensor.op.graph is self and tensor.op._id >= 0):
                raise ValueError(f"replace_uses: {tensor!r} is not a tensor of this graph")
        if new.dtype is not old.dtype or not new._shape.is_compatible_with(old._shape):
            raise ValueError(f"replace_uses: {describe_tensor(new)} cannot stand for "
                             f"{describe_tensor(old)}")
        for reader in dict.fromkeys(old.consumers()):
            inputs = reader._inputs
            for tensor in inputs:
                if tensor is old:
                    new._add_consumer(reader)
            reader._inputs = tuple([new if t is old else t for t in inputs])
            self._touched.append(reader)
        old._consumers = None

    def remove_ops(self, ops: Iterable[Operation]) -> None:
        """Remove ``ops``; the ops staying must not read them (by data or control edges).

        Their names stay taken, so no later op of this graph gets a removed op's name.

        Raises:
            ValueError: naming an op that is not in the graph or is still needed.
        """
        self._refuse_if_finalized()
        gone = set(ops)
        for op in gone:
            if not self._holds(op):
                raise ValueError(f"remove_ops: {op!r} is not in this graph")
            for tensor in op.outputs:
                for reader in tensor.consumers():
                    if reader not in gone:
                        raise ValueError(f"remove_ops: '{reader.name}' still reads "
                                         f"'{tensor.name}'")
        if self._any_control_edges:
            for op in self._all_ops():
                if op not in gone and any(dep in gone for dep in op._control_inputs):
                    raise ValueError(f"remove_ops: '{op.name}' has a control input among "
                                     "the ops to remove")
        for op in gone:
            del self._by_name[op.name]
            self._type_counts[op.type] -= 1
            op._id = -1
        for tensor in {t for op in gone for t in op._inputs}:
            tensor._drop_consumers(gone)
        self._removed |= gone

    def op_type_counts(self) -> dict:
        """``{op type: number of ops}``, sorted by type.

        Example:
            >>> graph.op_type_counts()
            {'add': 2, 'placeholder': 1, 'tanh': 1}
        """
        return {kind: n for kind, n in sorted(self._type_counts.items()) if n}

    def _refuse_if_finalized(self) -> None:
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")

    def _holds(self, op: Operation) -> bool:
        return op.graph is self and op._id >= 0  # a removed op's position is -1

    def _all_ops(self):
        """Every op, settled or not (order not guaranteed)."""
        yield from (op for op in self._ops if op not in self._removed)
        for placed in list(self._insertions.values()):
            yield from (op for op in placed if op not in self._removed)

    def _settle(self) -> None:
        """Apply pending insertions and removals to the op list, in one linear pass."""
        if not (self._insertions or self._removed or self._touched):
            return
        with self._lock:
            insertions, removed = self._insertions, self._removed
            order: list = []
            for op in self._ops:
                if op in insertions:
                    _emit_with_insertions(op, insertions, removed, order)
                elif op not in removed:
                    order.append(op)
            for index, op in enumerate(order):
                op._id = index
            self._ops, self._next_id = order, len(order)
            self._insertions, self._removed = {}, set()
            touched, self._touched = self._touched, []
            if self._creation_order_is_topological:  # the rest kept their relative order
                self._creation_order_is_topological = _is_topological(
                    op for op in touched if op._id >= 0)


def _plain_graph(cls) -> type:
    """``Graph`` itself for any subclass (a dataset function's graph takes arguments)."""
    return next(base for base in cls.__mro__ if GraphEditing in base.__bases__)


def _emit_with_insertions(op, insertions, removed, order) -> None:
    """Append ``op`` to ``order``, preceded by what was inserted before it (recursively)."""
    stack = [(op, False)]
    while stack:
        current, ready = stack.pop()
        if ready:
            if current not in removed:
                order.append(current)
            continue
        stack.append((current, True))
        stack.extend((placed, False) for placed in reversed(insertions.get(current, ())))


def _is_topological(ops) -> bool:
    """Whether each of ``ops`` comes after the producers of its inputs and its control
    inputs."""
    for op in ops:
        position = op._id
        if any(t.op._id >= position for t in op._inputs) or any(
                dep._id >= position for dep in op._control_inputs):
            return False
    return True


class _Atomic:
    """``with graph.atomic():``; nested blocks leave the rollback to the outermost one."""

    __slots__ = ("graph", "outermost")

    def __init__(self, graph: Graph):
        self.graph = graph

    def __enter__(self) -> list:
        """The list of ops created in the outermost block (it grows as the block builds)."""
        graph = self.graph
        self.outermost = graph._journal is None
        if self.outermost:
            graph._journal, graph._journal_ops = [], []
        return graph._journal_ops

    def __exit__(self, kind, value, traceback) -> None:
        graph = self.graph
        if self.outermost:
            try:
                if kind is not None:
                    graph._rollback()
            finally:
                graph._journal, graph._journal_ops = None, []


class _Inserting:
    __slots__ = ("graph", "op", "previous")

    def __init__(self, graph, op):
        self.graph, self.op = graph, op

    def __enter__(self) -> None:
        self.previous, self.graph._anchor = self.graph._anchor, self.op

    def __exit__(self, *exc) -> None:
        self.graph._anchor = self.previous
