"""``GraphDef``: a graph as plain data (TF1's name), and ``Graph.as_graph_def``.

A GraphDef lists one ``NodeDef`` per op in a topological order (inputs and control inputs
before their readers): name, op type, inputs (``"x:0"``; control inputs ``"^init"``, as
TF1 writes them), attributes, device, the user's line and each output's shape and dtype.
``SerializeToString()`` gives the bytes of a container file of kind "graph"
(``container.py``; docs/formats.md); ``GraphDef.FromString`` reads them back, running no code.
Loading a GraphDef into a graph is ``gc.import_graph_def`` (graphc/saving/graph_import.py).

Example:
    >>> graph_def = graph.as_graph_def()
    >>> [node.name for node in graph_def.node][:2]
    ['x', 'W']
    >>> again = gc.GraphDef.FromString(graph_def.SerializeToString())
"""
from __future__ import annotations

from typing import Optional

from graphc import dtypes as gdt
from graphc.serialization import container
from graphc.serialization.attr_codec import DTYPE_NAMES, decode_value, encode_value
from graphc.shapes import TensorShape

__all__ = ["NodeDef", "GraphDef", "GraphSerialization", "graph_def_of"]


class NodeDef:
    """One op of a GraphDef: ``name``, ``op`` (its type), ``input`` (tensor names, and
    ``"^name"`` for control inputs), ``attr``, ``device``, ``location`` (the user's
    ``file:line``) and ``outputs`` (a ``(TensorShape, DType)`` per output)."""

    __slots__ = ("name", "op", "input", "attr", "device", "location", "outputs")

    def __init__(self, name, op, input=(), attr=None, device="", location=None, outputs=()):
        self.name, self.op, self.input = name, op, list(input)
        self.attr = dict(attr or {})
        self.device, self.location, self.outputs = device, location, list(outputs)

    def __repr__(self) -> str:
        return f"<NodeDef {self.name!r} op={self.op} input={self.input}>"


class GraphDef:
    """A graph as data: ``node`` (NodeDefs in a topological order) and ``seed`` (the graph's
    random seed). Build one with ``graph.as_graph_def()``.

    Example:
        >>> data = graph.as_graph_def().SerializeToString()
        >>> nodes = gc.GraphDef.FromString(data).node
    """

    def __init__(self, node=(), seed: Optional[int] = None):
        self.node = list(node)
        self.seed = seed

    @property
    def versions(self) -> dict:
        return {"producer": container.FORMAT_VERSION}

    def SerializeToString(self, as_text: bool = False) -> bytes:  # noqa: N802 - TF1's name
        """The bytes of a graph file (text JSON with ``as_text``)."""
        arrays: dict = {}
        return container.encode("graph", {"graph": graph_def_to_json(self, arrays)}, arrays,
                                as_text)

    @classmethod
    def FromString(cls, data: bytes, source: str = "GraphDef bytes") -> "GraphDef":  # noqa
        """The GraphDef in graph file bytes; DataLossError for a damaged file."""
        header, arrays = container.decode(data, "graph", source)
        return graph_def_from_json(header.get("graph"), arrays, source)

    def ParseFromString(self, data: bytes) -> None:  # noqa: N802 - TF1's name
        parsed = GraphDef.FromString(data)
        self.node, self.seed = parsed.node, parsed.seed

    def __len__(self) -> int:
        return len(self.node)

    def __repr__(self) -> str:
        return f"<GraphDef with {len(self.node)} nodes>"


def graph_def_of(graph, ops=None) -> GraphDef:
    """The GraphDef of ``graph`` (or of just ``ops``), its nodes in a topological order."""
    nodes = []
    for op in graph.topological_order(ops):
        inputs = [t.name for t in op.inputs] + [f"^{c.name}" for c in op.control_inputs]
        nodes.append(NodeDef(op.name, op.type, inputs, op.attrs, op.device, op.location,
                             [(t.shape, t.dtype) for t in op.outputs]))
    return GraphDef(nodes, graph.seed)


class GraphSerialization:
    """The ``as_graph_def`` half of ``Graph`` (a mixin, as graph_collections.py is)."""

    def as_graph_def(self, from_version=None, add_shapes: bool = False) -> GraphDef:
        """This graph as a GraphDef (TF1): plain data that ``gc.import_graph_def`` loads.

        Example:
            >>> graph_def = gc.get_default_graph().as_graph_def()
            >>> gc.train.write_graph(graph_def, "logs", "graph.pbtxt")
        """
        return graph_def_of(self)


def graph_def_to_json(graph_def: GraphDef, arrays: dict) -> dict:
    """The JSON form of a GraphDef; array attributes go into ``arrays``."""
    nodes = []
    for node in graph_def.node:
        entry = {"name": node.name, "op": node.op, "input": list(node.input),
                 "attr": {key: encode_value(value, arrays, f"{node.name}.{key}")
                          for key, value in node.attr.items()},
                 "outputs": [{"shape": encode_value(shape, arrays, node.name),
                              "dtype": dtype.name} for shape, dtype in node.outputs]}
        if node.device:
            entry["device"] = node.device
        if node.location:
            entry["location"] = node.location
        nodes.append(entry)
    return {"node": nodes, "seed": graph_def.seed}


def _field(entry, key, kind, where, default=None):
    value = entry.get(key, default)
    if not isinstance(value, kind):
        raise ValueError(f"{where}: invalid field {key!r}: {value!r:.80}")
    return value


def graph_def_from_json(data, arrays: dict, source: str) -> GraphDef:
    """The GraphDef of ``graph_def_to_json``'s output; ValueError naming ``source`` and the
    node for any malformed part."""
    if not isinstance(data, dict) or not isinstance(data.get("node"), list):
        raise ValueError(f"{source}: no graph (a JSON object with a \"node\" list) in it")
    nodes = []
    for index, entry in enumerate(data["node"]):
        if not isinstance(entry, dict):
            raise ValueError(f"{source}: node #{index} is not a JSON object")
        where = f"{source}: node #{index}"
        name = _field(entry, "name", str, where)
        where = f"{source}: node {name!r}"
        attrs = _field(entry, "attr", dict, where, {})
        outputs = []
        for spec in _field(entry, "outputs", list, where, []):
            if not isinstance(spec, dict):
                raise ValueError(f"{where}: invalid output spec {spec!r:.80}")
            shape = decode_value(spec.get("shape"), arrays, where)
            dtype_name = spec.get("dtype")
            if not isinstance(shape, TensorShape) or dtype_name not in DTYPE_NAMES:
                raise ValueError(f"{where}: invalid output spec {spec!r:.80}")
            outputs.append((shape, gdt.as_dtype(dtype_name)))
        inputs = _field(entry, "input", list, where, [])
        if not all(isinstance(i, str) for i in inputs):
            raise ValueError(f"{where}: inputs must be tensor names, got {inputs!r:.80}")
        nodes.append(NodeDef(
            name, _field(entry, "op", str, where), inputs,
            {key: decode_value(value, arrays, f"{where} attr {key!r}")
             for key, value in attrs.items()},
            _field(entry, "device", str, where, ""),
            _field(entry, "location", (str, type(None)), where, None), outputs))
    seed = data.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise ValueError(f"{source}: invalid graph seed {seed!r:.80}")
    return GraphDef(nodes, seed)
