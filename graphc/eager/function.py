"""``gc.function``: a Python function traced into a graph once per input signature,
optimized by the full pass pipeline, and run from its cached plan (TF2's ``tf.function``
without AutoGraph: Python control flow runs while tracing; a branch or loop on a tensor's
value is written with ``gc.cond`` / ``gc.while_loop``).

A trace calls the function once with placeholders standing for its tensor arguments; the ops
it builds go into a ``TracedGraph``, never into the eager graph. What the function uses from
outside is *captured*: an eager tensor becomes a constant of its value (eager values never
change); an eager Variable becomes a variable op of the same name, so the traced graph reads
and assigns the very value eager code sees (both run on the one ``EagerState``). Stateful ops
run in program order (each waits for the one before: TF2's automatic control dependencies),
and each runs on every call, returned or not. Variables may be created on the first trace
only (as TF2 requires); they are initialized once, when that trace ends.

Under a recording ``GradientTape`` a call still runs its plan, recorded as one op whose
gradient is the traced graph's gradient, compiled as a function too (function_calls.py); a
function with effects besides variable reads runs its traced ops eagerly instead, so the tape
records each. Either way gradients reach its arguments, the eager tensors it captured and the
variables it read, through nested functions and to any order.

Retracing follows TF2: a tensor argument of a new dtype or shape, or a new Python value,
makes a new trace; ``input_signature`` fixes the signature (None dims: any size).
"""
from __future__ import annotations

import functools
from typing import Callable, Optional

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.data.structure import flatten, pack_as
from graphc.convert import convert_to_tensor
from graphc.graph import Graph, Tensor, get_default_graph, required_ops
from graphc.ops.control import placeholder
from graphc.runtime import Session
from graphc.shapes import TensorShape, as_shape
from graphc.viz.report import pass_table

from .context import eager_graph
from .core import EagerGraph
from .function_calls import recorded_call, runs_as_one_op

__all__ = ["function", "Function", "ConcreteFunction", "TensorSpec", "TracedGraph"]


class TensorSpec:
    """The dtype and (partly known) shape of a tensor argument (TF2's ``tf.TensorSpec``).

    Example:
        >>> @gc.function(input_signature=[gc.TensorSpec([None, 3], gc.float32)])
        ... def double(x):
        ...     return x * 2.0
    """

    def __init__(self, shape, dtype=gdt.float32, name: Optional[str] = None):
        self.shape = as_shape(shape)
        self.dtype = gdt.as_dtype(dtype)
        self.name = name

    def is_compatible_with(self, value) -> bool:
        dtype, shape = _dtype_and_shape(value)
        return dtype is self.dtype and self.shape.is_compatible_with(TensorShape(shape))

    def __eq__(self, other) -> bool:
        return (isinstance(other, TensorSpec) and self.dtype is other.dtype
                and self.shape.dims == other.shape.dims)

    def __hash__(self) -> int:
        return hash((self.dtype.name, None if self.shape.dims is None else
                     tuple(self.shape.dims)))

    def __repr__(self) -> str:
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype.name}, name={self.name!r})"


