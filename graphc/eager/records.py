"""The eager hot path: an elementwise op runs at once and records its producer lightly.

An elementwise call like one planned before (dispatch.py) needs its kernel run and nothing
else now: the ``EagerTensor`` it returns holds the value and a *producer record*: the plan,
the operands (tensors, or the Python numbers themselves), the attrs, the name it is given and
the user's line as a ``(code, line)`` pair. The ordinary graph op is made from that record only
when someone asks for it (``.op``: rendering, printing the IR, a gradient, a trace capturing
the tensor): the same op, with the same name, inputs, attrs, location and place in creation
order it would have had, and for each Python number the shared constant it would have read.
Asking for one op makes the whole recorded tree under it, oldest first, so a gradient walk
finds every reader it expects.

What stays the graph mode's way (``run_elementwise`` answers None): a call the plan does not
fit or whose kernel fails (the build raises the graph mode's error, naming the op and the
user's line), a call while a GradientTape records (every op it sees is an ordinary op), inside
control dependencies, device scopes, gradient overrides or an ``atomic()`` block, and calls
meant for a graph traced inside the eager one (``gc.function``).

Example:
    >>> with gc.eager():
    ...     x = gc.constant([1.0, 2.0])
    ...     y = gc.tanh(x) * 1.01       # planned calls: two kernels, two records, no ops
    ...     y.op.inputs[1].op.type      # asked for: made now, as building them would have
    'const'
"""
from __future__ import annotations

import math
import sys
import weakref

import numpy as np

from graphc import dtypes as gdt
from graphc import graph as graph_module
from graphc.convert import numpy_value
from graphc.nodes import Tensor

from .dispatch import (_GRAPHC_CODE, _NUMPY_ERRORS, _PLANS, _SILENT, RECORDABLE, _attr_token,
                       run_kernel, stored_value, user_line)

__all__ = ["run_elementwise", "run_binary", "materialize", "op_slot", "set_op_slot"]

_OP_SLOT = Tensor.__dict__["op"]  # EagerTensor's ``op`` property keeps the op in this slot
op_slot, set_op_slot = _OP_SLOT.__get__, _OP_SLOT.__set__
_THREAD = graph_module._THREAD
_NUMBERS_LIMIT = 4096
_WITH_NUMBERS: dict = {}  # a call's key with its Python number -> _learn's answer
_NUMBERS = (float, int, bool)
# A producer record is one flat tuple (fewer objects per op for the collector to walk):
# (graph, plan, attrs, name scope, name, user's code, instruction offset, serial, *operands),
# the operands being tensors or the Python numbers themselves (PRODUCER names its fields).
PRODUCER = ("graph", "plan", "attrs", "name_stack", "name", "code", "offset", "serial")
SERIAL, OPERANDS = PRODUCER.index("serial"), len(PRODUCER)


def run_elementwise(tensor_class, op_type: str, operands, name, attrs):
    """The result of an elementwise call with eager operands (tensors of one eager graph,
    maybe Python numbers), run from its plan and recorded; None when the call needs the
    graph mode's way (see the module docstring). ``apply_elementwise`` asks it first."""
    if not attrs and not name:
        if len(operands) == 1:  # the unary math functions: ``gc.tanh(x)``
            x = operands[0]
            graph = _graph_for(x, tensor_class)
            if graph is None:
                return None
            plan = _PLANS.get((op_type, x.dtype.name, x._shape._dims))
            if plan is None or not plan.recordable:
                return None
            return _recorded(tensor_class, graph, plan, [x._value], operands, None, op_type, 5)
        if len(operands) == 2:  # (the frame above apply_elementwise is graphc's: an op's
            return run_binary(tensor_class, op_type, operands[0], operands[1], 6)  # function)
    # the first eager operand (where(cond, x, y) traced in a loop may have it in the middle)
    lead = next(v for v in operands if v.__class__ is tensor_class)
    graph = _graph_for(lead, tensor_class)
    if graph is None or (name and name[-1] == "/"):
        return None
    parts, args = [op_type], []
    if attrs:
        try:
            parts.append(tuple([(k, _attr_token(v)) for k, v in attrs.items()]))
            hash(parts[-1])
        except TypeError:
            return None  # an attr holding a list or an array: never planned
    for value in operands:
        if value.__class__ is tensor_class:
            if value is not lead and _graph_for(value, tensor_class) is not graph:
                return None
            parts += (value.dtype.name, value._shape._dims)
            args.append(value._value)
        elif value.__class__ in _NUMBERS:
            array = _number_value(value, lead.dtype.name)
            parts += (gdt.as_dtype(array.dtype).name, ())
            args.append(array)
        else:
            return None
    plan = _PLANS.get(tuple(parts))
    if plan is None or not plan.recordable:
        return None
    return _recorded(tensor_class, graph, plan, args, operands, attrs, name or op_type, 4)


