"""Ops that join or split arrays: concat, stack, unstack, split."""
from __future__ import annotations

import builtins
import itertools
import math
from typing import Optional

import numpy as np

from graphc import registry
from graphc.convert import convert_to_tensor
from graphc.graph import Tensor
from graphc.ops import creation, shape_ops
from graphc.ops.batch_split import each_chunk
from graphc.ops.copy_loops import block_loops, word_rows
from graphc.ops.common import apply_op, normalize_axis, rand, same_dtype_rule, static_axis
from graphc.ops.indexing import gather
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape

__all__ = ["concat", "stack", "unstack", "split"]


def _fill_missing(op, dys) -> list:
    """Output gradients with zeros for the outputs nothing depended on."""
    return [dy if dy is not None else creation.zeros_like(out) for dy, out in zip(dys, op.outputs)]


def _merge_dims(op_name: str, shapes, skip: Optional[int]) -> list:
    """Dims that all shapes share (except ``skip``); raises naming the disagreeing shapes."""
    rank = shapes[0].rank
    result = list(shapes[0].dims)
    for shape in shapes[1:]:
        if shape.rank != rank:
            raise ValueError(f"{op_name}: all inputs must have rank {rank}, got shape {shape}")
        for i, dim in enumerate(shape.dims):
            if i == skip or dim is None:
                continue
            if result[i] is not None and result[i] != dim:
                listed = ", ".join(str(s) for s in shapes)
                raise ValueError(f"{op_name}: dimension {i} differs between inputs: {listed}")
            result[i] = dim
    return result


def _concat_shapes(inputs, attrs):
    shapes = [t.shape for t in inputs]
    axis = normalize_axis(attrs["axis"], shapes[0].rank, "concat")
    dims = _merge_dims("concat", shapes, axis)
    parts = [s.dims[axis] for s in shapes]
    dims[axis] = None if None in parts else sum(parts)
    return [TensorShape(dims)]


def _concat_grad(op, dy):
    axis = normalize_axis(op.attrs["axis"], dy.shape.rank, "concat")
    sizes = [t.shape[axis] for t in op.inputs]
    if len(sizes) == 1:
        return [dy]
    if None not in sizes:
        return split(dy, sizes, axis=axis)
    grads, start = [], 0  # sizes known only at run time: pick each piece by index
    for tensor in op.inputs:
        stop = start + shape_ops.shape(tensor)[axis]
        grads.append(gather(dy, creation.range(start, stop), axis=axis))
        start = stop
    return grads


def _concat_kernel(*xs, axis, out=None):
    """np.concatenate, into ``out`` (a plan's buffer kept across runs: no page faults for
    a fresh result every run) when it has the result's dtype (strings: their length)."""
    if out is not None and out.dtype == np.result_type(*xs):
        if _concat_blocks(xs, axis, out):
            return out
        return np.concatenate(xs, axis=axis, out=out)
    return np.concatenate(xs, axis=axis)


def _concat_blocks(xs, axis, out) -> bool:
    """Copy each input into its columns of ``out`` seen as (rows, block) of raw bytes, where
    every array is C-contiguous numbers of out's dtype; False (nothing written) elsewhere.

    Each input's block (its dims from ``axis`` on) is copied by graphc.ops.copy_loops' one
    pass over the rows of ``out`` (``_copy_columns``):
    np.concatenate along the channels of NHWC copies row by row a few channels at a time,
    paying an inner loop's setup per pixel. Bytes are copied unchanged: bitwise
    np.concatenate."""
    axis = axis % out.ndim
    rows = int(np.prod(out.shape[:axis]))
    if (rows < 2 or out.dtype.kind not in "biufc" or not out.flags.c_contiguous
            or any(x.dtype != out.dtype or not x.flags.c_contiguous for x in xs)
            or any(x.shape[:axis] + x.shape[axis + 1:] != out.shape[:axis] + out.shape[axis + 1:]
                   for x in xs) or sum(x.shape[axis] for x in xs) != out.shape[axis]):
        return False  # a wrong ``out`` or mismatched inputs: np.concatenate's error
    _copy_columns(out.reshape(rows, -1), [x.reshape(rows, -1) for x in xs if x.size],
                  into_wide=True)
    return True


