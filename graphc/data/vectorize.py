"""Dataset functions on many elements at once: the batched copy of a traced function.

TF1 runs a ``map`` function per element. When the function commutes with a leading batch
axis, running it once on a chunk of elements (arrays with one more leading dim) gives the
same elements, far faster. ``batched(function)`` decides that from the registry and copies
the function's graph with inputs of shape ``[None] + element shape``, or returns None.

The rule, per op of the function that depends on the element: it must be ``elementwise``
(broadcasting, as fusion relies on too), neither stateful nor random, with every
element-dependent input of the output's rank (so the new leading axis of each lines up)
and every other input of at most that rank (so it still broadcasts against the trailing
dims). Ops that do not depend on the element are copied as they are, unless random or
stateful: a random op drawn per element must not become one draw per chunk. Every output
must depend on the element. Functions outside the rule run per element, as TF1 does.
"""
from __future__ import annotations

from typing import Optional

from graphc import registry
from graphc.graph import required_ops
from graphc.shapes import TensorShape

from .functions import FunctionGraph

__all__ = ["batched"]


class BatchedFunction:
    """A traced function's batched copy, with the attributes the runtime reads
    (``graph``, ``inputs``, ``outputs``, ``captured``, ``capture_placeholders``, ``name``,
    ``location``)."""

    def __init__(self, source, graph, inputs, outputs, capture_placeholders):
        self.graph, self.inputs, self.outputs = graph, inputs, outputs
        self.captured = list(source.captured)
        self.capture_placeholders = capture_placeholders
        self.name = source.name + " on a chunk of elements"
        self.location = source.location


def batched(function) -> Optional[BatchedFunction]:
    """The batched copy of ``function`` (a TracedFunction), or None when the rule in this
    module's docstring does not hold.

    Example:
        >>> f = TracedFunction(lambda x: x / 255.0, Spec(gc.float32, [784]), "Dataset.map()")
        >>> batched(f).inputs[0].shape       # (?, 784)
    """
    source = function.graph
    needed = required_ops(list(function.outputs), [], frozenset())
    graph = FunctionGraph(source.outer_graph)
    mapped, element_dependent = {}, set()
    inputs = []
    for tensor in function.inputs:
        inputs.append(_placeholder(graph, TensorShape([None]).concatenate(tensor.shape),
                                   tensor))
        mapped[tensor] = inputs[-1]
        element_dependent.add(tensor)
    capture_placeholders = []
    for tensor in function.capture_placeholders:
        capture_placeholders.append(_placeholder(graph, tensor.shape, tensor))
        mapped[tensor] = capture_placeholders[-1]
    for op in source.topological_order(needed):
        if op.outputs and op.outputs[0] in mapped:
            continue  # an input or capture placeholder
        opdef = registry.get(op.type)
        if opdef.stateful or opdef.random or op.control_inputs:
            return None
        dependent = [t in element_dependent for t in op.inputs]
        if any(dependent) and not _commutes_with_batching(op, dependent):
            return None
        try:
            copy = graph.create_op(op.type, [mapped[t] for t in op.inputs], dict(op.attrs),
                                   name=op.name)
        except (TypeError, ValueError):
            return None
        for old, new in zip(op.outputs, copy.outputs):
            mapped[old] = new
            if any(dependent):
                element_dependent.add(old)
    if not all(t in element_dependent for t in function.outputs):
        return None
    return BatchedFunction(function, graph, inputs, [mapped[t] for t in function.outputs],
                           capture_placeholders)


def _placeholder(graph, shape, like):
    return graph.create_op("placeholder", [], {"dtype": like.dtype, "shape": shape},
                           name=like.op.name).outputs[0]


def _commutes_with_batching(op, dependent) -> bool:
    opdef = registry.get(op.type)
    if not opdef.elementwise or len(op.outputs) != 1:
        return False
    rank = op.outputs[0].shape.rank
    if rank is None:
        return False
    for tensor, is_dependent in zip(op.inputs, dependent):
        if tensor.shape.rank is None:
            return False
        if is_dependent and tensor.shape.rank != rank:
            return False
        if not is_dependent and tensor.shape.rank > rank:
            return False
    return True
