"""``TensorArray``: TF1's list of same-shaped tensors, as a value over one stacked tensor.

Every operation returns a new TensorArray (value semantics: ``ta = ta.write(t, x)``, as TF1
code already writes it); inside ``while_loop`` a TensorArray is one loop variable, its
stacked tensor. Element shapes are learnt from the first write when not given; a
``dynamic_size`` array grows when written past its end.
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.graph import Tensor
from graphc.ops.common import apply_op
from graphc.ops.indexing import gather
from graphc.ops.shape_ops import reshape, shape
from graphc.registry import OpDef
from graphc.shapes import TensorShape, as_shape
from graphc.static_values import constant_value

__all__ = ["TensorArray"]


def _new_shapes(inputs, attrs):
    element = as_shape(attrs["element_shape"])
    size = constant_value(inputs[0])
    first = None if size is None or attrs["dynamic"] else int(size)
    if not element.is_fully_defined():
        return [TensorShape(None)]  # its element shape comes with the first write
    return [TensorShape([first, *element.dims])]


def _new_kernel(size, dtype, element_shape, dynamic):
    element = as_shape(element_shape)
    dims = list(element.dims) if element.is_fully_defined() else []
    return np.zeros([int(size), *dims], dtype=gdt.as_dtype(dtype).np)


NEW = registry.register(OpDef(
    name="tensor_array_new", dtypes=lambda d, attrs: [gdt.as_dtype(attrs["dtype"])],
    shapes=_new_shapes, kernel=_new_kernel, grad=registry.NOT_DIFFERENTIABLE,
    attrs={"dtype": gdt.float32, "element_shape": TensorShape(None), "dynamic": False},
    fresh_output=True, unknown_rank_ok=True, tested_elsewhere="tests/test_control_flow.py",
    doc="The stacked zeros of a new TensorArray (rank 1 until the element shape is known)."))


def _rows_for(ta, value, index, dynamic, op_name):
    """``ta`` as an array with room for ``value`` at ``index`` (shaped by the first write,
    grown when dynamic)."""
    value = np.asarray(value)
    element = value.shape[1 if np.ndim(index) else 0:]
    if ta.ndim == 1 and element:  # the first write of non-scalar elements shapes the array
        ta = np.zeros([ta.shape[0], *element], ta.dtype)
    top = int(np.max(index)) + 1 if np.size(index) else 0
    if top > ta.shape[0]:
        if not dynamic:
            raise ValueError(f"{op_name}: index {top - 1} is out of range for a TensorArray "
                             f"of size {ta.shape[0]} (use dynamic_size=True to grow it)")
        grown = np.zeros([top, *ta.shape[1:]], ta.dtype)
        grown[:ta.shape[0]] = ta
        return grown
    return ta.copy()


def _in_place(ta, out, value, index) -> bool:
    """Whether ``ta`` (handed over as ``out``) can take the update itself."""
    if out is not ta:
        return False
    single = np.ndim(index) == 0
    element = np.shape(value)[0 if single else 1:]
    top = int(index) + 1 if single else int(np.max(index)) + 1 if np.size(index) else 0
    return out is ta and ta.flags.writeable and ta.ndim == len(element) + 1 \
        and ta.shape[1:] == element and top <= ta.shape[0]


def _write_kernel(ta, index, value, dynamic, out=None):
    if _in_place(ta, out, value, index):
        ta[int(index)] = value
        return ta
    out = _rows_for(ta, value, index, dynamic, "TensorArray.write")
    if out.shape[1:] != np.shape(value):
        raise ValueError(f"TensorArray.write: value of shape {np.shape(value)} for elements "
                         f"of shape {out.shape[1:]}")
    out[int(index)] = value
    return out


def _scatter_kernel(ta, indices, values, dynamic, out=None):
    if _in_place(ta, out, values, indices):
        ta[np.asarray(indices)] = values
        return ta
    out = _rows_for(ta, values, indices, dynamic, "TensorArray.scatter")
    out[np.asarray(indices)] = values
    return out


def _updated_shapes(inputs, attrs):
    ta, index, value = inputs
    rows = None if attrs["dynamic"] or ta.shape.rank is None else ta.shape.dims[0]
    element = value.shape if index.shape.rank == 0 else (
        TensorShape(value.shape.dims[1:]) if value.shape.rank else TensorShape(None))
    if element.rank is None:
        return [TensorShape(None)]
    return [TensorShape([rows, *element.dims])]


def _update_dtypes(in_dtypes, attrs):
    ta, index, value = in_dtypes
    if ta is not value:
        raise TypeError(f"TensorArray of {ta.name} cannot take a value of dtype {value.name}")
    if not index.is_integer:
        raise TypeError(f"TensorArray index must be an integer, got {index.name}")
    return [ta]


def _update_grad(op, dy):
    """d(ta) is ``dy`` without the rows written (and cut to the old size); d(value) the
    written rows of ``dy``."""
    ta, index, value = op.inputs
    written = gather(dy, index)
    if written.shape.rank is None:  # dy of an array whose element shape was unknown
        written.set_shape(value.shape)
    # a fixed-size array has dy's rows: its value is not read, so a loop writing it keeps
    # no history of it for the gradient (a growing one keeps it, for its old length)
    rows = _rows(ta if op.attrs["dynamic"] else dy)
    return [apply_op("tensor_array_unwritten", [dy, index, rows]), None, written]


def _rows(tensor):
    return gather(shape(tensor, out_type=gdt.int32), 0)


def _unwritten_kernel(dy, index, rows, out=None):
    rows = int(rows)
    if out is dy and dy.flags.writeable and dy.shape[0] == rows:
        out = dy  # handed over (a backward loop's own gradient array): zero rows in place
    else:
        out = np.array(dy[:rows], copy=True)
    index = np.asarray(index)
    out[index[index < rows] if index.ndim else (index if index < rows else [])] = 0
    return out


for _name, _kernel in (("tensor_array_write", _write_kernel),
                       ("tensor_array_scatter", _scatter_kernel)):
    registry.register(OpDef(
        name=_name, dtypes=_update_dtypes, shapes=_updated_shapes, kernel=_kernel,
        grad=_update_grad, attrs={"dynamic": False}, fresh_output=True, unknown_rank_ok=True,
        updates_input=True,
        tested_elsewhere="tests/test_control_flow.py",
        doc="The stacked tensor of a TensorArray with rows at the index(es) replaced."))

UNWRITTEN = registry.register(OpDef(
    name="tensor_array_unwritten", dtypes=lambda d, a: [d[0]],
    shapes=lambda ins, a: [TensorShape(None) if ins[0].shape.rank is None else
                           TensorShape([None, *ins[0].shape.dims[1:]])],
    kernel=_unwritten_kernel, grad=lambda op, dy: [apply_op(
        "tensor_array_unwritten", [dy, op.inputs[1], _rows(op.inputs[0])]), None, None],
    fresh_output=True, unknown_rank_ok=True, updates_input=True,
    tested_elsewhere="tests/test_control_flow.py",
    doc="The gradient of a TensorArray write for the array: the first ``rows`` rows of dy, "
        "without the written ones."))


class TensorArray:
    """TF1's ``tf.TensorArray`` (value semantics over a stacked tensor).

    Example:
        >>> ta = gc.TensorArray(gc.float32, size=3)
        >>> ta = ta.write(0, x).write(1, 2 * x).write(2, 3 * x)
        >>> ta.stack()                    # shape [3] + x.shape
    """

    def __init__(self, dtype, size=None, dynamic_size=None, clear_after_read=None,
                 tensor_array_name=None, handle=None, flow=None, infer_shape=True,
                 element_shape=None, colocate_with_first_write_call=True, name=None,
                 _tensor=None):
        self._dtype = gdt.as_dtype(dtype)
        self._dynamic = bool(dynamic_size)
        self._element_shape = as_shape(element_shape) if element_shape is not None \
            else TensorShape(None)
        if _tensor is None:
            if size is None:
                if not self._dynamic:
                    raise ValueError("TensorArray: size is needed unless dynamic_size=True")
                size = 0
            graph = graph_of(size)
            with graph.as_default(), graph.atomic():
                size = convert_to_tensor(size, dtype=gdt.int32)
                _tensor = graph.create_op(
                    "tensor_array_new", [size],
                    {"dtype": self._dtype, "element_shape": self._element_shape,
                     "dynamic": self._dynamic}, name=name or "TensorArray").outputs[0]
        self._tensor = _tensor
        known = constant_value(size) if isinstance(size, Tensor) else size
        self._size = None if self._dynamic or known is None else int(known)

    # -- value semantics ----------------------------------------------------------------
    def _flat(self) -> Tensor:
        return self._tensor

    def _rebuilt(self, tensor: Tensor) -> "TensorArray":
        out = TensorArray(self._dtype, dynamic_size=self._dynamic,
                          element_shape=self._element_shape, _tensor=tensor)
        out._size = self._size
        return out

    @property
    def _invariant(self) -> TensorShape:
        """Its shape as a loop variable: any rank until the element shape is known, any
        length when it grows."""
        if self._element_shape.rank is None or not self._element_shape.is_fully_defined():
            return TensorShape(None)
        first = None if self._dynamic else self._tensor.shape.dims[0] \
            if self._tensor.shape.rank else None
        return TensorShape([first, *self._element_shape.dims])

    @property
    def dtype(self):
        return self._dtype

    @property
    def element_shape(self) -> TensorShape:
        return self._element_shape

    @property
    def flow(self) -> Tensor:
        return self._tensor

    @property
    def handle(self) -> Tensor:
        return self._tensor

    def _updated(self, op_type, index, value, name):
        graph = graph_of(self._tensor, index, value)
        with graph.as_default(), graph.atomic():
            value = convert_to_tensor(value, dtype=self._dtype)
            index = convert_to_tensor(index, dtype_hint=gdt.int32)
            element = value.shape if op_type == "tensor_array_write" else (
                TensorShape(value.shape.dims[1:]) if value.shape.rank else TensorShape(None))
            if not self._element_shape.is_compatible_with(element):
                raise ValueError(f"TensorArray: value of element shape {element} does not "
                                 f"fit the element shape {self._element_shape}")
            tensor = graph.create_op(op_type, [self._tensor, index, value],
                                     {"dynamic": self._dynamic}, name=name).outputs[0]
        out = self._rebuilt(tensor)
        out._element_shape = self._element_shape.merge_with(element)
        if self._size is not None and out._element_shape.rank is not None:
            tensor.set_shape([self._size, *out._element_shape.dims])
        return out

    def write(self, index, value, name=None) -> "TensorArray":
        """A TensorArray with ``value`` at ``index``."""
        return self._updated("tensor_array_write", index, value, name or "TensorArrayWrite")

    def scatter(self, indices, value, name=None) -> "TensorArray":
        """A TensorArray with rows of ``value`` at ``indices``."""
        return self._updated("tensor_array_scatter", indices, value,
                             name or "TensorArrayScatter")

    def unstack(self, value, name=None) -> "TensorArray":
        """A TensorArray whose elements are ``value``'s rows."""
        value = convert_to_tensor(value, dtype=self._dtype)
        out = self._rebuilt(value)
        if value.shape.rank:
            out._element_shape = TensorShape(value.shape.dims[1:])
        return out

    def read(self, index, name=None) -> Tensor:
        """The element at ``index``."""
        out = gather(self._tensor, index, name=name or "TensorArrayRead")
        if self._element_shape.rank is not None and out.shape.rank is None:
            out.set_shape(self._element_shape)
        return out

    def gather(self, indices, name=None) -> Tensor:
        """The elements at ``indices``, stacked."""
        return gather(self._tensor, indices, name=name or "TensorArrayGather")

    def stack(self, name=None) -> Tensor:
        """All elements stacked along a new first axis."""
        tensor = self._tensor
        if tensor.shape.rank is None and self._element_shape.rank is not None:
            graph = graph_of(tensor)
            with graph.as_default():
                tensor = graph.create_op("identity", [tensor],
                                         name=name or "TensorArrayStack").outputs[0]
            tensor.set_shape([self._size, *self._element_shape.dims])
        return tensor

    def concat(self, name=None) -> Tensor:
        """All elements concatenated along their first axis."""
        tensor = self.stack()
        tail = [] if tensor.shape.rank is None else [-1 if d is None else d
                                                      for d in tensor.shape.dims[2:]]
        return reshape(tensor, [-1, *tail], name=name or "TensorArrayConcat")

    def size(self, name=None) -> Tensor:
        """The number of elements (a scalar int32 tensor)."""
        return gather(shape(self._tensor, out_type=gdt.int32), 0, name=name or "size")

    def identity(self) -> "TensorArray":
        return self

    def close(self, name=None):
        graph = graph_of(self._tensor)
        return graph.create_op("no_op", [], {}, name=name or "TensorArrayClose")

    def __repr__(self) -> str:
        return f"<gc.TensorArray {self._dtype.name} elements {self._element_shape}>"
