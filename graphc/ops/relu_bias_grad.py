"""``relu_bias_grad``: a ReLU's gradient and the gradient of the bias added before it, in
one pass (made by the relu_bias_grads pass, passes/relu_bias_grads.py, from a fused ReLU
gradient ``dy * cast(y > 0)`` and the ``reduce_sum`` over its leading axes that the
gradient of ``bias_add`` builds).

Inputs: ``features`` (the ReLU's output ``y``, ``(..., C)``), then one or more upstream
gradients, summed in order as ``add_n`` sums them. Outputs: ``backprops = (sum of the
gradients) * cast(y > 0)`` (shapes broadcast as the unfused ops do) and ``bias_grad``, its
sum over every axis but the last.

A training step otherwise masks the gradient in one pass and sums it for the bias in a
second (W7's seven ReLU gradients, in-process A/B of the whole step on a Zen 4 EPYC: 4.4 ->
3.0 ms of the (b) step, which took 4% less, and 4% less at (a)).

``backprops`` is bitwise the unfused ops' (the compiled loops of graphc.ops.relu_grad_loops
make the same IEEE operations, NaN, infinities and signed zeros included). ``bias_grad``
adds each column's terms in row order from +0.0, as ``np.sum`` over the leading axes does
(bitwise), on one thread below SPLIT_MIN_ELEMENTS; from there the rows go in pieces to
graphc's pool (graphc.ops.batch_split) and the pieces' column sums are added in row order
(the same bits for a given thread count). The loop runs at one core's memory bandwidth:
on a 2-vCPU Intel Xeon host two threads took W7 (b)'s ReLU gradients of 16-32 channels
from 1.25 to 0.84 ms (conv1's) and 0.71 to 0.61 ms (24 channels) in the step; 8 channels
gained nothing (on a Zen 4 EPYC neither size did). Against ``reduce_sum``'s own kernel (a
GEMV with ones) it differs within the float-sum bound. Without numba, for other dtypes, broadcast
shapes or size 0, the kernel makes the unfused ops' NumPy calls.

Example:
    >>> dz, db = relu_bias_grad(y, [dy])     # dy * cast(y > 0), reduce_sum(that, [0, 1, 2])
"""
from __future__ import annotations

import numpy as np

from graphc import registry
from graphc.ops.batch_split import summed_by_batch
from graphc.ops.common import FLOAT, apply_op, rand, same_dtype_rule
from graphc.ops.conv_loops import HAVE_NUMBA
from graphc.ops.elementwise import ADD_N, greater, multiply
from graphc.ops.select import cast
from graphc.ops.shape_ops import broadcast_to, shape, sum_to_shape
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape, broadcast_shapes

__all__ = ["relu_bias_grad", "RELU_BIAS_GRAD"]

_FLOATS = (np.float32, np.float64)
# from this many elements the loop's rows are shared with the pool's threads (see the
# module docstring: W7 (b)'s 32768 x 16-32 gradients, not its 32768 x 8 ones)
SPLIT_MIN_ELEMENTS = 1 << 19


def _shapes(inputs, attrs):
    if len(inputs) < 2:
        raise ValueError("relu_bias_grad needs at least one gradient")
    backprops = broadcast_shapes(*(t.shape for t in inputs))
    if backprops.rank == 0:
        raise ValueError("relu_bias_grad needs features of rank 1 or more, got a scalar")
    return [backprops, TensorShape([backprops.dims[-1]])]


def _dtypes(in_dtypes, attrs):
    return same_dtype_rule("relu_bias_grad", FLOAT)(in_dtypes, attrs) * 2


def _unfused(features, gradients):
    """The unfused ops' NumPy calls: add_n's sum, greater, cast, multiply, reduce_sum."""
    total = ADD_N.kernel(*gradients) if len(gradients) > 1 else gradients[0]
    mask = np.greater(features, features.dtype.type(0)).astype(total.dtype)
    backprops = np.multiply(total, mask)
    bias_grad = registry.get("reduce_sum").kernel(
        backprops, axis=tuple(range(backprops.ndim - 1)), keepdims=False)
    return backprops, np.asarray(bias_grad)


def _compiled(features, gradients) -> bool:
    """Whether the compiled loops take these arrays: one float dtype, one shape of rank 2
    or more and some elements, C-contiguous."""
    return (HAVE_NUMBA and features.dtype.type in _FLOATS and features.ndim >= 2
            and features.size > 0 and features.flags.c_contiguous
            and all(g.dtype == features.dtype and g.shape == features.shape
                    and g.flags.c_contiguous for g in gradients))


