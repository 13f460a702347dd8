"""Eager execution on the graph IR: every op runs the moment it is built.

An ``EagerGraph`` is an ordinary ``Graph`` whose ``create_op`` also runs the op's registry
kernel on its inputs' values, so the op functions, gradient rules and error messages are the
graph mode's own. What it records is the graph mode's IR too: each result is an
``EagerTensor`` of an ``EagerOperation`` that keeps its inputs (the expression tree) and its
values, so ``gc.gradients`` differentiates a recorded tree with the registry's grad rules and
``gc.render`` draws it. A call like one seen before skips what the graph mode asks again
(inference, validation, kernel binding): dispatch.py keeps the answers per kind of call.
Stored values are never written: what ``numpy()`` hands out is a read-only view.

A repeated elementwise call does less still: it returns a tensor holding its value and a
record of its producer, and its op is made from the record when asked for (records.py).

Memory: the eager graph keeps no list of its ops. A tensor holds its op, the op holds its
inputs and its values, but its outputs only weakly (once its builder took them) and its
readers only weakly, so there are no reference cycles: when nobody holds a tensor (nor
anything computed from it), its op and its values are freed at once, by reference counting. Names are unique only for ops that own
session state (variables): an eager loop of a million ops leaves no name table behind.
"""
from __future__ import annotations

import functools
import itertools
import math
import weakref

import numpy as np

from graphc import operators, registry
from graphc.convert import convert_to_tensor
from graphc.errors import describe_tensor
from graphc.graph import Graph, _position
from graphc.nodes import Operation, Tensor

from .dispatch import UNPLANNED, line_of, make_plan, plan_for, plan_key, read_only, run_op
from .fast_calls import install_fast_calls
from .planned import run_planned, run_source
from .records import materialize, op_slot, run_elementwise, set_op_slot
from .state import EagerState

__all__ = ["EagerTensor", "EagerOperation", "EagerGraph", "EagerState"]


class EagerTensor(Tensor):
    """A tensor with a value: the result of an op run eagerly (``gc.eager()``).

    Example:
        >>> with gc.eager():
        ...     y = gc.constant([1.0, 2.0]) * 3.0
        >>> y.numpy()
        array([3., 6.], dtype=float32)
    """

    __slots__ = ("_value", "_producer")  # its value; its producer record until asked

    def __init__(self, op, value_index, shape, dtype, value=None):
        set_op_slot(self, op)
        self.value_index, self._shape, self.dtype, self._consumers = value_index, shape, dtype, None
        self._value, self._producer = value, None

    @property
    def op(self) -> Operation:
        """The op that computed this tensor (made from its producer record when first asked
        for, records.py)."""
        try:
            return op_slot(self)
        except AttributeError:  # a recorded tensor: its op is made now
            return materialize(self)

    @op.setter
    def op(self, op) -> None:
        set_op_slot(self, op)

    @property
    def graph(self) -> Graph:
        producer = self._producer
        return op_slot(self).graph if producer is None else producer[0]

    @property
    def name(self) -> str:
        producer = self._producer
        if producer is None:
            return f"{op_slot(self).name}:{self.value_index}"
        return f"{producer[3]}{producer[4]}:0"  # the name its op will have (records.py)

    @property
    def data(self) -> np.ndarray:
        """The value (micrograd's name for it), as ``numpy()`` gives it."""
        return read_only(self._value)

    def numpy(self) -> np.ndarray:
        """The value as a read-only NumPy array."""
        return read_only(self._value)

    # -- Python protocols: an eager tensor is a value -----------------------------------
    def __array__(self, dtype=None, copy=None):
        value = self._value
        return read_only(value) if dtype is None else value.astype(dtype)

    def __bool__(self):
        return bool(self.numpy())

    def __float__(self):
        return float(self.numpy())

    def __int__(self):
        return int(self.numpy())

    def __index__(self):
        return int(self.numpy())

    def __len__(self):
        shape = np.shape(self.numpy())
        if not shape:
            raise TypeError(f"len() of a 0-d tensor {describe_tensor(self)}")
        return shape[0]

    def __format__(self, spec):
        return format(self.numpy(), spec) if spec else repr(self)

    def __repr__(self) -> str:
        value = np.array2string(np.asarray(self.numpy()), separator=", ", threshold=20)
        return (f"<gc.Tensor '{self.name}': shape={self.shape}, dtype={self.dtype.name}, "
                f"numpy={value}>")

    # -- readers are remembered weakly: a leaf must not keep what was computed from it --
    def _add_consumer(self, op) -> None:
        self._add_reader(weakref.ref(op))

    def _add_reader(self, ref) -> None:
        readers = self._consumers
        if readers is None:
            self._consumers = [ref]
            return
        readers.append(ref)
        count = len(readers)
        if count >= 16 and not count & (count - 1):  # at powers of two: amortized O(1)
            self._consumers = [ref for ref in readers if ref() is not None]  # a leaf read
            # a million times keeps the readers alive now, not a million dead references

    def consumers(self) -> list:
        readers = self._consumers or ()
        live = [op for op in (ref() for ref in readers) if op is not None]
        if len(live) < len(readers):
            self._consumers = [weakref.ref(op) for op in live] or None
        return live

    def _drop_consumers(self, gone) -> None:
        if self._consumers:
            kept = [ref for ref in self._consumers if ref() not in gone]
            self._consumers = kept or None


