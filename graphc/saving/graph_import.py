"""``gc.import_graph_def``: load a GraphDef into a graph, under a name prefix, with inputs
remapped to tensors of that graph (TF1's ``tf.import_graph_def``).

Everything is checked before the first op is built: each op type must be registered, each
input must name an output of a node of the GraphDef (or an ``input_map`` key), and the nodes
must form no cycle. Each op is then built through ``Graph.create_op``, which checks its attrs
and infers its outputs again; the outputs the file records must agree. The whole import runs
inside ``graph.atomic()``, so a failure at any node leaves the graph exactly as it was.

A control-flow op's subgraph attributes refer to functions of the GraphDef's library
(``graphc.serialization.functions``): each is built, when the first op referring to it is,
into a ``BodyGraph`` of the graph around that op (its ops named with the same prefix, its
nested subgraphs likewise), and ops referring to the same function share one ``Subgraph``.
A failure inside a function (a missing entry, an unknown op type deep in a nested body)
names the op and attribute that refer to it, and undoes the whole import as above.

Example:
    >>> graph_def = trained_graph.as_graph_def()
    >>> with gc.Graph().as_default():
    ...     images = gc.placeholder(gc.float32, (None, 784))
    ...     logits, = gc.import_graph_def(graph_def, input_map={"x:0": images},
    ...                                   return_elements=["logits:0"], name="model")
"""
from __future__ import annotations

import heapq

from graphc import registry
from graphc.control_flow.subgraph import BodyGraph, Subgraph
from graphc.graph import Tensor, get_default_graph
from graphc.serialization.attr_codec import FunctionRef
from graphc.serialization.graph_def import GraphDef

__all__ = ["import_graph_def", "import_nodes"]


def _tensor_name(name: str) -> str:
    return name if ":" in name else f"{name}:0"


def _producer(name: str) -> tuple:
    op_name, _, index = name.rpartition(":")
    if not index.isdigit():
        raise ValueError(f"Invalid tensor name {name!r} (expected 'op_name:index')")
    return op_name, int(index)


def _build_order(nodes: list, mapped: set) -> list:
    """The nodes in an order where each follows what it reads; ValueError naming the node
    for an unknown op type, an input no node defines, or a cycle."""
    by_name = {}
    for node in nodes:
        if node.name in by_name:
            raise ValueError(f"GraphDef has two nodes named {node.name!r}")
        by_name[node.name] = node
    waiting_on: dict = {}
    readers: dict = {}
    for node in nodes:
        try:
            registry.get(node.op)
        except KeyError:
            raise ValueError(f"GraphDef node {node.name!r} has op type {node.op!r}, which "
                             "graphc does not register; the file needs a graphc that has "
                             "it") from None
        deps = set()
        for name in node.input:
            if name.startswith("^"):
                source = name[1:]
            elif _tensor_name(name) in mapped:
                continue
            else:
                source = _producer(_tensor_name(name))[0]
            if source not in by_name:
                raise ValueError(f"GraphDef node {node.name!r} ({node.op}) reads {name!r}, but "
                                 f"no node of the GraphDef is named {source!r}")
            deps.add(source)
        waiting_on[node.name] = len(deps)
        for source in deps:
            readers.setdefault(source, []).append(node.name)
    # Kahn's algorithm taking the earliest ready node first: a file already in topological
    # order is built in its own order, so the ops are created as they were when saved
    position = {node.name: index for index, node in enumerate(nodes)}
    ready = [position[node.name] for node in nodes if not waiting_on[node.name]]
    heapq.heapify(ready)
    order = []
    while ready:
        node = nodes[heapq.heappop(ready)]
        order.append(node)
        for reader in readers.get(node.name, ()):
            waiting_on[reader] -= 1
            if not waiting_on[reader]:
                heapq.heappush(ready, position[reader])
    if len(order) < len(nodes):
        stuck = sorted(name for name, count in waiting_on.items() if count)
        raise ValueError(f"GraphDef nodes form a cycle: {stuck[:10]} "
                         f"{'...' if len(stuck) > 10 else ''}wait on each other")
    return order


def _reserve_scopes(graph, name: str) -> None:
    """Mark each scope above ``name`` used, so later name scopes of the same name are
    numbered as they would have been in the graph that was saved."""
    parts = name.split("/")
    for end in range(1, len(parts)):
        key = "/".join(parts[:end]).lower()
        if key not in graph._used_names:
            graph._reserve(key, 1)


def _check_outputs(op, node) -> None:
    if node.outputs and len(node.outputs) != len(op.outputs):
        raise ValueError(f"GraphDef node {node.name!r} ({node.op}) records "
                         f"{len(node.outputs)} outputs, but the op has {len(op.outputs)}")
    for tensor, (shape, dtype) in zip(op.outputs, node.outputs):
        if tensor.dtype is not dtype:
            raise TypeError(f"GraphDef node {node.name!r} ({node.op}) records output "
                            f"{tensor.value_index} as {dtype.name}, but the op makes "
                            f"{tensor.dtype.name}")
        if shape != tensor.shape:
            tensor.set_shape(shape)  # a shape the user refined with set_shape


