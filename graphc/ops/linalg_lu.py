"""``lu``: TF's Lu op, the LU decomposition with partial pivoting of (batches of) square
matrices, ``(lu, p)`` with ``input[..., p, :] == L @ U``: ``lu`` holds ``L`` (unit diagonal,
not stored) below the diagonal and ``U`` on and above it, ``p`` the row of ``input`` that
each row of ``L @ U`` came from (``tf.linalg.lu_reconstruct`` undoes it).

TF's kernel is Eigen's PartialPivLU, whose pivot is the first entry of largest magnitude in
the column (a NaN is never chosen but at the top, where it stays), followed by TF's check
that no pivot is zero; the kernel here follows both, so ``p`` is TF's and ``lu`` differs
from TF's only in rounding. TF registers no gradient for Lu: differentiating through it
raises LookupError there and here (``lu_solve`` and ``lu_reconstruct`` are compositions of
differentiable ops, so gradients reach ``lower_upper`` and ``rhs`` through them).

Example:
    >>> lu, p = gc.linalg.lu([[1.0, 2.0], [3.0, 4.0]])   # p == [1, 0]
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.errors import describe_op
from graphc.ops.common import FLOAT, apply_op, check_kind, rand
from graphc.registry import ErrorSample, OpDef
from graphc.shapes import TensorShape

__all__ = ["lu"]

Lu = namedtuple("Lu", ["lu", "p"])
# the dtypes TF has Lu kernels for (its op also lists half, with no CPU kernel): graphc has
# no complex dtypes
LU_DTYPES = ("float32", "float64")


def square_matrix_shape(op_name: str, shape: TensorShape) -> TensorShape:
    """``shape`` with its last two dims merged (TF's shape function of the square-matrix
    ops: ``[4, None, 3]`` is ``[4, 3, 3]``); ValueError naming the op for rank < 2 or
    known, unequal dims."""
    if shape.rank is None:
        return shape
    if shape.rank < 2:
        raise ValueError(f"{op_name}: input must be matrices of rank >= 2, got shape {shape}")
    rows, columns = shape.dims[-2:]
    if None not in (rows, columns) and rows != columns:
        raise ValueError(f"{op_name}: input must be square matrices, got shape {shape} "
                         f"({rows} x {columns})")
    side = rows if rows is not None else columns
    return TensorShape(list(shape.dims[:-2]) + [side, side])


def check_matrix_dtype(op_name: str, dtype) -> None:
    check_kind(op_name, dtype, FLOAT)
    if dtype.name not in LU_DTYPES:
        raise TypeError(f"{op_name}: input of dtype {dtype.name} is not supported (TF has "
                        f"kernels for {', '.join(LU_DTYPES)} and complex dtypes)")


def _lu_dtypes(in_dtypes, attrs):
    check_matrix_dtype("lu", in_dtypes[0])
    index = gdt.as_dtype(attrs["output_idx_type"])
    if index not in (gdt.int32, gdt.int64):
        raise TypeError(f"lu: output_idx_type must be int32 or int64, got {index.name}")
    return [in_dtypes[0], index]


def _lu_shapes(inputs, attrs):
    shape = square_matrix_shape("lu", inputs[0].shape)
    return [shape, TensorShape(None) if shape.rank is None else shape[:-1]]


def _pivot_rows(column):
    """Per matrix, the row (from 0) of Eigen's pivot in ``column`` ``[batch, rows]``: the
    first of largest magnitude; a NaN is skipped, but one at the top stays the pivot."""
    magnitude = np.abs(column)
    nan = np.isnan(magnitude)
    pivot = np.argmax(np.where(nan, -np.inf, magnitude), axis=1)
    return np.where(nan[:, 0], 0, pivot)


def lu_factor(a: np.ndarray):
    """``(lu, p)`` of the matrices ``a`` ``[batch, n, n]`` by Eigen's unblocked partial
    pivoting: per column, pick the pivot, swap its row up, divide the column below by it
    (not when it is zero: the column is zero there) and update the trailing block."""
    batch, n = a.shape[0], a.shape[-1]
    lu = np.array(a, copy=True)
    perm = np.tile(np.arange(n), (batch, 1))
    every = np.arange(batch)
    with np.errstate(all="ignore"):  # NaN and Inf propagate as in Eigen
        for k in range(n):
            pivot = k + _pivot_rows(lu[:, k:, k])
            lu[every, k], lu[every, pivot] = lu[every, pivot], lu[every, k]
            perm[every, k], perm[every, pivot] = perm[every, pivot], perm[every, k]
            top = lu[:, k, k]
            divisor = np.where(top == 0, 1, top)[:, None]
            lu[:, k + 1:, k] /= divisor
            lu[:, k + 1:, k + 1:] -= lu[:, k + 1:, k, None] * lu[:, None, k, k + 1:]
    return lu, perm


def invertible(lu: np.ndarray) -> np.ndarray:
    """TF's check after the decomposition, per matrix: Eigen's minCoeff of |diag(U)| > 0.
    minCoeff starts at the first entry and skips NaN after it; TF flushes subnormals to
    zero, so a subnormal pivot counts as zero."""
    if lu.shape[-1] == 0:
        return np.ones(lu.shape[0], bool)
    magnitude = np.abs(np.diagonal(lu, axis1=-2, axis2=-1))
    smallest = np.nanmin(np.where(np.isnan(magnitude), np.inf, magnitude), axis=1)
    return ~np.isnan(magnitude[:, 0]) & (smallest >= np.finfo(lu.dtype).tiny)


def _lu_kernel(a, output_idx_type):
    n = a.shape[-1]
    flat = a.reshape((int(np.prod(a.shape[:-2])), n, n))  # -1 is ambiguous at size 0
    lu, perm = lu_factor(flat)
    bad = np.flatnonzero(~invertible(lu))
    if bad.size:
        where = np.unravel_index(bad[0], a.shape[:-2])
        raise ValueError(f"lu: Input is not invertible (matrix {where} of the batch "
                         f"{a.shape[:-2]} has a zero pivot)")
    return lu.reshape(a.shape), perm.reshape(a.shape[:-1]).astype(
        gdt.as_dtype(output_idx_type).np)


def _no_gradient(op, *dys):
    raise LookupError(f"No gradient defined for {describe_op(op)}: TF registers none for Lu "
                      "(tf.gradients raises LookupError there too); differentiate "
                      "lu_solve/lu_reconstruct with respect to lower_upper, or use "
                      "matrix_solve/matrix_inverse")


LU = registry.register(OpDef(
    name="lu", dtypes=_lu_dtypes, shapes=_lu_shapes, kernel=_lu_kernel, grad=_no_gradient,
    attrs={"output_idx_type": gdt.int32}, raises_on_values=True,  # a singular matrix
    unknown_rank_ok=True,
    # no registry samples: the gradient tests would differentiate it, which TF refuses
    tested_elsewhere="tests/test_linalg_lu.py",
    error_samples=lambda: [
        ErrorSample((rand(3, 4),), match="lu: .*square.*3 x 4"),
        ErrorSample((rand(3),), match=r"lu: .*rank >= 2.*\(3,\)"),
        ErrorSample((np.eye(3, dtype=np.int32),), error=TypeError, match="lu.*int32"),
        ErrorSample((np.eye(3, dtype=np.float16),), error=TypeError, match="lu.*float16"),
        ErrorSample((rand(2, 2),), {"output_idx_type": gdt.float32}, error=TypeError,
                    match="output_idx_type.*float32")],
    doc="(lu, p): the LU decomposition with partial pivoting, input[..., p, :] = L @ U."))


@registry.public(LU)
def lu(input, output_idx_type=gdt.int32, name=None) -> Lu:  # noqa: A002 - TF's name
    """``(lu, p)``: the LU decomposition with partial pivoting of each innermost square
    matrix of ``input`` (``[..., N, N]``, float32 or float64), TF's ``tf.linalg.lu``:
    ``input[..., p, :] == L @ U`` with ``L`` the unit lower triangle of ``lu`` and ``U`` its
    upper triangle; ``p`` is ``[..., N]`` of ``output_idx_type`` (int32 or int64). A matrix
    with a zero pivot fails at run time (InvalidArgumentError, "Input is not invertible").

    Example:
        >>> lu, p = gc.linalg.lu([[1.0, 2.0], [3.0, 4.0]])   # lu [[3, 4], [1/3, 2/3]], p [1, 0]
    """
    return Lu(*apply_op("lu", [input], {"output_idx_type": gdt.as_dtype(output_idx_type)},
                        name=name or "Lu"))
