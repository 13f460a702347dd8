"""Neural-network ops: softmax family, cross-entropy losses, l2_loss, bias_add.

Every kernel here uses the numerically stable form (shift by the max, log1p of exp(-|x|)),
so the unoptimized graph already gives finite results for large logits.
"""
from __future__ import annotations

import math

import numpy as np

from graphc import registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.ops.common import (FLOAT, apply_op, broadcast_rule, normalize_axis,
                               rand, randint, same_dtype_rule)
from graphc.ops.control import stop_gradient
from graphc.ops.elementwise import exp, sigmoid
from graphc.ops.reduce import reduce_sum
from graphc.ops.shape_ops import expand_dims
from graphc.registry import ErrorSample, LoopExpr, OpDef, Sample
from graphc.shapes import TensorShape

__all__ = ["softmax", "log_softmax", "softmax_cross_entropy_with_logits",
           "softmax_cross_entropy_with_logits_v2", "sigmoid_cross_entropy_with_logits",
           "l2_loss", "bias_add"]


def _rows(fn, x, axis):
    """Apply a Python function to each 1-D lane of ``x`` along ``axis`` (for references)."""
    moved = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)
    lanes = np.array([fn(lane.tolist()) for lane in moved.reshape(-1, moved.shape[-1])])
    return np.moveaxis(lanes.reshape(moved.shape), -1, axis)


def _py_softmax(values):
    top = max(values)
    exps = [math.exp(v - top) for v in values]
    return [e / sum(exps) for e in exps]


def _py_log_softmax(values):
    top = max(values)
    log_total = math.log(sum(math.exp(v - top) for v in values))
    return [v - top - log_total for v in values]


def _log_softmax_kernel(x, axis):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _softmax_kernel(x, axis):
    exps = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return exps / np.sum(exps, axis=axis, keepdims=True)


def _axis_checked(op_name):
    def shapes(inputs, attrs):
        normalize_axis(attrs["axis"], inputs[0].shape.rank, op_name)
        return [inputs[0].shape]
    return shapes


def _softmax_samples():
    return [Sample((rand(3, 5, low=-5, high=5),)), Sample((rand(2, 3, 4), 1)),
            Sample((np.array([[1000.0, 0.0, -1000.0]]),)),  # stable for huge logits
            Sample((rand(2, 4, dtype=np.float32),), rtol=1e-5)]


def _softmax_grad(op, dy):
    y, axis = op.outputs[0], op.attrs["axis"]  # dx = y (dy - sum(dy y))
    return [y * (dy - reduce_sum(dy * y, axis=axis, keepdims=True))]


def _log_softmax_grad(op, dy):
    y, axis = op.outputs[0], op.attrs["axis"]  # dx = dy - softmax(x) sum(dy)
    return [dy - exp(y) * reduce_sum(dy, axis=axis, keepdims=True)]


SOFTMAX = registry.register(OpDef(
    name="softmax", dtypes=same_dtype_rule("softmax", FLOAT), shapes=_axis_checked("softmax"),
    kernel=_softmax_kernel, grad=_softmax_grad, attrs={"axis": -1},
    distribution=registry.rowwise_unless_axis0(),
    finite_outputs=registry.finite_if_inputs_finite,  # exp(x - max) <= 1, sum >= 1
    reference=lambda x, axis=-1: _rows(_py_softmax, x, axis), samples=_softmax_samples,
    error_samples=lambda: [ErrorSample((rand(2, 3), 2), match="out of range")],
    doc="exp(x) / sum(exp(x)) along axis, computed stably."))
LOG_SOFTMAX = registry.register(OpDef(
    name="log_softmax", dtypes=same_dtype_rule("log_softmax", FLOAT),
    shapes=_axis_checked("log_softmax"), kernel=_log_softmax_kernel, grad=_log_softmax_grad,
    attrs={"axis": -1}, distribution=registry.rowwise_unless_axis0(),
    reference=lambda x, axis=-1: _rows(_py_log_softmax, x, axis), samples=_softmax_samples,
    error_samples=lambda: [ErrorSample((randint(2, 3),), error=TypeError, match="floating")],
    doc="log(softmax(x)) along axis, computed stably."))


@registry.public(SOFTMAX)
def softmax(logits, axis=None, name=None, dim=None):
    """Softmax along ``axis`` (default the last).

    Example:
        >>> probs = gc.nn.softmax(logits)
    """
    axis = -1 if axis is None and dim is None else (axis if axis is not None else dim)
    return apply_op("softmax", [logits], {"axis": int(axis)}, name=name or "Softmax")


@registry.public(LOG_SOFTMAX)
def log_softmax(logits, axis=None, name=None, dim=None):
    """Log-softmax along ``axis`` (default the last), stable for large logits.

    Example:
        >>> logp = gc.nn.log_softmax(logits)
    """
    axis = -1 if axis is None and dim is None else (axis if axis is not None else dim)
    return apply_op("log_softmax", [logits], {"axis": int(axis)}, name=name or "LogSoftmax")