class TracedGraph(Graph):
    """The graph a ``gc.function`` is traced into (see the module docstring)."""

    def __init__(self, outer_graph: EagerGraph, name: str, first_trace: bool):
        super().__init__()
        self.outer_graph = outer_graph
        self.name = name
        self.first_trace = first_trace
        self.seed = outer_graph.seed
        self.captures: dict = {}  # id of an eager tensor -> (it, its stand-in here)
        self.stateful_ops: list = []  # the ops every call runs, in program order

    def create_op(self, op_type, inputs=(), attrs=None, name=None, specs=None):
        inputs = [self.capture(t) if isinstance(t, Tensor) and t.graph is not self else t
                  for t in inputs]
        # reads, writes and other effects keep program order; sources (placeholders,
        # variable handles) have no effect to order
        stateful = registry.get(op_type).stateful and bool(inputs)
        if stateful and self.stateful_ops:
            with self.control_dependencies([self.stateful_ops[-1]]):
                op = super().create_op(op_type, inputs, attrs, name, specs)
        else:
            op = super().create_op(op_type, inputs, attrs, name, specs)
        if stateful:
            self.stateful_ops.append(op)
        return op

    def lifted_value(self, initial_value) -> np.ndarray:
        """The value a Variable created while tracing starts from, computed now: the
        variable itself is made in the eager graph (TF2 lifts variables out of functions).

        Raises:
            ValueError: on a later trace, or when the value depends on the arguments.
        """
        if not self.first_trace:
            raise ValueError(f"gc.function {self.name!r} creates a variable on a later "
                             "trace; variables may only be created on the first trace "
                             "(create it once, outside or guarded by `if v is None`)")
        with self.as_default():
            value = initial_value() if callable(initial_value) else initial_value
            if not isinstance(value, Tensor):
                return value
            value = convert_to_tensor(value)
        arguments = [op for op in required_ops([value]) if op.type == "placeholder"]
        if arguments:
            raise ValueError(f"gc.function {self.name!r}: a variable's initial value may not "
                             f"depend on the function's arguments ({arguments[0].name!r})")
        return Session(graph=self, _state=self.outer_graph.state).run(value)

    def capture(self, tensor: Tensor) -> Tensor:
        """The stand-in here for ``tensor`` of the eager graph: a constant of its value, or,
        for a variable handle, this graph's variable op of the same name."""
        if not isinstance(tensor.graph, EagerGraph):
            raise ValueError(f"gc.function {self.name!r}: tensor {tensor.name!r} is from "
                             "another graph; pass it to the function as an argument")
        known = self.captures.get(id(tensor))
        if known is not None:
            return known[1]
        variable = tensor.graph._variable_reads.get(tensor.op)
        with self.name_scope(None), self.control_dependencies(None):
            if variable is not None:
                stand_in = Graph.create_op(self, "variable", [], dict(tensor.op.attrs),
                                           name=tensor.op.name + "/").outputs[0]
                self._variable_reads[stand_in.op] = variable
            else:
                stand_in = Graph.create_op(self, "const", [], {
                    "value": tensor.numpy(), "dtype": tensor.dtype},
                    name="captured/" + tensor.op.name).outputs[0]
        self.captures[id(tensor)] = (tensor, stand_in)
        return stand_in

    def captured_handle(self, handle: Tensor) -> Tensor:
        """This graph's handle for a variable (an eager one is captured)."""
        return handle if handle.graph is self else self.capture(handle)