# the hooks ``apply_elementwise`` and the unary op functions try first, and the operators
# taken straight to the fast calls: a planned elementwise call runs at once and returns a
# recorded tensor (records.py, fast_calls.py)
EagerTensor.run_elementwise = functools.partial(run_elementwise, EagerTensor)
install_fast_calls(EagerTensor, operators.BINARY, operators.UNARY)


class EagerOperation(Operation):
    """An op that has run: it keeps its output values, and its output tensors weakly (a
    tensor nobody holds is made again, with the same value, when it is asked for).

    The new outputs are held until they are first asked for (the op's builder takes them
    at once); the user's line is kept as ``(code, line)`` and formatted when asked for.
    """

    __slots__ = ("_values", "_output_refs", "_specs", "_fresh", "_where")

    @property
    def outputs(self) -> tuple:
        fresh = self._fresh
        if fresh is not None:
            self._fresh = None  # from now on only their holders keep them
            return fresh
        tensors = []
        for index, ref in enumerate(self._output_refs):
            tensor = ref()
            if tensor is None:
                shape, dtype = self._specs[index]
                tensor = EagerTensor(self, index, shape, dtype, self._values[index])
                self._output_refs[index] = weakref.ref(tensor)
            tensors.append(tensor)
        return tuple(tensors)

    @outputs.setter
    def outputs(self, tensors) -> None:
        self._fresh = tensors = tuple(tensors)
        self._output_refs = [weakref.ref(t) for t in tensors]
        self._specs = tuple([(t._shape, t.dtype) for t in tensors])

    @property
    def location(self):
        where = self._where
        if where.__class__ is tuple:
            return f"{where[0].co_filename}:{line_of(*where)}"
        return where

    @location.setter
    def location(self, value) -> None:
        self._where = value


