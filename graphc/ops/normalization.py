"""``depth_window_sum``: the sum over a window of channels that local response normalization
divides by (TF1's ``LRN`` op reads it as ``sqr_sum``). The op is linear and its window is
symmetric, so it is its own adjoint: its gradient is the same op on ``dy``, and LRN composed
of it (``graphc.nn_norm``) has gradients of every order."""
from __future__ import annotations

import numpy as np

from graphc import registry
from graphc.ops.common import FLOAT, apply_op, rand, same_dtype_rule
from graphc.registry import ErrorSample, OpDef, Sample

__all__ = ["depth_window_sum"]


def _shapes(inputs, attrs):
    x = inputs[0].shape
    if x.rank == 0:
        raise ValueError(f"depth_window_sum: input must have a channel axis, got shape {x}")
    radius = attrs["depth_radius"]
    if isinstance(radius, bool) or not isinstance(radius, (int, np.integer)) or radius < 0:
        raise ValueError(f"depth_window_sum: depth_radius must be an int >= 0, got {radius!r}")
    return [x]


def _kernel(x, depth_radius):
    """out[..., d] = sum of x[..., max(0, d - r): d + r + 1], as shifted adds (a running sum
    would lose small windows' digits to large channels elsewhere)."""
    out = np.array(x, copy=True)
    for shift in range(1, min(depth_radius, x.shape[-1] - 1) + 1):
        out[..., shift:] += x[..., :-shift]
        out[..., :-shift] += x[..., shift:]
    return out


def _reference(x, depth_radius):
    out = np.zeros(x.shape)
    for d in range(x.shape[-1]):
        out[..., d] = x[..., max(0, d - depth_radius): d + depth_radius + 1].sum(axis=-1)
    return out


DEPTH_WINDOW_SUM = registry.register(OpDef(
    name="depth_window_sum", dtypes=same_dtype_rule("depth_window_sum", FLOAT), shapes=_shapes,
    kernel=_kernel, attrs={"depth_radius": 5}, fresh_output=True,
    grad=lambda op, dy: [depth_window_sum(dy, op.attrs["depth_radius"])],
    # no finite_outputs: a sum of 2 r + 1 huge finite values may overflow
    reference=_reference,
    samples=lambda: [Sample((rand(2, 3, 3, 7), 2)), Sample((rand(1, 2, 2, 3), 5)),
                     Sample((rand(4, 5), 0)), Sample((rand(2, 6, dtype=np.float32), 1),
                                                     rtol=1e-5)],
    error_samples=lambda: [ErrorSample((rand(3), -1), match="depth_radius"),
                           ErrorSample((np.float64(1.0), 1), match="channel axis")],
    doc="Sums over the window of 2 r + 1 channels around each channel (LRN's sqr_sum)."))


@registry.public(DEPTH_WINDOW_SUM)
def depth_window_sum(x, depth_radius=5, name=None):
    """``out[..., d] = sum(x[..., d - depth_radius: d + depth_radius + 1])`` (clipped at the
    ends): the window sum of ``local_response_normalization``.

    Example:
        >>> s = gc.ops.normalization.depth_window_sum(gc.square(x), depth_radius=2)
    """
    return apply_op("depth_window_sum", [x], {"depth_radius": depth_radius},
                    name=name or "DepthWindowSum")
