"""Shared building blocks of op definitions: op application, dtype/shape rules, test data."""
from __future__ import annotations

from typing import Iterable, Optional, Sequence

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.graph import Tensor, get_default_graph
from graphc.shapes import TensorShape, broadcast_shapes
from graphc.static_values import constant_value

FLOAT, INTEGER, NUMERIC, BOOL, ANY = "floating", "integer", "numeric", "bool", "any"
# the ops TF declares for floats and signed integers only (Neg, Abs, Sign, Pow,
# SquaredDifference: no uint8 ... uint64 in their type lists)
SIGNED = "signed numeric"
# index-like inputs TF takes as int32/int64 only (ReverseSequence's Tlen ...)
SIGNED_INTEGER = "signed integer"
_KIND_CHECK = {
    FLOAT: lambda d: d.is_floating,
    INTEGER: lambda d: d.is_integer,
    NUMERIC: lambda d: d.is_numeric,
    SIGNED: lambda d: d.is_numeric and not d.is_unsigned,
    SIGNED_INTEGER: lambda d: d.is_integer and not d.is_unsigned,
    BOOL: lambda d: d.is_bool,
    ANY: lambda d: True,
}


_SCALARS = frozenset({int, float, bool})


def _is_tensor_like(value) -> bool:
    return isinstance(value, Tensor) or hasattr(value, "_as_graph_element")


def apply_op(op_type: str, inputs: Sequence, attrs: Optional[dict] = None,
             name: Optional[str] = None, dtype_hint=None):
    """Convert ``inputs`` to tensors of their common graph and append one op.

    Returns the single output Tensor, or the tuple of outputs of a multi-output op.
    """
    graph = graph_of(*inputs)
    with graph.as_default(), graph.atomic():
        tensors = [convert_to_tensor(v, dtype_hint=dtype_hint) for v in inputs]
        op = graph.create_op(op_type, tensors, attrs or {}, name=name)
    return op.outputs[0] if len(op.outputs) == 1 else op.outputs


def _inner_default(graph) -> bool:
    """Whether the default graph is one traced inside ``graph`` (a loop body or branch
    using outer tensors): the op belongs there, not in ``graph``."""
    default = get_default_graph()
    return default is not graph and getattr(default, "outer_graph", None) is not None


def apply_elementwise(op_type: str, operands: Sequence, name: Optional[str] = None,
                      attrs: Optional[dict] = None):
    """Like ``apply_op``, but Python/NumPy operands take the dtype of a tensor operand, or
    of the first operand when none is a tensor (TF1: ``tf.div(7.0, 2)`` divides floats)."""
    for value in operands:  # an eager tensor runs a planned call at once (graphc/eager)
        run_now = getattr(value.__class__, "run_elementwise", None)
        if run_now is not None:
            result = run_now(op_type, operands, name, attrs)
            if result is not None:
                return result
            break
    # the usual cases, taken straight: tensors of one graph (no Variable handles), maybe
    # with Python numbers (one loop: this runs for every op an eager program makes)
    first, numbers = None, False
    for value in operands:
        if isinstance(value, Tensor):
            if value.op.type == "variable" or (first is not None and
                                                value.op.graph is not first.op.graph):
                first = None
                break
            if first is None:
                first = value
        elif type(value) in _SCALARS:
            numbers = True
        else:
            first = None
            break
    if first is not None and not _inner_default(first.op.graph):
        graph = first.op.graph
        if not numbers:
            return graph.create_op(op_type, operands, attrs, name=name).outputs[0]
        if graph.executes_eagerly:  # one constant per Python number, shared by its uses
            tensors = [v if isinstance(v, Tensor) else graph.shared_constant(v, first.dtype)
                       for v in operands]
            return graph.create_op(op_type, tensors, attrs, name=name).outputs[0]
        with graph.as_default(), graph.atomic():
            tensors = [v if isinstance(v, Tensor) else
                       convert_to_tensor(v, dtype_hint=first.dtype) for v in operands]
            return graph.create_op(op_type, tensors, attrs, name=name).outputs[0]
    hint = next((v for v in operands if _is_tensor_like(v)), None)
    graph = graph_of(*operands)
    with graph.as_default(), graph.atomic():
        hint_dtype = convert_to_tensor(hint).dtype if hint is not None else None
        tensors = []
        for value in operands:
            tensors.append(convert_to_tensor(value, dtype_hint=hint_dtype))
            hint_dtype = hint_dtype or tensors[-1].dtype
        op = graph.create_op(op_type, tensors, attrs or {}, name=name)
    return op.outputs[0]


