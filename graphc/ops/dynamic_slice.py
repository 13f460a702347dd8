"""``tf.slice`` with a ``begin`` or ``size`` known only at run time (``gc.slice`` builds a
strided_slice when both are constants, this op otherwise), and its gradient, which puts
the gradient back into a zero tensor of the input's shape."""
from __future__ import annotations

import numpy as np

from graphc import registry
from graphc.graph import Tensor
from graphc.ops.common import INTEGER, apply_op, check_kind, rand, randint
from graphc.ops.shape_ops import shape as shape_of
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape
from graphc.static_values import constant_value, constant_value_as_shape

__all__ = ["dynamic_slice", "dynamic_slice_grad"]


def _window(x_shape, begin, size, op_name):
    """Python ``slice``s of the window, checked against the input's shape (TF's rules)."""
    begin, size = [int(b) for b in np.ravel(begin)], [int(s) for s in np.ravel(size)]
    if len(begin) != len(x_shape) or len(size) != len(x_shape):
        raise ValueError(f"{op_name}: begin {begin} and size {size} need one entry per dim "
                         f"of the input, shape {list(x_shape)}")
    window = []
    for dim, (b, s, n) in enumerate(zip(begin, size, x_shape)):
        end = n if s == -1 else b + s
        if b < 0 or s < -1 or end > n or end < b:
            raise ValueError(f"{op_name}: expected begin[{dim}] = {b} and size[{dim}] = {s} "
                             f"inside dimension {dim} of size {n} (input shape {list(x_shape)})")
        window.append(slice(b, end))
    return tuple(window)


def _slice_kernel(x, begin, size):
    return x[_window(x.shape, begin, size, "dynamic_slice")].copy()


def _grad_kernel(dy, begin, input_shape):
    shape = [int(d) for d in input_shape]
    out = np.zeros(shape, dy.dtype)
    out[_window(shape, begin, dy.shape, "dynamic_slice_grad")] = dy
    return out


def _check_vectors(op_name, inputs, rank):
    for tensor, what in zip(inputs[1:], ("begin", "size")):
        if tensor.shape.rank not in (None, 1) or not tensor.shape.is_compatible_with([rank]):
            raise ValueError(f"{op_name}: {what} must be a vector with one entry per dim of "
                             f"the input (rank {rank}), got shape {tensor.shape}")


def _slice_shapes(inputs, attrs):
    rank = inputs[0].shape.rank
    _check_vectors("dynamic_slice", inputs, rank)
    if rank is None:
        return [TensorShape(None)]
    size = constant_value(inputs[2])
    if size is None:
        return [TensorShape([None] * rank)]
    return [TensorShape([None if int(s) == -1 else int(s) for s in np.ravel(size)])]


def _grad_shapes(inputs, attrs):
    _check_vectors("dynamic_slice_grad", inputs, inputs[0].shape.rank)
    return [constant_value_as_shape(inputs[2])]


def _dtypes(op_name):
    def rule(in_dtypes, attrs):
        check_kind(op_name, in_dtypes[1], INTEGER, "begin")
        check_kind(op_name, in_dtypes[2], INTEGER, "size" if op_name == "dynamic_slice"
                   else "input_shape")
        return [in_dtypes[0]]
    return rule


DYNAMIC_SLICE = registry.register(OpDef(
    name="dynamic_slice", dtypes=_dtypes("dynamic_slice"), shapes=_slice_shapes,
    kernel=_slice_kernel, raises_on_values=True, fresh_output=True,
    grad=lambda op, dy: [dynamic_slice_grad(dy, op.inputs[1], shape_of(op.inputs[0])), None,
                         None],
    reference=lambda x, begin, size, name=None: x[tuple(
        slice(b, None if s == -1 else b + s) for b, s in zip(begin, size))],
    samples=lambda: [Sample((rand(4, 5), np.array([1, 2], np.int32), np.array([2, 3], np.int32))),
                     Sample((rand(3, 4, 2), np.array([0, 1, 1], np.int32),
                             np.array([-1, 2, 1], np.int32))),
                     Sample((randint(5), np.array([4], np.int32), np.array([1], np.int32))),
                     Sample((rand(3, 2), np.array([1, 0], np.int32), np.array([0, 2], np.int32))),
                     Sample((np.array([np.nan, 1.0, np.inf]), np.array([1], np.int32),
                             np.array([-1], np.int32)))],
    error_samples=lambda: [ErrorSample((rand(3, 4), np.array([0, 1, 2], np.int32),
                                        np.array([1, 1, 1], np.int32)), match="one entry")],
    doc="The size[i] elements from begin[i] (size -1: the rest) with run-time begin/size."))

DYNAMIC_SLICE_GRAD = registry.register(OpDef(
    name="dynamic_slice_grad", dtypes=_dtypes("dynamic_slice_grad"), shapes=_grad_shapes,
    kernel=_grad_kernel, raises_on_values=True, fresh_output=True,
    grad=lambda op, g: [dynamic_slice(g, op.inputs[1], shape_of(op.inputs[0])), None, None],
    reference=lambda dy, begin, input_shape, name=None: np.pad(dy, [
        (int(b), n - int(b) - d) for b, d, n in zip(begin, dy.shape, input_shape)]),
    samples=lambda: [Sample((rand(2, 3), np.array([1, 2], np.int32), [4, 5])),
                     Sample((rand(0, 2), np.array([1, 0], np.int32), [3, 2]))],
    error_samples=lambda: [ErrorSample((rand(2, 3), np.array([1, 2, 0], np.int32), [4, 5]),
                                       match="one entry")],
    doc="The gradient of dynamic_slice: dy placed at begin in zeros of the input's shape."))


@registry.public(DYNAMIC_SLICE)
def dynamic_slice(input_, begin, size, name=None) -> Tensor:
    """``input_[begin:begin + size]`` per dim, ``begin``/``size`` int tensors (size -1: the
    rest); ``gc.slice`` uses it when they are not constants.

    Example:
        >>> crop = gc.slice(image, offsets, [24, 24, -1])   # offsets computed at run time
    """
    return apply_op("dynamic_slice", [input_, begin, size], name=name or "Slice")


@registry.public(DYNAMIC_SLICE_GRAD)
def dynamic_slice_grad(dy, begin, input_shape, name=None) -> Tensor:
    """``dy`` placed at ``begin`` in a zero tensor of ``input_shape``."""
    return apply_op("dynamic_slice_grad", [dy, begin, input_shape], name=name or "SliceGrad")