def import_nodes(graph, graph_def: GraphDef, prefix: str, input_map: dict) -> dict:
    """Build ``graph_def``'s nodes into ``graph`` with names ``prefix + name`` (``prefix``
    ends in "/" or is empty); ``{node name: new Operation}``. ``input_map`` maps tensor
    names of the GraphDef to tensors of ``graph``. Changes nothing when it raises."""
    mapped = {}
    for key, value in (input_map or {}).items():
        if not isinstance(key, str):
            raise TypeError(f"input_map keys must be tensor names, got {key!r}")
        value = getattr(value, "_as_graph_element", lambda: value)()
        if not isinstance(value, Tensor) or value.graph is not graph:
            raise ValueError(f"input_map[{key!r}] must be a Tensor of the graph imported "
                             f"into, got {value!r}")
        mapped[_tensor_name(key)] = value
    order = _build_order(graph_def.node, set(mapped))
    known = {f"{node.name}:{index}" for node in graph_def.node
             for index in range(len(node.outputs))}
    known.update(_tensor_name(name) for node in graph_def.node for name in node.input
                 if not name.startswith("^"))  # inputs from outside an exported scope
    unused = [key for key in mapped if key not in known]
    if unused:
        raise ValueError(f"Attempted to map inputs that were not found in graph_def: {unused}")
    recorded = {node.name: node.outputs for node in graph_def.node}
    with graph.as_default(), graph.atomic(), graph.control_dependencies(None):
        return _build(graph, order, prefix, mapped, recorded,
                      _Functions(graph_def.library, prefix))


def _build(graph, order: list, prefix: str, mapped: dict, recorded: dict,
           functions: "_Functions") -> dict:
    """Build the nodes of ``order`` into ``graph`` (the caller's ``atomic()`` block undoes
    them on failure); ``{node name: new Operation}``."""
    built: dict = {}
    for node in order:
        inputs, controls = [], []
        for name in node.input:
            if name.startswith("^"):
                controls.append(built[name[1:]])
                continue
            name = _tensor_name(name)
            if name in mapped:
                inputs.append(_mapped(mapped[name], node, name, recorded))
                continue
            source, index = _producer(name)
            if index >= len(built[source].outputs):
                raise ValueError(f"GraphDef node {node.name!r} reads {name!r}, but "
                                 f"{source!r} has {len(built[source].outputs)} outputs")
            inputs.append(built[source].outputs[index])
        _check_attr_kinds(node)
        full_name = prefix + node.name
        _reserve_scopes(graph, full_name)
        try:
            attrs = functions.resolved(node, graph)
            with graph.control_dependencies(controls):
                op = graph.create_op(node.op, inputs, attrs, name=full_name + "/")
            _check_outputs(op, node)
        except (ValueError, TypeError) as err:
            raise type(err)(f"importing GraphDef node {node.name!r}: {err}") from None
        except Exception as err:  # an attr of the wrong structure breaks inference
            raise ValueError(f"importing GraphDef node {node.name!r} ({node.op}): its "
                             f"attrs are invalid ({type(err).__name__}: {err})") from None
        if node.device:
            op.device = node.device
        if node.location:
            op.location = node.location  # errors keep pointing at the user's own line
        built[node.name] = op
    return built


