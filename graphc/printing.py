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
    if callable(value):  # py_func's function: its name, not an address that changes
        return getattr(value, "__qualname__", type(value).__name__)
    return repr(value) if isinstance(value, str) else str(value)


def graph_as_text(graph, ops=None) -> str:
    """One line per op of ``graph`` (or of ``ops``, in the given order).

    Example:
        >>> print(gc.get_default_graph().as_text())
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
        lines.append(f"{head}{op.type}({', '.join(args)}){attrs}{tail}    # {op.name}{device}")
    return "\n".join(lines)


def _same(a, b) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except (ValueError, TypeError):
        return False
