"""The eager fast path: the graph mode's questions about an op, answered once per kind of call.

Building an eager op asks what building a graph op asks: are the inputs tensors of this
graph, are the attrs known, what are the output shapes and dtypes, which kernel runs it. The
answers depend only on the op type, its attrs and its inputs' dtypes and shapes, so an
``OpPlan`` keeps them under that key and a repeated call (``x * 1.01`` in a loop) only runs
the kernel and records the op. Two refinements keep a plan exact:

- An op that is not elementwise may take its output shape from input *values* (reshape's
  shape, slice's sizes, one_hot's depth): small integer inputs are part of its key, and the
  kernel's result must have the planned shape (a float ``range`` bound is not in the key).
- A call the plan does not fit (the kernel fails, a shape differs) is built again the graph
  mode's way, so its error is the graph mode's error, naming the op and the user's line.

Example:
    >>> with gc.eager():
    ...     x = gc.constant([1.0, 2.0])
    ...     y = gc.tanh(x)          # the first tanh of a float32 [2]: inferred, then planned
    ...     z = gc.tanh(x)          # planned: no inference, no validation, no kernel binding
"""
from __future__ import annotations

import math
import sys
from typing import NamedTuple, Optional

import numpy as np

from graphc import registry
from graphc.errors import InvalidArgumentError, OpError, describe_op, describe_tensor

from .state import EagerRunContext

__all__ = ["OpPlan", "UNPLANNED", "RECORDABLE", "plan_key", "plan_for", "make_plan",
           "bound_kernel", "run_kernel", "run_op", "user_line", "line_of", "stored_value",
           "read_only"]

_PLAN_LIMIT = 4096  # distinct keys kept; a program that makes more starts over
_VALUE_KEYED_SIZE = 16  # integer inputs up to this many elements are keyed by value


class OpPlan(NamedTuple):
    """What every call of one key shares: the op's definition, its output specs (shared
    TensorShape and DType objects), its bound kernel, and the output dims to check (None:
    elementwise, whose shapes never follow from values); and whether a call may run as a
    producer record (records.py): one output, elementwise, no run context."""

    opdef: registry.OpDef
    specs: tuple
    kernel: object
    checked_dims: Optional[tuple]
    recordable: bool


class _OpKind(NamedTuple):
    opdef: registry.OpDef
    planned: bool  # stateful ops and control flow are always built the graph mode's way
    value_keyed: bool


_KINDS: dict = {}
_PLANS: dict = {}
# the recordable plans again, as flat ``(kernel, shape, dtype, plan)`` tuples: what the
# one-frame calls (fast_calls.py) need, unpacked at once instead of by attribute
RECORDABLE: dict = {}


def _kind(op_type: str) -> _OpKind:
    kind = _KINDS.get(op_type)
    if kind is None:
        opdef = registry.get(op_type)
        kind = _KINDS[op_type] = _OpKind(opdef, not opdef.stateful and not opdef.subgraphs,
                                         not opdef.elementwise)
    return kind


def _attr_token(value):
    """``value`` as a key part: typed (``1``, ``1.0`` and ``True`` differ) and with the sign
    of a zero (``-0.0 == 0.0``); a list or array raises TypeError (not planned)."""
    if isinstance(value, float):
        return float, value, math.copysign(1.0, value)
    if isinstance(value, tuple):
        return tuple, tuple([_attr_token(v) for v in value])
    return value.__class__, value


def plan_key(graph, tensor_class, op_type: str, inputs, attrs) -> Optional[tuple]:
    """The key of a call, or None when it is not planned (an input that is no eager tensor
    of ``graph``, a stateful op, attrs without a key)."""
    kind = _KINDS.get(op_type) or _kind(op_type)
    if not kind.planned:
        return None
    parts = [op_type]
    if attrs:
        for value in attrs.values():
            if value.__class__ is np.ndarray:
                return None  # gc.constant(array): an array keys nothing (planned.run_source)
        try:
            parts.append(tuple([(k, _attr_token(v)) for k, v in attrs.items()]))
        except TypeError:
            return None
    for tensor in inputs:
        if tensor.__class__ is not tensor_class or tensor.graph is not graph:
            return None
        parts.append(tensor.dtype.name)
        parts.append(tensor._shape._dims)
        if kind.value_keyed and tensor.dtype._np.kind in "biu":
            value = tensor._value
            if isinstance(value, np.ndarray) and value.size <= _VALUE_KEYED_SIZE:
                parts.append(value.tobytes())
    return tuple(parts)


UNPLANNED = "unplanned"  # what plan_for says of a key that cannot be hashed


def plan_for(key: tuple):
    """The plan of ``key``; None if there is none yet; UNPLANNED for a key that cannot
    be hashed (an attr holding a list or an array)."""
    try:
        return _PLANS.get(key)
    except TypeError:
        return UNPLANNED


