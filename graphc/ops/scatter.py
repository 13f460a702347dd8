"""N-dimensional indexing: gather_nd reads slices at index tuples, scatter_nd and the
tensor_scatter_nd family write them (TF1 ``tf.gather_nd``, ``tf.scatter_nd``,
``tf.tensor_scatter_nd_update``/``_add``/``_sub``).

``indices`` has shape ``[..., q]``: each row of its last dim is a tuple of ``q`` coordinates
into the first ``q`` dims of the indexed tensor, and picks the slice ``tensor[i0, ..., iq-1]``.
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.graph import Tensor
from graphc.ops import creation, elementwise, select, shape_ops
from graphc.ops.common import apply_op, rand
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape
from graphc.static_values import constant_value_as_shape

__all__ = ["gather_nd", "scatter_nd", "tensor_scatter_nd_update", "tensor_scatter_nd_add",
           "tensor_scatter_nd_max", "tensor_scatter_nd_min",
           "tensor_scatter_nd_sub", "tensor_scatter_update", "tensor_scatter_add",
           "tensor_scatter_sub"]


def _check_integer(op_name, dtype, what="indices"):
    if not dtype.is_integer:
        raise TypeError(f"{op_name}: {what} must be integers, got {dtype.name}")


def _depth(op_name, indices: TensorShape, target: TensorShape):
    """``q``, the coordinates per index tuple (None when unknown), checked against the rank
    of the indexed tensor."""
    if indices.rank == 0:
        raise ValueError(f"{op_name}: indices must have rank >= 1, got shape {indices}")
    q = None if indices.rank is None else indices.dims[-1]
    if q is not None and target.rank is not None and q > target.rank:
        raise ValueError(f"{op_name}: indices of shape {indices} hold {q} coordinates, more "
                         f"than the rank {target.rank} of the indexed shape {target}")
    return q


def _sliced_shape(indices: TensorShape, target: TensorShape, q) -> TensorShape:
    """indices.shape[:-1] + target.shape[q:]: the shape gather_nd returns and scatters take."""
    if q is None or indices.rank is None or target.rank is None:
        return TensorShape(None)
    return TensorShape(indices.dims[:-1] + target.dims[q:])


def _coordinates(op_name, indices, shape):
    """The index tuples as a tuple of arrays for NumPy indexing; raises IndexError (TF's
    InvalidArgumentError at run time) naming the first tuple outside ``shape``."""
    q = indices.shape[-1]
    limits = np.asarray(shape[:q])
    bad = ((indices < 0) | (indices >= limits)).any(axis=-1)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise IndexError(f"{op_name}: indices{list(where)} = {indices[where].tolist()} does "
                         f"not index into shape {list(shape)}")
    return tuple(np.moveaxis(indices, -1, 0))


def _gather_nd_shapes(inputs, attrs):
    params, indices = inputs[0].shape, inputs[1].shape
    return [_sliced_shape(indices, params, _depth("gather_nd", indices, params))]


def _gather_nd_dtypes(in_dtypes, attrs):
    _check_integer("gather_nd", in_dtypes[1])
    return [in_dtypes[0]]


def _gather_nd_kernel(params, indices):
    return np.asarray(params[_coordinates("gather_nd", indices, params.shape)])


def _gather_nd_reference(params, indices):
    rows = [params[tuple(int(i) for i in row)] for row in indices.reshape(-1, indices.shape[-1])]
    return np.array(rows).reshape(indices.shape[:-1] + params.shape[indices.shape[-1]:])


_INDEX_ROWS = np.array([[1, 2], [3, 0], [0, 1]], np.int32)

GATHER_ND = registry.register(OpDef(
    raises_on_values=True,  # indices out of range
    name="gather_nd", dtypes=_gather_nd_dtypes, shapes=_gather_nd_shapes,
    kernel=_gather_nd_kernel, unknown_rank_ok=True,
    grad=lambda op, dy: [scatter_nd(op.inputs[1], dy, shape_ops.shape(op.inputs[0])), None],
    finite_outputs=registry.finite_if_inputs_finite, reference=_gather_nd_reference,
    samples=lambda: [Sample((rand(4, 3), _INDEX_ROWS)),
                     Sample((rand(4, 3), np.array([[3], [1]], np.int64))),
                     Sample((rand(4, 3, 2), np.array([[[1, 2]], [[0, 0]]], np.int32)))],
    error_samples=lambda: [
        ErrorSample((rand(4, 3), rand(2, 2)), error=TypeError, match="integers"),
        ErrorSample((rand(4, 3), np.zeros((2, 3), np.int32)), match="coordinates")],
    doc="Slices of params at the index tuples in the last dim of indices."))


@registry.public(GATHER_ND)
def gather_nd(params, indices, name=None, batch_dims=0) -> Tensor:
    """Gather slices of ``params`` at the index tuples of ``indices`` (TF1 ``tf.gather_nd``).

    Example:
        >>> gc.gather_nd([[1, 2], [3, 4]], [[0, 1], [1, 0]])   # [2, 3]
        >>> gc.gather_nd([[1, 2], [3, 4]], [[1]])              # [[3, 4]]
    """
    if batch_dims:
        raise NotImplementedError("gather_nd: batch_dims != 0 is not supported yet")
    return _with_indices("gather_nd", [params], indices, [], name or "GatherNd")


def _with_indices(op_type, before, indices, after, name):
    """Build ``op_type`` on ``before + [indices] + after``: indices int32 by default, and
    Python updates of the tensor's dtype (as TF converts them)."""
    graph = graph_of(*before, indices, *after)
    with graph.as_default(), graph.atomic():
        before = [convert_to_tensor(v) for v in before]
        indices = convert_to_tensor(indices, dtype_hint=gdt.int32)
        after = [convert_to_tensor(v, dtype_hint=before[0].dtype) for v in after]
        return apply_op(op_type, [*before, indices, *after], name=name)


