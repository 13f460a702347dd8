"""Editing ops that hold subgraphs (the ``OpDef.subgraphs`` attributes), for the passes
that work inside them: copying a subgraph's graph, and rebuilding the op over new
subgraphs and a new list of captured inputs. What a subgraph's inputs are in its op comes
from the ``Subgraph`` itself (``first_input``, ``captured_from``), never from op names."""
from __future__ import annotations

from graphc import registry
from graphc.control_flow.subgraph import Subgraph, subgraphs_of
from graphc.graph import Graph, get_default_graph

__all__ = ["holds_subgraphs", "any_subgraphs", "captured_start", "copied", "rebuilt", "stand_in"]


def holds_subgraphs(op) -> bool:
    return bool(op.opdef.subgraphs)


def any_subgraphs(graph) -> bool:
    """Whether some op of ``graph`` holds subgraphs (a look at the op type counts: the
    passes over subgraphs cost nothing on graphs without control flow)."""
    return any(registry.get(kind).subgraphs for kind in graph.op_type_counts())


def captured_start(op) -> int:
    """The position of the op's first captured input (shared by all its subgraphs)."""
    _, sub = subgraphs_of(op)[0]
    return sub.first_input + sub.captured_from


def copied(sub: Subgraph, with_map: bool = False) -> tuple:
    """``(graph, inputs, outputs, effects)`` (and ``{op: its copy}`` ``with_map``): a copy
    of ``sub``'s graph to edit (the original is shared with the user's graph and plans)."""
    graph, op_map = sub.graph.copy(sub.ops())

    def tensor(t):
        return op_map[t.op].outputs[t.value_index]
    copy = (graph, [tensor(t) for t in sub.inputs], [tensor(t) for t in sub.outputs],
            [op_map[op] for op in sub.effects])
    return (*copy, op_map) if with_map else copy


def stand_in(graph: Graph, like, name: str):
    """A new placeholder of ``graph`` for a value like tensor ``like``."""
    with graph.name_scope(None):
        return Graph.create_op(graph, "placeholder", [],
                               {"dtype": like.dtype, "shape": like.shape},
                               name=name).outputs[0]


def rebuilt(op, subgraphs: dict, captured: list) -> list:
    """The outputs of a new op like ``op`` (built in the default graph) whose subgraph
    attributes are ``subgraphs`` (attr -> Subgraph or tuple) and whose captured inputs are
    ``captured`` (the subgraphs' inputs from ``captured_from`` on must match them)."""
    attrs = dict(op.attrs)
    attrs.update(subgraphs)
    inputs = list(op.inputs[:captured_start(op)]) + list(captured)
    new = get_default_graph().create_op(op.type, inputs, attrs,
                                        name=op.name.rsplit("/", 1)[-1])
    return list(new.outputs)
