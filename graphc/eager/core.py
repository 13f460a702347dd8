"""Eager execution on the graph IR: every op runs the moment it is built.

An ``EagerGraph`` is an ordinary ``Graph`` whose ``create_op`` also runs the op's registry
kernel on its inputs' values, so the op functions, gradient rules and error messages are the
graph mode's own. What it records is the graph mode's IR too: each result is an
``EagerTensor`` of an ``EagerOperation`` that keeps its inputs (the expression tree) and its
values, so ``gc.gradients`` differentiates a recorded tree with the registry's grad rules and
``gc.render`` draws it.

Memory: the eager graph keeps no list of its ops. A tensor holds its op, the op holds its
inputs and its values, but its outputs only weakly and its readers only weakly, so there are
no reference cycles: when nobody holds a tensor (nor anything computed from it), its op and
its values are freed at once, by reference counting. Names are unique only for ops that own
session state (variables): an eager loop of a million ops leaves no name table behind.
"""
from __future__ import annotations

import weakref

import numpy as np

from graphc import registry
from graphc.errors import InvalidArgumentError, OpError, describe_op, describe_tensor
from graphc.graph import Graph, _position
from graphc.nodes import Operation, Tensor
from graphc.runtime.state import RunContext, SessionState

__all__ = ["EagerTensor", "EagerOperation", "EagerGraph"]


class EagerTensor(Tensor):
    """A tensor with a value: the result of an op run eagerly (``gc.eager()``).

    Example:
        >>> with gc.eager():
        ...     y = gc.constant([1.0, 2.0]) * 3.0
        >>> y.numpy()
        array([3., 6.], dtype=float32)
    """

    __slots__ = ()

    @property
    def data(self) -> np.ndarray:
        """The value (micrograd's name for it); the same array as ``numpy()``."""
        return self.op._values[self.value_index]

    def numpy(self) -> np.ndarray:
        """The value as a read-only NumPy array."""
        return self.op._values[self.value_index]

    # -- Python protocols: an eager tensor is a value -----------------------------------
    def __array__(self, dtype=None, copy=None):
        value = self.op._values[self.value_index]
        return value if dtype is None else value.astype(dtype)

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
        readers = self._consumers
        if readers is None:
            self._consumers = readers = []
        readers.append(weakref.ref(op))

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


class EagerOperation(Operation):
    """An op that has run: it keeps its output values, and its output tensors weakly (a
    tensor nobody holds is made again, with the same value, when it is asked for)."""

    __slots__ = ("_values", "_output_refs", "_specs")

    @property
    def outputs(self) -> tuple:
        tensors = []
        for index, ref in enumerate(self._output_refs):
            tensor = ref()
            if tensor is None:
                shape, dtype = self._specs[index]
                tensor = EagerTensor(self, index, shape, dtype)
                self._output_refs[index] = weakref.ref(tensor)
            tensors.append(tensor)
        return tuple(tensors)

    @outputs.setter
    def outputs(self, tensors) -> None:
        self._output_refs = [weakref.ref(t) for t in tensors]
        self._specs = [(t._shape, t.dtype) for t in tensors]


class _EagerRunContext(RunContext):
    """The run context of one eager op: random ops draw from one stream per seed pair, so
    repeated calls of a seeded op continue the stream (TF2's eager semantics) instead of
    restarting it."""

    __slots__ = ()

    def rng(self) -> np.random.Generator:
        seed, seed2 = self.op.attrs.get("seed"), self.op.attrs.get("seed2")
        return self.state.generator_for_seeds(seed, seed2)


class EagerState(SessionState):
    """Variable values and random streams of eager execution (one per process)."""

    def __init__(self):
        super().__init__()
        self.unseeded = np.random.default_rng()

    def generator_for_seeds(self, seed, seed2) -> np.random.Generator:
        if seed is None:
            return self.unseeded
        key = (int(seed) & 0xFFFFFFFF, int(seed2 or 0) & 0xFFFFFFFF)
        with self.lock:
            rng = self.generators.get(key)
            if rng is None:
                rng = self.generators[key] = np.random.default_rng(list(key))
            return rng


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
        self.observers: list = []  # active GradientTapes: each is told every op that ran

    # -- building -------------------------------------------------------------------------
    def create_op(self, op_type, inputs=(), attrs=None, name=None, specs=None) -> Operation:
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
        op._id = self._next_id
        self._next_id += 1
        op._values = _run(op, self.state)
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


def _run(op: EagerOperation, state: EagerState) -> tuple:
    """The op's output values, computed by its registry kernel from its inputs' values."""
    opdef = registry.get(op.type)
    args = [t.op._values[t.value_index] for t in op._inputs]
    if opdef.bind is not None:
        kernel = opdef.bind(op)
    elif op.attrs:
        attrs = op.attrs
        kernel = lambda *a: opdef.kernel(*a, **attrs)  # noqa: E731
    else:
        kernel = opdef.kernel
    ctx = None
    try:
        with np.errstate(all="ignore"):  # NumPy's warnings are graph mode's silence too
            if opdef.needs_context:
                ctx = _EagerRunContext(state)
                ctx.op = op
                result = kernel(ctx, *args)
            else:
                result = kernel(*args)
    except OpError:
        raise
    except Exception as err:  # noqa: BLE001 - every kernel failure gets the op's context
        raise _eager_error(op, args, err) from err
    values = (result,) if len(op._specs) == 1 else tuple(result)
    values = tuple(_frozen(v) for v in values)
    if ctx is not None:
        ctx.commit()  # only after the kernel succeeded: a failing op changes no variable
    return values


def _small_scalar(value) -> bool:
    return isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "biuf"


def _frozen(value):
    """Values are shared by every tensor made from them, so nobody may write into one."""
    if isinstance(value, np.ndarray):
        if value.flags.writeable:
            value = value.view()
            value.flags.writeable = False
        return value
    if isinstance(value, np.generic):
        return np.asarray(value)
    return value


def _eager_error(op, args, err) -> InvalidArgumentError:
    inputs = "; ".join(f"{describe_tensor(t)} = {np.shape(v)} {getattr(v, 'dtype', '')}"
                       for t, v in zip(op._inputs, args)) or "no inputs"
    return InvalidArgumentError(None, op, f"{describe_op(op)} failed: {err} "
                                f"[inputs: {inputs}]")
