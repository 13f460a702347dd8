"""Errors, named as in ``tf.errors``, and the helpers that make every message self-explaining.

Build-time mistakes raise ``ValueError`` (shapes) or ``TypeError`` (dtypes), as TF1 does.
Run-time failures raise an ``OpError`` subclass carrying the failing ``op``. Every message
names the op, its type, the tensors with their shapes and dtypes, and the user's source line
where the op was created.
"""
from __future__ import annotations

__all__ = [
    "OpError", "CancelledError", "UnknownError", "InvalidArgumentError",
    "DeadlineExceededError", "NotFoundError", "AlreadyExistsError", "PermissionDeniedError",
    "ResourceExhaustedError", "FailedPreconditionError", "AbortedError", "OutOfRangeError",
    "UnimplementedError", "InternalError", "UnavailableError", "DataLossError",
    "UnauthenticatedError", "exception_type_from_error_code",
    "error_code_from_exception_type", "describe_tensor", "describe_op", "op_context",
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
    "UNAUTHENTICATED",
]

# TF's canonical error codes (tensorflow/core/protobuf/error_codes.proto), as ``tf.errors.*``.
OK, CANCELLED, UNKNOWN, INVALID_ARGUMENT, DEADLINE_EXCEEDED = 0, 1, 2, 3, 4
NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED, RESOURCE_EXHAUSTED = 5, 6, 7, 8
FAILED_PRECONDITION, ABORTED, OUT_OF_RANGE, UNIMPLEMENTED, INTERNAL = 9, 10, 11, 12, 13
UNAVAILABLE, DATA_LOSS, UNAUTHENTICATED = 14, 15, 16


class OpError(Exception):
    """A run-time failure of one operation (TF1 ``tf.errors.OpError``).

    ``.op`` is the failing Operation (or None), ``.node_def`` its definition (None here),
    ``.message`` the text and ``.error_code`` TF's canonical code. Subclasses take TF's
    ``(node_def, op, message)`` and know their code.

    Example:
        >>> try:
        ...     sess.run(next_element)
        ... except gc.errors.OutOfRangeError as err:
        ...     print(err.error_code, err.op.name)   # 11 IteratorGetNext
    """

    code = UNKNOWN  # the subclass's canonical code

    def __init__(self, node_def, op, message: str, error_code=None, *args):
        super().__init__(message)
        self.node_def = node_def
        self.op = op
        self.message = message
        self.error_code = type(self).code if error_code is None else error_code

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):  # picklable: the op stays behind (it belongs to a graph)
        return type(self), (self.node_def, None, self.message, self.error_code)


class CancelledError(OpError):
    """An operation was cancelled."""

    code = CANCELLED


class UnknownError(OpError):
    """An error of no other kind."""

    code = UNKNOWN


class InvalidArgumentError(OpError):
    """An op received an argument it cannot handle (bad feed, kernel failure...)."""

    code = INVALID_ARGUMENT


class DeadlineExceededError(OpError):
    """A deadline expired before the operation completed."""

    code = DEADLINE_EXCEEDED


class NotFoundError(OpError):
    """A named element does not exist."""

    code = NOT_FOUND


class AlreadyExistsError(OpError):
    """An entity that an operation tried to create already exists."""

    code = ALREADY_EXISTS


class PermissionDeniedError(OpError):
    """The caller may not run the operation."""

    code = PERMISSION_DENIED


class ResourceExhaustedError(OpError):
    """Some resource (memory...) has been exhausted."""

    code = RESOURCE_EXHAUSTED


class FailedPreconditionError(OpError):
    """The system is not in a state to run the op (an uninitialized variable or iterator)."""

    code = FAILED_PRECONDITION


class AbortedError(OpError):
    """The operation was aborted."""

    code = ABORTED


class OutOfRangeError(OpError):
    """Iterated past the end of the input (an exhausted ``tf.data`` iterator)."""

    code = OUT_OF_RANGE


class UnimplementedError(OpError):
    """The operation is not implemented for these arguments."""

    code = UNIMPLEMENTED


class InternalError(OpError):
    """An internal invariant was broken."""

    code = INTERNAL


class UnavailableError(OpError):
    """The runtime is currently unavailable."""

    code = UNAVAILABLE


class DataLossError(OpError):
    """Unrecoverable data loss or corruption."""

    code = DATA_LOSS


class UnauthenticatedError(OpError):
    """The request lacks valid credentials."""

    code = UNAUTHENTICATED


_CLASS_OF_CODE = {cls.code: cls for cls in OpError.__subclasses__()}


def exception_type_from_error_code(error_code: int) -> type:
    """The OpError subclass of a canonical code (TF1 ``tf.errors``' function of that name)."""
    try:
        return _CLASS_OF_CODE[error_code]
    except KeyError:
        raise KeyError(f"Unknown error code: {error_code}") from None


def error_code_from_exception_type(cls: type) -> int:
    """The canonical code of an OpError subclass."""
    if not (isinstance(cls, type) and issubclass(cls, OpError)):
        raise KeyError(f"Unknown class exception: {cls!r}")
    return cls.code


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
