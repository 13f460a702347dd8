"""Loading an ONNX file as the untrusted input it is.

Checked before anything is read from elsewhere or allocated: the protobuf parses; every
external-data reference names a file inside the model's folder (no ``..``, no absolute
path, no symlink leaving the folder) whose declared offset and length lie inside that file;
no tensor's declared size exceeds ``MAX_TENSOR_BYTES`` and their sum ``MAX_MODEL_BYTES``;
raw data lengths match the declared shapes; every node input is produced before it is used
(dangling names and cycles are errors; nodes merely out of order are sorted). Nothing in a
model is ever executed: ONNX has no code, and graphc builds graph ops from op names through
its converter table only.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import numpy as np

__all__ = ["UnsafeModelError", "load_model", "check_graph", "onnx_module",
           "MAX_TENSOR_BYTES", "MAX_MODEL_BYTES"]

MAX_TENSOR_BYTES = 4 << 30
MAX_MODEL_BYTES = 16 << 30


class UnsafeModelError(ValueError):
    """The ONNX model is malformed or would read or allocate what it must not."""


def onnx_module():
    """The ``onnx`` package, or an error naming the extra that provides it."""
    try:
        import onnx  # noqa: PLC0415 - an optional extra, imported when used
        import onnx.numpy_helper  # noqa: F401
        import onnx.version_converter  # noqa: F401
    except ImportError as err:
        raise ImportError("graphc.onnx needs the onnx package: pip install 'graphc[onnx]'") \
            from err
    return onnx


def load_model(model, base_dir: Optional[str] = None):
    """A checked ModelProto from a path, bytes or a ModelProto (external data resolved
    against ``base_dir``, by default the model file's folder)."""
    onnx = onnx_module()
    if isinstance(model, onnx.ModelProto):
        proto = model
    else:
        if isinstance(model, (str, os.PathLike)):
            path = Path(model)
            if not path.is_file():
                raise FileNotFoundError(f"ONNX model {str(path)!r} does not exist")
            base_dir = base_dir or str(path.resolve().parent)
            data = path.read_bytes()
        elif isinstance(model, (bytes, bytearray)):
            data = bytes(model)
        else:
            raise TypeError(f"import_model: expected a path, bytes or onnx.ModelProto, got "
                            f"{type(model).__name__}")
        proto = onnx.ModelProto()
        try:
            proto.ParseFromString(data)
        except Exception as err:  # noqa: BLE001 - protobuf's DecodeError and kin
            raise UnsafeModelError(f"not a valid ONNX protobuf: {err}") from None
    _check_tensors(proto, base_dir)
    if _has_external(proto):
        from onnx.external_data_helper import load_external_data_for_model  # noqa: PLC0415
        load_external_data_for_model(proto, base_dir)
    return proto


def _all_tensors(proto):
    yield from proto.graph.initializer
    for node in proto.graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                yield attr.t
            yield from attr.tensors


def _has_external(proto) -> bool:
    onnx = onnx_module()
    return any(t.data_location == onnx.TensorProto.EXTERNAL for t in _all_tensors(proto))


def _check_tensors(proto, base_dir) -> None:
    onnx = onnx_module()
    total = 0
    for tensor in _all_tensors(proto):
        if any(d < 0 for d in tensor.dims):
            raise UnsafeModelError(f"tensor {tensor.name!r} declares a negative dimension "
                                   f"{list(tensor.dims)}")
        try:
            itemsize = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type)).itemsize
        except (KeyError, TypeError, ValueError):
            raise UnsafeModelError(f"tensor {tensor.name!r} has an unknown data type "
                                   f"{tensor.data_type}") from None
        count = int(np.prod([int(d) for d in tensor.dims], dtype=object)) if tensor.dims else 1
        size = count * itemsize
        if size > MAX_TENSOR_BYTES:
            raise UnsafeModelError(f"tensor {tensor.name!r} declares {size:,} bytes "
                                   f"(dims {list(tensor.dims)}), over the {MAX_TENSOR_BYTES:,} "
                                   "byte limit")
        total += size
        if total > MAX_MODEL_BYTES:
            raise UnsafeModelError(f"the model's tensors declare over {MAX_MODEL_BYTES:,} bytes")
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            _check_external(tensor, size, base_dir)
        elif tensor.HasField("raw_data") and len(tensor.raw_data) != size and \
                tensor.data_type != onnx.TensorProto.STRING:
            raise UnsafeModelError(f"tensor {tensor.name!r}: {len(tensor.raw_data)} bytes of "
                                   f"raw data for dims {list(tensor.dims)} ({size} expected)")


