"""graphc graphs written as ONNX models: ``export(graph or session, fetches, feeds, path)``.

The part of the graph that computes ``fetches`` from ``feeds`` (after graphc's optimizer when
``optimize=True``: a fused node is written as the elementwise ops of its program) becomes an
ONNX graph of the default domain at ``opset`` (13-21): placeholders are its inputs,
constants and variables (their current values, read from the session) its initializers.
graphc's NHWC convolutions and pools are written as ONNX's NCHW ones between Transposes.
The model passes ``onnx.checker``; an op with no ONNX form raises an error naming it.
"""
from __future__ import annotations

import numpy as np

import graphc as gc
from graphc.graph import required_ops
from graphc.index_spec import spec_to_index
from graphc.ops.fused import replay_dtypes
from graphc.passes import Interface, optimize_interface
from graphc.static_values import constant_value

from .safety import onnx_module

__all__ = ["export", "ExportError"]


class ExportError(ValueError):
    """A graphc op (named) that has no ONNX form here."""


class _Writer:
    def __init__(self, opset: int):
        self.opset = opset
        self.nodes, self.initializers = [], []
        self.names: dict = {}  # graphc tensor -> ONNX value name
        self._count = 0

    def fresh(self, hint: str) -> str:
        self._count += 1
        return f"{hint}__{self._count}"

    def node(self, op_type, inputs, outputs=None, **attrs) -> list:
        helper = onnx_module().helper
        outputs = outputs or [self.fresh(op_type)]
        self.nodes.append(helper.make_node(op_type, list(inputs), list(outputs), **attrs))
        return outputs

    def constant(self, value, hint="const") -> str:
        name = self.fresh(hint)
        self.initializers.append(onnx_module().numpy_helper.from_array(np.asarray(value), name))
        return name

    def ints(self, values, hint="ints") -> str:
        return self.constant(np.asarray(values, np.int64), hint)


_SAME_NAME = {"add": "Add", "subtract": "Sub", "multiply": "Mul", "negative": "Neg",
              "abs": "Abs", "exp": "Exp", "log": "Log", "sqrt": "Sqrt", "reciprocal": "Reciprocal",
              "tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "Relu", "elu": "Elu",
              "softplus": "Softplus", "sin": "Sin", "cos": "Cos", "tan": "Tan", "erf": "Erf",
              "floor": "Floor", "ceil": "Ceil", "sign": "Sign", "pow": "Pow", "maximum": "Max",
              "minimum": "Min", "equal": "Equal", "less": "Less", "greater": "Greater",
              "less_equal": "LessOrEqual", "greater_equal": "GreaterOrEqual",
              "logical_and": "And", "logical_or": "Or", "logical_xor": "Xor",
              "logical_not": "Not", "where": "Where", "identity": "Identity",
              "stop_gradient": "Identity", "is_nan": "IsNaN", "is_inf": "IsInf",
              "round": "Round"}
_REDUCE = {"reduce_sum": "ReduceSum", "reduce_mean": "ReduceMean", "reduce_max": "ReduceMax",
           "reduce_min": "ReduceMin", "reduce_prod": "ReduceProd",
           "reduce_logsumexp": "ReduceLogSumExp"}


