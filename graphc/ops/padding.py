"""Ops that enlarge arrays: pad (CONSTANT / REFLECT / SYMMETRIC) and tile, with
mirror_pad_grad, the adjoint of mirror padding."""
from __future__ import annotations

import builtins

import numpy as np

from graphc import registry
from graphc.graph import Tensor
from graphc.ops import shape_ops
from graphc.ops.common import apply_op, rand, static_axis
from graphc.ops.indexing import _getitem
from graphc.ops.reduce import reduce_sum
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape

__all__ = ["pad", "tile", "mirror_pad_grad"]

_slice = builtins.slice


def _pad_shapes(inputs, attrs):
    shape = inputs[0].shape
    paddings = attrs["paddings"]
    if len(paddings) != shape.rank or any(len(p) != 2 or min(p) < 0 for p in paddings):
        raise ValueError(f"pad: paddings {list(paddings)} must be {shape.rank} non-negative "
                         f"[before, after] pairs for shape {shape}")
    mode = attrs["mode"]
    if mode not in ("CONSTANT", "REFLECT", "SYMMETRIC"):
        raise ValueError(f"pad: mode must be CONSTANT, REFLECT or SYMMETRIC, got {mode!r}")
    limit_offset = 1 if mode == "REFLECT" else 0
    for dim, (before, after) in zip(shape.dims, paddings):
        if mode != "CONSTANT" and dim is not None and max(before, after) > dim - limit_offset:
            raise ValueError(f"pad: {mode} paddings {before, after} are too large for a "
                             f"dimension of size {dim}")
    return [TensorShape([None if d is None else d + a + b for d, (a, b) in
                         zip(shape.dims, paddings)])]


def _pad_kernel(x, paddings, mode, constant_values):
    if mode == "CONSTANT":
        return np.pad(x, paddings, mode="constant", constant_values=constant_values)
    return np.pad(x, paddings, mode=mode.lower())


PAD = registry.register(OpDef(
    name="pad", dtypes=lambda d, a: [d[0]], shapes=_pad_shapes, kernel=_pad_kernel,
    grad=lambda op, dy: [_pad_grad(op, dy)],
    attrs={"paddings": (), "mode": "CONSTANT", "constant_values": 0},
    reference=lambda x, paddings, mode="CONSTANT", constant_values=0: _pad_reference(
        x, paddings, mode, constant_values),
    samples=lambda: [Sample((rand(2, 3), [[1, 0], [2, 1]])),
                     Sample((rand(3, 3), [[1, 2], [0, 1]], "REFLECT")),
                     Sample((rand(3, 2), [[3, 0], [1, 2]], "SYMMETRIC")),
                     Sample((rand(2), [[1, 1]]), {"constant_values": 7.0})],
    error_samples=lambda: [ErrorSample((rand(2, 3), [[1, 1]]), match="pairs"),
                           ErrorSample((rand(2, 3), [[2, 0], [0, 0]], "REFLECT"),
                                       match="too large")],
    doc="Pad with a constant, or by reflecting (REFLECT / SYMMETRIC) the edges."))


def _pad_reference(x, paddings, mode, constant_values):
    out = x
    for axis, (before, after) in enumerate(paddings):
        n = out.shape[axis]
        if mode == "CONSTANT":
            index = [-1] * before + list(range(n)) + [-1] * after
        elif mode == "REFLECT":
            index = list(range(before, 0, -1)) + list(range(n)) + [n - 2 - i for i in range(after)]
        else:
            index = list(range(before - 1, -1, -1)) + list(range(n)) + [n - 1 - i for i in
                                                                         range(after)]
        pieces = [np.full_like(out.take([0], axis=axis), constant_values) if i == -1
                  else out.take([i], axis=axis) for i in index]
        out = np.concatenate(pieces, axis=axis) if pieces else out
    return out


@registry.public(PAD)
def pad(tensor, paddings, mode="CONSTANT", name=None, constant_values=0) -> Tensor:
    """Pad ``tensor`` by ``paddings[i] = [before, after]`` in each dimension.

    Example:
        >>> padded = gc.pad(img, [[0, 0], [1, 1], [1, 1], [0, 0]])
    """
    paddings = static_axis(paddings, "pad")
    attrs = {"paddings": tuple(tuple(int(v) for v in p) for p in paddings),
             "mode": str(mode).upper(), "constant_values": constant_values}
    return apply_op("pad", [tensor], attrs, name=name or "Pad")


def _pad_grad(op, dy):
    paddings = op.attrs["paddings"]
    if op.attrs["mode"] == "CONSTANT":
        key = tuple(_slice(before, -after if after else None) for before, after in paddings)
        return _getitem(dy, key)
    return mirror_pad_grad(dy, paddings, op.attrs["mode"])


def _tile_shapes(inputs, attrs):
    shape, multiples = inputs[0].shape, attrs["multiples"]
    if len(multiples) != shape.rank or min(multiples, default=0) < 0:
        raise ValueError(f"tile: multiples {list(multiples)} must be {shape.rank} non-negative "
                         f"ints for shape {shape}")
    return [TensorShape([None if d is None else d * m for d, m in zip(shape.dims, multiples)])]