def _xent_shapes(inputs, attrs):
    labels, logits = inputs[0].shape, inputs[1].shape
    if not labels.is_compatible_with(logits):
        raise ValueError(f"softmax_cross_entropy_with_logits: labels shape {labels} and logits "
                         f"shape {logits} must be equal")
    merged = labels.merge_with(logits)
    axis = normalize_axis(attrs["axis"], merged.rank, "softmax_cross_entropy_with_logits")
    return [TensorShape([d for i, d in enumerate(merged.dims) if i != axis])]


def _xent_kernel(labels, logits, axis):
    return -np.sum(labels * _log_softmax_kernel(logits, axis), axis=axis)


def _xent_reference(labels, logits, axis=-1):
    log_probs = _rows(_py_log_softmax, logits, axis)
    return -np.sum(labels * log_probs, axis=axis)


def _labeled(labels, logits, **error):
    """A sample passing labels= and logits= by name, as TF1 requires; an error one if asked."""
    kwargs = {"labels": labels, "logits": logits}
    return ErrorSample((), kwargs, **error) if error else Sample((), kwargs)


def _random_distribution(*shape):
    raw = rand(*shape, low=0.0, high=1.0)
    return raw / raw.sum(axis=-1, keepdims=True)


def _xent_grad(op, dy):
    labels, logits = op.inputs
    axis = op.attrs["axis"]
    dy = expand_dims(dy, axis)  # per-example gradient, broadcast along the classes
    log_probs = log_softmax(logits, axis=axis)
    return [dy * -log_probs, dy * (exp(log_probs) - labels)]


XENT = registry.register(OpDef(
    name="softmax_cross_entropy_with_logits",
    dtypes=same_dtype_rule("softmax_cross_entropy_with_logits", FLOAT), shapes=_xent_shapes,
    kernel=_xent_kernel, grad=_xent_grad, attrs={"axis": -1}, reference=_xent_reference,
    distribution=registry.rowwise_unless_axis0((0, 1)),
    samples=lambda: [_labeled(_random_distribution(4, 5), rand(4, 5, low=-3, high=3)),
                     _labeled(_random_distribution(2, 3), np.array([[1e4, 0, -1e4]] * 2))],
    error_samples=lambda: [_labeled(rand(4, 5), rand(4, 6), match="must be equal")],
    doc="Cross-entropy between label distributions and softmax(logits), along axis."))


@registry.public(XENT)
def softmax_cross_entropy_with_logits_v2(labels=None, logits=None, axis=None, name=None,
                                         dim=None):
    """Per-example ``-sum(labels * log_softmax(logits))``; gradients reach labels too.

    Example:
        >>> loss = gc.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=z)
    """
    if labels is None or logits is None:
        raise ValueError("softmax_cross_entropy_with_logits needs labels= and logits=")
    axis = -1 if axis is None and dim is None else (axis if axis is not None else dim)
    graph = graph_of(labels, logits)
    with graph.as_default(), graph.atomic():
        logits = convert_to_tensor(logits)
        labels = convert_to_tensor(labels, dtype_hint=logits.dtype)
        return apply_op("softmax_cross_entropy_with_logits", [labels, logits],
                        {"axis": int(axis)}, name=name or "softmax_cross_entropy_with_logits")


def softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, dim=-1,
                                      name=None, axis=None):
    """TF1's version: like ``_v2`` but no gradient flows into ``labels``.

    Example:
        >>> loss = gc.nn.softmax_cross_entropy_with_logits(labels=y, logits=z)
    """
    if _sentinel is not None:
        raise ValueError("softmax_cross_entropy_with_logits: pass labels= and logits= by name")
    graph = graph_of(labels, logits)
    with graph.as_default(), graph.atomic():
        labels = stop_gradient(convert_to_tensor(labels, dtype_hint=getattr(logits, "dtype",
                                                                            None)))
        return softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits,
                                                    axis=dim if axis is None else axis, name=name)


def _sigmoid_xent_kernel(labels, logits):
    return (np.maximum(logits, 0) - logits * labels
            + np.log1p(np.exp(-np.abs(logits))))


def _sigmoid_xent_shapes(inputs, attrs):
    labels, logits = inputs[0].shape, inputs[1].shape
    if not labels.is_compatible_with(logits):
        raise ValueError(f"sigmoid_cross_entropy_with_logits: logits and labels must have the "
                         f"same shape ({logits} vs {labels})")
    return [labels.merge_with(logits)]


def _py_sigmoid_xent(z, x):
    probability = 1.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0
    if 0.0 < probability < 1.0:
        return -(z * math.log(probability) + (1 - z) * math.log(1 - probability))
    return max(x, 0) - x * z  # saturated sigmoid: the limit of the formula above


