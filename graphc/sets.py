"""``gc.sets``: TF's set operations along the last dimension of dense tensors and
SparseTensors (``tf.sets`` and TF1's ``tf.sets.set_*`` names); results are SparseTensors
whose rows are sorted. The kernels are graphc/ops/sets.py.

As in TF, a dense operand may meet a sparse one only as ``a`` (intersection and union swap
their operands for that; a difference flips to ``b - a``).

Example:
    >>> a = gc.constant([[1, 2, 3], [4, 5, 6]])
    >>> b = gc.constant([[3, 1, 9], [7, 8, 9]])
    >>> gc.sets.intersection(a, b)          # rows {1, 3} and {}
    >>> gc.sets.size(gc.sets.union(a, b))   # [[4, 6]] as int32
"""
from __future__ import annotations

from graphc.ops.common import apply_op
from graphc.sparse.tensor import SparseTensor, convert_to_tensor_or_sparse_tensor

__all__ = ["intersection", "union", "difference", "size", "set_intersection", "set_union",
           "set_difference", "set_size"]


def _parts(operand) -> list:
    return [operand.indices, operand.values, operand.dense_shape] \
        if isinstance(operand, SparseTensor) else [operand]


def _operands(a, b):
    """``(a, b, flipped)``: SparseTensors or tensors, a sparse ``a`` with a dense ``b``
    swapped (TF's rule: only dense-sparse pairs have a kernel)."""
    a = convert_to_tensor_or_sparse_tensor(a, name="a")
    b = convert_to_tensor_or_sparse_tensor(b, name="b")
    if isinstance(a, SparseTensor) and not isinstance(b, SparseTensor):
        return b, a, True
    return a, b, False


def _apply(a, b, operation, validate_indices, name):
    parts = apply_op("set_operation", _parts(a) + _parts(b),
                     {"operation": operation, "a_sparse": isinstance(a, SparseTensor),
                      "b_sparse": isinstance(b, SparseTensor),
                      "validate_indices": bool(validate_indices)}, name=name)
    return SparseTensor(*parts)


def intersection(a, b, validate_indices=True, name=None) -> SparseTensor:
    """The elements each row of ``a`` and of ``b`` share (TF's ``tf.sets.intersection``).

    Example:
        >>> gc.sets.intersection([[1, 2]], [[2, 3]])   # [[2]]
    """
    a, b, _ = _operands(a, b)
    return _apply(a, b, "intersection", validate_indices, name or "set_intersection")


def union(a, b, validate_indices=True, name=None) -> SparseTensor:
    """The elements of each row of ``a`` or of ``b`` (TF's ``tf.sets.union``).

    Example:
        >>> gc.sets.union([[1, 2]], [[2, 3]])   # [[1, 2, 3]]
    """
    a, b, _ = _operands(a, b)
    return _apply(a, b, "union", validate_indices, name or "set_union")


def difference(a, b, aminusb=True, validate_indices=True, name=None) -> SparseTensor:
    """Each row of ``a`` without the elements of ``b``'s (``b - a`` when not ``aminusb``)
    (TF's ``tf.sets.difference``).

    Example:
        >>> gc.sets.difference([[1, 2]], [[2, 3]])   # [[1]]
    """
    a, b, flipped = _operands(a, b)
    operation = "a-b" if aminusb != flipped else "b-a"
    return _apply(a, b, operation, validate_indices, name or "set_difference")


def size(a, validate_indices=True, name=None):
    """How many distinct values each row of SparseTensor ``a`` holds, int32 of its leading
    shape (TF's ``tf.sets.size``).

    Example:
        >>> gc.sets.size(gc.sets.union(a, b))
    """
    a = convert_to_tensor_or_sparse_tensor(a, name="a")
    if not isinstance(a, SparseTensor):
        raise TypeError(f"sets.size: expected a SparseTensor, got {a}")
    return apply_op("set_size", [a.indices, a.values, a.dense_shape],
                    {"validate_indices": bool(validate_indices)}, name=name or "set_size")


set_intersection, set_union, set_difference, set_size = intersection, union, difference, size