def _emit(w: _Writer, op, ins: list) -> list:
    """ONNX value names of ``op``'s outputs, after writing its nodes."""
    kind, attrs = op.type, op.attrs
    if kind in _SAME_NAME:
        return w.node(_SAME_NAME[kind], ins)
    if kind == "divide":
        if op.inputs[0].dtype.is_integer:  # TF1's true division of integers
            to = _onnx_type(op.outputs[0].dtype)
            ins = [w.node("Cast", [i], to=to)[0] for i in ins]
        return w.node("Div", ins)
    if kind == "square":
        return w.node("Mul", [ins[0], ins[0]])
    if kind == "rsqrt":
        return w.node("Reciprocal", w.node("Sqrt", ins))
    if kind == "relu6":
        return w.node("Clip", [ins[0], w.constant(np.asarray(0, _np(op)), "zero"),
                               w.constant(np.asarray(6, _np(op)), "six")])
    if kind == "cast":
        return w.node("Cast", ins, to=_onnx_type(op.outputs[0].dtype))
    if kind == "matmul":
        a, b = ins
        if attrs.get("transpose_a"):
            a = w.node("Transpose", [a], perm=_swap_last(op.inputs[0].shape.rank))[0]
        if attrs.get("transpose_b"):
            b = w.node("Transpose", [b], perm=_swap_last(op.inputs[1].shape.rank))[0]
        return w.node("MatMul", [a, b])
    if kind == "bias_add":
        return w.node("Add", ins)
    if kind == "einsum":
        return w.node("Einsum", ins, equation=attrs["equation"])
    if kind in _REDUCE:
        axes = attrs.get("axis")
        axes = list(range(op.inputs[0].shape.rank)) if axes is None else (
            list(axes) if isinstance(axes, (list, tuple)) else [axes])
        keep = int(bool(attrs.get("keepdims", False)))
        if kind == "reduce_sum" or w.opset >= 18:
            return w.node(_REDUCE[kind], [ins[0], w.ints(axes, "axes")], keepdims=keep)
        return w.node(_REDUCE[kind], [ins[0]], axes=axes, keepdims=keep)
    if kind in ("softmax", "log_softmax"):
        return w.node("Softmax" if kind == "softmax" else "LogSoftmax", ins,
                      axis=int(attrs.get("axis", -1) if attrs.get("axis") is not None else -1))
    if kind == "reshape":
        return w.node("Reshape", [ins[0], w.node("Cast", [ins[1]], to=7)[0]])
    if kind == "transpose":
        return w.node("Transpose", [ins[0]], perm=list(attrs["perm"]))
    if kind == "expand_dims":
        return w.node("Unsqueeze", [ins[0], w.ints([attrs["axis"]], "axes")])
    if kind == "squeeze":
        axis = attrs.get("axis")
        return w.node("Squeeze", [ins[0]] + ([w.ints(list(axis), "axes")] if axis else []))
    if kind == "concat":
        return w.node("Concat", ins, axis=int(attrs["axis"]))
    if kind == "stack":
        axis = int(attrs["axis"])
        parts = [w.node("Unsqueeze", [i, w.ints([axis], "axes")])[0] for i in ins]
        return w.node("Concat", parts, axis=axis)
    if kind == "gather":
        return w.node("Gather", ins, axis=int(attrs.get("axis", 0)))
    if kind == "strided_slice":
        return _strided_slice(w, op, ins)
    if kind == "shape":
        return w.node("Cast", w.node("Shape", ins), to=_onnx_type(op.outputs[0].dtype))
    if kind == "broadcast_to":
        return w.node("Expand", [ins[0], w.node("Cast", [ins[1]], to=7)[0]])
    if kind == "conv2d":
        return _conv(w, op, ins)
    if kind in ("max_pool", "avg_pool"):
        return _pool(w, op, ins)
    if kind == "fused_elementwise":
        return _fused(w, op, ins)
    if kind in _BACK:  # the importer's run-time-operand ops are ONNX ops already
        return w.node(_BACK[kind], ins)
    if kind == "onnx_reduce":
        return _reduce_back(w, op, ins)
    if kind == "pad":
        return _pad(w, op, ins)
    if kind == "tile":
        return w.node("Tile", [ins[0], w.node("Cast", [ins[1]], to=7)[0]])
    raise ExportError(f"graphc op '{op.name}' ({kind}) has no ONNX form in graphc's exporter")


_BACK = {"onnx_slice": "Slice", "onnx_unsqueeze": "Unsqueeze", "onnx_squeeze": "Squeeze",
         "onnx_tile": "Tile", "onnx_expand": "Expand"}
_REDUCE_KINDS = {"sum": "ReduceSum", "mean": "ReduceMean", "max": "ReduceMax",
                 "min": "ReduceMin", "prod": "ReduceProd", "l1": "ReduceL1", "l2": "ReduceL2",
                 "sum_square": "ReduceSumSquare", "log_sum": "ReduceLogSum",
                 "log_sum_exp": "ReduceLogSumExp"}


