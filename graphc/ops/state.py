"""Variable state ops: variable (a handle), read_variable, assign, assign_add, assign_sub.

Values live in the Session, not in the graph. Writes made during a run are staged and
become visible to later runs only when the whole run succeeded (all-or-nothing).
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.errors import FailedPreconditionError
from graphc.ops.common import NUMERIC, check_kind
from graphc.registry import OpDef

__all__ = ["VariableHandle"]


class VariableHandle:
    """The run-time value of a ``variable`` op's output: names the variable, holds no data."""

    __slots__ = ("op",)

    def __init__(self, op):
        self.op = op

    def __repr__(self) -> str:
        return f"<VariableHandle {self.op.name}>"


def _variable_kernel(ctx, shape, dtype):
    return VariableHandle(ctx.op)


VARIABLE = registry.register(OpDef(
    name="variable", dtypes=lambda d, attrs: [attrs["dtype"]],
    shapes=lambda ins, attrs: [attrs["shape"]], kernel=_variable_kernel,
    grad=registry.NOT_DIFFERENTIABLE,
    attrs={"shape": None, "dtype": None}, stateful=True, foldable=False, needs_context=True,
    tested_elsewhere="tests/test_variables.py",
    doc="A variable's handle; fetching it gives the variable's current value."))


def _read_kernel(ctx, handle):
    return ctx.read_variable(handle.op)


READ_VARIABLE = registry.register(OpDef(
    name="read_variable", dtypes=lambda d, a: [d[0]], shapes=lambda ins, a: [ins[0].shape],
    kernel=_read_kernel, grad=lambda op, dy: [dy], stateful=True, foldable=False, needs_context=True,
    unknown_rank_ok=True, tested_elsewhere="tests/test_variables.py",
    doc="The variable's current value; fails if it is not initialized."))


def _assign_dtypes(op_name, numeric=False):
    def rule(in_dtypes, attrs):
        ref, value = in_dtypes
        if ref is not value:
            raise TypeError(f"{op_name}: value of dtype {value.name} does not match the "
                            f"variable's dtype {ref.name}")
        if numeric:
            check_kind(op_name, ref, NUMERIC)
        return [ref]
    return rule


def _assign_shapes(op_name):
    def rule(inputs, attrs):
        ref, value = inputs[0].shape, inputs[1].shape
        if attrs.get("validate_shape", True) and not ref.is_compatible_with(value):
            raise ValueError(f"{op_name}: value of shape {value} does not match the variable's "
                             f"shape {ref}")
        return [ref]
    return rule


def _checked(op, shape, declared):
    if not declared.is_compatible_with(shape):
        raise ValueError(f"{op.type}: value of shape {shape} does not match the "
                         f"variable's shape {declared}")


def _assign_kernel(ctx, handle, value, validate_shape):
    variable = handle.op.outputs[0]
    if validate_shape:
        _checked(ctx.op, np.shape(value), variable.shape)
    value = np.asarray(value, dtype=variable.dtype.np)
    buffer = ctx.recycled(handle.op, value.shape, value.dtype)
    if buffer is None:
        return ctx.write_variable(handle.op, value)
    np.copyto(buffer, value)
    return ctx.write_variable(handle.op, buffer, owned=True)


def _update_kernel(sign):
    combine = np.add if sign > 0 else np.subtract

    def kernel(ctx, handle, value):
        current = ctx.read_variable(handle.op)
        shape = np.broadcast_shapes(current.shape, np.shape(value))
        _checked(ctx.op, shape, handle.op.outputs[0].shape)
        if shape != current.shape:
            raise ValueError(f"{ctx.op.type}: update of shape {np.shape(value)} would change the "
                             f"variable's shape {current.shape}")
        buffer = ctx.recycled(handle.op, current.shape, current.dtype)
        if buffer is None:
            updated = combine(current, value).astype(current.dtype, copy=False)
        else:
            updated = combine(current, value, out=buffer)
        return ctx.write_variable(handle.op, updated, owned=True)
    return kernel


ASSIGN = registry.register(OpDef(
    name="assign", dtypes=_assign_dtypes("assign"), shapes=_assign_shapes("assign"),
    kernel=_assign_kernel, grad=registry.NOT_DIFFERENTIABLE, attrs={"validate_shape": True},
    stateful=True, foldable=False, needs_context=True, unknown_rank_ok=True,
    updates_variable=True, tested_elsewhere="tests/test_variables.py",
    doc="Store value in the variable; outputs the new value."))
ASSIGN_ADD = registry.register(OpDef(
    name="assign_add", dtypes=_assign_dtypes("assign_add", True),
    shapes=_assign_shapes("assign_add"), kernel=_update_kernel(+1),
    grad=registry.NOT_DIFFERENTIABLE, stateful=True,
    foldable=False, needs_context=True, unknown_rank_ok=True,
    updates_variable=True, tested_elsewhere="tests/test_variables.py",
    doc="variable += value; outputs the new value."))
ASSIGN_SUB = registry.register(OpDef(
    name="assign_sub", dtypes=_assign_dtypes("assign_sub", True),
    shapes=_assign_shapes("assign_sub"), kernel=_update_kernel(-1),
    grad=registry.NOT_DIFFERENTIABLE, stateful=True,
    foldable=False, needs_context=True, unknown_rank_ok=True,
    updates_variable=True, tested_elsewhere="tests/test_variables.py",
    doc="variable -= value; outputs the new value."))


def _is_initialized_kernel(ctx, handle):
    try:
        ctx.read_variable(handle.op)
    except FailedPreconditionError:
        return np.array(False)
    return np.array(True)


IS_VARIABLE_INITIALIZED = registry.register(OpDef(
    name="is_variable_initialized", dtypes=lambda d, a: [gdt.bool], shapes=lambda ins, a: [()],
    kernel=_is_initialized_kernel, grad=registry.NOT_DIFFERENTIABLE, stateful=True,
    foldable=False, needs_context=True, unknown_rank_ok=True,
    tested_elsewhere="tests/test_collections.py",
    doc="Whether the variable has a value in this session (TF1 IsVariableInitialized)."))
