"""``NodeDef``: one op of a GraphDef (or of a function of its library) as plain data, and
its JSON form.

Example:
    >>> node = NodeDef("y", "tanh", ["x:0"], outputs=[(TensorShape([3]), gc.float32)])
    >>> node_from_json(node_to_json(node, {}), {}, "graph.pb", 0).input
    ['x:0']
"""
from __future__ import annotations

from graphc import dtypes as gdt
from graphc.serialization.attr_codec import DTYPE_NAMES, decode_value, encode_value
from graphc.shapes import TensorShape

__all__ = ["NodeDef", "node_to_json", "node_from_json", "field"]


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


def node_to_json(node: NodeDef, arrays: dict) -> dict:
    """The JSON form of ``node``; array attributes go into ``arrays``."""
    entry = {"name": node.name, "op": node.op, "input": list(node.input),
             "attr": {key: encode_value(value, arrays, f"{node.name}.{key}")
                      for key, value in node.attr.items()},
             "outputs": [{"shape": encode_value(shape, arrays, node.name),
                          "dtype": dtype.name} for shape, dtype in node.outputs]}
    if node.device:
        entry["device"] = node.device
    if node.location:
        entry["location"] = node.location
    return entry


def field(entry, key, kind, where, default=None):
    """``entry[key]`` (or ``default``), which must be a ``kind``; ValueError naming
    ``where`` otherwise."""
    value = entry.get(key, default)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"{where}: invalid field {key!r}: {value!r:.80}")
    return value


def node_from_json(entry, arrays: dict, source: str, index: int) -> NodeDef:
    """The NodeDef of ``node_to_json``'s output (node ``index`` of its list); ValueError
    naming ``source`` and the node for any malformed part."""
    if not isinstance(entry, dict):
        raise ValueError(f"{source}: node #{index} is not a JSON object")
    name = field(entry, "name", str, f"{source}: node #{index}")
    where = f"{source}: node {name!r}"
    attrs = field(entry, "attr", dict, where, {})
    outputs = []
    for spec in field(entry, "outputs", list, where, []):
        if not isinstance(spec, dict):
            raise ValueError(f"{where}: invalid output spec {spec!r:.80}")
        shape = decode_value(spec.get("shape"), arrays, where)
        dtype_name = spec.get("dtype")
        if not isinstance(shape, TensorShape) or dtype_name not in DTYPE_NAMES:
            raise ValueError(f"{where}: invalid output spec {spec!r:.80}")
        outputs.append((shape, gdt.as_dtype(dtype_name)))
    inputs = field(entry, "input", list, where, [])
    if not all(isinstance(i, str) for i in inputs):
        raise ValueError(f"{where}: inputs must be tensor names, got {inputs!r:.80}")
    return NodeDef(
        name, field(entry, "op", str, where), inputs,
        {key: decode_value(value, arrays, f"{where} attr {key!r}")
         for key, value in attrs.items()},
        field(entry, "device", str, where, ""),
        field(entry, "location", (str, type(None)), where, None), outputs)
