"""Errors, named as in ``tf.errors``, and the helpers that make every message self-explaining.

Build-time mistakes raise ``ValueError`` (shapes) or ``TypeError`` (dtypes), as TF1 does.
Run-time failures raise an ``OpError`` subclass carrying the failing ``op``. Every message
names the op, its type, the tensors with their shapes and dtypes, and the user's source line
where the op was created.
"""
from __future__ import annotations

__all__ = [
    "OpError", "InvalidArgumentError", "FailedPreconditionError", "NotFoundError",
    "UnimplementedError", "describe_tensor", "describe_op", "op_context",
]


class OpError(Exception):
    """A run-time failure of one operation. ``.op`` is the Operation (or None)."""

    def __init__(self, node_def, op, message: str):
        super().__init__(message)
        self.node_def = node_def
        self.op = op
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidArgumentError(OpError):
    """An op received an argument it cannot handle (bad feed, kernel failure...)."""


class FailedPreconditionError(OpError):
    """The system is not in a state to run the op (e.g. an uninitialized variable)."""


class NotFoundError(OpError):
    """A named element does not exist."""


class UnimplementedError(OpError):
    """The operation is not implemented for these arguments."""


def describe_tensor(tensor) -> str:
    """``'x:0' float32 (?, 784)``: the name, dtype and static shape of a tensor."""
    return f"'{tensor.name}' {tensor.dtype.name} {tensor.shape}"


def describe_op(op) -> str:
    """``op 'dense/MatMul' (matmul, defined at model.py:12)``, plus the optimizer's rule and
    the user ops it stands for when the op was made by a compiler pass."""
    where = f", defined at {op.location}" if getattr(op, "location", None) else ""
    made_by, sources = getattr(op, "provenance", (None, ()))
    origin = ""
    if made_by is not None:
        origin = f", made by {made_by} from user op(s) {', '.join(repr(s) for s in sources)}"
    return f"op '{op.name}' ({op.type}{where}{origin})"


def op_context(op_type: str, name: str, inputs, location=None) -> str:
    """The context line for an op that could not be built (it has no Operation yet)."""
    where = f", at {location}" if location else ""
    listed = ", ".join(describe_tensor(t) for t in inputs) or "no inputs"
    return f"op '{name}' ({op_type}{where}) with inputs [{listed}]"
