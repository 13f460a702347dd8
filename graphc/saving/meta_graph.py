"""Meta graphs (TF1's ``.meta`` files): a GraphDef plus what a program needs to go on with it
-- its Variables, its collections, the Saver that writes its checkpoints and any plain-data
graph metadata (a layer tree, ...) -- in one container file of kind "meta_graph".

Collections are saved item by item: Variables, Tensors and Operations by name, plain data
(numbers, strings, lists, tuples, dicts, arrays: ``attr_codec``) as it is, so any JSON-like
record another module keeps in a collection (``graph.add_to_collection("layer_tree", tree)``)
travels with the graph. Other objects (Python callables, optimizers) are left out with a
warning, as TF1 leaves out collections it cannot serialize (silently for keys starting with
"__", graphc's own bookkeeping, such as the variable store, which TF1 does not save either).

Example:
    >>> gc.train.export_meta_graph("model.meta")
    >>> with gc.Graph().as_default():
    ...     saver = gc.train.import_meta_graph("model.meta")
    ...     loss = gc.get_default_graph().get_tensor_by_name("loss:0")
"""
from __future__ import annotations

import warnings

from graphc.graph import Operation, Tensor, get_default_graph
from graphc.saving.graph_import import _scope_prefix, import_nodes
from graphc.serialization import container
from graphc.serialization.attr_codec import decode_value, encode_value
from graphc.serialization.functions import FunctionDef, used_functions
from graphc.serialization.graph_def import (GraphDef, NodeDef, graph_def_from_json,
                                            graph_def_to_json, graph_def_of)
from graphc.variables import GraphKeys, Variable

__all__ = ["MetaGraphDef", "export_meta_graph", "import_meta_graph", "read_meta_graph"]


class MetaGraphDef:
    """A graph with its variables, collections, saver and metadata (TF1's MetaGraphDef).

    Attributes:
        graph_def: the GraphDef.
        variables: one dict per Variable: ``variable_name``, ``initializer_name``,
            ``snapshot_name``, ``initial_value_name``, ``trainable`` (TF1's VariableDef).
        collection_def: ``{key: [item, ...]}``; an item is ``("variable", name)``,
            ``("tensor", name)``, ``("operation", name)`` or ``("value", plain data)``.
        saver_def: the Saver's record (``Saver.as_saver_def()``) or None.
        meta_info_def: plain data about the file (``{"tags": [...]}``, the user's own).

    Example:
        >>> meta = gc.train.export_meta_graph()
        >>> sorted(meta.collection_def)
        ['train_op', 'trainable_variables', 'variables']
    """

    def __init__(self, graph_def, variables=(), collection_def=None, saver_def=None,
                 meta_info_def=None):
        self.graph_def = graph_def
        self.variables = list(variables)
        self.collection_def = dict(collection_def or {})
        self.saver_def = saver_def
        self.meta_info_def = dict(meta_info_def or {})

    def SerializeToString(self, as_text: bool = False) -> bytes:  # noqa: N802 - TF1's name
        arrays: dict = {}
        collections = {key: [[kind, encode_value(value, arrays, f"collection {key!r}")
                              if kind == "value" else value] for kind, value in items]
                       for key, items in self.collection_def.items()}
        fields = {"graph": graph_def_to_json(self.graph_def, arrays),
                  "variables": self.variables, "collections": collections,
                  "saver": self.saver_def,
                  "meta_info": encode_value(self.meta_info_def, arrays, "meta_info_def")}
        return container.encode("meta_graph", fields, arrays, as_text,
                                version=self.graph_def.file_version)

    @classmethod
    def FromString(cls, data: bytes, source: str = "MetaGraphDef bytes"):  # noqa: N802
        header, arrays = container.decode(data, "meta_graph", source)
        graph_def = graph_def_from_json(header.get("graph"), arrays, source)
        collections = {}
        for key, items in _checked(header, "collections", dict, source).items():
            where = f"{source}: collection {key!r}"
            if not isinstance(items, list):
                raise ValueError(f"{where} is not a list")
            collections[key] = [_collection_item(item, arrays, where) for item in items]
        variables = _checked(header, "variables", list, source)
        for entry in variables:
            if not (isinstance(entry, dict) and all(isinstance(entry.get(k), str) for k in (
                    "variable_name", "initializer_name", "snapshot_name",
                    "initial_value_name"))):
                raise ValueError(f"{source}: invalid variable record {entry!r:.80}")
        saver_def = header.get("saver")
        if saver_def is not None and not isinstance(saver_def, dict):
            raise ValueError(f"{source}: invalid saver record {saver_def!r:.80}")
        meta_info = decode_value(header.get("meta_info", {"$dict": []}), arrays, source)
        return cls(graph_def, variables, collections, saver_def, meta_info)


