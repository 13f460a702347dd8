"""Turning Python values, NumPy arrays and Variables into graph tensors (``convert_to_tensor``).

TF1 rules: Python floats become float32 and ints int32 unless a dtype is asked for; NumPy
arrays keep their dtype; a list containing tensors is packed with ``stack``. Converting to an
explicit dtype never loses information silently: 1.5 cannot become an int32.
"""
from __future__ import annotations

import contextlib

from typing import Optional

import numpy as np

from graphc import dtypes as gdt
from graphc.graph import Graph, Operation, Tensor, get_default_graph

__all__ = ["convert_to_tensor", "numpy_value", "graph_of", "as_tensor_or_op", "variable_graph",
           "reads_variables_here"]


def _contains_tensor(value) -> bool:
    if isinstance(value, (list, tuple)):
        return any(_contains_tensor(v) for v in value)
    return isinstance(value, Tensor) or hasattr(value, "_as_graph_element")


def numpy_value(value, dtype: Optional[gdt.DType] = None, context: str = "") -> np.ndarray:
    """``value`` as an array of ``dtype`` (or TF1's default dtype), refusing lossy casts."""
    try:
        array = np.asarray(value)
    except ValueError:  # NumPy's "setting an array element with a sequence" names nothing
        raise ValueError(f"{context}Cannot convert {_short(value)} to a tensor: it is a ragged "
                         "nested sequence (its rows have different lengths)") from None
    if array.dtype.kind == "S" and not isinstance(value, (np.ndarray, np.generic)):
        # Python bytes: NumPy's fixed-width "S" drops trailing NUL bytes, a string must not
        array = np.array(value, dtype=object)
    if dtype is gdt.string or (dtype is None and _is_text(array)):
        return _string_array(value, array, context)
    if array.dtype.kind in "OUSV":
        raise TypeError(f"{context}Cannot convert {value!r} to a tensor: unsupported "
                        f"element type {array.dtype}")
    python_scalar = not isinstance(value, (np.ndarray, np.generic))
    if dtype is None:
        if python_scalar and array.dtype == np.float64:
            dtype = gdt.float32
        elif python_scalar and array.dtype.kind == "u":  # NumPy's type for ints >= 2**63
            raise TypeError(f"{context}Cannot convert {_short(value)} to a tensor: it does "
                            "not fit int64")
        elif python_scalar and array.dtype.kind == "i":
            fits = array.size == 0 or (array.min() >= -2**31 and array.max() < 2**31)
            dtype = gdt.int32 if fits else gdt.int64
        else:
            dtype = gdt.as_dtype(array.dtype)
        return array.astype(dtype.np, copy=False)
    target = dtype.np
    if array.dtype != target:
        ok = np.can_cast(array.dtype, target, casting="same_kind") or (
            array.dtype.kind in "iub" and target.kind in "iuf") or (
            python_scalar and array.dtype.kind == "f" and target.kind == "f")
        if array.dtype.kind == "f" and target.kind in "iu":
            ok = python_scalar and array.size > 0 and bool(np.all(np.mod(array, 1) == 0))
        if target.kind == "b" and array.dtype.kind != "b":
            ok = False
        if array.size == 0 and array.dtype.kind in "biuf":
            ok = True  # an empty array loses nothing in any conversion (e.g. the shape [])
        if ok and target.kind in "iu" and array.size:
            info = np.iinfo(target)
            ok = array.min() >= info.min and array.max() <= info.max
        if not ok:
            raise TypeError(f"{context}Cannot convert {_short(value)} (dtype "
                            f"{array.dtype}) to a tensor of dtype {dtype.name} without "
                            "losing information")
    return array.astype(target, copy=False)


def _is_text(array: np.ndarray) -> bool:
    """Whether every element is a str or bytes (NumPy text arrays, or object arrays of them);
    an empty object array is no text: nothing says what it holds."""
    if array.dtype.kind in "US":
        return True
    return array.dtype.kind == "O" and array.size > 0 and all(
        isinstance(item, (str, bytes)) for item in array.flat)


def _string_array(value, array: np.ndarray, context: str) -> np.ndarray:
    """A string tensor's value: an object array of bytes, str encoded as UTF-8 (TF)."""
    if not (_is_text(array) or (array.size == 0 and array.dtype.kind in "OUSf")):
        raise TypeError(f"{context}Cannot convert {_short(value)} to a tensor of dtype "
                        "string: its elements are no str or bytes")
    result = np.empty(array.shape, dtype=object)
    for index, item in np.ndenumerate(array):
        result[index] = item.encode("utf-8") if isinstance(item, str) else bytes(item)
    return result


def _short(value) -> str:
    text = repr(value)
    return text if len(text) < 60 else text[:57] + "..."