class ConcreteFunction:
    """One trace of a ``gc.function``: its graph, placeholders and outputs, and the
    Session that runs its optimized plan.

    Example:
        >>> cf = f.get_concrete_function(gc.TensorSpec([None], gc.float32))
        >>> print(cf.graph)                  # the traced graph as text
        >>> print(cf.pass_table())           # what the optimizer did to it
        >>> gc.render(cf.outputs, "f.png")
    """

    def __init__(self, graph: TracedGraph, inputs: list, structured_outputs, state):
        self.graph = graph
        self.inputs = inputs
        self.structured_outputs = structured_outputs
        self.outputs = [t for t in flatten(structured_outputs) if isinstance(t, Tensor)]
        self._session = Session(graph=graph, _state=state)
        self._fetches = (self.outputs, list(graph.stateful_ops))
        self._replay = None  # the traced ops, in order, once a tape needs them
        self._backward = None  # its gradient's gc.function (function_calls.py), once asked

    def __call__(self, *args, **kwargs):
        return self._call_flat(_tensor_leaves((args, kwargs)))

    def _call_flat(self, values: list):
        if len(values) != len(self.inputs):
            raise TypeError(f"gc.function {self.graph.name!r} takes {len(self.inputs)} tensor "
                            f"arguments, got {len(values)}")
        graph = eager_graph()
        if graph.observers:  # a GradientTape records: one op of the plan, or the ops
            if runs_as_one_op(self):
                return recorded_call(self, graph, values, Function)
            return self._replayed(values)
        it = iter(self._run_plan(values))
        flat = [next(it) if isinstance(t, Tensor) else t
                for t in flatten(self.structured_outputs)]
        return _eager_values(pack_as(self.structured_outputs, flat))

    def _run_plan(self, values: list) -> list:
        """The output values of a call, computed by the optimized plan."""
        feeds = {placeholder: _as_array(value) for placeholder, value in zip(self.inputs,
                                                                               values)}
        results, _ = self._session.run(self._fetches, feeds)
        return results

    def _replayed(self, values: list):
        """The call with the traced graph's ops run eagerly, each recorded by the tapes,
        which differentiate them with the registry's grad rules: the traced function's
        graph gradient, reaching the arguments, the eager tensors the function captured
        and the variables it read (the optimized plan has rewritten those ops away)."""
        graph = eager_graph()
        mapped = {placeholder: value if isinstance(value, Tensor) else
                  convert_to_tensor(value) for placeholder, value in zip(self.inputs, values)}
        for tensor, stand_in in self.graph.captures.values():
            mapped[stand_in] = tensor  # the eager tensor itself, or the variable's handle
        with graph.as_default():
            for op in self._replay_order():
                if op.outputs and all(t in mapped for t in op.outputs):
                    continue  # an argument or a capture
                made = graph.create_op(op.type, [mapped[t] for t in op.inputs],
                                       dict(op.attrs), name=op.name)
                mapped.update(zip(op.outputs, made.outputs))
        flat = [mapped[t] if isinstance(t, Tensor) else t
                for t in flatten(self.structured_outputs)]
        return pack_as(self.structured_outputs, flat)

    def _replay_order(self) -> list:
        """What a call runs: the ops the outputs need and every stateful op, in program
        order (the trace's creation order)."""
        if self._replay is None:
            needed = required_ops(self.outputs, self.graph.stateful_ops, control=False)
            self._replay = self.graph.topological_order(needed)
        return self._replay

    def optimization_records(self) -> list:
        """The optimizer's PassResults for this function's plan."""
        feeds = {p: np.zeros([d or 1 for d in p.shape.dims], p.dtype.np) for p in self.inputs}
        return self._session.optimization_records(self._fetches, feeds)

    def pass_table(self) -> str:
        """What the optimizer did to the traced graph, as graphc inspect prints it."""
        return pass_table(self.optimization_records())


_RUN_EAGERLY = [False]  # tf.config.run_functions_eagerly: call the Python function itself


def run_functions_eagerly(run_eagerly: bool) -> None:
    """Whether ``gc.function``s run their Python function op by op instead of a trace.

    Example:
        >>> run_functions_eagerly(True)   # gc.config.run_functions_eagerly
    """
    _RUN_EAGERLY[0] = bool(run_eagerly)


def functions_run_eagerly() -> bool:
    """Whether ``run_functions_eagerly(True)`` is in force."""
    return _RUN_EAGERLY[0]


