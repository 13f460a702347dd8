"""ONNX control flow onto graphc's functional control flow: If -> ``gc.cond``, Loop and
Scan -> ``gc.while_loop`` (scan outputs collected in TensorArrays).

An ONNX subgraph reads the values of the graphs around it by name; it is converted inside
the branch or body graphc traces, so such a value becomes one of graphc's captures (an
explicit input of the control-flow op, seen by every pass).
"""
from __future__ import annotations

import collections

import graphc as gc

from .converters import ImportContext, UnsupportedOpError, converter


def _run_subgraph(ctx, graph_proto, inputs):
    """The output tensors of ONNX ``graph_proto`` with its inputs bound to ``inputs``; its
    nodes see the enclosing graphs' values."""
    from onnx import numpy_helper  # noqa: PLC0415 - the optional extra, present when importing
    inner = ImportContext(gc.get_default_graph(), ctx.opset)
    inner.values = collections.ChainMap({}, ctx.values)
    for tensor in graph_proto.initializer:
        inner.values[tensor.name] = gc.constant(numpy_helper.to_array(tensor))
    for value_info, tensor in zip(graph_proto.input, inputs):
        inner.values[value_info.name] = tensor
    for node in graph_proto.node:
        inner.convert(node)
    return [gc.identity(inner.values[v.name]) for v in graph_proto.output]


def _element_dtype(value_info, what):
    from .converters_more import _graphc_dtype  # noqa: PLC0415
    tensor_type = value_info.type.tensor_type
    if value_info.type.WhichOneof("value") != "tensor_type" or not tensor_type.elem_type:
        raise UnsupportedOpError(f"{what} {value_info.name!r} is not a typed tensor")
    return _graphc_dtype(tensor_type.elem_type)


def _tensors_only(graph_proto, what):
    for value_info in list(graph_proto.input) + list(graph_proto.output):
        kind = value_info.type.WhichOneof("value")
        if kind not in (None, "tensor_type"):
            raise UnsupportedOpError(f"{what} {value_info.name!r} is a {kind}; only tensors "
                                     "are supported")


@converter("If")
def _if(ctx, ins, attrs):
    then_graph, else_graph = attrs["then_branch"], attrs["else_branch"]
    for branch in (then_graph, else_graph):
        _tensors_only(branch, "If branch value")
    predicate = gc.reshape(gc.cast(ins[0], gc.bool), [])
    # ONNX lets the branches' outputs differ in their dims (not their ranks) and graphc's
    # cond wants them compatible: each branch gives its outputs with the dims left open
    results = gc.cond(predicate, lambda: _open_dims(_run_subgraph(ctx, then_graph, [])),
                      lambda: _open_dims(_run_subgraph(ctx, else_graph, [])))
    return list(results) if isinstance(results, (list, tuple)) else [results]


def _open_dims(tensors):
    return [gc.placeholder_with_default(t, [None] * t.shape.rank) if t.shape.rank else t
            for t in tensors]


# a loop-carried value may change its shape from one step to the next (and the body's own
# ops, run-time Slice bounds say, may not know it)
_ANY_SHAPE = gc.TensorShape(None)


def _declared(value_info):
    """The shape a body declares for one of its outputs (None for symbolic dims)."""
    tensor_type = value_info.type.tensor_type
    if not tensor_type.HasField("shape"):
        return gc.TensorShape(None)
    return gc.TensorShape([d.dim_value if d.HasField("dim_value") else None
                           for d in tensor_type.shape.dim])


def _collect(body, scan_count, what):
    """TensorArrays for the body's last ``scan_count`` outputs (one entry per step)."""
    outputs = list(body.output)[len(body.output) - scan_count:]
    return [gc.TensorArray(_element_dtype(v, what), size=0, dynamic_size=True)
            for v in outputs]


