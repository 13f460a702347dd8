"""``count_up_to``: increment an integer variable until it reaches a limit (TF1
``tf.count_up_to`` / ``Variable.count_up_to``), the counter behind ``limit_epochs``.

Example:
    >>> epochs = gc.Variable(0, name="epochs")
    >>> step = gc.count_up_to(epochs, 3)   # 0, 1, 2, then OutOfRangeError
"""
from __future__ import annotations

import numpy as np

from graphc import registry
from graphc.errors import OutOfRangeError, describe_op
from graphc.graph import get_default_graph
from graphc.registry import OpDef

__all__ = ["count_up_to"]


def _dtypes(in_dtypes, attrs):
    if in_dtypes[0].name not in ("int32", "int64"):
        raise TypeError(f"count_up_to: the variable must be int32 or int64, got "
                        f"{in_dtypes[0].name}")
    return [in_dtypes[0]]


def _shapes(inputs, attrs):
    if not inputs[0].shape.is_compatible_with(()):
        raise ValueError(f"count_up_to: the variable must be a scalar, got shape "
                         f"{inputs[0].shape}")
    return [inputs[0].shape]


def _kernel(ctx, handle, limit):
    current = ctx.read_variable(handle.op)
    if current >= limit:
        raise OutOfRangeError(None, ctx.op, f"Reached limit of {limit} ({describe_op(ctx.op)})")
    ctx.write_variable(handle.op, np.asarray(current + 1, current.dtype), owned=True)
    return np.array(current, copy=True)


COUNT_UP_TO = registry.register(OpDef(
    name="count_up_to", dtypes=_dtypes, shapes=_shapes, kernel=_kernel,
    grad=registry.NOT_DIFFERENTIABLE, attrs={"limit": 0}, stateful=True, foldable=False,
    needs_context=True, updates_variable=True, raises_on_values=True,
    tested_elsewhere="tests/test_input_producers.py",
    doc="Outputs the variable's value and increments it; OutOfRangeError once it is limit."))


@registry.public(COUNT_UP_TO)
def count_up_to(ref, limit, name=None):
    """The value of the integer variable ``ref`` before this run increments it; raises
    OutOfRangeError (``Reached limit of N``) once it has reached ``limit`` (TF1
    ``tf.count_up_to``).

    Example:
        >>> counter = gc.count_up_to(v, 10)
    """
    handle = ref._handle if hasattr(ref, "_handle") else ref
    if getattr(getattr(handle, "op", None), "type", None) != "variable":
        raise TypeError(f"count_up_to: ref must be a Variable, got {ref!r}")
    graph = handle.graph
    with graph.as_default():
        return get_default_graph().create_op("count_up_to", [handle], {"limit": int(limit)},
                                             name=name or "CountUpTo").outputs[0]
