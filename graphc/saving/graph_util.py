"""``tf.graph_util``: GraphDef surgery. ``convert_variables_to_constants`` freezes a graph (its
variables' current values become constants, so the GraphDef alone computes the outputs),
``extract_sub_graph`` keeps what some nodes need, ``remove_training_nodes`` splices out
Identity and CheckNumerics nodes.

Example:
    >>> frozen = gc.graph_util.convert_variables_to_constants(sess, graph.as_graph_def(),
    ...                                                       ["softmax"])
    >>> gc.io.write_graph(frozen, "export", "frozen.pb", as_text=False)
"""
from __future__ import annotations

import numpy as np

from graphc import registry
from graphc.serialization import GraphDef, NodeDef

__all__ = ["convert_variables_to_constants", "extract_sub_graph", "remove_training_nodes",
           "tensor_shape_from_node_def_name", "must_run_on_cpu"]


def _node_name(reference: str) -> str:
    return reference.lstrip("^").split(":")[0]


def _names(dest_nodes, what: str) -> list:
    if isinstance(dest_nodes, str) or not all(isinstance(n, str) for n in dest_nodes):
        raise TypeError(f"{what} must be a list of node names (strings), got {dest_nodes!r}")
    return list(dest_nodes)


def extract_sub_graph(graph_def: GraphDef, dest_nodes) -> GraphDef:
    """The nodes of ``graph_def`` that ``dest_nodes`` (names) need, in their order (TF1
    ``tf.graph_util.extract_sub_graph``).

    Example:
        >>> inference = gc.graph_util.extract_sub_graph(graph_def, ["logits"])
    """
    dest_nodes = _names(dest_nodes, "extract_sub_graph: dest_nodes")
    by_name = {node.name: node for node in graph_def.node}
    for name in dest_nodes:
        if name not in by_name:
            raise ValueError(f"extract_sub_graph: {name!r} is not in graph")
    needed, stack = set(), list(dest_nodes)
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        needed.add(name)
        stack.extend(_node_name(i) for i in by_name[name].input)
    return GraphDef([_copy(node) for node in graph_def.node if node.name in needed],
                    seed=graph_def.seed)


def _copy(node: NodeDef, **changes) -> NodeDef:
    fields = {"name": node.name, "op": node.op, "input": list(node.input),
              "attr": dict(node.attr), "device": node.device, "location": node.location,
              "outputs": list(node.outputs)}
    fields.update(changes)
    return NodeDef(**fields)


def _writes_variable(node: NodeDef) -> bool:
    """Whether the node's op writes the variable of its first input (the registry's fact:
    assign, assign_add, the scatter updates...)."""
    try:
        return registry.get(node.op).updates_variable
    except KeyError:
        return False


def convert_variables_to_constants(sess, input_graph_def: GraphDef, output_node_names,
                                   variable_names_whitelist=None,
                                   variable_names_blacklist=None) -> GraphDef:
    """A copy of the part of ``input_graph_def`` that ``output_node_names`` need, with each
    variable (of the whitelist, if given, and not of the blacklist) replaced by a constant
    holding its value in ``sess``, and its reads by Identity (TF1
    ``tf.graph_util.convert_variables_to_constants``).

    Example:
        >>> frozen = gc.graph_util.convert_variables_to_constants(sess, gd, ["probs"])
    """
    output_node_names = _names(output_node_names, "convert_variables_to_constants: "
                                                  "output_node_names")
    sub = extract_sub_graph(input_graph_def, output_node_names)
    allowed = set(variable_names_whitelist) if variable_names_whitelist is not None else None
    blocked = set(variable_names_blacklist or ())
    frozen = [n.name for n in sub.node if n.op == "variable"
              and (allowed is None or n.name in allowed) and n.name not in blocked]
    values = dict(zip(frozen, sess.run([f"{name}:0" for name in frozen]))) if frozen else {}
    nodes = []
    for node in sub.node:
        if node.name in values:
            value = np.asarray(values[node.name])
            nodes.append(_copy(node, op="const", input=[],
                               attr={"value": value, "dtype": node.outputs[0][1]}))
        elif node.op == "read_variable" and _node_name(node.input[0]) in values:
            nodes.append(_copy(node, op="identity", attr={}))
        elif _writes_variable(node) and _node_name(node.input[0]) in values:
            raise ValueError(f"convert_variables_to_constants: {node.name!r} ({node.op}) writes "
                             f"the variable {_node_name(node.input[0])!r}, which would become a "
                             "constant; freeze the graph of the outputs that only read it")
        else:
            nodes.append(node)
    return GraphDef(nodes, seed=sub.seed)


def remove_training_nodes(input_graph: GraphDef, protected_nodes=None) -> GraphDef:
    """``input_graph`` without Identity and CheckNumerics nodes (their readers read what they
    read), except ``protected_nodes`` and nodes with control inputs (TF1
    ``tf.graph_util.remove_training_nodes``).

    Example:
        >>> lean = gc.graph_util.remove_training_nodes(frozen, protected_nodes=["probs"])
    """
    protected = set(protected_nodes or ())
    spliced = {}
    for node in input_graph.node:
        if node.op in ("identity", "check_numerics") and node.name not in protected and \
                not any(i.startswith("^") for i in node.input):
            spliced[node.name] = node.input[0]

    def resolve(reference: str) -> str:
        control = reference.startswith("^")
        name = _node_name(reference)
        while name in spliced:
            reference = spliced[name]
            name = _node_name(reference)
        return ("^" + name) if control else reference
    nodes = [_copy(node, input=[resolve(i) for i in node.input])
             for node in input_graph.node if node.name not in spliced]
    return GraphDef(nodes, seed=input_graph.seed)


def tensor_shape_from_node_def_name(graph, input_name: str):
    """The static shape of the tensor ``input_name`` (``"name"`` means output 0) (TF1
    ``tf.graph_util.tensor_shape_from_node_def_name``).

    Example:
        >>> gc.graph_util.tensor_shape_from_node_def_name(graph, "logits")
    """
    name = input_name if ":" in input_name else f"{input_name}:0"
    return graph.get_tensor_by_name(name).shape


def must_run_on_cpu(node, pin_variables_on_cpu=False) -> bool:
    """Whether ``node`` must run on the CPU: always True here, graphc runs every op on the
    CPU (TF1 ``tf.graph_util.must_run_on_cpu``).

    Example:
        >>> gc.graph_util.must_run_on_cpu(graph_def.node[0])   # True
    """
    return True
