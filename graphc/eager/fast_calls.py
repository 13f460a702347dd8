"""The shortest eager calls: ``gc.tanh(x)`` and ``x * 1.01`` in one frame each.

An eager program spends most of its time in small elementwise calls like these, where a
Python call costs as much as the NumPy kernel: ``records.run_elementwise`` answers every
elementwise call, through ``apply_elementwise`` and a helper or two. Here the two commonest
kinds are answered by one function each, with the same checks and the same record:

- ``run_unary`` (``EagerTensor.run_unary``): a unary math function on an eager tensor
  (``gc.tanh(x)``), asked first by the table-made op functions (``graphc.ops.elementwise``).
- ``binary_operator``: ``x * y``, ``x + 0.1``, ``2.0 - x``..., installed on ``EagerTensor``
  by ``install_fast_calls``, a tensor and a Python number in one frame.

Each answers what ``records.run_elementwise`` answers (the same plan, kernel, record, name and
user's line), or hands the call to it (None, or the general path) when anything differs from
the planned case: no plan yet, a variable, a tape, control dependencies, a device scope, a
gradient override, an ``atomic()`` block, a graph traced inside (``gc.function``).

Example:
    >>> with gc.eager():
    ...     x = gc.constant([1.0, 2.0])
    ...     y = gc.tanh(x * 1.01)        # first calls: planned the graph mode's way
    ...     y = gc.tanh(x * 1.01)        # these two: one frame each, two records
"""
from __future__ import annotations

import math
import sys

import numpy as np

from graphc import registry
from graphc.ops import elementwise

from .dispatch import _GRAPHC_CODE, _NUMPY_ERRORS, _SILENT, RECORDABLE, stored_value, user_line
from .records import _NUMBERS, _THREAD, _WITH_NUMBERS, _learn, op_slot, run_binary

__all__ = ["install_fast_calls", "unary_runner", "binary_operator"]


def install_fast_calls(tensor_class, binary: dict, unary: dict) -> None:
    """``tensor_class.run_unary`` (which the table-made unary op functions ask first), and
    ``+ - * /`` ... and unary ``-``/``abs`` straight to the fast calls (the table-made op
    function, the graph mode's way, when they answer None). Only operators whose function is
    the elementwise tables' plain ``apply_elementwise`` of one op are taken straight; the
    others stay as ``graphc.operators`` installs them."""
    run_unary = unary_runner(tensor_class)
    tensor_class.run_unary = staticmethod(run_unary)
    plain = {elementwise.add.__code__, elementwise.negative.__code__}
    for name, fn in binary.items():
        if getattr(fn, "__code__", None) in plain and registry.get(fn.__name__).elementwise:
            setattr(tensor_class, f"__{name}__", binary_operator(tensor_class, fn, False))
            setattr(tensor_class, f"__r{name}__", binary_operator(tensor_class, fn, True))
    for name, fn in unary.items():
        if getattr(fn, "__code__", None) in plain and registry.get(fn.__name__).elementwise:
            setattr(tensor_class, f"__{name}__", _unary_operator(run_unary, fn))
    tensor_class.__div__ = tensor_class.__truediv__


def _unary_operator(run_unary, fn):
    op_type = fn.__name__

    def operator(self):  # (run_unary's caller's caller is the user, as for ``gc.negative``)
        result = run_unary(op_type, self)
        return fn(self) if result is None else result
    return operator

# The bodies below repeat ``records._graph_for`` and ``records._recorded`` inline on purpose:
# each call they would make costs about a tenth of the whole op (tests/test_eager_fast_calls.py
# holds them to the general path's answers); module-level names spare attribute lookups.
_getframe, _copysign, _NDARRAY = sys._getframe, math.copysign, np.ndarray


