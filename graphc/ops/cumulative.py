"""Running sums and products along an axis: cumsum, cumprod and cumulative_logsumexp,
with TF's ``exclusive`` (each element leaves itself out) and ``reverse`` (run from the end)
flags."""
from __future__ import annotations

import numpy as np

from graphc import registry
from graphc.graph import Tensor
from graphc.ops.common import (FLOAT, NUMERIC, apply_op, normalize_axis, rand, randint,
                               same_dtype_rule, same_shape_rule, static_axis)
from graphc.ops.creation import zeros_like
from graphc.ops.elementwise import exp, greater, less, log, negative
from graphc.ops.select import where
from graphc.registry import ErrorSample, OpDef, Sample

__all__ = ["cumsum", "cumprod", "cumulative_logsumexp"]

_ATTRS = {"axis": 0, "exclusive": False, "reverse": False}


def _cumulative_kernel(accumulate, identity):
    """``accumulate`` (np.cumsum, np.cumprod) along ``axis`` with TF's flags: ``exclusive``
    shifts the running value one step (the first element becomes ``identity``)."""
    def kernel(x, axis, exclusive, reverse):
        x = np.asarray(x)
        if x.ndim == 0:
            raise ValueError(f"{accumulate.__name__}: input must have rank >= 1, got a scalar")
        work = np.flip(x, axis) if reverse else x
        out = accumulate(work, axis=axis, dtype=x.dtype)
        if exclusive:
            lead = np.full_like(np.take(out, [0], axis=axis), identity)
            out = np.concatenate([lead, np.delete(out, -1, axis=axis)], axis=axis)
        return np.flip(out, axis) if reverse else out
    return kernel


def _reference(step, identity):
    """Element-by-element loop over one axis (independent of NumPy's accumulate)."""
    def reference(x, axis=0, exclusive=False, reverse=False):
        moved = np.moveaxis(np.asarray(x, np.float64 if x.dtype.kind == "f" else x.dtype),
                            axis, 0)
        out = np.empty_like(moved)
        order = range(len(moved) - 1, -1, -1) if reverse else range(len(moved))
        running = np.full(moved.shape[1:], identity, moved.dtype)
        for i in order:
            if exclusive:
                out[i] = running
                running = step(running, moved[i])
            else:
                running = step(running, moved[i])
                out[i] = running
        return np.moveaxis(out, 0, axis)
    return reference


def axis_shape_rule(op_name):
    """Shapes of ops keeping their input's shape and working along ``attrs["axis"]`` of a
    tensor of rank >= 1 (cumsum, sort)."""
    def shapes(inputs, attrs):
        shape = inputs[0].shape
        if shape.rank == 0:
            raise ValueError(f"{op_name}: input must have rank >= 1, got shape {shape}")
        normalize_axis(attrs["axis"], shape.rank, op_name)
        return same_shape_rule(inputs, attrs)
    return shapes


def _cumsum_grad(op, dy):
    # d/dx_j of sum_i c_i y_i: the cotangents summed over the outputs x_j entered, i.e. the
    # cumulative sum run the other way (exclusive stays exclusive)
    attrs = op.attrs
    return [cumsum(dy, attrs["axis"], attrs["exclusive"], not attrs["reverse"])]


def _cumprod_grad(op, dy):
    # TF's rule (math_grad._CumprodGrad): y_i / x_j summed the other way; needs x != 0
    x, attrs = op.inputs[0], op.attrs
    prod = op.outputs[0]
    out = cumsum(prod * dy, attrs["axis"], attrs["exclusive"], not attrs["reverse"])
    return [out / x]


def _logsumexp_grad(op, dy):
    # TF's rule (math_grad._CumulativeLogsumexpGrad), in the log domain so that it neither
    # overflows nor loses the small terms: the positive and negative cotangents apart
    x, out, attrs = op.inputs[0], op.outputs[0], op.attrs
    minus_inf = zeros_like(dy) - float("inf")
    log_positive = where(greater(dy, 0.0), log(dy), minus_inf)
    log_negative = where(less(dy, 0.0), log(negative(dy)), minus_inf)
    flags = (attrs["axis"], attrs["exclusive"], not attrs["reverse"])
    positive = exp(cumulative_logsumexp(log_positive - out, *flags) + x)
    negative_part = exp(cumulative_logsumexp(log_negative - out, *flags) + x)
    return [positive - negative_part]