class Function:
    """A Python function that runs as traced, optimized graphs (made by ``gc.function``)."""

    def __init__(self, python_function: Callable, input_signature=None, name=None):
        self.python_function = python_function
        self.input_signature = None if input_signature is None else list(input_signature)
        self.name = name or getattr(python_function, "__name__", "function")
        self._traces: dict = {}  # signature key -> ConcreteFunction
        self.tracing_count = 0
        functools.update_wrapper(self, python_function)

    def __call__(self, *args, **kwargs):
        if not isinstance(get_default_graph(), EagerGraph) or _RUN_EAGERLY[0]:
            # building a graph already (TF1 code, or inside another trace): inline it; or
            # asked to run eagerly: op by op
            return self.python_function(*args, **kwargs)
        key, tensors = self._signature((args, kwargs))
        concrete = self._traces.get(key)
        if concrete is None:
            concrete = self._trace(args, kwargs, key)
        return concrete._call_flat(tensors)

    def get_concrete_function(self, *args, **kwargs) -> ConcreteFunction:
        """The trace for these arguments (values or ``TensorSpec``s), made if needed."""
        if not args and not kwargs and self.input_signature is not None:
            args = tuple(self.input_signature)
        key, _ = self._signature((args, kwargs))
        return self._traces.get(key) or self._trace(args, kwargs, key)

    def experimental_get_tracing_count(self) -> int:
        """How many times the Python function was traced (TF2's name)."""
        return self.tracing_count

    def _signature(self, arguments) -> tuple:
        """``(key, tensor values)``: tensors by dtype and shape (or the input signature),
        everything else by value."""
        leaves = flatten(arguments)
        tensors = [leaf for leaf in leaves if _is_tensor_value(leaf)]
        if self.input_signature is not None:
            if len(tensors) != len(self.input_signature):
                raise TypeError(f"gc.function {self.name!r}: input_signature has "
                                f"{len(self.input_signature)} tensors, the call passes "
                                f"{len(tensors)}")
            for spec, value in zip(self.input_signature, tensors):
                if not spec.is_compatible_with(value):
                    dtype, shape = _dtype_and_shape(value)
                    raise TypeError(f"gc.function {self.name!r}: argument of dtype "
                                    f"{dtype.name} shape {list(shape)} does not match {spec}")
            parts = [("spec", spec) for spec in self.input_signature]
        else:
            parts = [("spec", TensorSpec(_dtype_and_shape(t)[1], _dtype_and_shape(t)[0]))
                     for t in tensors]
        others = []
        for leaf in leaves:
            if not _is_tensor_value(leaf):
                try:
                    hash(leaf)
                    others.append((type(leaf).__name__, leaf))
                except TypeError:
                    others.append((type(leaf).__name__, id(leaf)))
        structure = pack_as(arguments, [None] * len(leaves))
        return (repr(structure), tuple(parts), tuple(others)), tensors

    def _trace(self, args, kwargs, key) -> ConcreteFunction:
        specs = [part[1] for part in key[1]]
        graph = TracedGraph(eager_graph(), self.name, first_trace=not self._traces)
        with graph.as_default():
            inputs = [placeholder(spec.dtype, spec.shape, name=spec.name or f"arg_{i}")
                      for i, spec in enumerate(specs)]
            it = iter(inputs)
            leaves = [next(it) if _is_tensor_value(leaf) else leaf
                      for leaf in flatten((args, kwargs))]
            call_args, call_kwargs = pack_as((args, kwargs), leaves)
            result = self.python_function(*call_args, **call_kwargs)
        self.tracing_count += 1
        concrete = ConcreteFunction(graph, inputs, result, eager_graph().state)
        self._traces[key] = concrete
        return concrete


def function(func=None, input_signature=None, autograph: bool = False, jit_compile=None,
             reduce_retracing: bool = False, experimental_relax_shapes: bool = False,
             name: Optional[str] = None):
    """Trace ``func`` into optimized graphs, one per input signature (TF2's ``tf.function``).

    Example:
        >>> @gc.function
        ... def step(x):
        ...     return gc.reduce_sum(x * x)
        >>> with gc.eager():
        ...     step(np.ones(3, np.float32)).numpy()       # 3.0, from the cached plan
    """
    if func is None:
        return lambda f: Function(f, input_signature, name)
    return Function(func, input_signature, name)


def _is_tensor_value(value) -> bool:
    return isinstance(value, (Tensor, np.ndarray, TensorSpec))


def _dtype_and_shape(value):
    if isinstance(value, TensorSpec):
        return value.dtype, value.shape.dims
    if isinstance(value, Tensor):
        return value.dtype, value.shape.dims
    array = np.asarray(value)
    return gdt.as_dtype(array.dtype), array.shape


def _tensor_leaves(arguments) -> list:
    return [leaf for leaf in flatten(arguments) if _is_tensor_value(leaf)]


def _as_array(value):
    return value.numpy() if isinstance(value, Tensor) else value


def _eager_values(structure):
    """The results as eager constants: callers get eager tensors, as from any eager op."""
    graph = eager_graph()
    leaves = []
    for leaf in flatten(structure):
        if isinstance(leaf, (np.ndarray, np.generic)):
            leaf = np.asarray(leaf)
            leaf = graph.create_op("const", [], {"value": leaf,
                                                 "dtype": gdt.as_dtype(leaf.dtype)},
                                   name="function_result").outputs[0]
        leaves.append(leaf)
    return pack_as(structure, leaves)
