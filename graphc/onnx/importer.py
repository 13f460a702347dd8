"""ONNX models into graphc graphs: ``import_model(path_or_model) -> (graph, inputs, outputs)``.

The file is untrusted input: ``safety.load_model`` checks it before anything is read from
elsewhere or allocated. Every node is checked against the converter table before the graph
is built, so an unsupported op is reported (op, domain, opset version, node) before anything
runs. Initializers become constants, or Variables with ``trainable=True`` (an imported model
can then be fine-tuned with ``gc.gradients`` and the optimizers). Older opsets are
up-converted with ``onnx.version_converter`` first.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

import graphc as gc

from .converters import CONVERTERS, ImportContext, UnsupportedOpError
from .safety import check_graph, load_model, onnx_module

__all__ = ["import_model", "MIN_OPSET", "UnsupportedOpError"]

MIN_OPSET = 11  # older models are up-converted to this before conversion


def _opset(model) -> int:
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return int(entry.version)
    return MIN_OPSET


def _np_dtype(elem_type: int):
    dtype = np.dtype(onnx_module().helper.tensor_dtype_to_np_dtype(elem_type))
    graphc_dtype(dtype)
    return dtype


def graphc_dtype(dtype):
    """graphc's dtype for a NumPy one, or UnsupportedOpError naming the missing dtype."""
    try:
        return gc.as_dtype(dtype)
    except TypeError:
        raise UnsupportedOpError(f"graphc has no dtype {dtype} (ONNX "
                                 f"{getattr(dtype, 'name', dtype)})") from None


def _declared_shape(value_info):
    kind = value_info.type.WhichOneof("value")
    if kind != "tensor_type":
        raise UnsupportedOpError(f"graph input {value_info.name!r} is a {kind}, not a tensor; "
                                 "only tensor inputs are supported")
    tensor_type = value_info.type.tensor_type
    if not tensor_type.HasField("shape"):
        return _np_dtype(tensor_type.elem_type), None
    dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor_type.shape.dim]
    return _np_dtype(tensor_type.elem_type), dims


def import_model(model, trainable: bool = False, name: Optional[str] = None,
                 base_dir: Optional[str] = None):
    """Build a graphc Graph from an ONNX model (a path, bytes or a ModelProto).

    Returns:
        ``(graph, inputs, outputs)``: dicts in the model's order from the ONNX input and
        output names to the graph's placeholders and tensors.

    Raises:
        UnsupportedOpError: a node's op (named with domain, opset and node) has no converter.
        graphc.onnx.safety.UnsafeModelError: the file is malformed or unsafe (see safety.py).

    Example:
        >>> graph, inputs, outputs = graphc.onnx.import_model("model.onnx")
        >>> with gc.Session(graph=graph) as sess:
        ...     y = sess.run(outputs["y"], {inputs["x"]: x})
    """
    onnx = onnx_module()
    model = load_model(model, base_dir)
    _check_convertible(model)
    if _opset(model) < MIN_OPSET:
        model = onnx.version_converter.convert_version(model, MIN_OPSET)
    opset = _opset(model)
    check_graph(model.graph)
    _check_supported(model.graph, opset)
    graph = gc.Graph()
    inputs, outputs = {}, {}
    with graph.as_default(), graph.name_scope(name):
        ctx = ImportContext(graph, opset)
        initialized = {t.name for t in model.graph.initializer}
        for tensor in model.graph.initializer:
            value = onnx.numpy_helper.to_array(tensor)
            graphc_dtype(value.dtype)
            ctx.values[tensor.name] = (gc.Variable(value, name=_clean(tensor.name))
                                       if trainable and value.dtype.kind == "f" else
                                       gc.constant(value, name=_clean(tensor.name)))
        for value_info in model.graph.input:
            if value_info.name in initialized:
                continue
            dtype, dims = _declared_shape(value_info)
            placeholder = gc.placeholder(graphc_dtype(dtype), dims, name=_clean(value_info.name))
            ctx.values[value_info.name] = placeholder
            inputs[value_info.name] = placeholder
        for node in model.graph.node:
            ctx.convert(node)
        for value_info in model.graph.output:
            outputs[value_info.name] = gc.convert_to_tensor(ctx.values[value_info.name])
    return graph, inputs, outputs


# ops whose form before an opset onnx.version_converter cannot up-convert faithfully
_FIRST_CONVERTIBLE = {"Scan": (9, "Scan before opset 9 has a batch axis and sequence_lens; "
                                  "onnx.version_converter's adapter drops the batch axis from "
                                  "the graph's inputs, so the model no longer fits its data")}


def _check_convertible(model) -> None:
    opset = _opset(model)
    for node in _all_nodes(model.graph):
        first, why = _FIRST_CONVERTIBLE.get(node.op_type, (0, ""))
        if opset < first:
            raise UnsupportedOpError(f"ONNX op {node.op_type!r} of opset {opset} (node "
                                     f"{node.name!r}): {why}")


def _all_nodes(graph_proto):
    """The nodes of ``graph_proto`` and of every subgraph (If branches, Loop/Scan bodies)."""
    for node in graph_proto.node:
        yield node
        for attr in node.attribute:
            for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
                yield from _all_nodes(sub)


def _check_supported(graph_proto, opset: int) -> None:
    for index, node in enumerate(_all_nodes(graph_proto)):
        domain = node.domain or "ai.onnx"
        if domain not in ("ai.onnx",) or node.op_type not in CONVERTERS:
            raise UnsupportedOpError(
                f"ONNX op {node.op_type!r} (domain {domain!r}, opset {opset}) of node "
                f"{index} {node.name!r} is not supported by graphc's importer")


def _clean(name: str) -> str:
    """An ONNX name as a graphc op name (scopes from '/', nothing graphc rejects)."""
    cleaned = "".join(c if c.isalnum() or c in "_/.-" else "_" for c in name).strip("/")
    return cleaned or "onnx"