@converter("Loop")
def _loop(ctx, ins, attrs):
    body = attrs["body"]
    _tensors_only(body, "Loop body value")
    trip_count = ins[0] if ins and ins[0] is not None else None
    keep_going = ins[1] if len(ins) > 1 and ins[1] is not None else gc.constant(True)
    carried = [t for t in ins[2:]]
    scan_count = len(body.output) - 1 - len(carried)
    limit = gc.constant(2 ** 62, gc.int64) if trip_count is None else gc.reshape(
        gc.cast(trip_count, gc.int64), [])

    def condition(step, going, *rest):
        return gc.logical_and(gc.less(step, limit), going)

    def step_once(step, going, *rest):
        values, arrays = list(rest[:len(carried)]), list(rest[len(carried):])
        outputs = _run_subgraph(ctx, body, [step, going, *values])
        scans = outputs[1 + len(carried):]
        arrays = [ta.write(gc.cast(step, gc.int32), s) for ta, s in zip(arrays, scans)]
        return [step + 1, gc.reshape(gc.cast(outputs[0], gc.bool), []),
                *outputs[1:1 + len(carried)], *arrays]

    start = [gc.constant(0, gc.int64), gc.reshape(gc.cast(keep_going, gc.bool), [])]
    arrays = _collect(body, scan_count, "Loop scan output")
    invariants = [gc.TensorShape([]), gc.TensorShape([]), *[_ANY_SHAPE] * len(carried),
                  *[ta._invariant for ta in arrays]]
    final = gc.while_loop(condition, step_once, [*start, *carried, *arrays],
                          shape_invariants=invariants)
    return [*final[2:2 + len(carried)], *[ta.stack() for ta in final[2 + len(carried):]]]


@converter("Scan")
def _scan(ctx, ins, attrs):
    body, scanned_count = attrs["body"], attrs["num_scan_inputs"]
    _tensors_only(body, "Scan body value")
    states, scanned = list(ins[:len(ins) - scanned_count]), list(ins[len(ins) - scanned_count:])
    input_axes = list(attrs.get("scan_input_axes", [0] * scanned_count))
    input_reversed = list(attrs.get("scan_input_directions", [0] * scanned_count))
    scan_count = len(body.output) - len(states)
    output_axes = list(attrs.get("scan_output_axes", [0] * scan_count))
    output_reversed = list(attrs.get("scan_output_directions", [0] * scan_count))
    scanned = [gc.transpose(x, _axis_first(x.shape.rank, axis)) if axis else x
               for x, axis in zip(scanned, input_axes)]
    length = gc.shape(scanned[0], out_type=gc.int64)[0]

    def condition(step, *rest):
        return gc.less(step, length)

    def step_once(step, *rest):
        values, arrays = list(rest[:len(states)]), list(rest[len(states):])
        slices = [gc.gather(x, length - 1 - step if backwards else step)
                  for x, backwards in zip(scanned, input_reversed)]
        outputs = _run_subgraph(ctx, body, [*values, *slices])
        arrays = [ta.write(gc.cast(step, gc.int32), s)
                  for ta, s in zip(arrays, outputs[len(states):])]
        return [step + 1, *outputs[:len(states)], *arrays]

    arrays = _collect(body, scan_count, "Scan output")
    invariants = [gc.TensorShape([]), *[_ANY_SHAPE] * len(states),
                  *[ta._invariant for ta in arrays]]
    final = gc.while_loop(condition, step_once, [gc.constant(0, gc.int64), *states, *arrays],
                          shape_invariants=invariants)
    stacked = []
    for ta, axis, backwards, info in zip(final[1 + len(states):], output_axes, output_reversed,
                                         body.output[len(states):]):
        out = ta.stack()
        out = gc.reverse(out, [0]) if backwards else out
        rank = out.shape.rank if out.shape.rank is not None else (
            None if _declared(info).rank is None else _declared(info).rank + 1)
        if axis and rank is None:
            raise UnsupportedOpError("Scan: a scan_output_axes entry for an output of unknown "
                                     "rank")
        stacked.append(gc.transpose(out, _axis_from_first(rank, axis)) if axis else out)
    return [*final[1:1 + len(states)], *stacked]


def _axis_first(rank, axis):
    if rank is None:
        raise UnsupportedOpError("Scan: a scan_input_axes entry for an input of unknown rank")
    axis %= rank
    return [axis] + [d for d in range(rank) if d != axis]


def _axis_from_first(rank, axis):
    axis %= rank
    order = list(range(1, rank))
    order.insert(axis, 0)
    return order
