"""graphc graphs written as ONNX models: ``export(graph or session, fetches, feeds, path)``.

The part of the graph that computes ``fetches`` from ``feeds`` (after graphc's optimizer when
``optimize=True``: a fused node is written as the elementwise ops of its program) becomes an
ONNX graph of the default domain at ``opset`` (13-21): placeholders are its inputs,
constants and variables (their current values, read from the session) its initializers.
graphc's NHWC convolutions and pools are written as ONNX's NCHW ones between Transposes.
The model passes ``onnx.checker``; an op with no ONNX form raises an error naming it. How
each op is written is declared on its OpDef by export_writers.py.
"""
from __future__ import annotations

import numpy as np

from graphc.graph import required_ops
from graphc.passes import Interface, OptimizerConfig, optimize_interface

from .export_writers import ExportError, emit, onnx_type
from .safety import onnx_module

__all__ = ["export", "ExportError"]


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
        # relu_bias_grad (a ReLU's and its bias's gradients in one pass) and
        # max_pool_grad_taps (a pool's gradient from its recorded taps) have no ONNX form:
        # the runtime reading the model fuses what it can itself
        work, interface, _ = optimize_interface(graph, interface, OptimizerConfig(
            disabled=("relu_bias_grads", "pool_taps")))
    w = _Writer(opset)
    inputs = []
    for user_feed, feed in zip(feeds, interface.feeds):
        w.names[feed] = _value_name(user_feed)
        inputs.append(onnx.helper.make_tensor_value_info(
            w.names[feed], onnx_type(feed.dtype), feed.shape.dims))
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
        for tensor, onnx_name in zip(op.outputs, emit(w, op, ins)):
            w.names[tensor] = onnx_name
    outputs = []
    for user_fetch, fetch in zip(fetches, interface.fetches):
        out_name = _value_name(user_fetch)
        w.node("Identity", [w.names[fetch]], [out_name])
        outputs.append(onnx.helper.make_tensor_value_info(out_name, onnx_type(fetch.dtype),
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