def _reduce_back(w, op, ins):
    attrs = op.attrs
    kind = _REDUCE_KINDS[attrs["kind"]]
    flags = {"keepdims": int(attrs["keepdims"])}
    if attrs["noop_with_empty_axes"]:
        flags["noop_with_empty_axes"] = 1
    if kind == "ReduceSum" or w.opset >= 18:
        return w.node(kind, ins, **flags)
    if len(ins) > 1:
        axes = constant_value(op.inputs[1])
        if axes is None:
            raise ExportError(f"graphc op '{op.name}': run-time reduction axes need opset 18")
        flags["axes"] = [int(a) for a in np.asarray(axes).ravel()]
    return w.node(kind, ins[:1], **flags)


def _pad(w, op, ins):
    if op.attrs.get("mode", "CONSTANT") != "CONSTANT":
        raise ExportError(f"graphc op '{op.name}' (pad): mode {op.attrs['mode']}")
    paddings = np.asarray(op.attrs["paddings"], np.int64).reshape(-1, 2)
    value = w.constant(np.asarray(op.attrs.get("constant_values", 0), _np(op)), "pad_value")
    return w.node("Pad", [ins[0], w.ints(np.concatenate([paddings[:, 0], paddings[:, 1]])),
                          value])


def _np(op):
    return op.outputs[0].dtype.np


def _swap_last(rank):
    return list(range(rank - 2)) + [rank - 1, rank - 2]


def _onnx_type(dtype) -> int:
    return onnx_module().helper.np_dtype_to_tensor_dtype(np.dtype(dtype.np))


def _strided_slice(w, op, ins):
    index = spec_to_index(op.attrs["spec"])
    if any(item is Ellipsis for item in index):
        raise ExportError(f"graphc op '{op.name}' (strided_slice): an ellipsis index")
    starts, ends, axes, steps, squeeze, newaxes, axis = [], [], [], [], [], [], 0
    for position, item in enumerate(index):
        if item is None:
            newaxes.append(position)
            continue
        if isinstance(item, slice):
            step = item.step or 1
            starts.append(item.start if item.start is not None else (0 if step > 0 else -1))
            ends.append(item.stop if item.stop is not None else
                        (np.iinfo(np.int64).max if step > 0 else np.iinfo(np.int64).min))
            steps.append(step)
        else:
            starts.append(item)
            ends.append(item + 1 if item != -1 else np.iinfo(np.int64).max)
            steps.append(1)
            squeeze.append(axis)
        axes.append(axis)
        axis += 1
    out = ins[0]
    if axes:
        out = w.node("Slice", [out, w.ints(starts), w.ints(ends), w.ints(axes), w.ints(steps)])[0]
    if squeeze:
        out = w.node("Squeeze", [out, w.ints(squeeze, "axes")])[0]
    if newaxes:
        out = w.node("Unsqueeze", [out, w.ints(newaxes, "axes")])[0]
    return [out]


def _nchw(w, name):
    return w.node("Transpose", [name], perm=[0, 3, 1, 2])[0]


def _pads(op, padding):
    if padding == "VALID":
        return {"pads": [0, 0, 0, 0]}
    return {"auto_pad": "SAME_UPPER"}


def _conv(w, op, ins):
    x, filters = ins
    attrs = op.attrs
    weights = w.node("Transpose", [filters], perm=[3, 2, 0, 1])[0]  # HWIO -> OIHW
    out = w.node("Conv", [_nchw(w, x), weights], strides=list(attrs["strides"]),
                 dilations=list(attrs.get("dilations", (1, 1))),
                 **_pads(op, attrs["padding"]))[0]
    return w.node("Transpose", [out], perm=[0, 2, 3, 1])


def _pool(w, op, ins):
    attrs = op.attrs
    kind = "MaxPool" if op.type == "max_pool" else "AveragePool"
    extra = {} if kind == "MaxPool" else {"count_include_pad": 0}
    out = w.node(kind, [_nchw(w, ins[0])], kernel_shape=list(attrs["ksize"]),
                 strides=list(attrs["strides"]), **_pads(op, attrs["padding"]), **extra)[0]
    return w.node("Transpose", [out], perm=[0, 2, 3, 1])


class _Step:
    """A fused program step seen as an op (type, attrs, input/output specs) for ``_emit``."""

    def __init__(self, op_type, attrs, name, input_tensors, output_dtype):
        self.type, self.attrs, self.name = op_type, dict(attrs), name
        self.inputs = input_tensors
        self.outputs = [_Spec(output_dtype)]


class _Spec:
    def __init__(self, dtype):
        self.dtype = dtype
        self.shape = gc.TensorShape(None)


