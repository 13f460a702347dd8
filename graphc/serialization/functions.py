"""The function library of a GraphDef: the subgraphs control-flow ops hold (a cond's
branches, a loop's condition and body, nested ones too), each stored once by name.

An op whose OpDef lists ``subgraphs`` attributes gets a ``FunctionRef(name)`` in its
NodeDef in place of each ``Subgraph`` (a tuple of them for a cond's branches); the library
maps the name to a ``FunctionDef``: the subgraph's ops as NodeDefs (their own subgraph
attributes are references again), its input placeholders, outputs and effects by name, and
how it sits in its op (``first_input``, ``captured_from``, ``repeats``: see
``graphc.control_flow.subgraph.Subgraph``). A Subgraph two ops (or two attributes) share is
stored once and both refer to it, as TF's FunctionDefLibrary holds each function once.

Example:
    >>> gc.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * 2.0), [0, x])
    >>> graph_def = gc.get_default_graph().as_graph_def()
    >>> graph_def.node[-1].attr["body"]
    FunctionRef('while/body')
    >>> len(graph_def.library["while/body"].node)
    9
"""
from __future__ import annotations

from graphc import registry
from graphc.serialization.attr_codec import FunctionRef
from graphc.serialization.node_def import NodeDef, field, node_from_json, node_to_json

__all__ = ["FunctionDef", "LibraryBuilder", "library_to_json", "library_from_json",
           "references", "used_functions"]


class FunctionDef:
    """One subgraph as data: ``name`` (its key in the library), ``label`` ("body",
    "true_fn", ...), ``node`` (NodeDefs in a topological order), ``inputs`` and ``outputs``
    (tensor names of those nodes), ``effects`` (op names) and its place in its op."""

    __slots__ = ("name", "label", "node", "inputs", "outputs", "effects", "first_input",
                 "captured_from", "repeats")

    def __init__(self, name, label, node, inputs, outputs, effects=(), first_input=0,
                 captured_from=0, repeats=False):
        self.name, self.label, self.node = name, label, list(node)
        self.inputs, self.outputs, self.effects = list(inputs), list(outputs), list(effects)
        self.first_input, self.captured_from, self.repeats = (first_input, captured_from,
                                                              repeats)

    def __repr__(self) -> str:
        return (f"<FunctionDef {self.name!r} ({self.label}): {len(self.node)} nodes, "
                f"{len(self.inputs)} in, {len(self.outputs)} out>")


class LibraryBuilder:
    """Turns ops into NodeDefs, their subgraphs into library entries (``library``), each
    Subgraph object once however many attributes hold it."""

    def __init__(self):
        self.library: dict = {}
        self._names: dict = {}  # id(Subgraph) -> (its name, it: kept alive while we run)

    def node_defs(self, graph, ops=None) -> list:
        """A NodeDef per op of ``ops`` (default: all of ``graph``), in a topological order;
        control inputs from outside ``ops`` are dropped (they do not run with them)."""
        order = graph.topological_order(ops)
        kept = set(order) if ops is not None else None
        nodes = []
        for op in order:
            attrs = op.attrs
            keys = registry.get(op.type).subgraphs
            if keys:
                attrs = dict(attrs)
                for key in keys:
                    attrs[key] = self._reference(attrs[key], f"{op.name}/{key}")
            controls = [c for c in op.control_inputs if kept is None or c in kept]
            inputs = [t.name for t in op.inputs] + [f"^{c.name}" for c in controls]
            nodes.append(NodeDef(op.name, op.type, inputs, attrs, op.device, op.location,
                                 [(t.shape, t.dtype) for t in op.outputs]))
        return nodes

    def _reference(self, value, name: str):
        if isinstance(value, tuple):
            return tuple(self._reference(item, f"{name}/{k}") for k, item in enumerate(value))
        if value is None:
            return None
        known = self._names.get(id(value))
        if known is not None:
            return FunctionRef(known[0])
        unique, count = name, 0
        while unique in self.library:
            count += 1
            unique = f"{name}_{count}"
        self._names[id(value)] = (unique, value)
        nodes = self.node_defs(value.graph, value.ops())
        self.library[unique] = FunctionDef(
            unique, value.label, nodes, [t.name for t in value.inputs],
            [t.name for t in value.outputs], [op.name for op in value.effects],
            value.first_input, value.captured_from, value.repeats)
        return FunctionRef(unique)