def unary_runner(tensor_class):
    """``run_unary(op_type, x)``: the recorded result of the unary elementwise op ``op_type``
    on the eager tensor ``x`` of class ``tensor_class``, or None (then the caller takes the
    general path, which plans a first call or raises the graph mode's error)."""
    if _NUMPY_ERRORS is None:  # NumPy 1.x: the general path silences its warnings
        return lambda op_type, x: None
    new_tensor = tensor_class.__new__

    def run_unary(op_type, x):
        producer = x._producer
        if producer is None:
            op = op_slot(x)
            if op.type == "variable":  # every use of a variable reads it anew
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
        entry = RECORDABLE.get((op_type, x.dtype.name, x._shape._dims))
        if entry is None:
            return None
        kernel, shape, dtype, plan = entry
        token = _NUMPY_ERRORS.set(_SILENT)  # NumPy's warnings silenced, as in a graph run
        try:
            result = kernel(x._value)
        except Exception:  # noqa: BLE001 - the general path raises the graph mode's error
            return None
        finally:
            _NUMPY_ERRORS.reset(token)
        if result.__class__ is not _NDARRAY:
            result = stored_value(result)
        tensor = new_tensor(tensor_class)  # its op slot stays empty until asked for
        tensor._shape, tensor.dtype, tensor.value_index, tensor._consumers = shape, dtype, 0, None
        tensor._value = result
        frame = _getframe(2)  # the caller of the op function: most often the user's
        code = frame.f_code
        if _GRAPHC_CODE.get(code) is False:
            offset = frame.f_lasti
        else:
            code, offset = user_line(3) or (None, None)
        tensor._producer = (graph, plan, None, graph._name_stack, op_type, code, offset,
                            next(graph._serials), x)  # (records.PRODUCER)
        return tensor
    return run_unary


def binary_operator(tensor_class, fn, reflected: bool):
    """The ``__mul__`` (``__rmul__`` when ``reflected``) of ``tensor_class`` for the
    elementwise op function ``fn``: a planned call of a tensor and a Python number runs here,
    any other call as ``records.run_binary`` answers, else ``fn`` (the graph mode's way)."""
    op_type = fn.__name__
    new_tensor = tensor_class.__new__
    numbers = _NUMBERS if _NUMPY_ERRORS is not None else ()  # NumPy 1.x: run_binary's way

    def operator(self, other):
        if other.__class__ not in numbers:
            x, y = (other, self) if reflected else (self, other)
            result = run_binary(tensor_class, op_type, x, y)
            return fn(x, y) if result is None else result
        producer = self._producer
        if producer is None:
            op = op_slot(self)
            graph = None if op.type == "variable" else op.graph
        else:
            graph = producer[0]
        if graph is None or graph.observers or graph._control_stack or graph._device_stack \
                or graph._gradient_overrides or graph._journal is not None or graph._finalized:
            return fn(other, self) if reflected else fn(self, other)
        stack = _THREAD.stack
        if stack and stack[-1] is not graph and getattr(stack[-1], "outer_graph", None) is not None:
            return fn(other, self) if reflected else fn(self, other)
        sign = _copysign(1.0, other) if not other else None  # -0.0 == 0.0: the sign too
        if reflected:
            key = (op_type, other.__class__, other, sign, self.dtype.name, self._shape._dims)
        else:
            key = (op_type, self.dtype.name, self._shape._dims, other.__class__, other, sign)
        known = _WITH_NUMBERS.get(key)
        if known is None:
            operands = [other, self] if reflected else [self, other]
            known = _learn(key, operands, tensor_class, self.dtype.name)
            if known is None:
                return fn(*operands)
        kernel, shape, dtype, plan, number = known
        token = _NUMPY_ERRORS.set(_SILENT)  # NumPy's warnings silenced, as in a graph run
        try:
            result = kernel(number, self._value) if reflected else kernel(self._value, number)
        except Exception:  # noqa: BLE001 - built the graph mode's way, its error is raised
            result = None
        finally:
            _NUMPY_ERRORS.reset(token)
        if result is None:  # (after the reset: the build runs under the user's NumPy state)
            return fn(other, self) if reflected else fn(self, other)
        if result.__class__ is not _NDARRAY:
            result = stored_value(result)
        tensor = new_tensor(tensor_class)  # its op slot stays empty until asked for
        tensor._shape, tensor.dtype, tensor.value_index, tensor._consumers = shape, dtype, 0, None
        tensor._value = result
        frame = _getframe(1)  # the line that holds the operator: most often the user's
        code = frame.f_code
        if _GRAPHC_CODE.get(code) is False:
            offset = frame.f_lasti
        else:
            code, offset = user_line(2) or (None, None)
        if reflected:
            tensor._producer = (graph, plan, None, graph._name_stack, op_type, code, offset,
                                next(graph._serials), other, self)  # (records.PRODUCER)
        else:
            tensor._producer = (graph, plan, None, graph._name_stack, op_type, code, offset,
                                next(graph._serials), self, other)
        return tensor
    return operator