def _fused(w, op, ins):
    dtypes = replay_dtypes([t.dtype for t in op.inputs], op.attrs["program"])
    values, kinds = [], []
    for (step_type, refs, step_attrs), dtype in zip(op.attrs["program"], dtypes):
        names = [ins[k] if source == "in" else values[k] for source, k in refs]
        tensors = [op.inputs[k] if source == "in" else _Spec(kinds[k]) for source, k in refs]
        values.append(_emit(w, _Step(step_type, step_attrs, op.name, tensors, dtype), names)[0])
        kinds.append(dtype)
    return [values[-1]]


def export(graph_or_session, fetches, feeds, path=None, opset: int = 17, optimize=True,
           name: str = "graphc"):
    """Write the subgraph computing ``fetches`` from ``feeds`` as an ONNX model.

    Args:
        graph_or_session: a Graph, or a Session (variables export with its current values).
        fetches / feeds: tensors (lists); they become the model's outputs / inputs.
        path: where to write the model (None: only return it).
        optimize: run graphc's optimizer first (fused groups export as elementwise nodes).

    Returns:
        The ``onnx.ModelProto`` (checked with ``onnx.checker``).

    Example:
        >>> model = graphc.onnx.export(sess, [probs], [x], "net.onnx")
    """
    onnx = onnx_module()
    session = graph_or_session if hasattr(graph_or_session, "run") else None
    graph = session.graph if session is not None else graph_or_session
    fetches, feeds = list(fetches), list(feeds)
    values = _variable_values(session, graph, fetches, feeds)
    work, interface = graph, Interface(tuple(fetches), (), tuple(feeds))
    if optimize:
        work, interface, _ = optimize_interface(graph, interface)
    w = _Writer(opset)
    inputs = []
    for user_feed, feed in zip(feeds, interface.feeds):
        w.names[feed] = _value_name(user_feed)
        inputs.append(onnx.helper.make_tensor_value_info(
            w.names[feed], _onnx_type(feed.dtype), feed.shape.dims))
    fed = frozenset(interface.feeds)
    for op in work.topological_order(required_ops(list(interface.fetches), fed=fed)):
        if all(t in w.names for t in op.outputs):
            continue
        if op.type == "placeholder":
            raise ExportError(f"placeholder '{op.name}' is needed but not among the feeds")
        if op.type == "const":
            w.names[op.outputs[0]] = w.constant(op.attrs["value"], _clean(op.name))
            continue
        if op.type in ("variable", "read_variable"):
            handle = op if op.type == "variable" else op.inputs[0].op
            if handle.name not in values:
                raise ExportError(f"variable '{handle.name}' needs a Session to export its "
                                  "value")
            w.names[op.outputs[0]] = w.constant(values[handle.name], _clean(handle.name))
            continue
        ins = [w.names[t] for t in op.inputs]
        for tensor, onnx_name in zip(op.outputs, _emit(w, op, ins)):
            w.names[tensor] = onnx_name
    outputs = []
    for user_fetch, fetch in zip(fetches, interface.fetches):
        out_name = _value_name(user_fetch)
        w.node("Identity", [w.names[fetch]], [out_name])
        outputs.append(onnx.helper.make_tensor_value_info(out_name, _onnx_type(fetch.dtype),
                                                          fetch.shape.dims))
    model = onnx.helper.make_model(
        onnx.helper.make_graph(w.nodes, name, inputs, outputs, w.initializers),
        opset_imports=[onnx.helper.make_opsetid("", opset)], producer_name="graphc")
    onnx.checker.check_model(model)
    if path is not None:
        onnx.save(model, str(path))
    return model


def _variable_values(session, graph, fetches, feeds) -> dict:
    if session is None:
        return {}
    variables = {op.inputs[0].op if op.type == "read_variable" else op
                 for op in required_ops(fetches, fed=frozenset(feeds))
                 if op.type in ("variable", "read_variable")}
    handles = [v.outputs[0] for v in variables]
    return {v.name: value for v, value in zip(variables, session.run(handles))}


def _value_name(tensor) -> str:
    return _clean(tensor.op.name) if tensor.value_index == 0 else _clean(tensor.name)


def _clean(name: str) -> str:
    return name.replace(":", "_")