def _check_external(tensor, size: int, base_dir) -> None:
    entries = {e.key: e.value for e in tensor.external_data}
    location = entries.get("location", "")
    if base_dir is None:
        raise UnsafeModelError(f"tensor {tensor.name!r} has external data but the model was "
                               "not loaded from a file (give base_dir)")
    if not location or os.path.isabs(location) or ".." in Path(location).parts:
        raise UnsafeModelError(f"tensor {tensor.name!r}: external data location {location!r} "
                               "must be a relative path inside the model's folder")
    root = Path(base_dir).resolve()
    target = (root / location).resolve()  # follows symlinks
    if root not in target.parents:
        raise UnsafeModelError(f"tensor {tensor.name!r}: external data {location!r} leaves "
                               f"the model's folder (resolves to {str(target)!r})")
    if not target.is_file():
        raise UnsafeModelError(f"tensor {tensor.name!r}: external data file {location!r} "
                               "does not exist")
    offset, length = int(entries.get("offset", 0)), int(entries.get("length", size))
    if offset < 0 or length != size or offset + length > target.stat().st_size:
        raise UnsafeModelError(f"tensor {tensor.name!r}: external data range offset {offset} "
                               f"length {length} does not fit {location!r} "
                               f"({target.stat().st_size} bytes; {size} expected)")


def check_graph(graph_proto, outer_names=frozenset()) -> None:
    """Every node input must be produced (by an input, initializer or earlier node, or, in
    a subgraph, a value of the graphs around it); nodes out of order are sorted
    topologically; a cycle is an error. Subgraphs (If branches, loop bodies) are checked
    the same way."""
    available = {v.name for v in graph_proto.input} | {t.name for t in graph_proto.initializer}
    available |= set(outer_names)
    available.add("")  # an omitted optional input
    producers = {}
    for index, node in enumerate(graph_proto.node):
        for name in node.output:
            producers[name] = index
    for index, node in enumerate(graph_proto.node):
        for name in node.input:
            if name not in available and name not in producers:
                raise UnsafeModelError(f"node {index} {node.name!r} ({node.op_type}) reads "
                                       f"{name!r}, which nothing produces")
    for value in graph_proto.output:
        if value.name not in available and value.name not in producers:
            raise UnsafeModelError(f"graph output {value.name!r} is produced by no node")
    for node in graph_proto.node:
        for attr in node.attribute:
            for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
                check_graph(sub, available | set(producers))
    order, done, state = [], set(available), {}
    for start in range(len(graph_proto.node)):
        stack = [(start, False)]
        while stack:
            index, expanded = stack.pop()
            if state.get(index) == "done":
                continue
            if expanded:
                state[index] = "done"
                order.append(index)
                continue
            if state.get(index) == "open":
                raise UnsafeModelError(f"the graph has a cycle through node {index} "
                                       f"{graph_proto.node[index].name!r}")
            state[index] = "open"
            stack.append((index, True))
            for name in graph_proto.node[index].input:
                if name not in done and name in producers and \
                        state.get(producers[name]) != "done":
                    if state.get(producers[name]) == "open":
                        raise UnsafeModelError(
                            f"the graph has a cycle through node {index} "
                            f"{graph_proto.node[index].name!r} ({name!r})")
                    stack.append((producers[name], False))
    if order != list(range(len(graph_proto.node))):
        nodes = [graph_proto.node[i] for i in order]
        del graph_proto.node[:]
        graph_proto.node.extend(nodes)