# -- dtype rules ---------------------------------------------------------------------------
def check_kind(op_name: str, dtype, kind: str, what: str = "input") -> None:
    if not _KIND_CHECK[kind](dtype):
        article = "an" if kind[0] in "aeiou" else "a"
        raise TypeError(f"{op_name} requires {article} {kind} {what}, got {dtype.name}")


def same_dtype_rule(op_name: str, kind: str = ANY, out=None, count: Optional[int] = None):
    """All inputs (or the first ``count``) share one dtype of ``kind``; output ``out`` or it."""
    def rule(in_dtypes, attrs):
        checked = in_dtypes if count is None else in_dtypes[:count]
        first = checked[0]
        for other in checked[1:]:
            if other is not first:
                listed = ", ".join(d.name for d in checked)
                raise TypeError(f"{op_name} requires inputs of one dtype, got {listed}")
        check_kind(op_name, first, kind)
        return [out if out is not None else first]
    return rule


def attr_dtype_rule(attr: str = "dtype"):
    """The output dtype is the op's ``dtype`` attribute."""
    return lambda in_dtypes, attrs: [gdt.as_dtype(attrs[attr])]


# -- shape rules ---------------------------------------------------------------------------
def broadcast_rule(inputs, attrs):
    return [broadcast_shapes(*(t.shape for t in inputs))]


def same_shape_rule(inputs, attrs):
    return [inputs[0].shape]


def normalize_axis(axis: int, rank: int, op_name: str, what: str = "axis") -> int:
    """``axis`` in ``[0, rank)``; negative values count from the end (NumPy/TF)."""
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise ValueError(f"{op_name}: {what} must be an int, got {axis!r}")
    if rank is None:
        raise ValueError(f"{op_name}: {what} {axis} needs the rank of the tensor, which is "
                         "unknown; give the placeholder a shape")
    if not -rank <= axis < rank:
        raise ValueError(f"{op_name}: {what} {axis} is out of range for a tensor of rank {rank}")
    return int(axis) % rank


def normalize_axes(axis, rank: int, op_name: str) -> Optional[tuple]:
    """Axis list for reductions: None means all; duplicates are an error."""
    if axis is None:
        return None
    if isinstance(axis, (list, tuple, np.ndarray)):
        axes = tuple(normalize_axis(a, rank, op_name) for a in np.asarray(axis).ravel().tolist())
    else:
        axes = (normalize_axis(axis, rank, op_name),)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op_name}: duplicate axis in {axis!r}")
    return tuple(sorted(axes))


def static_axis(value, op_name: str):
    """An axis argument as Python ints: tensors must have a constant value."""
    if _is_tensor_like(value):
        found = constant_value(convert_to_tensor(value))
        if found is None:
            raise ValueError(f"{op_name}: axis must be known when the graph is built; "
                             f"{value!r} has no constant value")
        return found.tolist()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def known(dims: Iterable) -> bool:
    return all(d is not None for d in dims)


def unknown_shape(rank: Optional[int]) -> TensorShape:
    return TensorShape(None if rank is None else [None] * rank)


# -- test data -----------------------------------------------------------------------------
_SAMPLE_RNG = np.random.default_rng(20261124)


def rand(*shape, low: float = -2.0, high: float = 2.0, dtype=np.float64) -> np.ndarray:
    """Uniform random test data of ``shape`` and ``dtype`` (deterministic across runs)."""
    return _SAMPLE_RNG.uniform(low, high, size=shape).astype(dtype)


