"""One converter per ONNX op: ``(ctx, node, inputs, attrs) -> outputs`` in graphc ops.

ONNX lays images out NCHW and filters OIHW; graphc's convolutions are NHWC/HWIO, so the
conv and pool converters transpose around them (the optimizer keeps what it can). Operands
ONNX passes as tensors but graphc wants when the graph is built (axes, slice bounds,
repeats) are read statically when they are constants, and otherwise go to the run-time
forms of ``dynamic_ops``.
"""
from __future__ import annotations

import numpy as np

import graphc as gc
from graphc.static_values import constant_value


__all__ = ["CONVERTERS", "ImportContext", "UnsupportedOpError"]


class UnsupportedOpError(ValueError):
    """An ONNX op, attribute or form graphc's importer does not handle."""


class ImportContext:
    """The graph being built and the graphc tensor of every ONNX value name."""

    def __init__(self, graph, opset: int):
        self.graph = graph
        self.opset = opset
        self.values: dict = {}

    def convert(self, node) -> None:
        inputs = [self.values[name] if name else None for name in node.input]
        attrs = {a.name: _attr_value(a) for a in node.attribute}
        self.output_count = len(node.output)
        with self.graph.name_scope(_scope(node)):
            try:
                results = CONVERTERS[node.op_type](self, inputs, attrs)
            except UnsupportedOpError as err:
                raise UnsupportedOpError(f"node {node.name!r} ({node.op_type}): {err}") from None
        results = list(results) if isinstance(results, (list, tuple)) else [results]
        for name, tensor in zip(node.output, results):
            if name:
                self.values[name] = tensor


def _scope(node) -> str:
    name = node.name or node.op_type
    return "".join(c if c.isalnum() or c in "_/.-" else "_" for c in name).strip("/") or "node"


def _attr_value(attr):
    from onnx import helper  # noqa: PLC0415 - the optional extra, present when importing
    value = helper.get_attribute_value(attr)
    if isinstance(value, bytes):
        return value.decode()
    return value


def static(tensor):
    """The value of ``tensor`` when it is known without running, else None."""
    return None if tensor is None else constant_value(tensor)


def _ints(tensor, what: str):
    value = static(tensor)
    return None if value is None else [int(v) for v in np.asarray(value).ravel()]


CONVERTERS: dict = {}


def converter(*names):
    def register(fn):
        for name in names:
            CONVERTERS[name] = fn
        return fn
    return register


# -- elementwise ------------------------------------------------------------------------------
_UNARY = {"Neg": gc.negative, "Exp": gc.exp, "Log": gc.log, "Sqrt": gc.sqrt,
          "Reciprocal": gc.reciprocal, "Floor": gc.floor, "Ceil": gc.ceil, "Sin": gc.sin,
          "Cos": gc.cos, "Tan": gc.tan, "Tanh": gc.tanh, "Sigmoid": gc.sigmoid,
          "Relu": gc.nn.relu, "Erf": gc.erf, "IsNaN": gc.is_nan,
          "Not": gc.logical_not, "Round": gc.round, "Softplus": gc.nn.softplus,
          "Identity": gc.identity, "BitwiseNot": gc.bitwise.invert}
for _name, _fn in _UNARY.items():
    CONVERTERS[_name] = (lambda fn: lambda ctx, ins, attrs: fn(ins[0]))(_fn)


# ONNX's Abs and Sign take unsigned tensors, TF's (graphc's) refuse them: |x| = x there, and
# sign(x) = (x > 0)
@converter("Abs")
def _abs(ctx, ins, attrs):
    return gc.identity(ins[0]) if ins[0].dtype.is_unsigned else gc.abs(ins[0])


@converter("Sign")
def _sign(ctx, ins, attrs):
    x = ins[0]
    return gc.cast(gc.greater(x, 0), x.dtype) if x.dtype.is_unsigned else gc.sign(x)


_BINARY = {"Add": gc.add, "Sub": gc.subtract, "Mul": gc.multiply,
           "Equal": gc.equal, "Less": gc.less, "Greater": gc.greater,
           "LessOrEqual": gc.less_equal, "GreaterOrEqual": gc.greater_equal,
           "And": gc.logical_and, "Or": gc.logical_or, "Xor": gc.logical_xor,
           "BitwiseAnd": gc.bitwise.bitwise_and, "BitwiseOr": gc.bitwise.bitwise_or,
           "BitwiseXor": gc.bitwise.bitwise_xor}