TILE = registry.register(OpDef(
    name="tile", dtypes=lambda d, a: [d[0]], shapes=_tile_shapes, grad=lambda op, dy: [
        _tile_grad(op, dy)],
    kernel=lambda x, multiples: np.tile(x, multiples), attrs={"multiples": ()},
    finite_outputs=registry.finite_if_inputs_finite,
    reference=lambda x, multiples: _tile_reference(x, multiples),
    samples=lambda: [Sample((rand(2, 3), [2, 1])), Sample((rand(2), [3]))],
    error_samples=lambda: [ErrorSample((rand(2, 3), [2]), match="multiples")],
    doc="Repeat the whole tensor multiples[i] times along each dim."))


def _tile_reference(x, multiples):
    for axis, count in enumerate(multiples):
        x = np.concatenate([x] * count, axis=axis) if count else x.take([], axis=axis)
    return x


@registry.public(TILE)
def tile(input, multiples, name=None) -> Tensor:  # noqa: A002
    """Repeat ``input`` ``multiples[i]`` times along dimension i.

    Example:
        >>> t = gc.tile(row, [4, 1])
    """
    multiples = tuple(int(m) for m in static_axis(multiples, "tile"))
    return apply_op("tile", [input], {"multiples": multiples}, name=name or "Tile")


def _tile_grad(op, dy):
    """View dy as (m0, d0, m1, d1, ...) and sum over the m axes."""
    multiples = op.attrs["multiples"]
    dims = shape_ops.shape(op.inputs[0])
    split_shape = []
    for i, multiple in enumerate(multiples):
        split_shape += [multiple, dims[i]]
    return reduce_sum(shape_ops.reshape(dy, split_shape),
                      axis=list(range(0, 2 * len(multiples), 2)))


def _mirror_index(n, before, after, mode):
    """For each padded position, the source index along one dim."""
    if mode == "REFLECT":
        left = list(range(before, 0, -1))
        right = [n - 2 - i for i in range(after)]
    else:
        left = list(range(before - 1, -1, -1))
        right = [n - 1 - i for i in range(after)]
    return np.array(left + list(range(n)) + right, dtype=np.intp)


def _mirror_pad_grad_kernel(dy, paddings, mode):
    out = dy
    for axis, (before, after) in enumerate(paddings):
        n = out.shape[axis] - before - after
        folded = np.zeros(out.shape[:axis] + (n,) + out.shape[axis + 1:], dtype=dy.dtype)
        index = _mirror_index(n, before, after, mode)
        np.add.at(np.moveaxis(folded, axis, 0), index, np.moveaxis(out, axis, 0))
        out = folded
    return out


def _mirror_pad_grad_shapes(inputs, attrs):
    dims = [None if d is None else d - a - b for d, (a, b) in
            zip(inputs[0].shape.dims, attrs["paddings"])]
    limit = 1 if attrs["mode"] == "REFLECT" else 0
    for dim, (before, after) in zip(dims, attrs["paddings"]):
        if dim is not None and max(before, after) > dim - limit:
            raise ValueError(f"mirror_pad_grad: {attrs['mode']} paddings {before, after} are "
                             f"too large for an unpadded dimension of size {dim}")
    return [TensorShape(dims)]


MIRROR_PAD_GRAD = registry.register(OpDef(
    name="mirror_pad_grad", dtypes=lambda d, a: [d[0]], shapes=_mirror_pad_grad_shapes,
    kernel=_mirror_pad_grad_kernel, attrs={"paddings": (), "mode": "REFLECT"},
    grad=lambda op, dy: [pad(dy, op.attrs["paddings"], mode=op.attrs["mode"])],
    reference=lambda dy, paddings, mode: _mirror_reference(dy, paddings, mode),
    samples=lambda: [Sample((rand(7, 8), [[1, 2], [2, 1]], "REFLECT")),
                     Sample((rand(5, 5), [[1, 1], [0, 2]], "SYMMETRIC"))],
    error_samples=lambda: [ErrorSample((rand(4, 4), [[1, 2], [0, 0]], "REFLECT"),
                                       match="too large")],
    doc="Folds a REFLECT/SYMMETRIC-padded gradient back onto the unpadded tensor."))


def _mirror_reference(dy, paddings, mode):
    sources = [_mirror_index(d - a - b, a, b, mode) for d, (a, b) in zip(dy.shape, paddings)]
    out = np.zeros([d - a - b for d, (a, b) in zip(dy.shape, paddings)])
    for position in np.ndindex(*dy.shape):
        out[tuple(src[p] for src, p in zip(sources, position))] += dy[position]
    return out


@registry.public(MIRROR_PAD_GRAD)
def mirror_pad_grad(dy, paddings, mode, name=None) -> Tensor:
    """The adjoint of ``pad`` in REFLECT or SYMMETRIC mode."""
    paddings = tuple(tuple(int(v) for v in p) for p in paddings)
    return apply_op("mirror_pad_grad", [dy], {"paddings": paddings, "mode": mode},
                    name=name or "MirrorPadGrad")