def library_to_json(library: dict, arrays: dict) -> list:
    """The JSON form of a library (nested functions before the ones that use them)."""
    return [{"name": f.name, "label": f.label,
             "node": [node_to_json(node, arrays) for node in f.node],
             "inputs": f.inputs, "outputs": f.outputs, "effects": f.effects,
             "first_input": f.first_input, "captured_from": f.captured_from,
             "repeats": f.repeats} for f in library.values()]


def references(value) -> list:
    """The FunctionRefs in an attribute value (a reference, or a tuple of them)."""
    if isinstance(value, FunctionRef):
        return [value]
    if isinstance(value, (tuple, list)):
        return [ref for item in value for ref in references(item)]
    return []


def used_functions(library: dict, nodes) -> dict:
    """The entries of ``library`` that ``nodes`` refer to, directly or through other
    entries (what a GraphDef of just those nodes needs), in the library's order."""
    used, stack = set(), [ref.name for node in nodes for value in node.attr.values()
                          for ref in references(value)]
    while stack:
        name = stack.pop()
        if name in used or name not in library:
            continue
        used.add(name)
        stack.extend(ref.name for node in library[name].node for value in node.attr.values()
                     for ref in references(value))
    return {name: function for name, function in library.items() if name in used}


def _raw_references(raw_nodes) -> dict:
    """``{function name: (node, op, attr)}`` of the first raw JSON node referring to it:
    what an error about a damaged function names, even when nothing else parses."""
    found: dict = {}

    def walk(value, where):
        if isinstance(value, dict):
            if isinstance(value.get("$function"), str):
                found.setdefault(value["$function"], where)
            for item in value.values():
                walk(item, where)
        elif isinstance(value, list):
            for item in value:
                walk(item, where)
    for entry in raw_nodes if isinstance(raw_nodes, list) else ():
        if isinstance(entry, dict) and isinstance(entry.get("attr"), dict):
            for key, value in entry["attr"].items():
                walk(value, (entry.get("name"), entry.get("op"), key))
    return found


def _referrer(where) -> str:
    if where is None:
        return "no node refers to it"
    name, op, key = where
    return f"attr {key!r} of node {name!r} ({op})"


def library_from_json(data, arrays: dict, source: str, raw_nodes) -> dict:
    """``{name: FunctionDef}`` of ``library_to_json``'s output (None: an empty library).
    ValueError for a damaged entry, naming the function and the node and attribute that
    refer to it; and for a reference (in ``raw_nodes``, the GraphDef's nodes, or in a
    function) to a function the library does not hold, naming that node and attribute."""
    data = [] if data is None else data
    if not isinstance(data, list):
        raise ValueError(f"{source}: the function library is not a list")
    referrers = _raw_references(raw_nodes)
    for entry in data:
        if isinstance(entry, dict):
            for name, where in _raw_references(entry.get("node")).items():
                referrers.setdefault(name, where)
    library = {}
    for index, entry in enumerate(data):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or name in library:
            raise ValueError(f"{source}: function library entry #{index} has "
                             f"{'a duplicate' if name in library else 'no valid'} name "
                             f"{name!r:.80}")
        try:
            library[name] = _function_from_json(entry, arrays, f"function {name!r}")
        except ValueError as err:
            raise ValueError(f"{source}: {err} (the function is damaged; "
                             f"{_referrer(referrers.get(name))} holds it)") from None
    for name, where in referrers.items():
        if name not in library:
            raise ValueError(f"{source}: {_referrer(where)} refers to function {name!r}, "
                             "which the file's function library does not hold")
    return library


def _strings(entry, key, where) -> list:
    items = field(entry, key, list, where, [])
    if not all(isinstance(item, str) for item in items):
        raise ValueError(f"{where}: {key} must be names, got {items!r:.80}")
    return items


def _function_from_json(entry, arrays: dict, where: str) -> FunctionDef:
    nodes = [node_from_json(node, arrays, where, k)
             for k, node in enumerate(field(entry, "node", list, where))]
    return FunctionDef(entry["name"], field(entry, "label", str, where), nodes,
                       _strings(entry, "inputs", where), _strings(entry, "outputs", where),
                       _strings(entry, "effects", where),
                       field(entry, "first_input", int, where, 0),
                       field(entry, "captured_from", int, where, 0),
                       field(entry, "repeats", bool, where, False))
