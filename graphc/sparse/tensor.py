"""``SparseTensor``: a tensor given by its nonzero entries, as TF1 builds it: a composite of
three ordinary graph tensors, ``indices`` (int64 ``[N, rank]``), ``values`` (``[N]``) and
``dense_shape`` (int64 ``[rank]``), so that the compiler passes and the runtime see only
tensors. ``session.run`` of a SparseTensor gives a ``SparseTensorValue`` (the three arrays),
and a ``sparse_placeholder`` is fed one.

Example:
    >>> st = gc.SparseTensor(indices=[[0, 0], [1, 2]], values=[1.0, 2.0], dense_shape=[3, 4])
    >>> sess.run(gc.sparse.to_dense(st))[1]
    array([0., 0., 2., 0.], dtype=float32)
"""
from __future__ import annotations

import collections

import numpy as np

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor, graph_of
from graphc.default_session import session_for
from graphc.graph import get_default_graph
from graphc.ops.control import placeholder
from graphc.ops.elementwise import multiply, truediv
from graphc.ops.scatter import gather_nd
from graphc.ops.shape_ops import broadcast_to
from graphc.shapes import TensorShape
from graphc.static_values import constant_value_as_shape

__all__ = ["SparseTensor", "SparseTensorValue", "sparse_placeholder",
           "convert_to_tensor_or_sparse_tensor"]


class SparseTensorValue(collections.namedtuple("SparseTensorValue",
                                               ["indices", "values", "dense_shape"])):
    """A SparseTensor's value: the three NumPy arrays (what ``session.run`` gives, and what
    a ``sparse_placeholder`` is fed).

    Example:
        >>> gc.SparseTensorValue(indices=[[0, 1]], values=[5], dense_shape=[2, 2])
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return (f"SparseTensorValue(indices={self.indices!r}, values={self.values!r}, "
                f"dense_shape={self.dense_shape!r})")


class SparseTensor:
    """A sparse tensor: ``values[i]`` sits at ``indices[i]`` of a ``dense_shape`` tensor,
    every other entry is zero (TF1 ``tf.SparseTensor``). Indices should be in row-major
    order (``gc.sparse.reorder`` sorts them), as TF's ops expect.

    Args:
        indices: int64 ``[N, rank]`` (a tensor or anything ``convert_to_tensor`` takes).
        values: ``[N]``, any dtype.
        dense_shape: int64 ``[rank]``.

    Raises:
        ValueError: the parts' ranks or static sizes do not fit together.

    Example:
        >>> st = gc.SparseTensor([[0, 3]], [7], [1, 5])
        >>> st.shape
        TensorShape([1, 5])
    """

    def __init__(self, indices, values, dense_shape):
        with graph_of(indices, values, dense_shape).as_default():
            self._indices = convert_to_tensor(indices, dtype=gdt.int64, name="indices")
            self._values = convert_to_tensor(values, name="values")
            self._dense_shape = convert_to_tensor(dense_shape, dtype=gdt.int64,
                                                  name="dense_shape")
        index_shape, value_shape, shape_shape = (part.shape for part in self._parts())
        if index_shape.rank not in (None, 2) or value_shape.rank not in (None, 1) or \
                shape_shape.rank not in (None, 1):
            raise ValueError(f"SparseTensor: indices must be [N, rank], values [N] and "
                             f"dense_shape [rank]; got shapes {index_shape}, {value_shape} "
                             f"and {shape_shape}")
        count, rank = index_shape.dims if index_shape.rank == 2 else (None, None)
        if None not in (count, value_shape.rank) and value_shape[0] not in (None, count):
            raise ValueError(f"SparseTensor: {count} indices but {value_shape[0]} values")
        if None not in (rank, shape_shape.rank) and shape_shape[0] not in (None, rank):
            raise ValueError(f"SparseTensor: indices of rank {rank} but a dense_shape of "
                             f"{shape_shape[0]} dims")

    @classmethod
    def from_value(cls, value) -> "SparseTensor":
        """A SparseTensor of constants holding a SparseTensorValue (or a SparseTensor)."""
        if isinstance(value, SparseTensor):
            return value
        return cls(value.indices, value.values, value.dense_shape)

    indices = property(lambda self: self._indices, doc="int64 [N, rank]: where the values sit")
    values = property(lambda self: self._values, doc="[N]: the values")
    dense_shape = property(lambda self: self._dense_shape, doc="int64 [rank]: the shape")
    dtype = property(lambda self: self._values.dtype, doc="the values' dtype")
    graph = property(lambda self: self._values.graph)
    op = property(lambda self: self._values.op, doc="the op making the values")

    @property
    def shape(self) -> TensorShape:
        """The static dense shape (dims known where ``dense_shape`` is constant)."""
        shape = constant_value_as_shape(self._dense_shape)
        rank = self._indices.shape[1] if self._indices.shape.rank == 2 else None
        if shape.rank is None and rank is not None:
            return TensorShape([None] * rank)
        return shape

    def get_shape(self) -> TensorShape:
        return self.shape

    def eval(self, feed_dict=None, session=None) -> SparseTensorValue:
        """This tensor's SparseTensorValue in ``session`` (default: the default session)."""
        return session_for(session, self._values).run(self, feed_dict)

    def consumers(self) -> list:
        return [op for part in self._parts() for op in part.consumers()]

    def _parts(self) -> tuple:
        return (self._indices, self._values, self._dense_shape)

    _composite_parts = _parts  # dataset structures carry the three tensors as components

    @classmethod
    def _from_composite_parts(cls, parts) -> "SparseTensor":
        return cls(*parts)

    def _fetch_components(self):
        """What ``session.run`` fetches for this composite, and how its result is made."""
        return self._parts(), SparseTensorValue

    def _feed_components(self, value):
        """``(tensor, array)`` feeds for the parts, from a SparseTensorValue (or a triple)."""
        if isinstance(value, SparseTensor) or not (
                isinstance(value, SparseTensorValue) or
                (isinstance(value, tuple) and len(value) == 3)):
            raise TypeError(f"A SparseTensor ({self._values.name}) is fed a "
                            f"SparseTensorValue (indices, values, dense_shape), got "
                            f"{type(value).__name__}")
        return list(zip(self._parts(), value))

    def _with_dense(self, other, combine, symbol: str) -> "SparseTensor":
        """``self <op> other`` for a dense ``other`` broadcast to the dense shape (TF's
        sparse-dense cwise ops): a SparseTensor with the same indices."""
        if isinstance(other, (SparseTensor, SparseTensorValue)):
            raise TypeError(f"SparseTensor {symbol} SparseTensor is not supported; use "
                            f"gc.sparse.to_dense on one operand")
        with graph_of(self._values, other).as_default():
            dense = convert_to_tensor(other, dtype_hint=self.dtype)
            picked = gather_nd(broadcast_to(dense, self._dense_shape), self._indices)
            return SparseTensor(self._indices, combine(self._values, picked),
                                self._dense_shape)

    def __mul__(self, other) -> "SparseTensor":
        return self._with_dense(other, multiply, "*")

    def __truediv__(self, other) -> "SparseTensor":
        return self._with_dense(other, truediv, "/")

    __div__ = __truediv__

    def __repr__(self) -> str:
        return (f"SparseTensor(indices={self._indices!r}, values={self._values!r}, "
                f"dense_shape={self._dense_shape!r})")