def convert_to_tensor(value, dtype=None, name: Optional[str] = None,
                      preferred_dtype=None, dtype_hint=None) -> Tensor:
    """Convert ``value`` to a Tensor of the default graph (TF1's ``convert_to_tensor``).

    Args:
        value: a Tensor, Variable, NumPy array, Python scalar or (nested) list.
        dtype: required dtype; a Tensor of another dtype raises TypeError.
        name: name for a newly created constant.
        preferred_dtype / dtype_hint: dtype to use for Python values when it fits.

    Example:
        >>> t = gc.convert_to_tensor([1.0, 2.0])
        >>> t.dtype, t.shape.as_list()
        (gc.float32, [2])
    """
    given, dtype = dtype, gdt.as_dtype(dtype) if dtype is not None else None
    if not isinstance(value, Tensor) and hasattr(value, "_as_tensor"):  # a Variable: its read
        value = value._as_tensor()  # as ops see it here
    elif not isinstance(value, Tensor) and hasattr(value, "_as_graph_element"):
        value = value._as_graph_element()
        if isinstance(value, Operation):
            raise TypeError(f"Cannot convert operation '{value.name}' to a tensor")
    if isinstance(value, Tensor) and value.op.type == "variable":
        value = value.graph._variable_reads[value.op]._as_tensor()  # a handle used as a value
    if isinstance(value, Tensor):
        if dtype is not None and value.dtype is not dtype:
            raise TypeError(f"Tensor conversion requested dtype {dtype.name}"
                            f"{gdt.string_note(given, dtype)} for Tensor {value.name!r} of "
                            f"dtype {value.dtype.name}{gdt.string_notes([value])}")
        return value
    if isinstance(value, Operation):
        raise TypeError(f"Cannot convert operation '{value.name}' to a tensor")
    if isinstance(value, (list, tuple)) and _contains_tensor(value):
        return _pack(value, dtype, dtype_hint or preferred_dtype, name)
    hint = preferred_dtype or dtype_hint
    if dtype is None and hint is not None:
        try:
            array = numpy_value(value, gdt.as_dtype(hint))
        except TypeError:
            array = numpy_value(value)
    else:
        array = numpy_value(value, dtype)
    graph = get_default_graph()
    return graph.create_op("const", [], {"value": array, "dtype": gdt.as_dtype(array.dtype)},
                           name=name or "Const").outputs[0]


def _pack(values, dtype, dtype_hint, name) -> Tensor:
    """A ``stack`` op of the converted values. It is created by its registered name, as
    ``const`` is above: the op families (graphc/ops/) build on this module, not under it."""
    graph = graph_of(*values)
    with graph.as_default(), graph.atomic():
        parts = [convert_to_tensor(v, dtype=dtype, dtype_hint=dtype_hint) for v in values]
        return graph.create_op("stack", parts, {"axis": 0}, name=name or "stack").outputs[0]


def graph_of(*values) -> Graph:
    """The graph the tensors among ``values`` live in (they must agree), else the default.

    A graph nested in another (``outer_graph``: a dataset function being traced) agrees with
    the graphs around it and wins: its ops may use their tensors, which it captures.
    """
    found: Optional[Graph] = None
    for value in values:
        if isinstance(value, (list, tuple)):
            candidate = graph_of(*value) if value else None
            candidate = candidate if any(_contains_tensor(v) for v in value) else None
        elif isinstance(value, (Tensor, Operation)):
            candidate = value.graph
        elif hasattr(value, "_as_graph_element"):
            candidate = value._as_graph_element().graph
        else:
            candidate = None
        if candidate is not None:
            if found is not None and candidate is not found and not _encloses(candidate, found):
                if not _encloses(found, candidate):
                    raise ValueError(f"{value!r} must be from the same graph as the other "
                                     "inputs")
                found = candidate
            elif found is None:
                found = candidate
    default = get_default_graph()
    return default if found is None or _encloses(found, default) else found


def variable_graph(initial_value) -> tuple:
    """``(graph, scope)``: where a Variable with ``initial_value`` is made, the default graph
    (or the initial value's) lifted out of loop bodies and branches being traced
    (``live_variable_reads``) as TF1 lifts them; ``scope`` enters there the name scope it
    was asked in (a no-op when not lifted)."""
    graph = get_default_graph() if callable(initial_value) else graph_of(initial_value)
    asked = graph._name_stack
    if not getattr(graph, "live_variable_reads", False) or isinstance(initial_value, Tensor):
        return graph, contextlib.nullcontext()
    while getattr(graph, "live_variable_reads", False):
        graph = graph.outer_graph
    return graph, graph.name_scope(asked or None)


def reads_variables_here() -> bool:
    """Whether the default graph reads and assigns variables itself, each run: a loop body
    or branch being traced, or a ``gc.function``'s graph (not the snapshot taken outside)."""
    graph = get_default_graph()
    return getattr(graph, "live_variable_reads", False) or hasattr(graph, "captured_handle")


def _encloses(outer: Graph, inner: Graph) -> bool:
    """Whether ``inner`` is traced inside ``outer`` (through its ``outer_graph`` chain)."""
    inner = getattr(inner, "outer_graph", None)
    while inner is not None:
        if inner is outer:
            return True
        inner = getattr(inner, "outer_graph", None)
    return False


def as_tensor_or_op(value):
    """A Tensor/Operation as is; Variables to their value tensor; other values converted."""
    if isinstance(value, (Tensor, Operation)):
        return value
    if hasattr(value, "_as_graph_element"):
        return value._as_graph_element()
    return convert_to_tensor(value)