def make_plan(key: tuple, op) -> None:
    """Remember what building ``op`` (just built and run the graph mode's way) found out."""
    specs = tuple(op._specs)
    if not all(shape.is_fully_defined() for shape, _ in specs):
        return
    opdef = _kind(op.type).opdef
    checked = None if opdef.elementwise else tuple(shape._dims for shape, _ in specs)
    if len(_PLANS) >= _PLAN_LIMIT:
        _PLANS.clear()
        RECORDABLE.clear()
    recordable = len(specs) == 1 and opdef.elementwise and not opdef.needs_context
    plan = _PLANS[key] = OpPlan(opdef, specs, bound_kernel(opdef, op), checked, recordable)
    if recordable:
        RECORDABLE[key] = (plan.kernel, *specs[0], plan)


def bound_kernel(opdef, op):
    """The op's kernel specialized for its attrs and static shapes (what a plan runs)."""
    if opdef.bind is not None:
        return opdef.bind(op)
    if op.attrs:
        kernel, attrs = opdef.kernel, op.attrs
        return lambda *arrays: kernel(*arrays, **attrs)
    return opdef.kernel


# -- running kernels the graph mode's way: NumPy's floating-point warnings silenced ----------
try:  # NumPy >= 2 keeps its error state in a ContextVar: setting it costs two C calls,
    # where np.errstate's Python wrapper costs about 2 us, more than a small kernel
    from numpy._core._ufunc_config import _extobj_contextvar as _NUMPY_ERRORS

    with np.errstate(all="ignore"):
        _SILENT = _NUMPY_ERRORS.get()
except ImportError:  # NumPy 1.x
    _NUMPY_ERRORS = _SILENT = None


def run_kernel(kernel, args, ctx=None):
    """``kernel(*args)`` (``kernel(ctx, *args)`` with a run context) without NumPy's
    warnings, as a graph run computes it."""
    if _NUMPY_ERRORS is None:
        with np.errstate(all="ignore"):
            return kernel(*args) if ctx is None else kernel(ctx, *args)
    token = _NUMPY_ERRORS.set(_SILENT)
    try:
        return kernel(*args) if ctx is None else kernel(ctx, *args)
    finally:
        _NUMPY_ERRORS.reset(token)


def stored_value(value):
    """A kernel result as kept on the node: NumPy scalars as 0-d arrays (``numpy()`` gives
    arrays). Stored values are never written: every array handed out is a read-only view."""
    if value.__class__ is not np.ndarray and isinstance(value, np.generic):
        return np.asarray(value)
    return value


def read_only(value):
    """A view of a stored value the caller cannot write into (the node's value stays)."""
    if isinstance(value, np.ndarray) and value.flags.writeable:
        value = value.view()
        value.flags.writeable = False
    return value


# -- running an op built the graph mode's way ---------------------------------------------
def run_op(op, state) -> tuple:
    """The op's output values, computed by its registry kernel from its inputs' values."""
    opdef = registry.get(op.type)
    args = [t._value for t in op._inputs]
    kernel = bound_kernel(opdef, op)
    ctx = None
    if opdef.needs_context:
        ctx = EagerRunContext(state)
        ctx.op = op
    try:
        result = run_kernel(kernel, args, ctx)  # NumPy's warnings: graph mode's silence
    except OpError:
        raise
    except Exception as err:  # noqa: BLE001 - every kernel failure gets the op's context
        raise _op_error(op, args, err) from err
    values = (result,) if len(op._specs) == 1 else tuple(result)
    values = tuple([stored_value(v) for v in values])
    if ctx is not None:
        ctx.commit()  # only after the kernel succeeded: a failing op changes no variable
    return values


def _op_error(op, args, err) -> InvalidArgumentError:
    inputs = "; ".join(f"{describe_tensor(t)} = {np.shape(v)} {getattr(v, 'dtype', '')}"
                       for t, v in zip(op._inputs, args)) or "no inputs"
    return InvalidArgumentError(None, op, f"{describe_op(op)} failed: {err} "
                                f"[inputs: {inputs}]")


# -- the user's line, found cheaply --------------------------------------------------------
_GRAPHC_CODE: dict = {}  # code object -> whether it belongs to graphc


def user_line(depth: int = 2) -> Optional[tuple]:
    """``(code, instruction offset)`` of the innermost caller outside graphc (``depth`` frames
    up and beyond), its line found only when an error or a picture asks (``line_of``): a
    frame's ``f_lineno`` scans its code's line table, microseconds in a long script."""
    frame = sys._getframe(depth)
    known = _GRAPHC_CODE
    while frame is not None:
        code = frame.f_code
        inside = known.get(code)
        if inside is None:
            module = frame.f_globals.get("__name__", "")
            inside = module == "graphc" or module.startswith("graphc.")
            if len(known) < 65536:
                known[code] = inside
        if not inside:
            return code, frame.f_lasti
        frame = frame.f_back
    return None


def line_of(code, offset: int) -> int:
    """The source line of the instruction at ``offset`` in ``code`` (what ``f_lineno``
    said while it ran)."""
    for start, end, line in code.co_lines():
        if start <= offset < end and line is not None:
            return line
    return code.co_firstlineno