def randint(*shape, low: int = -5, high: int = 6, dtype=np.int32) -> np.ndarray:
    return _SAMPLE_RNG.integers(low, high, size=shape).astype(dtype)


def randbool(*shape) -> np.ndarray:
    return _SAMPLE_RNG.random(size=shape) < 0.5


def unary_kind_errors(kind: str) -> list:
    """Error samples of a one-input op of dtype ``kind``: a bool (or, for bool ops, a float)
    input, and the unsigned inputs ``SIGNED`` ops refuse."""
    wrong = randbool(2, 2) if kind != BOOL else rand(2, 2)
    return [registry.ErrorSample((wrong,), error=TypeError, match="requires a")] + \
        unsigned_refusals(kind, 1)


def unsigned_refusals(kind: str, arity: int) -> list:
    """Error samples of an op of dtype ``kind`` taking ``arity`` same-dtype inputs: for
    ``SIGNED`` ops (TF lists no unsigned type for them), uint32 and uint64 inputs."""
    if kind != SIGNED:
        return []
    return [registry.ErrorSample((randint(2, low=0).astype(dtype),) * arity, error=TypeError,
                                 match=f"requires a signed numeric input, got {dtype.__name__}")
            for dtype in (np.uint32, np.uint64)]


# How ops whose split depends on ranks or host values split along the batch axis
# (OpDef.distribution, read by graphc.dask); each op's OpDef names its rule.


def matmul_split(op, host_inputs):
    """graphc.dask: 2-D ``a^T b`` contracts the batch axis (partial sums); otherwise rows of
    ``a`` (and of a batched ``b`` of the same rank) are independent. 2-D products split
    themselves over graphc's threads (graphc.ops.gemm): in a batch region's pieces, W1's
    MLP step made 792 steps/s, as its own steps 855 (its weight gradients as partial sums)."""
    rank_a, rank_b = op.inputs[0].shape.rank, op.inputs[1].shape.rank
    if rank_a is None or rank_b is None or rank_a < rank_b:
        return None
    if rank_a == 2 and op.attrs["transpose_a"]:
        return registry.Split("reduction", (0, 1), "sum", splits_itself=rank_b == 2)
    if rank_a == 2 and rank_b == 2:
        return registry.Split("rowwise", splits_itself=True)
    return registry.Split("rowwise", (0, 1) if rank_a == rank_b else (0,))


def broadcast_to_split(op, host_inputs):
    """graphc.dask: a host value without a batch axis broadcast to a batch-led shape is
    made chunk by chunk; a chunked one aligned with the result is broadcast rowwise."""
    value = host_inputs[0]
    if value is not None and (np.ndim(value) < op.outputs[0].shape.rank or
                              np.shape(value)[0] == 1):
        return registry.Split("generated", chunked=(), batch_shape=1)
    if value is None and op.inputs[0].shape.rank == op.outputs[0].shape.rank:
        return registry.Split("rowwise", batch_shape=1)
    return None


def sum_to_shape_split(op, host_inputs):
    """Rowwise when the target keeps the batch axis, else a batch sum (graphc.dask)."""
    target, rank = host_inputs[1], op.inputs[0].shape.rank
    if target is None or rank is None:
        return None
    if len(target) == rank and rank and int(target[0]) != 1:
        return registry.Split("rowwise", batch_shape=1)
    return registry.Split("reduction", combine="sum")


def fast_sigmoid(x):
    """1 / (1 + exp(-x)) in one buffer (the sigmoid kernel): scipy's expit is 2-3x slower
    on float32 (an LSTM step computes three); exp(-x) overflows to inf (quietly) where the
    result is 0, as expit's is.

    Example:
        >>> fast_sigmoid(np.zeros(2, np.float32))
        array([0.5, 0.5], dtype=float32)
    """
    result = np.negative(x)
    with np.errstate(over="ignore"):
        if not isinstance(result, np.ndarray):  # a 0-d input gives a NumPy scalar
            return np.reciprocal(1 + np.exp(result))
        np.exp(result, out=result)
    result += 1
    return np.reciprocal(result, out=result)
