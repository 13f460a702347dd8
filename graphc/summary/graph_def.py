"""A graphc Graph or GraphDef as TensorFlow's ``GraphDef`` protobuf, for TensorBoard.

graphc's own ``GraphDef`` (``graph.as_graph_def()``, plain data that graphc files hold)
becomes TensorBoard's protobuf, one ``NodeDef`` per node in topological order: its scoped
name (TensorBoard draws the ``/`` scopes as a tree of boxes), graphc's op type, its inputs
(``op`` for output 0, ``op:1``..., ``^op`` for control inputs), the device a ``gc.device``
scope asked for, and its attributes: graphc's own (DTypes as types, shapes, numbers,
strings, lists, constants' values as tensors), ``T``, the first output's dtype, where the op
has no ``dtype`` attribute, and ``_output_shapes``, the static shape of each output (what
TF1's ``add_shapes=True`` adds, and what TensorBoard labels edges with). Attributes no
protobuf field holds (functions, templates) are kept as their text form.
"""
from __future__ import annotations

import numpy as np

from graphc.dtypes import DType
from graphc.printing import format_attr
from graphc.serialization.graph_def import GraphDef
from graphc.shapes import TensorShape
from graphc.summary.protos import protos

__all__ = ["graph_def", "data_type", "shape_proto", "attr_value"]

_TF_TYPE_NAMES = {"float16": "DT_HALF", "float32": "DT_FLOAT", "float64": "DT_DOUBLE",
                  "int8": "DT_INT8", "int16": "DT_INT16", "int32": "DT_INT32",
                  "int64": "DT_INT64", "uint8": "DT_UINT8", "uint16": "DT_UINT16",
                  "uint32": "DT_UINT32", "uint64": "DT_UINT64",
                  "bool": "DT_BOOL", "string": "DT_STRING"}


def data_type(dtype: DType) -> int:
    """TF's ``DataType`` enum value of a graphc DType (``DT_FLOAT`` for float32)."""
    return protos().types.DataType.Value(_TF_TYPE_NAMES[dtype.name])


def shape_proto(shape: TensorShape):
    """A ``TensorShapeProto``: unknown dims are -1, an unknown rank is ``unknown_rank``."""
    pb = protos()
    if shape.dims is None:
        return pb.TensorShapeProto(unknown_rank=True)
    return pb.TensorShapeProto(dim=[pb.TensorShapeProto.Dim(size=-1 if d is None else d)
                                    for d in shape.dims])


def _input_name(name: str) -> str:
    """TF's form of an input: ``op`` for output 0 (graphc's GraphDef writes ``op:0``)."""
    return name[:-2] if name.endswith(":0") else name


def _scalar_attr(pb, value):
    """The AttrValue of one plain value, or None when no field holds it."""
    if isinstance(value, (bool, np.bool_)):
        return pb.AttrValue(b=bool(value))
    if isinstance(value, (int, np.integer)):
        return pb.AttrValue(i=int(value))
    if isinstance(value, (float, np.floating)):
        return pb.AttrValue(f=float(value))
    if isinstance(value, (str, bytes)):
        return pb.AttrValue(s=value.encode("utf-8") if isinstance(value, str) else value)
    if isinstance(value, DType):
        return pb.AttrValue(type=data_type(value))
    if isinstance(value, TensorShape):
        return pb.AttrValue(shape=shape_proto(value))
    return None


_LIST_FIELDS = (("b", (bool, np.bool_)), ("i", (int, np.integer)), ("f", (float, np.floating)),
                ("s", (str, bytes)), ("type", DType), ("shape", TensorShape))


def _list_attr(pb, values):
    """An AttrValue list when every item is of one kind a list field holds."""
    for field, kinds in _LIST_FIELDS:
        if all(isinstance(v, kinds) for v in values) and not (
                field == "i" and any(isinstance(v, (bool, np.bool_)) for v in values)):
            items = [getattr(_scalar_attr(pb, v), field) for v in values]
            attr = pb.AttrValue()
            getattr(attr.list, field).extend(items)
            return attr
    return None


def attr_value(value):
    """The AttrValue of a graphc attribute value; None for None (an unset attribute)."""
    pb = protos()
    if value is None:
        return None
    found = _scalar_attr(pb, value)
    if found is None and isinstance(value, np.ndarray):
        try:
            found = pb.AttrValue(tensor=pb.make_tensor_proto(value))
        except (TypeError, ValueError):
            found = None
    if found is None and isinstance(value, (list, tuple)):
        found = _list_attr(pb, value)
    return found if found is not None else pb.AttrValue(s=format_attr(value).encode("utf-8"))


def graph_def(graph):
    """The ``GraphDef`` protobuf of a Graph or of graphc's ``GraphDef`` of one (every node,
    with shapes).

    Example:
        >>> proto = graph_def(gc.get_default_graph())
        >>> [node.name for node in proto.node][:2]
        ['x', 'dense/W/Initializer/random_uniform/Const']
    """
    pb = protos()
    source = graph if isinstance(graph, GraphDef) else graph.as_graph_def()
    result = pb.GraphDef()
    for node in source.node:
        proto = result.node.add(name=node.name, op=node.op, device=node.device or "")
        proto.input.extend([_input_name(name) for name in node.input])
        for key, value in node.attr.items():
            attr = attr_value(value)
            if attr is not None:
                proto.attr[key].CopyFrom(attr)
        if node.outputs and "dtype" not in node.attr and "T" not in node.attr:
            proto.attr["T"].type = data_type(node.outputs[0][1])
        proto.attr["_output_shapes"].list.shape.extend(
            [shape_proto(shape) for shape, _ in node.outputs])
    return result