def _copy_columns(wide, blocks, into_wide: bool) -> None:
    """Copy the 2-D ``blocks`` (side by side, one dtype, C-contiguous) into the columns of
    the wide matrix (``into_wide``) or out of them: graphc.ops.copy_loops' one pass over the
    rows, else each block's row as one ``void`` element (one memcpy per row instead of
    NumPy's inner loop over a few channels). Bytes unchanged either way."""
    if not blocks:
        return
    loops = block_loops()
    if loops is not None:
        wide_words, *block_words = word_rows([wide] + blocks)

        def copy(lo, hi):
            pieces = tuple(block[lo:hi] for block in block_words)
            if into_wide:
                loops[0](pieces, wide_words[lo:hi])
            else:
                loops[1](wide_words[lo:hi], pieces)
        # rows shared with the pool's threads: one thread copies at one core's memory
        # bandwidth (W7 (b)'s concat: 1.2 -> 0.9 ms on two Xeon threads); its pieces are
        # short, so under load they stay on this thread (waiting for a descheduled
        # worker's piece would cost a time slice, many times the copy)
        each_chunk(wide.shape[0], wide.size, copy, long_pieces=False)
        return
    first = 0
    for block in blocks:
        width = block.shape[1]
        row = np.dtype((np.void, width * block.itemsize))
        columns, piece = wide[:, first:first + width].view(row), block.view(row)
        np.copyto(*((columns, piece) if into_wide else (piece, columns)))
        first += width


CONCAT = registry.register(OpDef(
    name="concat", dtypes=same_dtype_rule("concat"), shapes=_concat_shapes, grad=_concat_grad,
    fresh_output=True, takes_out=True, distribution=registry.rowwise_unless_axis0(None),
    kernel=_concat_kernel, attrs={"axis": 0},
    finite_outputs=registry.finite_if_inputs_finite,
    reference=lambda values, axis: np.moveaxis(
        np.array([v for x in values for v in np.moveaxis(x, axis, 0)]), 0, axis),
    samples=lambda: [Sample(([rand(2, 3), rand(4, 3)], 0)), Sample(([rand(2, 3), rand(2, 1)], 1)),
                     Sample(([rand(2, 3), rand(2, 2), rand(2, 0)], -1))],
    error_samples=lambda: [ErrorSample(([rand(2, 3), rand(3, 3)], 1), match="differs"),
                           ErrorSample(([rand(2, 3), rand(2)], 0), match="rank")],
    doc="Join tensors along an existing axis."))


@registry.public(CONCAT)
def concat(values, axis, name="concat") -> Tensor:
    """Join ``values`` along ``axis`` (TF1 argument order: values first).

    Example:
        >>> xy = gc.concat([x, y], axis=1)
    """
    values = list(values)
    axis = int(static_axis(axis, "concat"))
    return apply_op("concat", values, {"axis": axis}, name=name)


def _stack_shapes(inputs, attrs):
    shapes = [t.shape for t in inputs]
    dims = _merge_dims("stack", shapes, None)
    axis = normalize_axis(attrs["axis"], len(dims) + 1, "stack")
    dims.insert(axis, len(inputs))
    return [TensorShape(dims)]


STACK = registry.register(OpDef(
    name="stack", dtypes=same_dtype_rule("stack"), shapes=_stack_shapes,
    grad=lambda op, dy: unstack(dy, num=len(op.inputs), axis=op.attrs["axis"]),
    kernel=lambda *xs, axis: np.stack(xs, axis=axis), attrs={"axis": 0},
    finite_outputs=registry.finite_if_inputs_finite,
    reference=lambda values, axis=0: np.moveaxis(np.array([np.asarray(v) for v in values]),
                                                 0, axis),
    samples=lambda: [Sample(([rand(2, 3), rand(2, 3)],)), Sample(([rand(3), rand(3)], 1)),
                     Sample(([np.float64(1.0), np.float64(2.0)],))],
    error_samples=lambda: [ErrorSample(([rand(2, 3), rand(3, 3)],), match="differs")],
    doc="Join tensors of one shape along a new axis."))


@registry.public(STACK)
def stack(values, axis=0, name="stack") -> Tensor:
    """Stack same-shaped tensors along a new ``axis`` (TF1 ``tf.stack``).

    Example:
        >>> pair = gc.stack([a, b])
    """
    values = list(values)
    # Python numbers take the tensors' dtype, as TF packs them: stack([shape64[0], 10])
    hint = next((v.dtype for v in values if isinstance(v, Tensor)), None)
    return apply_op("stack", values, {"axis": int(axis)}, name=name, dtype_hint=hint)


def _unstack_shapes(inputs, attrs):
    dims = list(inputs[0].shape.dims)
    axis = normalize_axis(attrs["axis"], len(dims), "unstack")
    if dims[axis] is not None and dims[axis] != attrs["num"]:
        raise ValueError(f"unstack: num={attrs['num']} does not match dim {axis} of size "
                         f"{dims[axis]}")
    del dims[axis]
    return [TensorShape(dims)] * attrs["num"]


