"""Eager ops built without the graph mode's build: planned calls and source ops.

A call like one seen before runs from its plan (dispatch.py): ``run_planned`` makes its op,
runs the plan's kernel and records the op, with no inference, validation or kernel binding.
A source op (no inputs: ``gc.constant(array)``) has no plan, its specs following from an attr's
value, but needs little else the build does: ``run_source`` infers its specs from its attrs and
runs it. Either answers None when the call does not fit (the kernel failed, a
shape differs, an attr is unknown): the graph mode's build then raises its error, naming the
op and the user's line.

Example:
    >>> with gc.eager():
    ...     x = gc.constant([1.0, 2.0])   # a source op: no full build
    ...     y = gc.reduce_sum(x)           # planned the first time, run from the plan after
"""
from __future__ import annotations

import weakref

import numpy as np

from graphc.graph import _infer_specs

from .dispatch import _KINDS, _kind, bound_kernel, run_kernel, stored_value, user_line
from .state import EagerRunContext

__all__ = ["run_planned", "run_source"]


def run_planned(graph, plan, op_type, inputs, attrs, name):
    """The op of a planned call, run and recorded; None when the plan does not fit
    these values (the kernel failed, or made another shape): then the graph mode's
    build raises or answers."""
    opdef, specs, kernel, checked_dims, _ = plan
    tensor_class = graph._tensor_class
    op = graph._operation_class.__new__(graph._operation_class)
    op.graph, op.type, op.name = graph, op_type, graph._name_stack + (name or op_type)
    op._inputs = inputs = tuple(inputs)
    if attrs:
        full_attrs = dict(opdef.attrs)
        full_attrs.update(attrs)
        op.attrs = full_attrs
    else:
        op.attrs = dict(opdef.attrs) if opdef.attrs else {}
    op._where = user_line(3)
    op._control_inputs, op._provenance, op.device, op.gradient_override = (), None, "", None
    op._specs = specs
    ctx = None
    if opdef.needs_context:
        ctx = EagerRunContext(graph.state)
        ctx.op = op
    try:
        result = run_kernel(kernel, [t._value for t in inputs], ctx)
    except Exception:  # noqa: BLE001 - built again, the graph mode's error is raised
        return None
    if len(specs) == 1:
        values = (result if result.__class__ is np.ndarray else stored_value(result),)
    else:
        values = tuple([stored_value(v) for v in result])
    if checked_dims is not None and any(
            getattr(v, "shape", None) != dims for v, dims in zip(values, checked_dims)):
        return None
    if ctx is not None:
        ctx.commit()
    op._values = values
    op._id = next(graph._serials)
    if len(specs) == 1:
        shape, dtype = specs[0]
        tensor = tensor_class(op, 0, shape, dtype, values[0])
        op._fresh, op._output_refs = (tensor,), [weakref.ref(tensor)]
    else:
        op._fresh = tensors = tuple([tensor_class(op, index, shape, dtype, values[index])
                                     for index, (shape, dtype) in enumerate(specs)])
        op._output_refs = [weakref.ref(t) for t in tensors]
    reader = weakref.ref(op)
    for tensor in inputs:
        tensor._add_reader(reader)
    if graph._journal is not None:
        graph._journal_ops.append(op)
    for observer in graph.observers:
        observer._record(op)
    return op


def run_source(graph, op_type, attrs, name):
    """A source op (no inputs: ``gc.constant(array)``) run at once, as the graph mode's
    build would make and run it: its specs inferred from its attrs (a value attr decides
    them and keys nothing), its kernel run on them; None where it needs more (a run context,
    random draws, state, subgraphs, other than one output) or anything fails: then the
    graph mode's build raises its error, naming the op and the user's line."""
    kind = _KINDS.get(op_type) or _kind(op_type)
    opdef = kind.opdef
    if not kind.planned or opdef.random or opdef.needs_context:
        return None
    full_attrs = dict(opdef.attrs)
    if attrs:
        if not full_attrs.keys() >= attrs.keys():
            return None  # an unknown attr: the build names it
        full_attrs.update(attrs)
    try:
        specs = _infer_specs(opdef, (), full_attrs, name or op_type, None)
    except Exception:  # noqa: BLE001 - the build raises it with the op and the line
        return None
    if len(specs) != 1 or not specs[0][0].is_fully_defined():
        return None
    op = graph._operation_class.__new__(graph._operation_class)
    op.graph, op.type, op.name = graph, op_type, graph._name_stack + (name or op_type)
    op._inputs, op.attrs, op._specs = (), full_attrs, specs
    op._control_inputs, op._provenance, op.device, op.gradient_override = (), None, "", None
    try:
        value = stored_value(run_kernel(bound_kernel(opdef, op), ()))
    except Exception:  # noqa: BLE001 - built again, the graph mode's error is raised
        return None
    op._where = user_line(3)  # (from the caller of create_op: the op function, or the user)
    op._values, op._id = (value,), next(graph._serials)
    shape, dtype = specs[0]
    tensor = graph._tensor_class(op, 0, shape, dtype, value)
    op._fresh, op._output_refs = (tensor,), [weakref.ref(tensor)]
    if graph._journal is not None:
        graph._journal_ops.append(op)
    for observer in graph.observers:
        observer._record(op)
    return op
