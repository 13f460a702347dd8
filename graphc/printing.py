"""The one stable text form of a graph: an SSA-like listing, one op per line.

    %3 = matmul(%0, %1) {transpose_b=true} : f32[?,10]    # dense/MatMul

followed by `` @ /device:GPU:0`` when a ``gc.device`` scope asked for a device.

Tensors are numbered in creation order, so two listings of the same build diff cleanly.
"""
from __future__ import annotations

import numpy as np

from graphc import registry

__all__ = ["graph_as_text", "format_type", "format_attr"]


def format_type(tensor) -> str:
    """``f32[?,10]``: dtype short name plus static shape."""
    dims = tensor.shape.dims
    if dims is None:
        return f"{tensor.dtype.short}[*]"
    return f"{tensor.dtype.short}[{','.join('?' if d is None else str(d) for d in dims)}]"


def format_attr(value) -> str:
    """Compact, deterministic text for an attribute value."""
    if isinstance(value, np.ndarray):
        if value.size <= 6:
            return np.array2string(value, separator=",").replace("\n", "")
        return f"<{value.dtype}{list(value.shape)}>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "short"):  # a DType
        return value.name
    if hasattr(value, "outputs") and hasattr(value, "label"):  # a subgraph: listed below
        return value.label
    if isinstance(value, tuple) and value and all(hasattr(v, "label") for v in value):
        return "(" + ", ".join(v.label for v in value) + ")"
    if callable(value):  # py_func's function: its name, not an address that changes
        return getattr(value, "__qualname__", type(value).__name__)
    return repr(value) if isinstance(value, str) else str(value)


def graph_as_text(graph, ops=None, indent: str = "") -> str:
    """One line per op of ``graph`` (or of ``ops``, in the given order); the subgraphs of
    control-flow ops (``OpDef.subgraphs``) follow their op, indented, each headed by its
    label, inputs and outputs.

    Example:
        >>> print(gc.get_default_graph().as_text())
        %3, %4 = while_loop(%0, %1, %2) {...} : i32[], f32[3]    # while
          body(%0, %1, %2) -> (%5, %4):
            %3 = add(%0, %2) : i32[]    # while/add
    """
    numbers: dict = {}
    lines = []
    for op in (graph.get_operations() if ops is None else ops):
        for tensor in op.outputs:
            numbers[tensor] = len(numbers)
        defaults = registry.get(op.type).attrs
        shown = {k: v for k, v in op.attrs.items()
                 if not _same(defaults.get(k, object()), v) or op.type == "const"}
        args = [f"%{numbers[t]}" if t in numbers else t.name for t in op.inputs]
        args += [f"^{dep.name}" for dep in op.control_inputs]
        attrs = ""
        if shown:
            attrs = " {" + ", ".join(f"{k}={format_attr(v)}" for k, v in sorted(shown.items())
                                     if k != "dtype" or op.type != "const") + "}"
            attrs = "" if attrs == " {}" else attrs
        results = ", ".join(f"%{numbers[t]}" for t in op.outputs)
        types = ", ".join(format_type(t) for t in op.outputs)
        head = f"{results} = " if results else ""
        tail = f" : {types}" if types else ""
        device = f" @ {op.device}" if op.device else ""
        lines.append(f"{indent}{head}{op.type}({', '.join(args)}){attrs}{tail}    "
                     f"# {op.name}{device}")
        for key in registry.get(op.type).subgraphs:
            value = op.attrs[key]
            for sub in (value if isinstance(value, tuple) else (value,)):
                lines.append(_subgraph_text(sub, indent + "  "))
    return "\n".join(lines)


def _subgraph_text(sub, indent: str) -> str:
    """``label(%inputs) -> (%outputs):`` and the subgraph's ops, indented under it."""
    ops = sub.ops()
    numbers: dict = {}
    for op in ops:
        for tensor in op.outputs:
            numbers[tensor] = len(numbers)
    ins = ", ".join(f"%{numbers[t]}" for t in sub.inputs)
    outs = ", ".join(f"%{numbers[t]}" for t in sub.outputs)
    body = graph_as_text(sub.graph, ops, indent + "  ")
    return f"{indent}{sub.label}({ins}) -> ({outs}):\n{body}"


def _same(a, b) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except (ValueError, TypeError):
        return False
