"""``tf.bitwise``: and, or, xor, invert and shifts of integer tensors, elementwise with
broadcasting. A shift amount below 0 or of the bit width or more is clamped into
[0, bits - 1], as TF's kernels do (TF documents it as implementation-defined).

Example:
    >>> gc.bitwise.bitwise_and([12, 10], [10, 6])   # [8, 2]
    >>> gc.bitwise.left_shift([1, 1], [3, 4])        # [8, 16]
"""
from __future__ import annotations

import numpy as np

from graphc import registry
from graphc.graph import Tensor
from graphc.ops.common import INTEGER, apply_elementwise, broadcast_rule, randint, same_dtype_rule
from graphc.ops.elementwise import scalar_reference
from graphc.registry import ErrorSample, OpDef, Sample

__all__ = ["bitwise_and", "bitwise_or", "bitwise_xor", "invert", "left_shift", "right_shift"]


def _shift(direction):
    def kernel(x, y):
        # TF's kernels clamp the amount into [0, bits - 1] (measured on TF 2.21)
        amount = np.clip(np.asarray(y), 0, x.dtype.itemsize * 8 - 1).astype(x.dtype)
        shift = np.left_shift if direction == "left" else np.right_shift
        return shift(x, amount).astype(x.dtype, copy=False)
    return kernel


def _samples():
    return [Sample((randint(3, 4, low=0, high=64), randint(3, 4, low=0, high=20))),
            Sample((randint(2, 1, 3, low=-8, high=8), randint(4, 1, low=0, high=5))),
            Sample((randint(0, 2), randint(2, low=0, high=3)))]


_TABLE = {
    "bitwise_and": (np.bitwise_and, lambda a, b: a & b, "x & y"),
    "bitwise_or": (np.bitwise_or, lambda a, b: a | b, "x | y"),
    "bitwise_xor": (np.bitwise_xor, lambda a, b: a ^ b, "x ^ y"),
    "left_shift": (_shift("left"), lambda a, b: a << b, "x << y"),
    "right_shift": (_shift("right"), lambda a, b: a >> b, "x >> y"),
}


def _public(op_type, summary):
    def build(x, y, name=None) -> Tensor:
        return apply_elementwise(op_type, [x, y], name=name)
    build.__name__ = build.__qualname__ = op_type
    build.__doc__ = (f"Elementwise ``{summary}`` of integer tensors, with broadcasting (TF1 "
                     f"``tf.bitwise.{op_type}``).\n\n    Example:\n        >>> "
                     f"gc.bitwise.{op_type}(a, b)\n")
    return registry.public(registry.get(op_type))(build)


for _name, (_kernel, _scalar, _summary) in _TABLE.items():
    registry.register(OpDef(
        name=_name, dtypes=same_dtype_rule(_name, INTEGER), shapes=broadcast_rule,
        kernel=_kernel, grad=registry.NOT_DIFFERENTIABLE, elementwise=True,
        unknown_rank_ok=True, reference=scalar_reference(_scalar), samples=_samples,
        error_samples=lambda: [ErrorSample((randint(2, 3), randint(4, 3)),
                                           match="Incompatible shapes")],
        doc=f"Elementwise {_summary}."))

bitwise_and = _public("bitwise_and", "x & y")
bitwise_or = _public("bitwise_or", "x | y")
bitwise_xor = _public("bitwise_xor", "x ^ y")
left_shift = _public("left_shift", "x << y")
right_shift = _public("right_shift", "x >> y")

INVERT = registry.register(OpDef(
    name="invert", dtypes=same_dtype_rule("invert", INTEGER), shapes=broadcast_rule,
    kernel=np.invert, grad=registry.NOT_DIFFERENTIABLE, elementwise=True, unknown_rank_ok=True,
    reference=scalar_reference(lambda a: ~a),
    samples=lambda: [Sample((randint(3, 4, low=-50, high=50),)), Sample((randint(0, 2),))],
    error_samples=lambda: [], doc="Elementwise ~x (every bit flipped)."))


@registry.public(INVERT)
def invert(x, name=None) -> Tensor:
    """Every bit of the integers ``x`` flipped, ``~x`` (TF1 ``tf.bitwise.invert``).

    Example:
        >>> gc.bitwise.invert([0, 5])   # [-1, -6]
    """
    return apply_elementwise("invert", [x], name=name)
