"""``GraphDef``: a graph as plain data (TF1's name), and ``Graph.as_graph_def``.

A GraphDef lists one ``NodeDef`` per op in a topological order (inputs and control inputs
before their readers): name, op type, inputs (``"x:0"``; control inputs ``"^init"``, as
TF1 writes them), attributes, device, the user's line and each output's shape and dtype.
``SerializeToString()`` gives the bytes of a container file of kind "graph"
(``container.py``; docs/formats.md); ``GraphDef.FromString`` reads them back, running no code.
Loading a GraphDef into a graph is ``gc.import_graph_def`` (graphc/saving/graph_import.py).
The subgraphs of control-flow ops (loop bodies, branches) are in its ``library``
(``functions.py``), by name; a file holding one is of format version 2, others of version 1.

Example:
    >>> graph_def = graph.as_graph_def()
    >>> [node.name for node in graph_def.node][:2]
    ['x', 'W']
    >>> again = gc.GraphDef.FromString(graph_def.SerializeToString())
"""
from __future__ import annotations

from typing import Optional

from graphc.serialization import container
from graphc.serialization.functions import (LibraryBuilder, library_from_json,
                                            library_to_json)
from graphc.serialization.node_def import NodeDef, node_from_json, node_to_json

__all__ = ["NodeDef", "GraphDef", "GraphSerialization", "graph_def_of"]

# The first format version whose graphs may hold a function library ($function attributes)
LIBRARY_VERSION = 2


class GraphDef:
    """A graph as data: ``node`` (NodeDefs in a topological order), ``seed`` (the graph's
    random seed) and ``library`` (``{name: FunctionDef}``: the subgraphs its control-flow
    ops refer to). Build one with ``graph.as_graph_def()``.

    Example:
        >>> data = graph.as_graph_def().SerializeToString()
        >>> nodes = gc.GraphDef.FromString(data).node
    """

    def __init__(self, node=(), seed: Optional[int] = None, library=None):
        self.node = list(node)
        self.seed = seed
        self.library = dict(library or {})

    @property
    def versions(self) -> dict:
        return {"producer": container.FORMAT_VERSION}

    def SerializeToString(self, as_text: bool = False) -> bytes:  # noqa: N802 - TF1's name
        """The bytes of a graph file (text JSON with ``as_text``)."""
        arrays: dict = {}
        return container.encode("graph", {"graph": graph_def_to_json(self, arrays)}, arrays,
                                as_text, version=self.file_version)

    @property
    def file_version(self) -> int:
        """The format version of a file holding this graph: the oldest that can."""
        return LIBRARY_VERSION if self.library else 1

    @classmethod
    def FromString(cls, data: bytes, source: str = "GraphDef bytes") -> "GraphDef":  # noqa
        """The GraphDef in graph file bytes; DataLossError for a damaged file."""
        header, arrays = container.decode(data, "graph", source)
        return graph_def_from_json(header.get("graph"), arrays, source)

    def ParseFromString(self, data: bytes) -> None:  # noqa: N802 - TF1's name
        parsed = GraphDef.FromString(data)
        self.node, self.seed, self.library = parsed.node, parsed.seed, parsed.library

    def __len__(self) -> int:
        return len(self.node)

    def __repr__(self) -> str:
        functions = f", {len(self.library)} functions" if self.library else ""
        return f"<GraphDef with {len(self.node)} nodes{functions}>"


def graph_def_of(graph, ops=None) -> GraphDef:
    """The GraphDef of ``graph`` (or of just ``ops``), its nodes in a topological order
    and the subgraphs of its control-flow ops in its library."""
    builder = LibraryBuilder()
    nodes = builder.node_defs(graph, ops)
    return GraphDef(nodes, graph.seed, builder.library)


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
    data = {"node": [node_to_json(node, arrays) for node in graph_def.node],
            "seed": graph_def.seed}
    if graph_def.library:
        data["library"] = library_to_json(graph_def.library, arrays)
    return data


def graph_def_from_json(data, arrays: dict, source: str) -> GraphDef:
    """The GraphDef of ``graph_def_to_json``'s output; ValueError naming ``source`` and the
    node (or function) for any malformed part."""
    if not isinstance(data, dict) or not isinstance(data.get("node"), list):
        raise ValueError(f"{source}: no graph (a JSON object with a \"node\" list) in it")
    library = library_from_json(data.get("library"), arrays, source, data["node"])
    nodes = [node_from_json(entry, arrays, source, index)
             for index, entry in enumerate(data["node"])]
    seed = data.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise ValueError(f"{source}: invalid graph seed {seed!r:.80}")
    return GraphDef(nodes, seed, library)
