"""Epilogues: a fused elementwise group that alone reads the result of an op whose kernel
takes an epilogue (``OpDef.epilogue``: conv2d) moves into that op, as one ``with_epilogue``
node: the host kernel then runs the group's program on each block of its result while the
block is in cache, instead of a second pass over the whole result in memory (conv2d ->
bias_add -> relu: one pass instead of three).

The group moves only when nothing else can tell: the host's result is read by the group
alone (once), is not fetched, and neither op has control edges; the group's result has the
host result's static shape and dtype (it is written over the block); and the group's other
inputs have fully known shapes of lower rank than the result (a bias, a scalar), so they
broadcast over any block of whole batch rows. Results are bitwise the unfused ones: the
program runs through the registry's own kernels (graphc.ops.epilogue). Runs after fusion.
"""
from __future__ import annotations

from graphc import registry
from graphc.graph import Graph
from graphc.ops.fused import FUSED

from .result import DEFAULT_OPTIONS, EXACT, Interface, PassOptions, PassResult
from .rewriter import Rewriter, on_copy

__all__ = ["run", "edit", "find_epilogues"]


def _broadcasts_over_blocks(tensor, rank: int) -> bool:
    return tensor.shape.is_fully_defined() and tensor.shape.rank < rank


def _host_position(group, fetched):
    """The position of the group's input produced by an epilogue host it may move into,
    or None."""
    result = group.outputs[0]
    for position, tensor in enumerate(group.inputs):
        host = tensor.op
        if (not registry.get(host.type).epilogue or len(host.outputs) != 1
                or tensor in fetched or tensor.consumers() != [group]
                or group.inputs.count(tensor) != 1 or host.control_inputs
                or tensor.dtype is not result.dtype or tensor.shape.rank is None
                or tensor.shape.dims != result.shape.dims):
            continue
        others = [t for t in group.inputs if t is not tensor]
        if all(_broadcasts_over_blocks(t, tensor.shape.rank) for t in others):
            return position
    return None


def find_epilogues(graph: Graph, interface: Interface) -> list:
    """``(group, position)`` for each fused group that may move into the host producing
    its input ``position``."""
    fetched = set(interface.fetches)
    found = []
    for op in graph.topological_order():
        if op.type == FUSED.name and not op.control_inputs:
            position = _host_position(op, fetched)
            if position is not None:
                found.append((op, position))
    return found


def edit(graph: Graph, interface: Interface,
         options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Move each movable fused group into its host op, in place."""
    rw = Rewriter(graph, interface, "epilogue", options)
    rw.rule = "absorb_epilogue"
    for group, position in find_epilogues(graph, interface):
        try:
            _absorb(rw, group, position)
        except Exception as err:  # noqa: BLE001 - every failure gets the pass, rule and op
            raise rw.failure(err, group) from err
    return rw.finish()


def _absorb(rw: Rewriter, group, position: int) -> None:
    host = group.inputs[position].op
    extras = [t for k, t in enumerate(group.inputs) if k != position]
    attrs = {"host": host.type, "host_attrs": tuple(sorted(host.attrs.items())),
             "host_inputs": len(host.inputs), "program": group.attrs["program"],
             "position": position, "ops": (host.name,) + tuple(group.attrs["ops"])}

    def build():
        out = group.outputs[0]
        return rw.graph.create_op("with_epilogue", list(host.inputs) + extras, attrs,
                                  name=f"{host.name}_epilogue",
                                  specs=[(out.shape, out.dtype)]).outputs[0]

    if (rw.may_rewrite(group, EXACT) and rw.may_rewrite(host, EXACT)
            and rw.replace(group, build, "absorb_epilogue", EXACT, [host])):
        rw.remove([host])  # only the group read it


def run(graph: Graph, interface: Interface,
        options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Move each movable fused group of a copy of ``graph`` into its host op (``graph`` is
    not changed).

    Example:
        >>> epilogue.run(g, interface).histogram_after["with_epilogue"]
        1
    """
    return on_copy(edit, graph, interface, options)