for _name, _fn in _BINARY.items():
    CONVERTERS[_name] = (lambda fn: lambda ctx, ins, attrs: fn(ins[0], ins[1]))(_fn)


@converter("BitShift")
def _bit_shift(ctx, ins, attrs):
    """ONNX shifts every bit out for amounts outside [0, bits): 0, or the sign for a right
    shift of a signed value (written out here: TF leaves such amounts undefined)."""
    x, amount = ins
    bits = x.dtype.size * 8
    inside = gc.less(amount, bits) if x.dtype.is_unsigned else gc.logical_and(
        gc.greater_equal(amount, 0), gc.less(amount, bits))
    if attrs["direction"] == "LEFT":
        return gc.where(inside, gc.bitwise.left_shift(x, amount), gc.zeros_like(x))
    outside = gc.zeros_like(x) if x.dtype.is_unsigned else gc.bitwise.right_shift(
        x, gc.cast(bits - 1, x.dtype))
    return gc.where(inside, gc.bitwise.right_shift(x, amount), outside)


@converter("Pow")
def _pow(ctx, ins, attrs):
    base, exponent = ins  # ONNX: the result has the base's type, whatever the exponent's
    if exponent.dtype is not base.dtype:
        exponent = gc.cast(exponent, base.dtype)
    return gc.pow(base, exponent)


@converter("Div")
def _div(ctx, ins, attrs):
    x, y = ins
    if x.dtype.is_integer:  # ONNX truncates toward zero
        return _truncated_quotient(x, y)
    return gc.divide(x, y)


def _truncated_quotient(x, y):
    floor = gc.floordiv(x, y)
    inexact = gc.not_equal(floor * y, x)
    opposite = gc.not_equal(gc.less(x, 0), gc.less(y, 0))
    return gc.where(gc.logical_and(inexact, opposite), floor + 1, floor)


@converter("Mod")
def _mod(ctx, ins, attrs):
    x, y = ins
    if not attrs.get("fmod", 0):
        return gc.floormod(x, y)
    if x.dtype.is_integer:
        return x - y * _truncated_quotient(x, y)
    quotient = x / y
    return x - y * (gc.sign(quotient) * gc.floor(gc.abs(quotient)))


def _fold(fn):
    def convert(ctx, ins, attrs):
        result = ins[0]
        for other in ins[1:]:
            result = fn(result, other)
        return result
    return convert


CONVERTERS["Max"] = _fold(gc.maximum)
CONVERTERS["Min"] = _fold(gc.minimum)
CONVERTERS["Sum"] = _fold(gc.add)
CONVERTERS["Mean"] = lambda ctx, ins, attrs: _fold(gc.add)(ctx, ins, attrs) / gc.cast(
    len(ins), ins[0].dtype)


@converter("Where")
def _where(ctx, ins, attrs):
    return gc.where(ins[0], ins[1], ins[2]) if ins[0].shape.rank != 1 or \
        (ins[1].shape.rank or 0) <= 1 else gc.where(
            gc.broadcast_to(ins[0], gc.shape(ins[1])), ins[1], ins[2])


@converter("IsInf")
def _is_inf(ctx, ins, attrs):
    x = ins[0]
    positive, negative = attrs.get("detect_positive", 1), attrs.get("detect_negative", 1)
    if positive and negative:
        return gc.is_inf(x)
    if positive:
        return gc.logical_and(gc.is_inf(x), gc.greater(x, 0))
    if negative:
        return gc.logical_and(gc.is_inf(x), gc.less(x, 0))
    return gc.zeros_like(x, dtype=gc.bool)


# -- activations ---------------------------------------------------------------------------
def _scalar(value, like):
    return gc.cast(float(value), like.dtype)


@converter("Elu")
def _elu(ctx, ins, attrs):
    x, alpha = ins[0], attrs.get("alpha", 1.0)
    return gc.where(gc.greater(x, 0), x, _scalar(alpha, x) * (gc.exp(x) - 1.0))


@converter("LeakyRelu")
def _leaky(ctx, ins, attrs):
    x = ins[0]
    return gc.where(gc.less(x, 0), x * _scalar(attrs.get("alpha", 0.01), x), x)