def run_binary(tensor_class, op_type: str, x, y, depth: int = 4):
    """``op_type(x, y)`` run as a record, or None: tensors, or a tensor and a Python number,
    which the key holds by type and value (its constant's plan is found once, ``_learn``)."""
    if x.__class__ is tensor_class:
        graph = _graph_for(x, tensor_class)
        if graph is None:
            return None
        if y.__class__ is tensor_class:
            if _graph_for(y, tensor_class) is not graph:
                return None
            plan = _PLANS.get((op_type, x.dtype.name, x._shape._dims, y.dtype.name,
                               y._shape._dims))
            if plan is None or not plan.recordable:
                return None
            return _recorded(tensor_class, graph, plan, [x._value, y._value], [x, y], None,
                             op_type, depth)
        if y.__class__ not in _NUMBERS:
            return None
        key = (op_type, x.dtype.name, x._shape._dims, y.__class__, y,
               math.copysign(1.0, y) if not y else None)  # -0.0 == 0.0: the sign too
        known = _WITH_NUMBERS.get(key) or _learn(key, [x, y], tensor_class, x.dtype.name)
        if known is None:
            return None
        return _recorded(tensor_class, graph, known[3], [x._value, known[4]], [x, y], None,
                         op_type, depth)
    if y.__class__ is not tensor_class or x.__class__ not in _NUMBERS:
        return None
    graph = _graph_for(y, tensor_class)
    if graph is None:
        return None
    key = (op_type, x.__class__, x, math.copysign(1.0, x) if not x else None, y.dtype.name,
           y._shape._dims)
    known = _WITH_NUMBERS.get(key) or _learn(key, [x, y], tensor_class, y.dtype.name)
    if known is None:
        return None
    return _recorded(tensor_class, graph, known[3], [known[4], y._value], [x, y], None,
                     op_type, depth)


def _graph_for(tensor, tensor_class):
    """The eager graph of ``tensor`` if a call on it may run as a record now: not a variable
    handle (every use reads it anew), no tape recording, no control dependencies, device
    scope, gradient override or ``atomic()`` block, no graph traced inside the eager one."""
    producer = tensor._producer
    if producer is None:
        op = op_slot(tensor)
        if op.type == "variable":
            return None
        graph = op.graph
    else:
        graph = producer[0]
    if graph.observers or graph._control_stack or graph._device_stack or \
            graph._gradient_overrides or graph._journal is not None or graph._finalized:
        return None
    stack = _THREAD.stack
    if stack and stack[-1] is not graph and getattr(stack[-1], "outer_graph", None) is not None:
        return None  # a graph traced inside the eager one builds this op
    return graph


