"""The graph verifier: run between passes in tests and debug mode (``GRAPHC_VERIFY=1``)."""
from __future__ import annotations

import networkx as nx

from graphc import registry
from graphc.graph import Graph, _infer

from .result import Interface

__all__ = ["verify", "VerificationError"]


class VerificationError(AssertionError):
    """A pass produced a malformed graph; the message names the pass and the problem."""


def verify(graph: Graph, interface: Interface, after: str = "") -> None:
    """Check that ``graph`` is well formed: acyclic, inputs present, every op's shapes and
    dtypes what inference says, the interface inside the graph and feeds still placeholders.

    Raises:
        VerificationError: naming ``after`` (the passes run so far) and the first problem.

    Example:
        >>> verify(result.graph, result.interface, after="prune, cse")
    """
    def fail(message):
        raise VerificationError(f"graph invalid after {after or 'input'}: {message}")

    ops = set(graph.get_operations())
    for op in graph.get_operations():
        for tensor in op.inputs:
            if tensor.op not in ops or tensor.graph is not graph:
                fail(f"op '{op.name}' reads '{tensor.name}', which is not in the graph")
        for dep in op.control_inputs:
            if dep not in ops:
                fail(f"op '{op.name}' has control input '{dep.name}' outside the graph")
        specs = _infer(registry.get(op.type), list(op.inputs), op.attrs, op.name, op.location)
        for tensor, (shape, dtype) in zip(op.outputs, specs):
            if dtype is not tensor.dtype or not shape.is_compatible_with(tensor.shape):
                fail(f"'{tensor.name}' is {tensor.dtype.name} {tensor.shape} but inference "
                     f"gives {dtype.name} {shape}")
        for key in registry.get(op.type).subgraphs:
            _verify_subgraphs(op, op.attrs[key], after, fail)
    try:
        graph.topological_order()
    except nx.NetworkXUnfeasible:
        fail("the graph has a cycle")
    for tensor in list(interface.fetches) + list(interface.feeds):
        if tensor.op not in ops:
            fail(f"interface tensor '{tensor.name}' is not in the graph")
    for op in interface.targets:
        if op not in ops:
            fail(f"target '{op.name}' is not in the graph")
    for tensor in interface.feeds:
        if tensor.op.type != "placeholder":
            fail(f"fed tensor '{tensor.name}' is produced by a {tensor.op.type} op")


def _verify_subgraphs(op, value, after, fail) -> None:
    """A control-flow op's subgraphs take its inputs from ``first_input`` on (placeholders
    of their dtypes) and are well formed themselves."""
    for sub in value if isinstance(value, tuple) else (value,):
        given = op.inputs[sub.first_input:]
        if len(given) != len(sub.inputs) or any(
                a.dtype is not b.dtype for a, b in zip(given, sub.inputs)):
            fail(f"subgraph {sub.label!r} of op '{op.name}' takes {len(sub.inputs)} inputs "
                 f"for the op's {len(given)}, or of other dtypes")
        verify(sub.graph, Interface(tuple(sub.outputs), (), tuple(sub.inputs)),
               after=f"{after} (in {sub.label} of '{op.name}')")