def _check_updates(op_name, updates: TensorShape, expected: TensorShape, indices, target):
    if not updates.is_compatible_with(expected):
        raise ValueError(f"{op_name}: updates must have shape indices.shape[:-1] + "
                         f"shape[indices.shape[-1]:] = {expected} (indices {indices}, "
                         f"shape {target}), got {updates}")


def _scatter_nd_dtypes(in_dtypes, attrs):
    _check_integer("scatter_nd", in_dtypes[0])
    _check_integer("scatter_nd", in_dtypes[2], "shape")
    return [in_dtypes[1]]


def _scatter_nd_shapes(inputs, attrs):
    indices, updates = inputs[0].shape, inputs[1].shape
    target = constant_value_as_shape(inputs[2])
    expected = _sliced_shape(indices, target, _depth("scatter_nd", indices, target))
    _check_updates("scatter_nd", updates, expected, indices, target)
    return [target]


def _scatter_nd_kernel(indices, updates, shape):
    out = np.zeros(tuple(int(d) for d in shape), dtype=updates.dtype)
    np.add.at(out, _coordinates("scatter_nd", indices, out.shape), updates)
    return out


def _scatter_reference(combine):
    """Writes each update in turn at its index tuple into ``base`` (a copy)."""
    def reference(base, indices, updates):
        out = np.array(base, dtype=np.float64 if base.dtype.kind == "f" else base.dtype)
        q = indices.shape[-1]
        rows = indices.reshape(-1, q)
        slices = np.asarray(updates).reshape((len(rows),) + out.shape[q:])
        for row, update in zip(rows, slices):
            key = tuple(int(i) for i in row)
            out[key] = combine(out[key], update)
        return out
    return reference


SCATTER_ND = registry.register(OpDef(
    raises_on_values=True,  # indices out of range
    name="scatter_nd", dtypes=_scatter_nd_dtypes, shapes=_scatter_nd_shapes,
    kernel=_scatter_nd_kernel,
    grad=lambda op, dy: [None, gather_nd(dy, op.inputs[0]), None],
    reference=lambda indices, updates, shape: _scatter_reference(np.add)(
        np.zeros(shape, updates.dtype), indices, updates),
    samples=lambda: [Sample((_INDEX_ROWS, rand(3), np.array([4, 3], np.int32))),
                     Sample((np.array([[1], [3], [1]], np.int32), rand(3, 2),
                             np.array([5, 2], np.int32)))],
    error_samples=lambda: [
        ErrorSample((_INDEX_ROWS, rand(2), np.array([4, 3], np.int32)), match="updates"),
        ErrorSample((rand(3, 2), rand(3), np.array([4, 3], np.int32)), error=TypeError,
                    match="integers")],
    doc="Zeros of shape with updates added at the index tuples (duplicates sum)."))


@registry.public(SCATTER_ND)
def scatter_nd(indices, updates, shape, name=None) -> Tensor:
    """A tensor of ``shape``, zero but for ``updates`` summed in at ``indices`` (TF1).

    Example:
        >>> gc.scatter_nd([[1], [3]], [9.0, 10.0], [5])   # [0, 9, 0, 10, 0]
    """
    graph = graph_of(indices, updates, shape)
    with graph.as_default(), graph.atomic():
        indices = convert_to_tensor(indices, dtype_hint=gdt.int32)
        shape = convert_to_tensor(shape, dtype_hint=indices.dtype)
        return apply_op("scatter_nd", [indices, updates, shape], name=name or "ScatterNd")


