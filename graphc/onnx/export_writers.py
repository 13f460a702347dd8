"""How graphc ops are written as ONNX nodes: one writer per graphc op, declared on the op's
OpDef (``OpDef.exports["onnx"]``, via ``registry.declare_export``) when graphc.onnx is imported;
``emit`` asks the registry. A writer is ``writer(w, op, ins) -> output value names``: ``w``
is exporter.py's writer of nodes and initializers, ``ins`` the ONNX names of the op's inputs.
"""
from __future__ import annotations

import numpy as np

import graphc as gc
from graphc import registry
from graphc.index_spec import spec_to_index
from graphc.ops.fused import replay_dtypes
from graphc.static_values import constant_value

from .safety import onnx_module

__all__ = ["ExportError", "emit", "onnx_type"]


class ExportError(ValueError):
    """A graphc op (named) that has no ONNX form here."""


def _writes(*op_types):
    """Declare ``writer(w, op, ins) -> output names`` as how ONNX writes these graphc ops: it
    is kept on each op's OpDef (``OpDef.exports["onnx"]``), where ``emit`` finds it."""
    def declare(writer):
        for op_type in op_types:
            registry.declare_export(op_type, "onnx", writer)
        return writer
    return declare


def emit(w, op, ins: list) -> list:
    """ONNX value names of ``op``'s outputs, after writing its nodes."""
    writer = registry.get(op.type).exports.get("onnx")
    if writer is None:
        raise ExportError(f"graphc op '{op.name}' ({op.type}) has no ONNX form in graphc's "
                          "exporter")
    return writer(w, op, ins)


def _same_op(onnx_type):
    def write(w, op, ins):
        return w.node(onnx_type, ins)
    return write


# graphc ops that are one ONNX op of the same inputs, outputs and meaning
for _graphc_type, _onnx_type in {
        "add": "Add", "subtract": "Sub", "multiply": "Mul", "negative": "Neg", "abs": "Abs",
        "exp": "Exp", "log": "Log", "sqrt": "Sqrt", "reciprocal": "Reciprocal", "tanh": "Tanh",
        "sigmoid": "Sigmoid", "relu": "Relu", "elu": "Elu", "softplus": "Softplus", "sin": "Sin",
        "cos": "Cos", "tan": "Tan", "erf": "Erf", "floor": "Floor", "ceil": "Ceil",
        "sign": "Sign", "pow": "Pow", "maximum": "Max", "minimum": "Min", "equal": "Equal",
        "less": "Less", "greater": "Greater", "less_equal": "LessOrEqual",
        "greater_equal": "GreaterOrEqual", "logical_and": "And", "logical_or": "Or",
        "logical_xor": "Xor", "logical_not": "Not", "where": "Where", "identity": "Identity",
        "stop_gradient": "Identity", "is_nan": "IsNaN", "is_inf": "IsInf", "round": "Round",
        "bias_add": "Add",
        # the importer's run-time-operand ops are ONNX ops already
        "onnx_slice": "Slice", "onnx_unsqueeze": "Unsqueeze", "onnx_squeeze": "Squeeze",
        "onnx_tile": "Tile", "onnx_expand": "Expand"}.items():
    registry.declare_export(_graphc_type, "onnx", _same_op(_onnx_type))


@_writes("bitwise_and", "bitwise_or", "bitwise_xor", "invert")
def _bitwise(w, op, ins):
    if w.opset < 18:
        raise ExportError(f"graphc op '{op.name}' ({op.type}): ONNX's bitwise ops need opset 18")
    kind = {"bitwise_and": "And", "bitwise_or": "Or", "bitwise_xor": "Xor", "invert": "Not"}
    return w.node(f"Bitwise{kind[op.type]}", ins)


@_writes("divide")
def _divide(w, op, ins):
    if op.inputs[0].dtype.is_integer:  # TF1's true division of integers
        to = onnx_type(op.outputs[0].dtype)
        ins = [w.node("Cast", [i], to=to)[0] for i in ins]
    return w.node("Div", ins)