SIGMOID_XENT = registry.register(OpDef(
    name="sigmoid_cross_entropy_with_logits",
    dtypes=same_dtype_rule("sigmoid_cross_entropy_with_logits", FLOAT),
    shapes=_sigmoid_xent_shapes, kernel=_sigmoid_xent_kernel, elementwise=True,
    grad=lambda op, dy: [-dy * op.inputs[1],  # d/dz = -x, d/dx = sigmoid(x) - z
                         dy * (sigmoid(op.inputs[1]) - op.inputs[0])],
    reference=lambda labels, logits: np.vectorize(_py_sigmoid_xent)(labels, logits),
    samples=lambda: [_labeled(rand(3, 4, low=0, high=1), rand(3, 4, low=-4, high=4)),
                     _labeled(np.array([0.0, 1.0]), np.array([800.0, -800.0]))],
    error_samples=lambda: [_labeled(rand(3), rand(4), match="same shape")],
    doc="Elementwise logistic loss in the stable form max(x,0) - x*z + log1p(exp(-|x|))."))


@registry.public(SIGMOID_XENT)
def sigmoid_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, name=None):
    """Elementwise logistic loss of ``logits`` against targets ``labels`` in [0, 1].

    Example:
        >>> loss = gc.nn.sigmoid_cross_entropy_with_logits(labels=t, logits=z)
    """
    if _sentinel is not None or labels is None or logits is None:
        raise ValueError("sigmoid_cross_entropy_with_logits: pass labels= and logits= by name")
    graph = graph_of(labels, logits)
    with graph.as_default(), graph.atomic():
        logits = convert_to_tensor(logits)
        labels = convert_to_tensor(labels, dtype_hint=logits.dtype)
        return apply_op("sigmoid_cross_entropy_with_logits", [labels, logits],
                        name=name or "logistic_loss")


L2_LOSS = registry.register(OpDef(
    name="l2_loss", dtypes=same_dtype_rule("l2_loss", FLOAT), shapes=lambda i, a: [TensorShape([])],
    kernel=lambda t: np.asarray(np.sum(np.square(t)) / t.dtype.type(2), dtype=t.dtype),
    grad=lambda op, dy: [dy * op.inputs[0]],
    unknown_rank_ok=True, reference=lambda t: sum(v * v for v in t.ravel().tolist()) / 2,
    samples=lambda: [Sample((rand(3, 4),)), Sample((rand(0),))],
    doc="sum(t ** 2) / 2."))


@registry.public(L2_LOSS)
def l2_loss(t, name=None):
    """Half the squared L2 norm of ``t``: ``sum(t ** 2) / 2``.

    Example:
        >>> reg = 1e-4 * gc.nn.l2_loss(W)
    """
    return apply_op("l2_loss", [t], name=name or "L2Loss")


def _bias_add_shapes(inputs, attrs):
    value, bias = inputs[0].shape, inputs[1].shape
    if value.rank < 2 or bias.rank != 1:
        raise ValueError(f"bias_add: value must have rank >= 2 and bias rank 1, got shapes "
                         f"{value} and {bias}")
    if not TensorShape([value.dims[-1]]).is_compatible_with(bias):
        raise ValueError(f"bias_add: bias of shape {bias} must match the last dimension of "
                         f"value of shape {value}")
    return broadcast_rule(inputs, attrs)


BIAS_ADD = registry.register(OpDef(
    name="bias_add", dtypes=same_dtype_rule("bias_add", "numeric"), shapes=_bias_add_shapes,
    kernel=np.add, grad=lambda op, dy: [dy, dy], elementwise=True,
    loop=LoopExpr("{0} + {1}", plain=True),
    reference=lambda value, bias: np.array([[v + b for v, b in zip(row, bias.tolist())]
                                            for row in value.reshape(-1, value.shape[-1]).tolist()]
                                           ).reshape(value.shape),
    samples=lambda: [Sample((rand(4, 3), rand(3))), Sample((rand(2, 5, 5, 3), rand(3)))],
    error_samples=lambda: [ErrorSample((rand(4, 3), rand(4)), match="last dimension")],
    doc="value + bias over the last (channel) dimension (NHWC)."))


@registry.public(BIAS_ADD)
def bias_add(value, bias, data_format=None, name=None):
    """Add a 1-D ``bias`` along the last dimension of ``value`` (NHWC / NC layouts).

    Example:
        >>> h = gc.nn.bias_add(gc.matmul(x, W), b)
    """
    if data_format not in (None, "NHWC", "N...C"):
        raise ValueError(f"bias_add: data_format {data_format!r} is not supported; use NHWC")
    graph = graph_of(value, bias)
    with graph.as_default(), graph.atomic():
        value = convert_to_tensor(value)
        bias = convert_to_tensor(bias, dtype_hint=value.dtype)
        return apply_op("bias_add", [value, bias], name=name or "BiasAdd")
