"""TF1's division and logarithm products that are 0 where the plain op has no value:
``div_no_nan`` (``x / y``, 0 where ``y == 0``), ``mul_no_nan`` (``x * y``, 0 where ``y == 0``
even when ``x`` is inf or NaN), ``xdivy`` / ``xlogy`` / ``xlog1py`` (0 where ``x == 0``),
and ``reciprocal_no_nan``.

They are ops of their own, as in TF, rather than a ``where`` around the plain op: the
gradient of ``where(y == 0, 0, x / y)`` is NaN at ``y == 0`` (the unselected ``x / y``
branch still gets a zero gradient times an infinite derivative), theirs is 0. Metrics
(precision, recall, mean IoU) divide counts that may be zero with them.

Example:
    >>> gc.div_no_nan([1.0, 2.0], [0.0, 4.0])          # [0.0, 0.5]
    >>> gc.math.xlogy([0.0, 2.0], [0.0, 1.0])          # [0.0, 0.0]: 0 log 0 is 0
"""
from __future__ import annotations

import numpy as np

from graphc import registry
from graphc.convert import convert_to_tensor
from graphc.graph import Tensor
from graphc.ops.common import (FLOAT, apply_elementwise, broadcast_rule, rand,
                               same_dtype_rule)
from graphc.ops.elementwise import _binary_errors, not_equal, square
from graphc.ops.select import cast
from graphc.registry import OpDef, Sample

__all__ = ["div_no_nan", "divide_no_nan", "mul_no_nan", "xdivy", "xlogy", "xlog1py",
           "reciprocal_no_nan"]


def _zero_where(mask, values, shape, dtype):
    out = np.zeros(shape, dtype)
    np.copyto(out, values, where=~mask)
    return out


def _masked(where_zero, compute):
    """A kernel computing ``compute(x, y)`` and 0 wherever ``where_zero(x, y)``."""
    def kernel(x, y):
        shape, dtype = np.broadcast_shapes(np.shape(x), np.shape(y)), np.result_type(x, y)
        with np.errstate(all="ignore"):  # the masked-out positions are computed, then dropped
            values = compute(x, y)
        return _zero_where(np.broadcast_to(where_zero(x, y), shape), values, shape, dtype)
    return kernel


def _reference(where_zero, compute):
    """The same in float64 element by element (an independent oracle for the tests)."""
    def reference(x, y):
        x, y = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(y, np.float64))
        with np.errstate(all="ignore"):
            flat = [0.0 if where_zero(a, b) else float(compute(np.float64(a), np.float64(b)))
                    for a, b in zip(x.ravel(), y.ravel())]
        return np.array(flat, np.float64).reshape(x.shape)
    return reference


def _samples():
    # smooth points only (the registry checks gradients against finite differences there);
    # the zeros where these ops differ from the plain ones: tests/ops/test_safe_math.py
    return [Sample((rand(3, 4, low=0.2), rand(3, 4, low=0.2))),
            Sample((rand(2, 1, 3, low=0.2), rand(4, 1, low=0.2))),  # broadcasting
            Sample((rand(3, low=0.2, dtype=np.float32), np.float32(0.5)), rtol=1e-5),
            Sample((rand(0, 3), rand(3))),  # size 0
            Sample((rand(low=0.2), rand(low=0.2)))]


def _not_zero(x):
    return cast(not_equal(x, 0), x.dtype)


_TABLE = {
    # name: (0 where, computed value, gradient, summary)
    "div_no_nan": (lambda x, y: y == 0, np.divide,
                   lambda op, dy: [div_no_nan(dy, op.inputs[1]),
                                   dy * div_no_nan(div_no_nan(-op.inputs[0], op.inputs[1]),
                                                   op.inputs[1])],
                   "x / y, and 0 where y is 0"),
    "mul_no_nan": (lambda x, y: y == 0, np.multiply,
                   lambda op, dy: [mul_no_nan(dy, op.inputs[1]), mul_no_nan(op.inputs[0], dy)],
                   "x * y, and 0 where y is 0 (even where x is inf or NaN)"),
    "xdivy": (lambda x, y: x == 0, np.divide,
              lambda op, dy: [dy * xdivy(_not_zero(op.inputs[0]), op.inputs[1]),
                              dy * xdivy(-op.inputs[0], square(op.inputs[1]))],
              "x / y, and 0 where x is 0"),
    "xlogy": (lambda x, y: x == 0, lambda x, y: x * np.log(y),
              lambda op, dy: [dy * xlogy(_not_zero(op.inputs[0]), op.inputs[1]),
                              dy * xdivy(op.inputs[0], op.inputs[1])],
              "x * log(y), and 0 where x is 0"),
    "xlog1py": (lambda x, y: x == 0, lambda x, y: x * np.log1p(y),
                lambda op, dy: [dy * xlog1py(_not_zero(op.inputs[0]), op.inputs[1]),
                                dy * xdivy(op.inputs[0], op.inputs[1] + 1.0)],
                "x * log(1 + y), and 0 where x is 0"),
}

for _name, (_zero, _compute, _grad, _summary) in _TABLE.items():
    registry.register(OpDef(
        name=_name, dtypes=same_dtype_rule(_name, FLOAT), shapes=broadcast_rule,
        kernel=_masked(_zero, _compute), grad=_grad, elementwise=True, unknown_rank_ok=True,
        fresh_output=True, reference=_reference(_zero, _compute), samples=_samples,
        error_samples=_binary_errors(FLOAT), doc=_summary))


def _api(op_type: str, default_name: str):
    summary = _TABLE[op_type][3]

    def build(x, y, name=None) -> Tensor:
        return apply_elementwise(op_type, [x, y], name=name or default_name)
    build.__name__ = build.__qualname__ = op_type
    build.__doc__ = (f"Elementwise {summary}, with broadcasting (TF1 ``tf.math.{op_type}``); "
                     f"floating dtypes.\n\n    Example:\n        >>> z = gc.math.{op_type}(x, y)\n")
    return registry.public(registry.get(op_type))(build)


div_no_nan = _api("div_no_nan", "div_no_nan")
divide_no_nan = div_no_nan  # TF1's tf.math.divide_no_nan
mul_no_nan = _api("mul_no_nan", "MulNoNan")
xdivy = _api("xdivy", "Xdivy")
xlogy = _api("xlogy", "Xlogy")
xlog1py = _api("xlog1py", "Xlog1py")


def reciprocal_no_nan(x, name=None) -> Tensor:
    """``1 / x``, and 0 where ``x`` is 0 (TF1 ``tf.math.reciprocal_no_nan``).

    Example:
        >>> gc.math.reciprocal_no_nan([0.0, 4.0])   # [0.0, 0.25]
    """
    x = convert_to_tensor(x)
    return div_no_nan(convert_to_tensor(1, dtype=x.dtype), x, name=name or "reciprocal_no_nan")