UNSTACK = registry.register(OpDef(
    name="unstack", dtypes=lambda d, attrs: [d[0]] * attrs["num"], shapes=_unstack_shapes,
    grad=lambda op, *dys: [stack(_fill_missing(op, dys), axis=op.attrs["axis"])],
    kernel=lambda x, num, axis: tuple(np.moveaxis(x, axis, 0)), attrs={"num": None, "axis": 0},
    finite_outputs=registry.finite_if_inputs_finite,
    reference=lambda x, num=None, axis=0: [x.take(i, axis=axis) for i in range(x.shape[axis])],
    samples=lambda: [Sample((rand(3, 2), 3)), Sample((rand(2, 4), 4, 1))],
    doc="Split a tensor into its slices along axis (num outputs)."))


@registry.public(UNSTACK)
def unstack(value, num=None, axis=0, name="unstack"):
    """The slices of ``value`` along ``axis`` as a list of ``num`` tensors.

    Example:
        >>> a, b = gc.unstack(pair)
    """
    value = convert_to_tensor(value)
    if value.shape.rank is None:
        raise ValueError(f"unstack: the rank of '{value.name}' must be known")
    axis_n = normalize_axis(axis, value.shape.rank, "unstack")
    num = value.shape[axis_n] if num is None else num
    if num is None:
        raise ValueError(f"unstack: cannot infer num from shape {value.shape} of '{value.name}'")
    out = apply_op("unstack", [value], {"num": int(num), "axis": int(axis)}, name=name)
    return list(out) if isinstance(out, tuple) else [out]