@converter("Selu")
def _selu(ctx, ins, attrs):
    x = ins[0]
    alpha = _scalar(attrs.get("alpha", 1.67326319217681884765625), x)
    gamma = _scalar(attrs.get("gamma", 1.05070102214813232421875), x)
    return gamma * gc.where(gc.greater(x, 0), x, alpha * (gc.exp(x) - 1.0))


@converter("HardSigmoid")
def _hard_sigmoid(ctx, ins, attrs):
    x = ins[0]
    line = x * _scalar(attrs.get("alpha", 0.2), x) + _scalar(attrs.get("beta", 0.5), x)
    return gc.clip_by_value(line, _scalar(0, x), _scalar(1, x))


@converter("Softsign")
def _softsign(ctx, ins, attrs):
    return ins[0] / (1.0 + gc.abs(ins[0]))


@converter("ThresholdedRelu")
def _thresholded(ctx, ins, attrs):
    x = ins[0]
    return gc.where(gc.greater(x, _scalar(attrs.get("alpha", 1.0), x)), x, gc.zeros_like(x))


@converter("PRelu")
def _prelu(ctx, ins, attrs):
    x, slope = ins
    return gc.where(gc.less(x, 0), x * slope, x)


@converter("Celu")
def _celu(ctx, ins, attrs):
    x, alpha = ins[0], _scalar(attrs.get("alpha", 1.0), ins[0])
    return gc.maximum(x, 0.0) + gc.minimum(0.0, alpha * (gc.exp(x / alpha) - 1.0))


@converter("HardSwish")
def _hard_swish(ctx, ins, attrs):
    x = ins[0]
    return x * gc.clip_by_value(x / 6.0 + 0.5, _scalar(0, x), _scalar(1, x))


@converter("Mish")
def _mish(ctx, ins, attrs):
    return ins[0] * gc.tanh(gc.nn.softplus(ins[0]))


@converter("Gelu")
def _gelu(ctx, ins, attrs):
    x = ins[0]
    if attrs.get("approximate", "none") == "tanh":
        inner = np.sqrt(2 / np.pi) * (x + 0.044715 * x * x * x)
        return 0.5 * x * (1.0 + gc.tanh(inner))
    return 0.5 * x * (1.0 + gc.erf(x / np.sqrt(2.0)))


@converter("Clip")
def _clip(ctx, ins, attrs):
    x = ins[0]
    low = ins[1] if len(ins) > 1 and ins[1] is not None else (
        _scalar(attrs["min"], x) if "min" in attrs else None)
    high = ins[2] if len(ins) > 2 and ins[2] is not None else (
        _scalar(attrs["max"], x) if "max" in attrs else None)
    if low is not None:
        x = gc.maximum(x, low)
    if high is not None:
        x = gc.minimum(x, high)
    return x


def _softmax_family(fn):
    def convert(ctx, ins, attrs):
        x = ins[0]
        if ctx.opset >= 13:
            return fn(x, axis=attrs.get("axis", -1))
        # opset < 13: flatten to 2-D at ``axis`` (default 1), normalize rows, reshape back
        axis = attrs.get("axis", 1) % max(x.shape.rank, 1)
        shape = gc.shape(x)
        rows = gc.reshape(x, gc.stack([gc.reduce_prod(shape[:axis]),
                                       gc.reduce_prod(shape[axis:])]))
        return gc.reshape(fn(rows, axis=-1), shape)
    return convert


CONVERTERS["Softmax"] = _softmax_family(gc.nn.softmax)
CONVERTERS["LogSoftmax"] = _softmax_family(gc.nn.log_softmax)


@converter("Hardmax")
def _hardmax(ctx, ins, attrs):
    x = ins[0]
    axis = attrs.get("axis", -1)
    depth = x.shape[axis]
    if depth is None:
        raise UnsupportedOpError("Hardmax: an axis of unknown size")
    hot = gc.one_hot(gc.argmax(x, axis=axis, output_type=gc.int32), depth, dtype=x.dtype,
                     axis=axis % x.shape.rank if axis < 0 else axis)
    return hot


from . import converters_more  # noqa: E402,F401 - the shape, reduction and nn converters
