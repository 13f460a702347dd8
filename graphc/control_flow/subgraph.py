"""Subgraphs: the branches, bodies and conditions that control-flow ops hold.

A ``Subgraph`` is a graph of its own with explicit ``inputs`` (placeholders) and ``outputs``,
as TF2's functional ``If``/``While`` and JAX's ``cond``/``while_loop`` hold theirs; an op
that holds subgraphs lists their attribute names in its ``OpDef.subgraphs``. Tracing a
Python function (``trace``) builds one: the function runs once on placeholders inside a
``BodyGraph``; a tensor of an enclosing graph that it uses is *captured*: the body graph
gets a placeholder for it and the op takes the outer tensor as an explicit input, so every
pass and engine sees the data edge. Variables read inside a body are read there (each
iteration sees the assignments of earlier ones, as TF1's resource variables).

What a subgraph needs from the layers above core (differentiating it, compiling it into a
plan) those layers register here (``register_service``): imports only go down.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

from graphc import registry
from graphc.algorithms import required_ops
from graphc.graph import Graph, Tensor, get_default_graph
from graphc.shapes import TensorShape

__all__ = ["Subgraph", "BodyGraph", "trace", "inline", "register_service", "service",
           "root_graph", "subgraphs_of", "variables_updated_inside"]

_SERVICES: dict = {}
_PROVIDERS = {"gradients": "graphc.passes.gradients", "compile": "graphc.runtime",
              "optimize": "graphc.passes"}


def register_service(name: str, function) -> None:
    """Install a higher layer's ``function`` for ``name``: "gradients" (``gradients``),
    "compile" (``compile(subgraph) -> run(values, ctx) -> outputs``) or "optimize".

    Example:
        >>> register_service("compile", compile_subgraph)   # graphc.runtime does this
    """
    if name not in _PROVIDERS:
        raise ValueError(f"control flow has no service {name!r}; known: {sorted(_PROVIDERS)}")
    _SERVICES[name] = function


def service(name: str):
    try:
        return _SERVICES[name]
    except KeyError:
        raise RuntimeError(f"control flow needs {_PROVIDERS[name]}, which registers its "
                           f"{name!r} service when imported (import graphc)") from None


class BodyGraph(Graph):
    """The graph a branch, loop body or loop condition is traced into.

    ``outer_graph`` is the graph around it (``graphc.convert.graph_of`` lets ops built
    inside use outer tensors, which ``capture`` turns into placeholders here);
    ``live_variable_reads`` makes a Variable used inside read its value here, per run of
    the body, instead of the snapshot taken outside.
    """

    live_variable_reads = True

    def __init__(self, outer_graph: Graph, label: str):
        super().__init__()
        self.outer_graph = outer_graph
        self.label = label
        self.seed = outer_graph.seed
        self.captures: dict = {}  # tensor of outer_graph -> its placeholder here
        self._name_stack = outer_graph._name_stack
        self._used_names = dict(outer_graph._used_names)  # body ops read as the outer names

    def _reserve(self, key: str, count: int) -> None:
        """Names taken here are taken in the enclosing graphs too: ops are told apart by
        name across a body and the graph around it (session state keys random streams by
        op name, errors name ops)."""
        super()._reserve(key, count)
        if self.outer_graph._used_names.get(key, 0) < count:
            self.outer_graph._reserve(key, count)

    def create_op(self, op_type, inputs=(), attrs=None, name=None, specs=None):
        inputs = [self.capture(t) if isinstance(t, Tensor) and t.graph is not self else t
                  for t in inputs]
        return super().create_op(op_type, inputs, attrs, name, specs)

    def capture(self, tensor: Tensor) -> Tensor:
        """The placeholder standing for ``tensor`` (of an enclosing graph) in this graph;
        a tensor from further out is captured by each graph in between first."""
        if tensor.graph is self:
            return tensor
        outer = self.outer_graph
        if tensor.graph is not outer:
            if not isinstance(outer, BodyGraph):
                raise ValueError(f"Tensor {tensor.name!r} used in {self.label} is from a "
                                 "graph that does not enclose it")
            tensor = outer.capture(tensor)
        stand_in = self.captures.get(tensor)
        if stand_in is None or self._by_name.get(stand_in.op.name) is not stand_in.op:
            with self.name_scope(None), self.control_dependencies(None):
                stand_in = Graph.create_op(
                    self, "placeholder", [], {"dtype": tensor.dtype, "shape": tensor.shape},
                    name="captured/" + tensor.op.name).outputs[0]
            self.captures[tensor] = stand_in
        return stand_in


def root_graph(graph: Optional[Graph] = None) -> Graph:
    """The outermost graph around ``graph`` (default: the default graph): where variables
    live, whatever body is being traced.

    Example:
        >>> with root_graph().as_default():
        ...     w = gc.Variable(gc.zeros([3]))      # created outside any loop body
    """
    graph = graph if graph is not None else get_default_graph()
    while isinstance(graph, BodyGraph):
        graph = graph.outer_graph
    return graph


class Subgraph:
    """A traced function: ``graph`` with placeholder ``inputs`` and result ``outputs``.

    Immutable once made; compiled plans and copies of the op holding it share it. How it
    sits in its op, for passes: its inputs are the op's inputs from ``first_input`` on;
    those from ``captured_from`` on (an index into ``inputs``) hold the same value however
    often it runs in one run of the op (captured tensors, not loop variables); ``repeats``:
    it may run many times per run of the op (a loop's body and condition); ``effects``:
    ops that run although the outputs may not need them (the optimizer keeps what a run
    of the traced function did: an assignment or a failing integer division whose value a
    rewrite dropped; see ``graphc.passes.prune``).

    Example:
        >>> body = trace(lambda x: [x * 2.0], [(TensorShape([3]), gc.float32)], "body")
        >>> len(body.inputs), body.outputs[0].shape
        (1, TensorShape([3]))
    """

    __slots__ = ("graph", "inputs", "outputs", "label", "first_input", "captured_from",
                 "repeats", "effects")

    def __init__(self, graph: Graph, inputs: Sequence[Tensor], outputs: Sequence[Tensor],
                 label: str, first_input: int = 0, captured_from: int = 0,
                 repeats: bool = False, effects: Sequence = ()):
        self.graph, self.label = graph, label
        self.inputs, self.outputs = tuple(inputs), tuple(outputs)
        self.first_input, self.captured_from, self.repeats = (first_input, captured_from,
                                                              repeats)
        self.effects = tuple(effects)

    def replaced(self, graph: Graph, inputs, outputs, effects=None) -> "Subgraph":
        """The same role (label, position in its op) over another graph; ``effects``
        (default: this one's, which must then be ops of ``graph``)."""
        if effects is None:
            if self.effects and graph is not self.graph:
                raise ValueError(f"{self.label}: its effects must be given in the new graph")
            effects = self.effects
        return Subgraph(graph, inputs, outputs, self.label, self.first_input,
                        self.captured_from, self.repeats, effects)

    def ops(self) -> list:
        """The ops the outputs and effects need, in order (what runs)."""
        needed = required_ops(self.outputs, self.effects, fed=frozenset(self.inputs))
        needed.update(t.op for t in self.inputs)
        return self.graph.topological_order(needed)

    def __len__(self) -> int:
        return len(self.ops())

    def __repr__(self) -> str:
        return f"<{self.label}: {len(self.inputs)} in, {len(self.outputs)} out>"

    __str__ = __repr__


def subgraphs_of(op) -> list:
    """``[(attr name, Subgraph)]`` of ``op`` (its OpDef's ``subgraphs`` attributes)."""
    found = []
    for key in op.opdef.subgraphs:
        value = op.attrs[key]
        found.extend((key, sub) for sub in (value if isinstance(value, tuple) else (value,)))
    return found


def _variable_name(tensor):
    return tensor.op.name if tensor.op.type == "variable" else None


def variables_updated_inside(op, resolve=_variable_name) -> set:
    """Names of the variables that ops inside ``op``'s subgraphs (nested ones too) assign:
    a run of the plan holding ``op`` takes their locks (``graphc.runtime.state``)."""
    names = set()
    for _, sub in subgraphs_of(op):
        outer = dict(zip(sub.inputs, op.inputs[sub.first_input:]))

        def inner_resolve(tensor, outer=outer):
            return resolve(outer[tensor]) if tensor in outer else _variable_name(tensor)
        for inner in sub.ops():
            if registry.get(inner.type).updates_variable:
                names.add(inner_resolve(inner.inputs[0]))
            if registry.get(inner.type).subgraphs:
                names |= variables_updated_inside(inner, inner_resolve)
    names.discard(None)
    return names


def trace(fn: Callable, specs: Sequence, label: str, outer: Optional[Graph] = None) -> tuple:
    """Call ``fn`` on placeholders of ``specs`` (``(shape, dtype)`` pairs) inside a new
    ``BodyGraph``; returns ``(graph, inputs, result)``, ``result`` as ``fn`` returned it
    (its tensors still to be checked and flattened by the caller)."""
    outer = outer if outer is not None else get_default_graph()
    graph = BodyGraph(outer, label)
    with graph.as_default():
        with graph.name_scope(None):
            inputs = [Graph.create_op(graph, "placeholder", [],
                                      {"dtype": dtype, "shape": TensorShape(shape.dims)
                                       if isinstance(shape, TensorShape) else shape},
                                      name=f"{label}_input_{k}").outputs[0]
                      for k, (shape, dtype) in enumerate(specs)]
        result = fn(*inputs)
    return graph, inputs, result


def finish(graph: BodyGraph, inputs: list, outputs: list, label: str) -> tuple:
    """``(Subgraph, captured outer tensors)``: the traced graph with its live captures
    appended to its inputs (captures the outputs do not need are dropped)."""
    needed = required_ops(outputs, fed=frozenset(inputs))
    captured = [(outer, inner) for outer, inner in graph.captures.items()
                if inner.op in needed]
    sub = Subgraph(graph, list(inputs) + [inner for _, inner in captured], outputs, label)
    return sub, [outer for outer, _ in captured]


def placed(sub: Subgraph, first_input: int, captured_from: int, repeats: bool) -> Subgraph:
    """``sub`` with its position in its op (see ``Subgraph``)."""
    return Subgraph(sub.graph, sub.inputs, sub.outputs, sub.label, first_input,
                    captured_from, repeats, sub.effects)


def with_inputs(sub: Subgraph, captured: list, all_captured: list) -> Subgraph:
    """``sub`` taking the inputs ``all_captured`` (a superset of its own ``captured``):
    a placeholder nobody reads stands for each capture it does not use."""
    own = dict(zip(captured, sub.inputs[len(sub.inputs) - len(captured):]))
    base = list(sub.inputs[:len(sub.inputs) - len(captured)])
    extra = []
    for tensor in all_captured:
        stand_in = own.get(tensor)
        if stand_in is None:
            with sub.graph.name_scope(None):
                stand_in = Graph.create_op(sub.graph, "placeholder", [],
                                           {"dtype": tensor.dtype, "shape": tensor.shape},
                                           name="unused/" + tensor.op.name).outputs[0]
        extra.append(stand_in)
    return sub.replaced(sub.graph, base + extra, sub.outputs)


def inline(sub: Subgraph, values: Sequence[Tensor], copies: Optional[dict] = None) -> list:
    """Build the ops of ``sub`` into the default graph reading ``values`` for its inputs;
    returns the tensors standing for its outputs (how a gradient re-runs a body).
    ``copies``, when given, receives every tensor of ``sub`` -> the tensor standing for it."""
    graph = get_default_graph()
    mapping = copies if copies is not None else {}
    mapping.update(zip(sub.inputs, values))
    copies: dict = {}  # op -> its copy (for control edges inside the subgraph)
    for op in sub.ops():
        if op.outputs and all(t in mapping for t in op.outputs):
            continue  # an input placeholder
        inputs = [mapping[t] for t in op.inputs]
        copy = graph.create_op(op.type, inputs, dict(op.attrs), name=op.name.split("/")[-1])
        copy.location = op.location
        copy._add_control_inputs([copies[c] for c in op.control_inputs if c in copies])
        copies[op] = copy
        for old, new in zip(op.outputs, copy.outputs):
            mapping[old] = new
    return [mapping[t] for t in sub.outputs]