def _split_sizes(op_name, dim, sizes, num):
    if sizes is None:
        if dim is not None and dim % num:
            raise ValueError(f"{op_name}: dimension of size {dim} cannot be split into {num} "
                             "equal parts")
        return [None if dim is None else dim // num] * num
    sizes = list(sizes)
    if sizes.count(-1) > 1:
        raise ValueError(f"{op_name}: at most one size may be -1, got {sizes}")
    if dim is not None:
        known = sum(s for s in sizes if s != -1)
        if -1 in sizes:
            sizes[sizes.index(-1)] = dim - known
        if sum(sizes) != dim or min(sizes) < 0:
            raise ValueError(f"{op_name}: sizes {list(sizes)} do not sum to the dimension "
                             f"size {dim}")
    return [None if s == -1 else s for s in sizes]


def _split_shapes(inputs, attrs):
    dims = list(inputs[0].shape.dims)
    axis = normalize_axis(attrs["axis"], len(dims), "split")
    outs = []
    for size in _split_sizes("split", dims[axis], attrs["sizes"], attrs["num"]):
        piece = list(dims)
        piece[axis] = size
        outs.append(TensorShape(piece))
    return outs


def _split_kernel(x, num, sizes, axis, out=None):
    """The pieces (``_pieces``); copied ones go into ``out`` (a plan's tuple of buffers kept
    across runs, see ``_split_takes_out``) when it holds arrays of their own of the pieces'
    shapes and dtype: 7 MB of fresh pieces page-faulted ~1,500 times per W7 (b) step."""
    if sizes is None:
        if x.shape[axis] % num:
            raise ValueError(f"split: dimension of size {x.shape[axis]} cannot be split into "
                             f"{num} equal parts")
        return _pieces(x, range(0, x.shape[axis] + 1, x.shape[axis] // num or 1)
                       if x.shape[axis] else [0] * (num + 1), axis, out)
    sizes = list(sizes)
    if -1 in sizes:
        sizes[sizes.index(-1)] = x.shape[axis] - (sum(sizes) + 1)
    if sum(sizes) != x.shape[axis]:
        raise ValueError(f"split: sizes {sizes} do not sum to {x.shape[axis]}")
    return _pieces(x, [0, *itertools.accumulate(sizes)], axis, out)


# a piece whose rows (its elements from the split axis on) are shorter than this is copied
# into an array of its own when the input is at least COPIED_PIECES_MIN_SIZE elements
COPIED_PIECE_MAX_ROW = 64
COPIED_PIECES_MIN_SIZE = 1 << 15


def _narrow_pieces(dims, bounds, axis: int, dtype) -> bool:
    """Whether pieces between ``bounds`` on ``axis`` of an array of ``dims`` (None: unknown)
    and ``dtype`` are narrow numbers: their rows (elements from the split axis on) shorter
    than COPIED_PIECE_MAX_ROW."""
    inner = dims[axis + 1:]
    if axis == 0 or np.dtype(dtype).kind not in "biufc" or None in inner or len(bounds) < 2:
        return False
    return max(b - a for a, b in zip(bounds, bounds[1:])) * math.prod(inner) \
        < COPIED_PIECE_MAX_ROW


def _pieces(x, bounds, axis, out=None):
    """The pieces of ``x`` between consecutive ``bounds`` on ``axis`` (np.split's result,
    without its per-piece Python overhead: an LSTM step splits its gates every iteration):
    views, but for narrow pieces of a large C-contiguous input (``_copied_pieces``, into
    ``out`` where it fits)."""
    axis = axis % x.ndim
    lead = (builtins.slice(None),) * axis
    bounds = list(bounds)
    if (x.size >= COPIED_PIECES_MIN_SIZE and x.flags.c_contiguous
            and _narrow_pieces(x.shape, bounds, axis, x.dtype)):
        return _copied_pieces(x, bounds, axis, out)
    return tuple(x[lead + (builtins.slice(start, stop),)]
                 for start, stop in zip(bounds[:-1], bounds[1:]))


def _copied_pieces(x, bounds, axis, out=None):
    """The pieces as C-contiguous arrays, copied by rows (``_concat_blocks`` in reverse),
    written into ``out`` when each of its arrays has its piece's shape and x's dtype, is
    C-contiguous and shares no memory with x (never writing over the input being split).

    A narrow view (a few channels of NHWC, as the gradient of an Inception block's concat)
    makes every NumPy pass over it run one short inner loop per pixel, and the fused
    engines copy it first: W7 (b)'s ReLU gradients of 8-channel slices of the 56-channel
    gradient took 10x as long as of dense arrays, 2-4x at (a); with the copy, the step's
    CPU time fell 15% at (b)."""
    rows = math.prod(x.shape[:axis])
    shapes = [x.shape[:axis] + (stop - start,) + x.shape[axis + 1:]
              for start, stop in zip(bounds[:-1], bounds[1:])]
    if not (isinstance(out, tuple) and len(out) == len(shapes) and all(
            isinstance(o, np.ndarray) and o.shape == shape and o.dtype == x.dtype
            and o.flags.c_contiguous and not np.may_share_memory(o, x)
            for o, shape in zip(out, shapes))):
        out = tuple(np.empty(shape, x.dtype) for shape in shapes)
    pieces = out
    blocks = [piece.reshape(rows, -1) for piece in pieces if piece.size]
    if blocks:  # an empty batch has no (0, -1) shape to reshape to
        _copy_columns(x.reshape(rows, -1), blocks, into_wide=False)
    return pieces


def _split_takes_out(op) -> bool:
    """Whether the plan keeps buffers for the op's pieces: where the static shape says they
    are narrow and copied (``_pieces``; a batch of unknown size may be large). Views need
    none, and a buffer kept of them would keep the input alive from run to run."""
    x = op.inputs[0]
    dims = x.shape.dims
    if dims is None:
        return False
    axis = normalize_axis(op.attrs["axis"], len(dims), "split")
    if dims[axis] is None:
        return False
    sizes = _split_sizes("split", dims[axis], op.attrs["sizes"], op.attrs["num"])
    return _narrow_pieces(dims, [0, *itertools.accumulate(sizes)], axis, x.dtype.np) \
        and not (None not in dims and math.prod(dims) < COPIED_PIECES_MIN_SIZE)


SPLIT = registry.register(OpDef(
    name="split", dtypes=lambda d, attrs: [d[0]] * attrs["num"], shapes=_split_shapes,
    grad=lambda op, *dys: [concat(_fill_missing(op, dys), axis=op.attrs["axis"])],
    kernel=_split_kernel, attrs={"num": None, "sizes": None, "axis": 0},
    takes_out=_split_takes_out, distribution=registry.rowwise_unless_axis0(),
    finite_outputs=registry.finite_if_inputs_finite,
    reference=lambda x, parts, axis=0: [x.take(range(start, start + size), axis=axis)
                                        for start, size in _reference_split(x, parts, axis)],
    samples=lambda: [Sample((rand(6, 2), 3)), Sample((rand(2, 5), [1, -1, 2], 1))],
    error_samples=lambda: [ErrorSample((rand(5, 2), 2), match="cannot be split"),
                           ErrorSample((rand(5, 2), [1, 2]), match="do not sum")],
    doc="Split into num equal parts or parts of the given sizes along axis."))


def _reference_split(x, parts, axis):
    dim = x.shape[axis]
    sizes = [dim // parts] * parts if isinstance(parts, int) else list(parts)
    if -1 in sizes:
        sizes[sizes.index(-1)] = dim - (sum(sizes) + 1)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int)
    return list(zip(starts.tolist(), sizes))


@registry.public(SPLIT)
def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """Split ``value`` into equal parts (an int) or parts of given sizes (a list).

    Example:
        >>> left, right = gc.split(x, 2, axis=1)
    """
    axis = int(static_axis(axis, "split"))
    parts = static_axis(num_or_size_splits, "split")
    if isinstance(parts, (list, tuple)):
        attrs = {"num": len(parts), "sizes": tuple(int(s) for s in parts), "axis": axis}
    else:
        attrs = {"num": int(parts), "sizes": None, "axis": axis}
    out = apply_op("split", [value], attrs, name=name)
    return list(out) if isinstance(out, tuple) else [out]
