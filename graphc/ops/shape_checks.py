"""Small TF1 ops about identity and shapes: ``identity_n`` (several tensors through one
op: how ``custom_gradient`` attaches a gradient), ``ensure_shape`` (a shape checked at run
time and known after it), ``shape_n`` and ``broadcast_dynamic_shape`` /
``broadcast_static_shape``.

Example:
    >>> y = gc.ensure_shape(x, [None, 3])      # fails the run if x is not [?, 3]
    >>> gc.broadcast_static_shape(gc.TensorShape([2, 1]), gc.TensorShape([3]))  # (2, 3)
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.ops.common import apply_op, rand
from graphc.ops.shape_ops import shape
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape

__all__ = ["identity_n", "ensure_shape", "shape_n", "broadcast_dynamic_shape",
           "broadcast_static_shape"]


IDENTITY_N = registry.register(OpDef(
    name="identity_n", dtypes=lambda in_dtypes, attrs: list(in_dtypes),
    shapes=lambda inputs, attrs: [t.shape for t in inputs],
    kernel=lambda *arrays: tuple(arrays), grad=lambda op, *dys: list(dys),
    unknown_rank_ok=True, foldable=False,  # custom_gradient hangs its gradient on this op
    reference=lambda values: list(values),
    samples=lambda: [Sample(([rand(2, 3), rand(4)],)), Sample(([rand(0, 2), rand(3)],))],
    error_samples=lambda: [],
    doc="Its inputs, unchanged, as one op's outputs (TF1 IdentityN)."))


@registry.public(IDENTITY_N)
def identity_n(input, name=None):  # noqa: A002 - TF1's argument name
    """The tensors of the list ``input``, unchanged, as the outputs of one op (TF1
    ``tf.identity_n``).

    Example:
        >>> a2, b2 = gc.identity_n([a, b])
    """
    tensors = list(input)
    if not tensors:
        raise ValueError("identity_n: input must be a non-empty list of tensors")
    outputs = apply_op("identity_n", tensors, name=name or "IdentityN")
    return list(outputs) if isinstance(outputs, tuple) else [outputs]


def _ensure_kernel(x, shape):
    if not TensorShape(list(shape)).is_compatible_with(TensorShape(list(x.shape))):
        raise ValueError(f"ensure_shape: shape of tensor {list(x.shape)} is not compatible "
                         f"with expected shape {list(shape)}")
    return x


def _ensure_shapes(inputs, attrs):
    known, wanted = inputs[0].shape, TensorShape(list(attrs["shape"]))
    if not known.is_compatible_with(wanted):
        raise ValueError(f"ensure_shape: shape of tensor {known} is not compatible with "
                         f"expected shape {wanted}")
    return [known.merge_with(wanted)]


ENSURE_SHAPE = registry.register(OpDef(
    name="ensure_shape", dtypes=lambda in_dtypes, attrs: [in_dtypes[0]],
    shapes=_ensure_shapes, kernel=_ensure_kernel, grad=lambda op, dy: [dy],
    attrs={"shape": None}, raises_on_values=True, unknown_rank_ok=True,
    reference=lambda x, shape: x,
    samples=lambda: [Sample((rand(2, 3), (None, 3))), Sample((rand(4), (4,)))],
    error_samples=lambda: [ErrorSample((rand(2, 3), (2, 4)), match="not compatible")],
    doc="x, after checking at run time that its shape fits shape (None: any size)."))


@registry.public(ENSURE_SHAPE)
def ensure_shape(x, shape, name=None):  # noqa: A002
    """``x``, checked at run time to have a shape compatible with ``shape`` (None dims
    match any size); its static shape is the merge of both (TF1 ``tf.ensure_shape``).

    Example:
        >>> images = gc.ensure_shape(decoded, [None, 28, 28, 1])
    """
    dims = TensorShape(shape).dims
    if dims is None:
        raise ValueError("ensure_shape: shape must have a known rank")
    return apply_op("ensure_shape", [x], {"shape": tuple(dims)}, name=name or "EnsureShape")


def shape_n(input, out_type=gdt.int32, name=None):  # noqa: A002
    """The shapes of the tensors of ``input``, one 1-D tensor each (TF1 ``tf.shape_n``).

    Example:
        >>> sa, sb = gc.shape_n([a, b])
    """
    return [shape(t, out_type=out_type) for t in input]


def _broadcast_args_shapes(inputs, attrs):
    ranks = [t.shape.dims[0] if t.shape.rank == 1 else None for t in inputs]
    for t in inputs:
        if t.shape.rank not in (None, 1):
            raise ValueError(f"broadcast_dynamic_shape: shapes must be vectors, got {t.shape}")
    return [TensorShape([None if None in ranks else max(ranks)])]


def _broadcast_args_kernel(a, b):
    try:
        return np.asarray(np.broadcast_shapes(tuple(a.tolist()), tuple(b.tolist())), a.dtype)
    except ValueError:
        raise ValueError(f"broadcast_dynamic_shape: incompatible shapes {a.tolist()} and "
                         f"{b.tolist()}") from None


def _broadcast_args_dtypes(in_dtypes, attrs):
    if in_dtypes[0] is not in_dtypes[1] or in_dtypes[0] not in (gdt.int32, gdt.int64):
        raise TypeError(f"broadcast_dynamic_shape: shapes must both be int32 or int64, got "
                        f"{in_dtypes[0].name} and {in_dtypes[1].name}")
    return [in_dtypes[0]]


BROADCAST_ARGS = registry.register(OpDef(
    name="broadcast_args", dtypes=_broadcast_args_dtypes, shapes=_broadcast_args_shapes,
    kernel=_broadcast_args_kernel, grad=registry.NOT_DIFFERENTIABLE, raises_on_values=True,
    unknown_rank_ok=True, reference=lambda a, b: np.array(np.broadcast_shapes(
        tuple(a.tolist()), tuple(b.tolist()))),
    samples=lambda: [Sample((np.array([2, 1, 3], np.int32), np.array([4, 1], np.int32))),
                     Sample((np.array([], np.int64), np.array([5], np.int64)))],
    error_samples=lambda: [],
    doc="The shape two shapes broadcast to (TF1 BroadcastArgs)."))


@registry.public(BROADCAST_ARGS)
def broadcast_dynamic_shape(shape_x, shape_y):
    """The shape (a 1-D int tensor) that tensors of shapes ``shape_x`` and ``shape_y``
    broadcast to; incompatible shapes fail the run (TF1 ``tf.broadcast_dynamic_shape``).

    Example:
        >>> gc.broadcast_dynamic_shape(gc.shape(a), gc.shape(b))
    """
    return apply_op("broadcast_args", [shape_x, shape_y], name="BroadcastArgs")


def broadcast_static_shape(shape_x, shape_y) -> TensorShape:
    """The TensorShape ``shape_x`` and ``shape_y`` broadcast to (None dims stay unknown);
    ValueError if they cannot broadcast (TF1 ``tf.broadcast_static_shape``).

    Example:
        >>> gc.broadcast_static_shape(gc.TensorShape([2, 1]), gc.TensorShape([3]))  # (2, 3)
    """
    x, y = TensorShape(shape_x), TensorShape(shape_y)
    if x.rank is None or y.rank is None:
        return TensorShape(None)
    dims = []
    for a, b in zip(reversed([1] * (y.rank - x.rank) + list(x.dims)),
                    reversed([1] * (x.rank - y.rank) + list(y.dims))):
        if a == 1:
            dims.append(b)
        elif b == 1 or a == b:
            dims.append(a)
        elif a is None or b is None:
            dims.append(a if b is None else b)
        else:
            raise ValueError(f"Incompatible shapes for broadcasting: {x} and {y}")
    return TensorShape(list(reversed(dims)))

