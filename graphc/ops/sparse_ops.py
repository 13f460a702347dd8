"""Ops on SparseTensors' parts (indices ``[N, rank]`` int64, values ``[N]``, dense_shape
``[rank]`` int64): ``sparse_to_dense``, ``sparse_reorder``, ``sparse_reshape``,
``sparse_tensor_dense_matmul`` (with gradients for the values and the dense operand) and
``sparse_reduce_sum``. ``graphc/sparse/`` builds them from SparseTensor objects.

Example:
    >>> dense = apply_op("sparse_to_dense", [indices, shape, values, 0.0])
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.ops import elementwise, reduce, select, shape_ops
from graphc.ops.common import apply_op
from graphc.ops.counting import invert_permutation
from graphc.ops.indexing import gather
from graphc.ops.scatter import gather_nd
from graphc.registry import OpDef
from graphc.shapes import TensorShape
from graphc.static_values import constant_value, constant_value_as_shape

__all__ = ["SPARSE_TO_DENSE", "SPARSE_REORDER", "SPARSE_RESHAPE",
           "SPARSE_TENSOR_DENSE_MATMUL", "SPARSE_REDUCE_SUM"]

_TESTS = "tests/test_sparse.py"


def _check_int64(op_name: str, dtype, what: str) -> None:
    if dtype is not gdt.int64:
        raise TypeError(f"{op_name}: {what} must be int64, got {dtype.name}")


def _check_in_bounds(op_name: str, indices: np.ndarray, shape) -> None:
    bad = np.nonzero(((indices < 0) | (indices >= np.asarray(shape, np.int64))).any(axis=1))[0]
    if bad.size:
        raise ValueError(f"{op_name}: indices[{bad[0]}] = {indices[bad[0]].tolist()} is out "
                         f"of bounds: need 0 <= index < {list(shape)}")


def _check_order(op_name: str, indices: np.ndarray, shape) -> None:
    if indices.shape[0] < 2 or 0 in shape:
        return
    linear = np.ravel_multi_index(tuple(indices.T), shape)
    steps = np.diff(linear)
    if (steps <= 0).any():
        at = int(np.argmax(steps <= 0)) + 1
        kind = "repeated" if steps[at - 1] == 0 else "out of order"
        raise ValueError(f"{op_name}: indices[{at}] = {indices[at].tolist()} is {kind}; many "
                         f"sparse ops need sorted indices, use gc.sparse.reorder")


# -- sparse_to_dense: (indices, output_shape, values, default_value) -> dense ---------------

def _to_dense_dtypes(in_dtypes, attrs):
    _check_int64("sparse_to_dense", in_dtypes[0], "indices")
    _check_int64("sparse_to_dense", in_dtypes[1], "output_shape")
    if in_dtypes[3] is not in_dtypes[2]:
        raise TypeError(f"sparse_to_dense: default_value ({in_dtypes[3].name}) must have the "
                        f"values' dtype ({in_dtypes[2].name})")
    return [in_dtypes[2]]


def _to_dense_shapes(inputs, attrs):
    return [constant_value_as_shape(inputs[1])]


def _to_dense_kernel(indices, output_shape, values, default_value, validate_indices):
    shape = tuple(int(d) for d in np.reshape(output_shape, -1))
    if indices.shape[1:] != (len(shape),) or values.shape != indices.shape[:1]:
        raise ValueError(f"sparse_to_dense: indices of shape {list(indices.shape)} and values "
                         f"of shape {list(values.shape)} do not fit a dense shape {list(shape)}")
    _check_in_bounds("sparse_to_dense", indices, shape)
    if validate_indices:
        _check_order("sparse_to_dense", indices, shape)
    out = np.full(shape, default_value, dtype=values.dtype)
    out[tuple(indices.T)] = values
    return out


def _to_dense_grad(op, grad):
    picked = gather_nd(grad, op.inputs[0])
    return [None, None, picked, reduce.reduce_sum(grad) - reduce.reduce_sum(picked)]


SPARSE_TO_DENSE = registry.register(OpDef(
    name="sparse_to_dense", dtypes=_to_dense_dtypes, shapes=_to_dense_shapes,
    kernel=_to_dense_kernel, grad=_to_dense_grad, attrs={"validate_indices": True},
    raises_on_values=True, tested_elsewhere=_TESTS,
    doc="A dense tensor of default_value with values at indices."))


# -- sparse_reorder: (indices, values, dense_shape) -> indices, values in row-major order --

def _reorder_dtypes(in_dtypes, attrs):
    _check_int64("sparse_reorder", in_dtypes[0], "indices")
    return [gdt.int64, in_dtypes[1], gdt.int64]


def _reorder_shapes(inputs, attrs):
    return [inputs[0].shape, inputs[1].shape, TensorShape(inputs[1].shape.dims)]


def _reorder_kernel(indices, values, dense_shape):
    order = np.lexsort(indices.T[::-1]) if indices.size else np.arange(len(values))
    return indices[order], values[order], order.astype(np.int64)


def _reorder_grad(op, indices_grad, values_grad, order_grad):
    if values_grad is None:
        return [None, None, None]
    return [None, gather(values_grad, invert_permutation(op.outputs[2])), None]


SPARSE_REORDER = registry.register(OpDef(
    name="sparse_reorder", dtypes=_reorder_dtypes, shapes=_reorder_shapes,
    kernel=_reorder_kernel, grad=_reorder_grad, tested_elsewhere=_TESTS,
    doc="Indices and values sorted into row-major order, and the permutation applied."))


# -- sparse_reshape: (indices, shape, new_shape) -> new indices, output shape ---------------

def _reshape_dtypes(in_dtypes, attrs):
    for dtype, what in zip(in_dtypes, ("indices", "shape", "new_shape")):
        _check_int64("sparse_reshape", dtype, what)
    return [gdt.int64, gdt.int64]


def _reshape_shapes(inputs, attrs):
    rank = inputs[2].shape[0] if inputs[2].shape.rank == 1 else None
    count = inputs[0].shape[0] if inputs[0].shape.rank == 2 else None
    return [TensorShape([count, rank]), TensorShape([rank])]


def _reshape_kernel(indices, shape, new_shape):
    size = int(np.prod(shape, dtype=np.int64))
    target = np.array(new_shape, np.int64)
    unknown = np.nonzero(target == -1)[0]
    if unknown.size > 1 or (target < -1).any():
        raise ValueError(f"sparse_reshape: at most one dim of new_shape may be -1, got "
                         f"{target.tolist()}")
    if unknown.size:
        rest = int(np.prod(np.delete(target, unknown[0]), dtype=np.int64))
        if rest == 0 or size % rest:
            raise ValueError(f"sparse_reshape: cannot reshape {list(shape)} into "
                             f"{target.tolist()}")
        target[unknown[0]] = size // rest
    if int(np.prod(target, dtype=np.int64)) != size:
        raise ValueError(f"sparse_reshape: cannot reshape a dense shape of {size} elements "
                         f"{list(shape)} into {target.tolist()}")
    _check_in_bounds("sparse_reshape", indices, shape)
    if not indices.shape[0]:
        return np.zeros((0, target.size), np.int64), target
    linear = np.ravel_multi_index(tuple(indices.T), tuple(shape))
    return np.stack(np.unravel_index(linear, tuple(target)), axis=1).astype(np.int64), target


SPARSE_RESHAPE = registry.register(OpDef(
    name="sparse_reshape", dtypes=_reshape_dtypes, shapes=_reshape_shapes,
    kernel=_reshape_kernel, grad=registry.NOT_DIFFERENTIABLE, raises_on_values=True,
    tested_elsewhere=_TESTS, doc="The indices of a SparseTensor reshaped to new_shape."))


# -- sparse_tensor_dense_matmul: (a_indices, a_values, a_shape, b) -> A @ b ----------------

def _matmul_dtypes(in_dtypes, attrs):
    _check_int64("sparse_tensor_dense_matmul", in_dtypes[0], "a_indices")
    _check_int64("sparse_tensor_dense_matmul", in_dtypes[2], "a_shape")
    if in_dtypes[1] is not in_dtypes[3] or not (in_dtypes[3].is_floating or
                                                in_dtypes[3].is_integer):
        raise TypeError(f"sparse_tensor_dense_matmul: the sparse values ({in_dtypes[1].name}) "
                        f"and b ({in_dtypes[3].name}) must have one numeric dtype")
    return [in_dtypes[3]]


def _matmul_shapes(inputs, attrs):
    a_shape, b = constant_value_as_shape(inputs[2]), inputs[3].shape
    if b.rank not in (None, 2):
        raise ValueError(f"sparse_tensor_dense_matmul: b must be a matrix, got shape {b}")
    rows = a_shape[1 if attrs["adjoint_a"] else 0] if a_shape.rank == 2 else None
    cols = b[0 if attrs["adjoint_b"] else 1] if b.rank == 2 else None
    return [TensorShape([rows, cols])]


def _matmul_kernel(a_indices, a_values, a_shape, b, adjoint_a, adjoint_b):
    rows, cols = a_indices[:, 0], a_indices[:, 1]
    m, n = (int(d) for d in a_shape)
    _check_in_bounds("sparse_tensor_dense_matmul", a_indices, (m, n))
    if adjoint_a:
        rows, cols, m, n = cols, rows, n, m
    b = b.T if adjoint_b else b
    if b.shape[0] != n:
        raise ValueError(f"sparse_tensor_dense_matmul: cannot multiply A of shape {[m, n]} "
                         f"(after adjoint_a) by b of shape {list(b.shape)} (after adjoint_b)")
    out = np.zeros((m, b.shape[1]), dtype=b.dtype)
    np.add.at(out, rows, a_values[:, None] * b[cols])
    return out


def _matmul_grad(op, grad):
    a_indices, a_values, a_shape, b = op.inputs
    adjoint_a, adjoint_b = op.attrs["adjoint_a"], op.attrs["adjoint_b"]
    rows, cols = gather(a_indices, 0, axis=1), gather(a_indices, 1, axis=1)
    # d values[i] = sum_k grad[row_i, k] * b[col_i, k] (rows and cols swapped by adjoint_a)
    parts_grad = gather(grad, cols if adjoint_a else rows)
    parts_b = gather(shape_ops.transpose(b) if adjoint_b else b, rows if adjoint_a else cols)
    values_grad = reduce.reduce_sum(elementwise.multiply(parts_grad, parts_b), axis=1)
    b_grad = sparse_tensor_dense_matmul_op(a_indices, a_values, a_shape, grad,
                                           adjoint_a=not adjoint_a)
    return [None, values_grad, None, shape_ops.transpose(b_grad) if adjoint_b else b_grad]


SPARSE_TENSOR_DENSE_MATMUL = registry.register(OpDef(
    name="sparse_tensor_dense_matmul", dtypes=_matmul_dtypes, shapes=_matmul_shapes,
    kernel=_matmul_kernel, grad=_matmul_grad,
    attrs={"adjoint_a": False, "adjoint_b": False}, raises_on_values=True,
    tested_elsewhere=_TESTS, doc="The product of a sparse matrix A and a dense matrix b."))


def sparse_tensor_dense_matmul_op(a_indices, a_values, a_shape, b, adjoint_a=False,
                                  adjoint_b=False, name=None):
    """The matmul op on a SparseTensor's parts (``gc.sparse.sparse_dense_matmul`` builds it
    from a SparseTensor)."""
    return apply_op("sparse_tensor_dense_matmul", [a_indices, a_values, a_shape, b],
                    {"adjoint_a": bool(adjoint_a), "adjoint_b": bool(adjoint_b)},
                    name=name or "SparseTensorDenseMatMul")


# -- sparse_reduce_sum: (indices, values, dense_shape) -> dense sums over axis --------------

def _reduce_dtypes(in_dtypes, attrs):
    _check_int64("sparse_reduce_sum", in_dtypes[0], "indices")
    return [in_dtypes[1]]


def _reduce_shapes(inputs, attrs):
    shape = constant_value_as_shape(inputs[2])
    if shape.rank is None and inputs[0].shape.rank == 2 and inputs[0].shape[1] is not None:
        shape = TensorShape([None] * inputs[0].shape[1])
    if shape.rank is None:
        return [TensorShape(None)]
    axes = _axes(attrs["axis"], shape.rank)
    if attrs["keepdims"]:
        return [TensorShape([1 if i in axes else d for i, d in enumerate(shape.dims)])]
    return [TensorShape([d for i, d in enumerate(shape.dims) if i not in axes])]


def _axes(axis, rank: int) -> set:
    if axis is None:
        return set(range(rank))
    bad = [a for a in axis if not -rank <= a < rank]
    if bad:
        raise ValueError(f"sparse_reduce_sum: axis {bad[0]} is out of range for rank {rank}")
    return {a % rank for a in axis}


def _reduce_kernel(indices, values, dense_shape, axis, keepdims):
    shape = [int(d) for d in dense_shape]
    axes = _axes(axis, len(shape))
    _check_in_bounds("sparse_reduce_sum", indices, shape)
    kept = [i for i in range(len(shape)) if i not in axes]
    if kept:
        out = np.zeros([shape[i] for i in kept], dtype=values.dtype)
        np.add.at(out, tuple(indices[:, kept].T), values)
    else:
        out = np.array(values.sum(), dtype=values.dtype)
    return out.reshape([1 if i in axes else d for i, d in enumerate(shape)]) if keepdims \
        else out


def _reduce_grad(op, grad):
    indices, _, dense_shape = op.inputs
    rank = indices.shape[1] if indices.shape.rank == 2 else None
    if rank is None:
        raise ValueError("sparse_reduce_sum: the gradient needs the rank of the indices known")
    reduced = np.array([i in _axes(op.attrs["axis"], rank) for i in range(rank)])
    # grad with the reduced dims kept as 1, read at each index with those coordinates 0
    kept_shape = select.where(reduced, np.ones(rank, np.int64), dense_shape)
    grad = shape_ops.reshape(grad, kept_shape)
    kept_indices = elementwise.multiply(indices, (~reduced).astype(np.int64))
    return [None, gather_nd(grad, kept_indices), None]


SPARSE_REDUCE_SUM = registry.register(OpDef(
    name="sparse_reduce_sum", dtypes=_reduce_dtypes, shapes=_reduce_shapes,
    kernel=_reduce_kernel, grad=_reduce_grad, attrs={"axis": None, "keepdims": False},
    raises_on_values=True, tested_elsewhere=_TESTS,
    doc="Sums of a SparseTensor's values over axis, as a dense tensor."))
