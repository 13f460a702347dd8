"""space_to_depth and depth_to_space (NHWC): spatial blocks into depth and back, each the
other's gradient."""
from __future__ import annotations

import numpy as np

from graphc import registry
from graphc.graph import Tensor
from graphc.ops.common import apply_op, rand, randint
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape

__all__ = ["space_to_depth", "depth_to_space"]


def _check_nhwc(op_name, shape, attrs):
    if shape.rank != 4:
        raise ValueError(f"{op_name}: input must be 4-dimensional [batch, height, width, "
                         f"depth], got shape {shape}")
    if attrs["data_format"] != "NHWC":
        raise ValueError(f"{op_name}: only data_format 'NHWC' is supported, got "
                         f"{attrs['data_format']!r}")
    if attrs["block_size"] < 2:
        raise ValueError(f"{op_name}: block_size must be at least 2, got {attrs['block_size']}")


def _space_to_depth_shapes(inputs, attrs):
    shape, block = inputs[0].shape, attrs["block_size"]
    _check_nhwc("space_to_depth", shape, attrs)
    batch, height, width, depth = shape.dims
    if any(d is not None and d % block for d in (height, width)):
        raise ValueError(f"space_to_depth: image height {height} and width {width} should be "
                         f"divisible by block_size: {block} (input shape {shape})")
    return [TensorShape([batch, None if height is None else height // block,
                         None if width is None else width // block,
                         None if depth is None else depth * block * block])]


def _depth_to_space_shapes(inputs, attrs):
    shape, block = inputs[0].shape, attrs["block_size"]
    _check_nhwc("depth_to_space", shape, attrs)
    batch, height, width, depth = shape.dims
    if depth is not None and depth % (block * block):
        raise ValueError(f"depth_to_space: input depth dimension {depth} should be divisible "
                         f"by: {block * block} (block_size {block}, input shape {shape})")
    return [TensorShape([batch, None if height is None else height * block,
                         None if width is None else width * block,
                         None if depth is None else depth // (block * block)])]


def _space_to_depth_kernel(x, block_size, data_format):
    b, h, w, c = x.shape
    blocks = x.reshape(b, h // block_size, block_size, w // block_size, block_size, c)
    return blocks.transpose(0, 1, 3, 2, 4, 5).reshape(b, h // block_size, w // block_size,
                                                      block_size * block_size * c)


def _depth_to_space_kernel(x, block_size, data_format):
    b, h, w, c = x.shape
    depth = c // (block_size * block_size)
    blocks = x.reshape(b, h, w, block_size, block_size, depth)
    return blocks.transpose(0, 1, 3, 2, 4, 5).reshape(b, h * block_size, w * block_size, depth)


def _space_to_depth_reference(x, block_size, data_format="NHWC", name=None):
    b, h, w, c = x.shape
    out = np.zeros((b, h // block_size, w // block_size, block_size * block_size * c), x.dtype)
    for i, j, dy, dx in np.ndindex(h // block_size, w // block_size, block_size, block_size):
        channel = (dy * block_size + dx) * c
        out[:, i, j, channel:channel + c] = x[:, i * block_size + dy, j * block_size + dx]
    return out


def _depth_to_space_reference(x, block_size, data_format="NHWC", name=None):
    b, h, w, c = x.shape
    depth = c // (block_size * block_size)
    out = np.zeros((b, h * block_size, w * block_size, depth), x.dtype)
    for i, j, dy, dx in np.ndindex(h, w, block_size, block_size):
        channel = (dy * block_size + dx) * depth
        out[:, i * block_size + dy, j * block_size + dx] = x[:, i, j, channel:channel + depth]
    return out


_BLOCK_ATTRS = {"block_size": 2, "data_format": "NHWC"}

SPACE_TO_DEPTH = registry.register(OpDef(
    name="space_to_depth", dtypes=lambda d, a: [d[0]], shapes=_space_to_depth_shapes,
    kernel=_space_to_depth_kernel, attrs=dict(_BLOCK_ATTRS),
    grad=lambda op, dy: [depth_to_space(dy, op.attrs["block_size"])],
    finite_outputs=registry.finite_if_inputs_finite, reference=_space_to_depth_reference,
    samples=lambda: [Sample((rand(2, 4, 6, 3), 2)), Sample((rand(1, 6, 3, 2), 3)),
                     Sample((randint(1, 2, 2, 1), 2)), Sample((rand(0, 4, 4, 2), 2)),
                     Sample((np.array([[[[np.nan], [1.0]], [[2.0], [np.inf]]]]), 2))],
    error_samples=lambda: [ErrorSample((rand(1, 5, 4, 1), 2), match="divisible"),
                           ErrorSample((rand(4, 4, 1), 2), match="4-dimensional"),
                           ErrorSample((rand(1, 4, 4, 1), 1), match="at least 2")],
    doc="Move block_size x block_size spatial blocks into the depth dim."))

DEPTH_TO_SPACE = registry.register(OpDef(
    name="depth_to_space", dtypes=lambda d, a: [d[0]], shapes=_depth_to_space_shapes,
    kernel=_depth_to_space_kernel, attrs=dict(_BLOCK_ATTRS),
    grad=lambda op, dy: [space_to_depth(dy, op.attrs["block_size"])],
    finite_outputs=registry.finite_if_inputs_finite, reference=_depth_to_space_reference,
    samples=lambda: [Sample((rand(2, 2, 3, 12), 2)), Sample((rand(1, 2, 1, 18), 3)),
                     Sample((randint(1, 1, 1, 4), 2)), Sample((rand(0, 1, 2, 8), 2))],
    error_samples=lambda: [ErrorSample((rand(1, 2, 2, 6), 2), match="divisible")],
    doc="Move depth into block_size x block_size spatial blocks (space_to_depth's inverse)."))


@registry.public(SPACE_TO_DEPTH)
def space_to_depth(input, block_size, name=None, data_format="NHWC") -> Tensor:  # noqa: A002
    """Rearrange spatial blocks of ``block_size`` into depth (NHWC).

    Example:
        >>> y = gc.space_to_depth(x, 2)   # [1, 4, 4, 1] -> [1, 2, 2, 4]
    """
    attrs = {"block_size": int(block_size), "data_format": str(data_format)}
    return apply_op("space_to_depth", [input], attrs, name=name or "SpaceToDepth")


@registry.public(DEPTH_TO_SPACE)
def depth_to_space(input, block_size, name=None, data_format="NHWC") -> Tensor:  # noqa: A002
    """Rearrange depth into spatial blocks of ``block_size`` (NHWC).

    Example:
        >>> y = gc.depth_to_space(x, 2)   # [1, 2, 2, 4] -> [1, 4, 4, 1]
    """
    attrs = {"block_size": int(block_size), "data_format": str(data_format)}
    return apply_op("depth_to_space", [input], attrs, name=name or "DepthToSpace")