class EagerGraph(Graph):
    """The graph eager ops are recorded in (see the module docstring).

    Example:
        >>> with gc.eager():
        ...     gc.executing_eagerly()
        True
    """

    _operation_class, _tensor_class = EagerOperation, EagerTensor
    executes_eagerly = True

    def __init__(self, state: EagerState):
        super().__init__()
        self.state = state
        self._state_names: set = set()  # names of ops owning state (variables), lowercase
        self._scalars: dict = {}  # recent 0-d constants, shared by their uses
        self._shared_constants: dict = {}  # (Python number, dtype, scope) -> its tensor
        self.observers: list = []  # active GradientTapes: each is told every op that ran
        self._serials = itertools.count()  # op ids: next() is atomic, no lock per op

    # -- building -------------------------------------------------------------------------
    def create_op(self, op_type, inputs=(), attrs=None, name=None, specs=None) -> Operation:
        """Build and run an op; a call like one seen before runs from its plan
        (dispatch.py): no inference, validation or kernel binding again."""
        key = None
        plain = specs is None and not (self._control_stack or self._device_stack or
                                       self._gradient_overrides or self._finalized) and \
            (not name or name[-1] != "/")
        if plain and not inputs and not (attrs and _small_scalar(attrs.get("value"))):
            op = run_source(self, op_type, attrs, name)  # gc.constant(array), at once
            if op is not None:
                return op
        if plain:
            key = plan_key(self, EagerTensor, op_type, inputs, attrs)
            if key is not None:
                plan = plan_for(key)
                if plan is UNPLANNED:
                    key = None
                elif plan is not None:
                    op = run_planned(self, plan, op_type, inputs, attrs, name)
                    if op is not None:
                        return op
        op = self._build(op_type, inputs, attrs, name, specs)
        if key is not None:
            make_plan(key, op)
        return op

    def shared_constant(self, value, dtype) -> EagerTensor:
        """A Python number used beside tensors of ``dtype`` (``x * 1.01``), as a tensor:
        one constant per number, shared by its uses, not one per use."""
        key = (value.__class__, value, dtype.name, self._name_stack,
               math.copysign(1.0, value) if value.__class__ is float else None)
        tensor = self._shared_constants.get(key)
        if tensor is None:
            with self.as_default():
                tensor = convert_to_tensor(value, dtype_hint=dtype)
            if not self._control_stack:
                if len(self._shared_constants) >= 512:
                    self._shared_constants.clear()
                self._shared_constants[key] = tensor
        return tensor

    def _build(self, op_type, inputs, attrs, name, specs) -> Operation:
        inputs = list(inputs)
        opdef = registry.get(op_type)
        if opdef.stateful and not inputs:
            name = self._state_name(name or op_type)
        elif not inputs and attrs and _small_scalar(attrs.get("value")) and \
                opdef.foldable and not opdef.random and not self._control_stack:
            # ``x * 1.01`` in a loop: one constant op per distinct scalar, not per use
            value = attrs["value"]
            key = (op_type, value.dtype.str, value.tobytes(), name, self._name_stack)
            op = self._scalars.get(key)
            if op is None:
                if len(self._scalars) >= 512:
                    self._scalars.clear()
                op = self._scalars[key] = super().create_op(op_type, inputs, attrs, name, specs)
            return op
        return super().create_op(op_type, inputs, attrs, name, specs)

    def _state_name(self, name: str) -> str:
        """An absolute name no other op owning session state has had (variables are
        stored by name); other eager ops need no unique names (see the module doc)."""
        full = name[:-1] if name.endswith("/") else self._name_stack + name
        with self._lock:
            unique, count = full, 0
            while unique.lower() in self._state_names:
                count += 1
                unique = f"{full}_{count}"
            self._state_names.add(unique.lower())
        return unique + "/"

    @property
    def in_control_dependencies(self) -> bool:
        """True: every use of a Variable reads it anew (its value now, and a read the tapes
        see), instead of the snapshot made with the variable."""
        return True

    def _unique(self, name: str) -> tuple:
        return name, None

    def _claim(self, claim) -> None:
        pass

    def _append(self, op: EagerOperation) -> None:
        """Run ``op`` now; it is kept only by whoever holds its outputs."""
        op._id = next(self._serials)
        op._values = run_op(op, self.state)
        for tensor, value in zip(op._fresh or (), op._values):
            tensor._value = value
        self._link(op)
        for observer in self.observers:
            observer._record(op)

    def _rollback(self) -> None:
        # the ops already ran and nothing lists them: only the names go back
        for op in self._journal_ops:
            self._variable_reads.pop(op, None)
        self._restore_names()

    def topological_order(self, ops=None) -> list:
        if ops is None:
            raise ValueError("An eager graph keeps no list of its ops; ask for the order of "
                             "some ops (those a tensor was computed from)")
        return sorted(ops, key=_position)  # creation order: every input ran before its reader

    def get_operations(self) -> list:
        raise ValueError("An eager graph keeps no list of its ops: use gc.render(tensor) or "
                         "gc.required_ops([tensor]) to see what a tensor was computed from")

    def __len__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "<gc.EagerGraph>"


def _small_scalar(value) -> bool:
    return isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "biuf"
