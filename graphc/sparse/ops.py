"""TF1's functions on SparseTensors (``tf.sparse.*`` and the top-level ``tf.sparse_*``
spellings), built from the ops in graphc/ops/sparse_ops.py on the three parts.

Example:
    >>> st = gc.sparse.from_dense([[0.0, 2.0], [3.0, 0.0]])
    >>> y = gc.sparse.sparse_dense_matmul(st, W)         # = dense @ W, gradients to W
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor, graph_of
from graphc.ops.common import apply_op
from graphc.ops.linalg import matmul
from graphc.ops.scatter import gather_nd
from graphc.ops.select import cast, where
from graphc.ops.elementwise import not_equal
from graphc.ops.shape_ops import broadcast_to, reshape as dense_reshape, shape as shape_of
from graphc.ops.sparse_ops import sparse_tensor_dense_matmul_op
from graphc.sparse.tensor import SparseTensor, SparseTensorValue

__all__ = ["to_dense", "sparse_to_dense", "from_dense", "reorder", "reshape",
           "sparse_dense_matmul", "reduce_sum"]


def _sparse(value, what: str) -> SparseTensor:
    if isinstance(value, SparseTensorValue):
        return SparseTensor.from_value(value)
    if not isinstance(value, SparseTensor):
        raise TypeError(f"{what}: expected a SparseTensor, got {type(value).__name__}")
    return value


def _int64(value):
    """``value`` as an int64 tensor (an int32 tensor cast, as TF's index inputs take both)."""
    tensor = convert_to_tensor(value, dtype_hint=gdt.int64)
    return tensor if tensor.dtype is gdt.int64 else cast(tensor, gdt.int64)


def sparse_to_dense(sparse_indices, output_shape, sparse_values, default_value=0,
                    validate_indices=True, name=None):
    """A dense tensor of ``output_shape`` holding ``default_value`` but ``sparse_values``
    at ``sparse_indices`` (TF1 ``tf.sparse_to_dense``: indices a scalar, a vector (into a
    1-D output) or ``[N, rank]``; values a scalar for all or ``[N]``).

    Raises (when run):
        InvalidArgumentError: an index out of bounds, or (``validate_indices``) repeated or
            out of row-major order.

    Example:
        >>> gc.sparse_to_dense([1, 3], [5], 1.0)          # [0, 1, 0, 1, 0]
    """
    with graph_of(sparse_indices, output_shape, sparse_values).as_default():
        indices = _int64(sparse_indices)
        if indices.shape.rank is None or indices.shape.rank < 2:
            indices = dense_reshape(indices, [-1, 1])
        values = convert_to_tensor(sparse_values)
        if values.shape.rank == 0:
            values = broadcast_to(values, shape_of(indices, out_type=gdt.int64)[:1])
        shape = _int64(output_shape)
        if shape.shape.rank != 1:
            shape = dense_reshape(shape, [-1])
        default = convert_to_tensor(default_value, dtype=values.dtype)
        return apply_op("sparse_to_dense", [indices, shape, values, default],
                        {"validate_indices": bool(validate_indices)},
                        name=name or "SparseToDense")


def to_dense(sp_input, default_value=None, validate_indices=True, name=None):
    """The dense tensor of a SparseTensor, ``default_value`` (0) where it has no value (TF1
    ``tf.sparse.to_dense`` / ``tf.sparse_tensor_to_dense``). Its gradient reaches the values.

    Example:
        >>> gc.sparse.to_dense(gc.SparseTensor([[0, 1]], [5], [2, 2]))   # [[0, 5], [0, 0]]
    """
    sp = _sparse(sp_input, "sparse.to_dense")
    default = 0 if default_value is None else default_value
    return sparse_to_dense(sp.indices, sp.dense_shape, sp.values, default, validate_indices,
                           name=name or "SparseToDense")


def from_dense(tensor, name=None) -> SparseTensor:
    """The SparseTensor of the nonzero entries of ``tensor`` (TF1 ``tf.sparse.from_dense``),
    in row-major order; its values' gradient reaches ``tensor``.

    Example:
        >>> st = gc.sparse.from_dense([[0, 7], [0, 0]])   # indices [[0, 1]], values [7]
    """
    with graph_of(tensor).as_default():
        tensor = convert_to_tensor(tensor)
        indices = cast(where(not_equal(tensor, np.zeros((), tensor.dtype.np))), gdt.int64)
        return SparseTensor(indices, gather_nd(tensor, indices),
                            shape_of(tensor, out_type=gdt.int64))


def reorder(sp_input, name=None) -> SparseTensor:
    """The same SparseTensor with its entries in row-major (canonical) order, as most sparse
    ops need (TF1 ``tf.sparse.reorder``).

    Example:
        >>> gc.sparse.reorder(gc.SparseTensor([[1, 0], [0, 1]], [1, 2], [2, 2]))
    """
    sp = _sparse(sp_input, "sparse.reorder")
    indices, values, _ = apply_op("sparse_reorder", [sp.indices, sp.values, sp.dense_shape],
                                  name=name or "SparseReorder")
    return SparseTensor(indices, values, sp.dense_shape)


def reshape(sp_input, shape, name=None) -> SparseTensor:
    """The SparseTensor with the dense shape ``shape`` (one dim may be -1), entries kept in
    row-major order (TF1 ``tf.sparse.reshape``).

    Example:
        >>> gc.sparse.reshape(st, [-1])                   # a [6] vector from a [2, 3] matrix
    """
    sp = _sparse(sp_input, "sparse.reshape")
    with graph_of(sp.values).as_default():
        new_shape = _int64(shape)
        indices, dense_shape = apply_op("sparse_reshape", [sp.indices, sp.dense_shape,
                                                           new_shape],
                                        name=name or "SparseReshape")
    return SparseTensor(indices, sp.values, dense_shape)


def sparse_dense_matmul(sp_a, b, adjoint_a=False, adjoint_b=False, name=None):
    """``A @ b`` for a sparse matrix ``sp_a`` and a dense matrix ``b`` (TF1
    ``tf.sparse.sparse_dense_matmul`` / ``tf.sparse_tensor_dense_matmul``), with gradients
    for A's values and for ``b``.

    Example:
        >>> logits = gc.sparse.sparse_dense_matmul(features, W)   # bag-of-words features
    """
    sp = _sparse(sp_a, "sparse_dense_matmul")
    return sparse_tensor_dense_matmul_op(sp.indices, sp.values, sp.dense_shape,
                                         convert_to_tensor(b, dtype_hint=sp.dtype),
                                         adjoint_a, adjoint_b, name)


def reduce_sum(sp_input, axis=None, keepdims=None, reduction_axes=None, keep_dims=None,
               name=None):
    """The sum of a SparseTensor's values over ``axis`` (all when None), as a dense tensor
    (TF1 ``tf.sparse.reduce_sum`` / ``tf.sparse_reduce_sum``); its gradient reaches the values.

    Example:
        >>> gc.sparse.reduce_sum(gc.SparseTensor([[0, 1], [1, 1]], [2, 3], [2, 2]), axis=1)
    """
    sp = _sparse(sp_input, "sparse.reduce_sum")
    axis = reduction_axes if axis is None else axis
    keep = keep_dims if keepdims is None else keepdims
    axes = None if axis is None else tuple(int(a) for a in np.atleast_1d(axis))
    return apply_op("sparse_reduce_sum", [sp.indices, sp.values, sp.dense_shape],
                    {"axis": axes, "keepdims": bool(keep)}, name=name or "SparseReduceSum")


def sparse_matmul(a, b, transpose_a=False, transpose_b=False, a_is_sparse=False,
                  b_is_sparse=False, name=None):
    """TF1's ``tf.sparse_matmul``: a dense matmul of two dense matrices; the ``*_is_sparse``
    hints only chose a kernel in TF, so graphc's ``matmul`` serves for all of them.

    Example:
        >>> gc.sparse_matmul(x, W, b_is_sparse=True)     # == gc.matmul(x, W)
    """
    return matmul(a, b, transpose_a=transpose_a, transpose_b=transpose_b, name=name)