def _samples():
    return [Sample((rand(5),)), Sample((rand(3, 4), 1, True)),
            Sample((rand(3, 4), 0, False, True)), Sample((rand(2, 3, 2), -1, True, True)),
            Sample((randint(4, 3), 0, True, False)), Sample((rand(0, 3), 0))]


def _errors(op_name):
    return lambda: [ErrorSample((rand(3, 4), 2), match="out of range"),
                    ErrorSample((np.float64(1.0),), match="rank"),
                    ErrorSample((np.array([True, False]),), error=TypeError, match="numeric")]


CUMSUM = registry.register(OpDef(
    name="cumsum", dtypes=same_dtype_rule("cumsum", NUMERIC), shapes=axis_shape_rule("cumsum"),
    kernel=_cumulative_kernel(np.cumsum, 0), grad=_cumsum_grad, attrs=dict(_ATTRS),
    reference=_reference(np.add, 0), samples=_samples, error_samples=_errors("cumsum"),
    doc="Running sum along axis; exclusive leaves each element out, reverse runs backwards."))

CUMPROD = registry.register(OpDef(
    name="cumprod", dtypes=same_dtype_rule("cumprod", NUMERIC), shapes=axis_shape_rule("cumprod"),
    kernel=_cumulative_kernel(np.cumprod, 1), grad=_cumprod_grad, attrs=dict(_ATTRS),
    reference=_reference(np.multiply, 1), samples=_samples, error_samples=_errors("cumprod"),
    doc="Running product along axis, with cumsum's exclusive and reverse flags."))


CUMULATIVE_LOGSUMEXP = registry.register(OpDef(
    name="cumulative_logsumexp", dtypes=same_dtype_rule("cumulative_logsumexp", FLOAT),
    shapes=axis_shape_rule("cumulative_logsumexp"),
    kernel=_cumulative_kernel(np.logaddexp.accumulate, -np.inf), grad=_logsumexp_grad,
    attrs=dict(_ATTRS), reference=_reference(np.logaddexp, -np.inf),
    samples=lambda: [s for s in _samples() if s.args[0].dtype.kind == "f"],
    error_samples=lambda: [ErrorSample((rand(3, 4), 2), match="out of range")],
    doc="log(cumsum(exp(x))) along axis, computed pairwise so it neither overflows nor "
        "underflows; cumsum's exclusive and reverse flags."))


def _apply(op_type, x, axis, exclusive, reverse, name):
    attrs = {"axis": int(static_axis(axis, op_type)), "exclusive": bool(exclusive),
             "reverse": bool(reverse)}
    return apply_op(op_type, [x], attrs, name=name)


@registry.public(CUMSUM)
def cumsum(x, axis=0, exclusive=False, reverse=False, name=None) -> Tensor:
    """Running sum of ``x`` along ``axis`` (TF1 ``tf.cumsum``).

    Example:
        >>> gc.cumsum([a, b, c])                  # [a, a + b, a + b + c]
        >>> gc.cumsum([a, b, c], exclusive=True)  # [0, a, a + b]
        >>> gc.cumsum([a, b, c], reverse=True)    # [a + b + c, b + c, c]
    """
    return _apply("cumsum", x, axis, exclusive, reverse, name or "Cumsum")


@registry.public(CUMPROD)
def cumprod(x, axis=0, exclusive=False, reverse=False, name=None) -> Tensor:
    """Running product of ``x`` along ``axis`` (TF1 ``tf.cumprod``).

    Example:
        >>> gc.cumprod([a, b, c])                  # [a, a * b, a * b * c]
        >>> gc.cumprod([a, b, c], exclusive=True)  # [1, a, a * b]
    """
    return _apply("cumprod", x, axis, exclusive, reverse, name or "Cumprod")


@registry.public(CUMULATIVE_LOGSUMEXP)
def cumulative_logsumexp(x, axis=0, exclusive=False, reverse=False, name=None) -> Tensor:
    """``log(cumsum(exp(x)))`` along ``axis``, without overflow or underflow (TF1
    ``tf.math.cumulative_logsumexp``).

    Example:
        >>> gc.math.cumulative_logsumexp([0.0, 0.0, 1000.0])   # [0, log 2, 1000]
    """
    return _apply("cumulative_logsumexp", x, axis, exclusive, reverse,
                  name or "CumulativeLogsumexp")