def _kernel(features, *gradients, out=None):
    """``(backprops, bias_grad)``, written into ``out`` (a pair of arrays kept by the plan's
    arena) where the compiled loops run and the arrays fit."""
    if not _compiled(features, gradients):
        return _unfused(features, gradients)
    if len(gradients) > 2:  # add_n's first sums, in its order; the loop adds the last
        gradients = (ADD_N.kernel(*gradients[:-1]), gradients[-1])
    backprops, bias_grad = _outputs(out, features)
    from graphc.ops import relu_grad_loops  # imports numba: here, not at import time
    loop = relu_grad_loops.masked_sums if len(gradients) == 1 else relu_grad_loops.masked_sums2
    channels = bias_grad.size
    matrices = [a.reshape(-1, channels) for a in (features, *gradients, backprops)]

    def rows(lo, hi, totals):
        loop(*(m[lo:hi].reshape(-1) for m in matrices), totals)
        return totals
    # pieces of rows on the pool from SPLIT_MIN_ELEMENTS, their column sums added in row order
    summed_by_batch(len(matrices[0]), features.size, rows, bias_grad, long_pieces=False,
                    minimum=SPLIT_MIN_ELEMENTS)
    return backprops, bias_grad


def _outputs(out, features):
    """``out`` where both arrays fit (C-contiguous, the features' dtype, the results'
    shapes), else new arrays."""
    if out is not None:
        backprops, bias_grad = out
        if (backprops.shape == features.shape and backprops.dtype == features.dtype
                and backprops.flags.c_contiguous and bias_grad.dtype == features.dtype
                and bias_grad.shape == features.shape[-1:] and bias_grad.flags.c_contiguous):
            return backprops, bias_grad
    return (np.empty(features.shape, features.dtype),
            np.empty(features.shape[-1:], features.dtype))


def _grad(op, backprops_grad, bias_grad_grad):
    """``g * cast(y > 0)`` for each gradient, with ``g`` the upstream gradient of
    ``backprops`` plus that of ``bias_grad`` broadcast over the leading axes (summed back
    where a gradient was broadcast); the mask is flat almost everywhere, so ``features``
    gets none."""
    features, *gradients = op.inputs
    backprops = op.outputs[0]
    if backprops.shape.rank is None:  # before building anything: a refusal changes nothing
        raise ValueError(f"relu_bias_grad: the gradient of op '{op.name}' needs inputs of "
                         "known rank (the bias gradient sums every axis but the last)")
    total = backprops_grad
    if bias_grad_grad is not None:
        total = (broadcast_to(bias_grad_grad, shape(backprops)) if total is None
                 else total + bias_grad_grad)
    if total is None:
        return [None] * len(op.inputs)
    masked = multiply(total, cast(greater(features, 0.0), total.dtype))
    return [None] + [masked if g.shape.is_fully_defined() and g.shape == backprops.shape
                     else sum_to_shape(masked, shape(g)) for g in gradients]


def _reference(features, gradients):
    total = sum(np.asarray(g, np.float64) for g in gradients)
    backprops = total * (np.asarray(features) > 0)
    return backprops, backprops.sum(axis=tuple(range(backprops.ndim - 1)))


def _distribution(op, host_inputs):
    """Rowwise over the features and gradients, the bias gradient a sum over the batch,
    where the features have a batch axis apart from the channels' (a vector's channels
    are its only axis)."""
    rank = op.inputs[0].shape.rank
    if rank is None or rank < 2:
        return None
    return registry.Split("rowwise", chunked=tuple(range(len(op.inputs))), sums=(1,))


RELU_BIAS_GRAD = registry.register(OpDef(
    name="relu_bias_grad", dtypes=_dtypes, shapes=_shapes, kernel=_kernel, grad=_grad,
    fresh_output=True, takes_out=True, reference=_reference, distribution=_distribution,
    samples=lambda: [Sample((rand(4, 3), [rand(4, 3)])),
                     Sample((rand(2, 3, 5), [rand(2, 3, 5), rand(2, 3, 5)])),
                     Sample((rand(2, 2, 2, 3), [rand(2, 2, 2, 3), rand(2, 2, 2, 3),
                                                rand(2, 2, 2, 3)])),
                     Sample((rand(3, 4), [rand(1, 4), rand(3, 1)])),  # broadcast
                     Sample((rand(5), [rand(5)])),
                     Sample((rand(3, 4, dtype=np.float32), [rand(3, 4, dtype=np.float32)]))],
    error_samples=lambda: [
        ErrorSample((rand(4, 3), [rand(4, 2)]), match="Incompatible shapes"),
        ErrorSample((rand(4, 3), [rand(4, 3).astype(np.float32)]), error=TypeError,
                    match="one dtype")],
    doc="A ReLU's gradient dy * cast(y > 0) and its sum over all axes but the last (the "
        "gradient of the bias added before it), in one pass; made by the relu_bias_grads "
        "pass."))


@registry.public(RELU_BIAS_GRAD)
def relu_bias_grad(features, gradients, name=None):
    """``(backprops, bias_grad)``: ``add_n(gradients) * cast(features > 0)`` and its sum
    over every axis but the last.

    Example:
        >>> dz, db = relu_bias_grad(y, [dy_a, dy_b])   # (dy_a + dy_b) masked, and summed
    """
    return apply_op("relu_bias_grad", [features] + list(gradients),
                    name=name or "ReluBiasGrad")