def _checked(header: dict, key: str, kind: type, source: str):
    value = header.get(key, kind())
    if not isinstance(value, kind):
        raise ValueError(f"{source}: invalid {key!r} section")
    return value


def _collection_item(item, arrays, where) -> tuple:
    if not (isinstance(item, list) and len(item) == 2 and
            item[0] in ("variable", "tensor", "operation", "value")):
        raise ValueError(f"{where}: invalid item {item!r:.80}")
    kind, value = item
    if kind == "value":
        return kind, decode_value(value, arrays, where)
    if not isinstance(value, str):
        raise ValueError(f"{where}: invalid {kind} name {value!r:.80}")
    return kind, value


def _variable_def(variable: Variable) -> dict:
    return {"variable_name": variable.name, "initializer_name": variable.initializer.name,
            "snapshot_name": variable.value().name,
            "initial_value_name": variable.initial_value.name,
            "trainable": variable.trainable}


def _collection_entry(value):
    if isinstance(value, Variable):
        return "variable", value.op.name
    if isinstance(value, Tensor):
        return "tensor", value.name
    if isinstance(value, Operation):
        return "operation", value.name
    encode_value(value, {}, "item")  # raises TypeError for what no file can hold
    return "value", value


def _collections(graph, keys, kept_ops) -> dict:
    collections = {}
    for key in keys:
        items, skipped = [], []
        for value in graph.get_collection(key):
            try:
                kind, entry = _collection_entry(value)
            except (TypeError, RecursionError):
                skipped.append(type(value).__name__)
                continue
            if kind == "value" or (entry.rpartition(":")[0] if kind == "tensor" else entry) \
                    in kept_ops:
                items.append((kind, entry))
        if skipped and not str(key).startswith("__"):  # "__": graphc's own bookkeeping
            warnings.warn(f"export_meta_graph: collection {key!r} holds {sorted(set(skipped))} "
                          "objects, which cannot be saved; they are left out", stacklevel=3)
        if items:
            collections[key] = items
    return collections


class _Scope:
    """``export_scope``: which names to keep, and the names without the scope's prefix."""

    def __init__(self, scope):
        self.prefix = f"{scope.rstrip('/')}/" if scope else ""

    def holds(self, name: str) -> bool:
        return name.lstrip("^").startswith(self.prefix)

    def strip(self, name: str) -> str:
        """A name inside the scope without its prefix; names outside stay whole (inputs
        from outside the scope, which ``input_map`` must supply on import)."""
        if not self.holds(name):
            return name
        control = "^" if name.startswith("^") else ""
        return control + name.lstrip("^")[len(self.prefix):]

    def node(self, node, clear_devices: bool) -> NodeDef:
        return NodeDef(self.strip(node.name), node.op, [self.strip(i) for i in node.input],
                       node.attr, "" if clear_devices else node.device, node.location,
                       node.outputs)

    def function(self, function: FunctionDef, clear_devices: bool) -> FunctionDef:
        """A library entry with its ops named as ``node`` names the graph's."""
        return FunctionDef(function.name, function.label,
                           [self.node(node, clear_devices) for node in function.node],
                           [self.strip(name) for name in function.inputs],
                           [self.strip(name) for name in function.outputs],
                           [self.strip(name) for name in function.effects],
                           function.first_input, function.captured_from, function.repeats)

    def record(self, record: dict):
        """A name record (VariableDef, saver names) with every name stripped, or None when
        a name lies outside the scope."""
        if not all(self.holds(name) for name in _strings(record)):
            return None
        return _map_strings(record, self.strip)


def _strings(record) -> list:
    if isinstance(record, str):
        return [record]
    if isinstance(record, dict):
        return [s for v in record.values() for s in _strings(v)]
    return []


def _map_strings(record, fn):
    if isinstance(record, str):
        return fn(record)
    if isinstance(record, dict):
        return {key: _map_strings(value, fn) for key, value in record.items()}
    return record