def sparse_placeholder(dtype, shape=None, name=None) -> SparseTensor:
    """A SparseTensor fed a SparseTensorValue (TF1 ``tf.sparse_placeholder``).

    Args:
        dtype: the values' dtype.
        shape: the dense shape (a list with None for unknown dims, or None: unknown rank);
            a fully known shape becomes a constant ``dense_shape``.

    Example:
        >>> sp = gc.sparse_placeholder(gc.float32, [None, 10])
        >>> sess.run(gc.sparse.reduce_sum(sp), {sp: gc.SparseTensorValue([[0, 1]], [2.], [3, 10])})
        2.0
    """
    rank = None if shape is None else len(TensorShape(shape).dims)
    with get_default_graph().name_scope(name or "Placeholder"):
        values = placeholder(dtype, [None], name="values")
        indices = placeholder(gdt.int64, [None, rank], name="indices")
        known = shape is not None and all(d is not None for d in TensorShape(shape).dims)
        dense_shape = (convert_to_tensor(np.array(TensorShape(shape).as_list(), np.int64),
                                         name="shape") if known
                       else placeholder(gdt.int64, [rank], name="shape"))
    return SparseTensor(indices, values, dense_shape)


def convert_to_tensor_or_sparse_tensor(value, dtype=None, name=None):
    """``value`` as a SparseTensor (a SparseTensor, or a SparseTensorValue made constant) or
    else as a Tensor (TF1 ``tf.convert_to_tensor_or_sparse_tensor``)."""
    if isinstance(value, SparseTensorValue):
        value = SparseTensor.from_value(value)
    if isinstance(value, SparseTensor):
        if dtype is not None and gdt.as_dtype(dtype) is not value.dtype:
            raise TypeError(f"Types don't match: {value.dtype.name} and "
                            f"{gdt.as_dtype(dtype).name}")
        return value
    return convert_to_tensor(value, dtype=dtype, name=name)