@_writes("square")
def _square(w, op, ins):
    return w.node("Mul", [ins[0], ins[0]])


@_writes("rsqrt")
def _rsqrt(w, op, ins):
    return w.node("Reciprocal", w.node("Sqrt", ins))


@_writes("relu6")
def _relu6(w, op, ins):
    return w.node("Clip", [ins[0], w.constant(np.asarray(0, _np(op)), "zero"),
                           w.constant(np.asarray(6, _np(op)), "six")])


@_writes("cast")
def _cast(w, op, ins):
    return w.node("Cast", ins, to=onnx_type(op.outputs[0].dtype))


@_writes("matmul")
def _matmul(w, op, ins):
    a, b = ins
    if op.attrs.get("transpose_a"):
        a = w.node("Transpose", [a], perm=_swap_last(op.inputs[0].shape.rank))[0]
    if op.attrs.get("transpose_b"):
        b = w.node("Transpose", [b], perm=_swap_last(op.inputs[1].shape.rank))[0]
    return w.node("MatMul", [a, b])


@_writes("einsum")
def _einsum(w, op, ins):
    return w.node("Einsum", ins, equation=op.attrs["equation"])


_REDUCE = {"reduce_sum": "ReduceSum", "reduce_mean": "ReduceMean", "reduce_max": "ReduceMax",
           "reduce_min": "ReduceMin", "reduce_prod": "ReduceProd",
           "reduce_logsumexp": "ReduceLogSumExp"}


@_writes(*_REDUCE)
def _reduce(w, op, ins):
    axes = op.attrs.get("axis")
    axes = list(range(op.inputs[0].shape.rank)) if axes is None else (
        list(axes) if isinstance(axes, (list, tuple)) else [axes])
    keep = int(bool(op.attrs.get("keepdims", False)))
    if op.type == "reduce_sum" or w.opset >= 18:
        return w.node(_REDUCE[op.type], [ins[0], w.ints(axes, "axes")], keepdims=keep)
    return w.node(_REDUCE[op.type], [ins[0]], axes=axes, keepdims=keep)


@_writes("softmax", "log_softmax")
def _softmax(w, op, ins):
    axis = op.attrs.get("axis")
    return w.node("Softmax" if op.type == "softmax" else "LogSoftmax", ins,
                  axis=int(-1 if axis is None else axis))


@_writes("reshape")
def _reshape(w, op, ins):
    return w.node("Reshape", [ins[0], w.node("Cast", [ins[1]], to=7)[0]])


@_writes("transpose")
def _transpose(w, op, ins):
    perm = op.attrs["perm"]  # None: the axes reversed, ONNX's default too
    return w.node("Transpose", [ins[0]], **({} if perm is None else {"perm": list(perm)}))


@_writes("expand_dims")
def _expand_dims(w, op, ins):
    return w.node("Unsqueeze", [ins[0], w.ints([op.attrs["axis"]], "axes")])


@_writes("squeeze")
def _squeeze(w, op, ins):
    axis = op.attrs.get("axis")
    return w.node("Squeeze", [ins[0]] + ([w.ints(list(axis), "axes")] if axis else []))


@_writes("concat")
def _concat(w, op, ins):
    return w.node("Concat", ins, axis=int(op.attrs["axis"]))


@_writes("split")
def _split(w, op, ins):
    axis, num, sizes = int(op.attrs["axis"]), int(op.attrs["num"]), op.attrs["sizes"]
    outputs = [w.fresh("split") for _ in range(num)]
    if sizes is None:  # equal parts: the number of outputs says how many
        extra = {"num_outputs": num} if w.opset >= 18 else {}
        return w.node("Split", ins, outputs, axis=axis, **extra)
    sizes = list(sizes)
    if -1 in sizes:  # the rest of the axis: ONNX needs every size
        whole = op.inputs[0].shape.dims[axis] if op.inputs[0].shape.rank is not None else None
        if whole is None:
            raise ExportError(f"graphc op '{op.name}' (split): a -1 size over a dimension "
                              "unknown before run time has no ONNX form")
        sizes[sizes.index(-1)] = whole - (sum(sizes) + 1)
    return w.node("Split", [ins[0], w.ints(sizes, "split_sizes")], outputs, axis=axis)