def _tensor_scatter_rule(op_name):
    def dtypes(in_dtypes, attrs):
        _check_integer(op_name, in_dtypes[1])
        if in_dtypes[0] is not in_dtypes[2]:
            raise TypeError(f"{op_name}: tensor and updates must have one dtype, got "
                            f"{in_dtypes[0].name} and {in_dtypes[2].name}")
        return [in_dtypes[0]]

    def shapes(inputs, attrs):
        tensor, indices, updates = (t.shape for t in inputs)
        expected = _sliced_shape(indices, tensor, _depth(op_name, indices, tensor))
        _check_updates(op_name, updates, expected, indices, tensor)
        return [tensor]
    return dtypes, shapes


def _tensor_scatter_kernel(op_name, write):
    def kernel(tensor, indices, updates):
        out = np.array(tensor, copy=True)
        write(out, _coordinates(op_name, indices, out.shape), updates)
        return out
    return kernel


def _assign_at(out, key, updates):
    out[key] = updates


def _update_grad(op, dy):
    indices, updates = op.inputs[1], op.inputs[2]
    return [tensor_scatter_nd_update(dy, indices, creation.zeros_like(updates)), None,
            gather_nd(dy, indices)]


def _extreme_grad(op, dy):
    # TF's rule (_TensorScatterMinOrMaxGrad): the gradient goes to every value that equals
    # the result, split evenly between the tensor's element and the updates that tied
    tensor, indices, updates = op.inputs
    out = op.outputs[0]
    from_tensor = select.cast(elementwise.equal(tensor, out), dy.dtype)
    from_updates = select.cast(elementwise.equal(updates, gather_nd(out, indices)), dy.dtype)
    ties = from_tensor + scatter_nd(indices, from_updates, shape_ops.shape(tensor))
    return [dy * from_tensor / ties, None, gather_nd(dy / ties, indices) * from_updates]


_WRITES = {  # op name: (write into a copy at the coordinates, combine for the reference, grad)
    "tensor_scatter_nd_update": (_assign_at, lambda old, new: new, _update_grad),
    "tensor_scatter_nd_add": (np.add.at, np.add,
                              lambda op, dy: [dy, None, gather_nd(dy, op.inputs[1])]),
    "tensor_scatter_nd_sub": (np.subtract.at, np.subtract,
                              lambda op, dy: [dy, None, -gather_nd(dy, op.inputs[1])]),
    "tensor_scatter_nd_max": (np.maximum.at, np.maximum, _extreme_grad),
    "tensor_scatter_nd_min": (np.minimum.at, np.minimum, _extreme_grad),
}


_DONE = {"tensor_scatter_nd_update": "written", "tensor_scatter_nd_add": "added",
         "tensor_scatter_nd_sub": "subtracted", "tensor_scatter_nd_max": "maxed in",
         "tensor_scatter_nd_min": "minned in"}


def _define_tensor_scatter(op_name):
    write, combine, grad = _WRITES[op_name]
    dtypes, shapes = _tensor_scatter_rule(op_name)
    opdef = registry.register(OpDef(
        raises_on_values=True,  # indices out of range
        name=op_name, dtypes=dtypes, shapes=shapes, grad=grad,
        kernel=_tensor_scatter_kernel(op_name, write), reference=_scatter_reference(combine),
        samples=lambda: [Sample((rand(4, 3), _INDEX_ROWS, rand(3))),
                         Sample((rand(5, 2), np.array([[4], [0]], np.int64), rand(2, 2)))],
        error_samples=lambda: [
            ErrorSample((rand(4, 3), _INDEX_ROWS, rand(3, 3)), match="updates"),
            ErrorSample((rand(4, 3), _INDEX_ROWS, rand(3, dtype=np.float32)), error=TypeError,
                        match="one dtype")],
        doc=f"A copy of tensor with updates {_DONE[op_name]} at the index tuples."))

    def api(tensor, indices, updates, name=None) -> Tensor:
        return _with_indices(op_name, [tensor], indices, [updates], name)
    api.__name__ = api.__qualname__ = op_name
    api.__doc__ = (f"A copy of ``tensor`` with ``updates`` {_DONE[op_name]} at the index tuples "
                   f"``indices`` (TF1 ``tf.{op_name}``).\n\n    Example:\n        >>> "
                   f"gc.{op_name}(x, [[0], [2]], rows)\n")
    registry.public(opdef)(api)
    return api


tensor_scatter_nd_update = _define_tensor_scatter("tensor_scatter_nd_update")
tensor_scatter_nd_add = _define_tensor_scatter("tensor_scatter_nd_add")
tensor_scatter_nd_sub = _define_tensor_scatter("tensor_scatter_nd_sub")
tensor_scatter_nd_max = _define_tensor_scatter("tensor_scatter_nd_max")
tensor_scatter_nd_min = _define_tensor_scatter("tensor_scatter_nd_min")
# TF 1.13-1.15 spellings
tensor_scatter_update = tensor_scatter_nd_update
tensor_scatter_add = tensor_scatter_nd_add
tensor_scatter_sub = tensor_scatter_nd_sub