def export_meta_graph(filename=None, meta_info_def=None, graph_def=None, saver_def=None,
                      collection_list=None, as_text: bool = False, graph=None,
                      export_scope=None, clear_devices: bool = False,
                      clear_extraneous_savers: bool = False, strip_default_attrs: bool = False,
                      save_debug_info: bool = False, **kwargs) -> MetaGraphDef:
    """The MetaGraphDef of ``graph`` (default graph), written to ``filename`` if given
    (atomically; text JSON with ``as_text``), as TF1's ``tf.train.export_meta_graph``.

    ``collection_list`` limits the collections saved (default: all). ``export_scope`` keeps
    only the ops, variables and collection items under that scope, named without it; inputs
    they read from outside keep their full names and must be given through ``input_map``
    when the meta graph is imported.

    Example:
        >>> meta = gc.train.export_meta_graph("model.meta", collection_list=["train_op"])
        >>> tower = gc.train.export_meta_graph(export_scope="tower_0")
    """
    graph = graph or get_default_graph()
    graph_def = graph_def_of(graph) if graph_def is None else graph_def
    scope = _Scope(export_scope)
    nodes = [scope.node(node, clear_devices) for node in graph_def.node
             if scope.holds(node.name)]
    library = {name: scope.function(function, clear_devices) for name, function
               in used_functions(graph_def.library, nodes).items()}
    graph_def = GraphDef(nodes, graph_def.seed, library)
    kept = {scope.prefix + node.name for node in graph_def.node}
    variables = [scope.record(_variable_def(v)) for v in graph._variable_reads.values()
                 if v.op.name in kept]
    keys = graph.get_all_collection_keys() if collection_list is None else collection_list
    collections = {key: [(kind, value if kind == "value" else scope.strip(value))
                         for kind, value in items]
                   for key, items in _collections(graph, keys, kept).items()}
    if saver_def is not None:  # dropped when its ops lie outside the scope
        stripped = scope.record({key: saver_def[key] for key in ("names", "restore_feeds",
                                                                 "restore_op")})
        saver_def = None if stripped is None else {**saver_def, **stripped}
    meta = MetaGraphDef(graph_def, [v for v in variables if v], collections, saver_def,
                        meta_info_def)
    if filename:
        container.write_atomic(filename, meta.SerializeToString(as_text))
    return meta


def read_meta_graph(path: str) -> MetaGraphDef:
    """The MetaGraphDef in file ``path`` (NotFoundError, DataLossError, ValueError)."""
    return MetaGraphDef.FromString(container.read_bytes(path, "meta graph file"), path)


def import_meta_graph(meta_graph_or_file, clear_devices: bool = False, import_scope=None,
                      input_map=None, **kwargs):
    """Load a meta graph (a path or a MetaGraphDef) into the default graph, with its
    Variables and collections, names prefixed by ``import_scope`` (TF1's
    ``tf.train.import_meta_graph``).

    Returns:
        A ``Saver``: the one saved with the meta graph, rebuilt on its imported ops, else a
        new one for the imported global variables; None when there are none (TF1).

    Example:
        >>> with gc.Graph().as_default(), gc.Session() as sess:
        ...     saver = gc.train.import_meta_graph("model.ckpt-100.meta")
        ...     saver.restore(sess, "model.ckpt-100")
    """
    from graphc.saving.saver import Saver  # the Saver module imports this one
    meta = meta_graph_or_file
    if not isinstance(meta, MetaGraphDef):
        meta = read_meta_graph(meta_graph_or_file)
    graph = get_default_graph()
    fresh = len(graph) == 0
    with graph.atomic():  # a failed import leaves even the scope's name free
        prefix = _scope_prefix(graph, import_scope) if import_scope else ""
        built = import_nodes(graph, meta.graph_def, prefix, input_map)
        if clear_devices:
            for op in built.values():
                op.device = ""
        variables = {entry["variable_name"].rpartition(":")[0]:
                     Variable(variable_def=entry, import_scope=prefix.rstrip("/"))
                     for entry in meta.variables}
        items = {key: [_resolve(graph, built, variables, prefix, kind, value, key)
                       for kind, value in entries]
                 for key, entries in meta.collection_def.items()}
    for key, values in items.items():
        for value in values:
            graph.add_to_collection(key, value)
    if fresh and graph.seed is None:  # the saved program goes on drawing the same numbers
        graph.seed = meta.graph_def.seed
    if meta.saver_def:
        return Saver(saver_def=meta.saver_def, import_scope=prefix.rstrip("/"))
    saveable = [v for v in items.get(GraphKeys.GLOBAL_VARIABLES, []) if isinstance(v, Variable)]
    return Saver(saveable) if saveable else None


def _resolve(graph, built, variables, prefix, kind, value, key):
    try:
        if kind == "value":
            return value
        if kind == "variable":
            return variables[value]
        if kind == "tensor":
            return graph.get_tensor_by_name(prefix + value)
        return graph.get_operation_by_name(prefix + value)
    except KeyError:
        raise ValueError(f"Collection {key!r} names {kind} {value!r}, which the meta graph "
                         "does not define") from None