@_writes("stack")
def _stack(w, op, ins):
    axis = int(op.attrs["axis"])
    parts = [w.node("Unsqueeze", [i, w.ints([axis], "axes")])[0] for i in ins]
    return w.node("Concat", parts, axis=axis)


@_writes("gather")
def _gather(w, op, ins):
    return w.node("Gather", ins, axis=int(op.attrs.get("axis", 0)))


@_writes("shape")
def _shape(w, op, ins):
    return w.node("Cast", w.node("Shape", ins), to=onnx_type(op.outputs[0].dtype))


@_writes("broadcast_to")
def _broadcast_to(w, op, ins):
    return w.node("Expand", [ins[0], w.node("Cast", [ins[1]], to=7)[0]])


@_writes("tile")
def _tile(w, op, ins):
    return w.node("Tile", [ins[0], w.node("Cast", [ins[1]], to=7)[0]])


_REDUCE_KINDS = {"sum": "ReduceSum", "mean": "ReduceMean", "max": "ReduceMax",
                 "min": "ReduceMin", "prod": "ReduceProd", "l1": "ReduceL1", "l2": "ReduceL2",
                 "sum_square": "ReduceSumSquare", "log_sum": "ReduceLogSum",
                 "log_sum_exp": "ReduceLogSumExp"}


@_writes("onnx_reduce")
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


@_writes("pad")
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


def onnx_type(dtype) -> int:
    return onnx_module().helper.np_dtype_to_tensor_dtype(np.dtype(dtype.np))


@_writes("strided_slice")
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


@_writes("conv2d")
def _conv(w, op, ins):
    x, filters = ins
    attrs = op.attrs
    weights = w.node("Transpose", [filters], perm=[3, 2, 0, 1])[0]  # HWIO -> OIHW
    out = w.node("Conv", [_nchw(w, x), weights], strides=list(attrs["strides"]),
                 dilations=list(attrs.get("dilations", (1, 1))),
                 **_pads(op, attrs["padding"]))[0]
    return w.node("Transpose", [out], perm=[0, 2, 3, 1])


@_writes("max_pool", "avg_pool")
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


def _program(w, name, program, tensors, ins):
    """A fused program (steps over ``tensors``, named ``ins`` in ONNX) as one node per step."""
    dtypes = replay_dtypes([t.dtype for t in tensors], program)
    values, kinds = [], []
    for (step_type, refs, step_attrs), dtype in zip(program, dtypes):
        names = [ins[k] if source == "in" else values[k] for source, k in refs]
        inputs = [tensors[k] if source == "in" else _Spec(kinds[k]) for source, k in refs]
        values.append(emit(w, _Step(step_type, step_attrs, name, inputs, dtype), names)[0])
        kinds.append(dtype)
    return [values[-1]]


@_writes("fused_elementwise")
def _fused(w, op, ins):
    return _program(w, op.name, op.attrs["program"], list(op.inputs), ins)


@_writes("with_epilogue")
def _with_epilogue(w, op, ins):
    """The host op (a conv), then its epilogue program on the host's result."""
    attrs, count = op.attrs, op.attrs["host_inputs"]
    host, host_attrs = attrs["host"], dict(attrs["host_attrs"])
    hosted = registry.get(host).dtypes([t.dtype for t in op.inputs[:count]], host_attrs)[0]
    result = emit(w, _Step(host, host_attrs, op.name, list(op.inputs[:count]), hosted),
                  ins[:count])[0]
    tensors, names = list(op.inputs[count:]), list(ins[count:])
    tensors.insert(attrs["position"], _Spec(hosted))
    names.insert(attrs["position"], result)
    return _program(w, op.name, attrs["program"], tensors, names)