def _recorded(tensor_class, graph, plan, args, operands, attrs, name, depth):
    """The recorded tensor of ``plan`` run on ``args``; None when its kernel fails (built
    the graph mode's way, the graph mode's error is raised)."""
    if _NUMPY_ERRORS is None:
        try:
            result = run_kernel(plan.kernel, args)
        except Exception:  # noqa: BLE001 - see the docstring
            return None
    else:
        token = _NUMPY_ERRORS.set(_SILENT)  # NumPy's warnings silenced, as in a graph run
        try:
            result = plan.kernel(*args)
        except Exception:  # noqa: BLE001 - see the docstring
            return None
        finally:
            _NUMPY_ERRORS.reset(token)
    if result.__class__ is not np.ndarray:
        result = stored_value(result)
    tensor = tensor_class.__new__(tensor_class)  # its op slot stays empty until asked for
    tensor._shape, tensor.dtype = plan.specs[0]  # elementwise: the input shapes in the key
    tensor.value_index, tensor._consumers, tensor._value = 0, None, result  # fix the shape
    frame = sys._getframe(depth - 1)  # the user's line: most often this very frame
    code = frame.f_code
    if _GRAPHC_CODE.get(code) is False:
        offset = frame.f_lasti
    else:
        code, offset = user_line(depth) or (None, None)
    tensor._producer = (graph, plan, attrs, graph._name_stack, name, code, offset,
                        next(graph._serials), *operands)  # (PRODUCER: the layout)
    return tensor


def _learn(key, operands, tensor_class, dtype: str):
    """``(kernel, shape, dtype, plan, 0-d value)`` of a call of a tensor and a Python number,
    keyed by the number itself: the plan of the call with the constant ``convert_to_tensor``
    would make of it (the same dtype rule, no op built) and that constant's value; None while
    there is no such plan."""
    parts = [key[0]]
    for value in operands:
        if value.__class__ is tensor_class:
            parts += (value.dtype.name, value._shape._dims)
        else:
            number = _number_value(value, dtype)
            parts += (gdt.as_dtype(number.dtype).name, ())
    entry = RECORDABLE.get(tuple(parts))
    if entry is None:
        return None
    if len(_WITH_NUMBERS) >= _NUMBERS_LIMIT:
        _WITH_NUMBERS.clear()
    known = _WITH_NUMBERS[key] = (*entry, number)
    return known


def _number_value(value, dtype: str) -> np.ndarray:
    """The value of the constant ``convert_to_tensor(value, dtype_hint=dtype)`` makes."""
    try:
        array = numpy_value(value, gdt.as_dtype(dtype))
    except TypeError:  # it does not fit: its own dtype (the plan found then differs)
        array = numpy_value(value)
    array.flags.writeable = False
    return array


def materialize(tensor):
    """The op of a recorded ``tensor``, made now with every recorded op under it."""
    graph = tensor._producer[0]
    with graph._lock:
        if tensor._producer is None:  # another thread made it meanwhile
            return op_slot(tensor)
        pending, seen, stack = [], set(), [tensor]
        while stack:  # no recursion: a recorded chain may be a million ops long
            current = stack.pop()
            if id(current) in seen or current._producer is None:
                continue
            seen.add(id(current))
            pending.append(current)
            stack.extend(v for v in current._producer[OPERANDS:] if isinstance(v, Tensor))
        pending.sort(key=lambda t: t._producer[SERIAL])  # creation order: inputs first
        for current in pending:
            _make_op(current)
    return op_slot(tensor)


def _make_op(tensor) -> None:
    graph, plan, attrs, name_stack, name, code, offset, serial, *operands = tensor._producer
    dtype = next(v.dtype for v in operands if isinstance(v, Tensor))
    inputs = []
    for value in operands:
        if isinstance(value, Tensor):
            inputs.append(value)
        else:  # the shared constant of the number, made under the name scope of the call
            outer, graph._name_stack = graph._name_stack, name_stack
            try:
                inputs.append(graph.shared_constant(value, dtype))
            finally:
                graph._name_stack = outer
    opdef = plan.opdef
    op = graph._operation_class.__new__(graph._operation_class)
    op.graph, op.type, op.name = graph, opdef.name, name_stack + name
    op._inputs = tuple(inputs)
    op.attrs = dict(opdef.attrs) if opdef.attrs else {}
    if attrs:
        op.attrs.update(attrs)
    op._where = None if code is None else (code, offset)
    op._specs, op._values, op._id = plan.specs, (tensor._value,), serial
    op._control_inputs, op._provenance, op.device, op.gradient_override = (), None, "", None
    op._fresh, op._output_refs = None, [weakref.ref(tensor)]
    set_op_slot(tensor, op)
    tensor._producer = None
    reader = weakref.ref(op)
    for value in inputs:
        value._add_reader(reader)