class _Functions:
    """The subgraphs of a GraphDef's library, each built once (into a ``BodyGraph`` of the
    graph whose op first refers to it) when an op being imported refers to it."""

    def __init__(self, library: dict, prefix: str):
        self.library, self.prefix = library, prefix
        self.built: dict = {}  # function name -> its Subgraph
        self.building: list = []  # the functions being built (a reference cycle is refused)

    def resolved(self, node, graph) -> dict:
        """``node``'s attrs with each FunctionRef replaced by its Subgraph."""
        keys = registry.get(node.op).subgraphs
        if not keys:
            return node.attr
        attrs = dict(node.attr)
        for key in keys:
            if key in attrs:
                attrs[key] = self._subgraphs(attrs[key], node, key, graph)
        return attrs

    def _subgraphs(self, value, node, key, graph):
        if isinstance(value, tuple):
            return tuple(self._subgraphs(item, node, key, graph) for item in value)
        if value is None:
            return None
        if not isinstance(value, FunctionRef):
            raise ValueError(f"attr {key!r} must refer to a function of the GraphDef's "
                             f"library, got {value!r:.80}")
        name = value.name
        if name in self.built:
            return self.built[name]
        where = f"attr {key!r} ({node.op}) refers to function {name!r}"
        function = self.library.get(name)
        if function is None:
            raise ValueError(f"{where}, which the GraphDef's library does not hold")
        if name in self.building:
            raise ValueError(f"{where}, which refers to itself through "
                             f"{self.building[self.building.index(name):]}")
        self.building.append(name)
        try:
            sub = self._subgraph(function, graph)
        except (ValueError, TypeError) as err:
            raise type(err)(f"{where}: {err}") from None
        finally:
            self.building.pop()
        self.built[name] = sub
        return sub

    def _subgraph(self, function, outer):
        body = BodyGraph(outer, function.label)
        order = _build_order(function.node, set())
        with body.as_default(), body.control_dependencies(None):
            built = _build(body, order, self.prefix, {}, {}, self)

        def tensor(name):
            source, index = _producer(_tensor_name(name))
            if source not in built or index >= len(built[source].outputs):
                raise ValueError(f"it lists tensor {name!r}, which none of its nodes makes")
            return built[source].outputs[index]
        inputs = [tensor(name) for name in function.inputs]
        if any(t.op.type != "placeholder" for t in inputs):
            raise ValueError(f"its inputs {function.inputs} must be placeholders")
        for name in function.effects:
            if name not in built:
                raise ValueError(f"it lists effect {name!r}, which none of its nodes is")
        return Subgraph(body, inputs, [tensor(name) for name in function.outputs],
                        function.label, function.first_input, function.captured_from,
                        function.repeats, [built[name] for name in function.effects])


# What an attribute whose registry default is a bool or a string may hold (programs pass
# keepdims=1 or message=None, and their graphs must load again).
_KINDS_BY_DEFAULT = {bool: (bool, int, type(None)), str: (str, type(None))}


def _check_attr_kinds(node) -> None:
    """Flags and strings the registry's defaults declare must be flags and strings: most
    ops' inference rules do not read them, so a wrong kind would fail only in the kernel."""
    defaults = registry.get(node.op).attrs
    for key, value in node.attr.items():
        kinds = _KINDS_BY_DEFAULT.get(type(defaults.get(key)))
        if kinds and not isinstance(value, kinds):
            raise ValueError(f"GraphDef node {node.name!r} ({node.op}): attr {key!r} must be "
                             f"a {type(defaults[key]).__name__}, got {value!r:.80}")


def _mapped(tensor, node, name, recorded: dict) -> Tensor:
    """An ``input_map`` replacement, checked against the dtype the GraphDef records."""
    source, index = _producer(name)
    specs = recorded.get(source, ())  # none for an input from outside an exported scope
    dtype = specs[index][1] if index < len(specs) else tensor.dtype
    if dtype is not tensor.dtype:
        raise TypeError(f"input_map[{name!r}] is {tensor.dtype.name}, but the GraphDef's "
                        f"{name!r} (read by {node.name!r}) is {dtype.name}")
    return tensor


def _scope_prefix(graph, name) -> str:
    if name == "":
        return ""
    with graph.name_scope(name or "import") as scope:
        return scope


def import_graph_def(graph_def, input_map=None, return_elements=None, name=None,
                     op_dict=None, producer_op_list=None):
    """Import ``graph_def`` into the default graph (TF1's ``tf.import_graph_def``).

    Args:
        graph_def: a ``GraphDef`` (``graph.as_graph_def()``, ``GraphDef.FromString``).
        input_map: ``{tensor name in graph_def: Tensor of the default graph}``; the imported
            ops read those tensors instead.
        return_elements: names in ``graph_def`` (``"y:0"`` for tensors, ``"train"`` for
            ops) whose imported elements to return, in order.
        name: the name prefix ("import" when None, made unique like a name scope; "" for
            none).

    Returns:
        The list of imported elements named by ``return_elements`` (None without it).

    Raises:
        ValueError / TypeError naming the node: an unknown op type, bad attrs, an input no
        node defines, a cycle, an unused ``input_map`` key. The graph is unchanged then.

    Example:
        >>> y, = gc.import_graph_def(graph_def, input_map={"x:0": x}, return_elements=["y:0"])
    """
    if not isinstance(graph_def, GraphDef):
        raise TypeError(f"import_graph_def needs a GraphDef, got {type(graph_def).__name__}")
    graph = get_default_graph()
    with graph.atomic():  # a failed import leaves even the prefix's name free
        built = import_nodes(graph, graph_def, _scope_prefix(graph, name), input_map)
    if return_elements is None:
        return None
    return [_element(graph, built, item) for item in return_elements]


def _element(graph, built: dict, item: str):
    if ":" in item:
        source, index = _producer(item)
        if source in built and index < len(built[source].outputs):
            return built[source].outputs[index]
    elif item in built:
        return built[item]
    raise ValueError(f"Requested return_element {item!r} not found in graph_def.")
