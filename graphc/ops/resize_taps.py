"""Where TF 1.15's resize kernels sample: the taps (input indices and weights) of each
output row or column, for the bilinear, bicubic, area and nearest-neighbour methods, and
resampling one axis by them (and by their transpose, for the gradients).

The coordinates are computed in float32 as TF computes them: ``scale = in / out``, or
``(in - 1) / (out - 1)`` with ``align_corners``; an output index ``i`` samples
``i * scale`` (legacy) or ``(i + 0.5) * scale - 0.5`` with ``half_pixel_centers``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["resize_scale", "taps", "apply_taps", "apply_taps_adjoint"]

_F32 = np.float32
_TABLE_SIZE = 1 << 10  # TF's bicubic coefficient table


def resize_scale(in_size: int, out_size: int, align_corners: bool) -> np.float32:
    """TF's ``CalculateResizeScale``: input pixels per output pixel, in float32."""
    if align_corners and out_size > 1:
        return _F32(in_size - 1) / _F32(out_size - 1)
    return _F32(in_size) / _F32(out_size)


def _sample_points(out_size, scale, half_pixel, nearest=False):
    """The float32 input coordinate each output index samples (TF's scalers; the nearest
    neighbour scaler keeps the +0.5 because a floor follows)."""
    index = np.arange(out_size, dtype=_F32)
    if not half_pixel:
        return index * scale
    return (index + _F32(0.5)) * scale - (_F32(0) if nearest else _F32(0.5))


def _bicubic_table(a):
    x = np.arange(_TABLE_SIZE + 1, dtype=np.float64) / _TABLE_SIZE
    near = (((a + 2) * x - (a + 3)) * x * x + 1).astype(_F32)
    x = x + 1.0
    far = (((a * x - 5 * a) * x + 8 * a) * x - 4 * a).astype(_F32)
    return near, far


def taps(method, in_size, out_size, align_corners, half_pixel):
    """``(index, weight, valid)``, each ``[out_size, taps]``: output ``i`` is the sum over
    taps ``t`` with ``valid`` of ``weight[i, t] * input[index[i, t]]``."""
    scale = resize_scale(in_size, out_size, align_corners)
    if method == "nearest":
        points = _sample_points(out_size, scale, half_pixel, nearest=True)
        # TF: roundf (halves away from zero, unlike np.round) with align_corners, else floorf
        floor = np.floor(points)
        picked = np.where(points - floor >= 0.5, floor + 1, floor) if align_corners else floor
        index = np.minimum(picked.astype(np.int64), in_size - 1)
        index = np.maximum(index, 0) if half_pixel else index
        return index[:, None], np.ones((out_size, 1), _F32), np.ones((out_size, 1), bool)
    if method == "bilinear":
        points = _sample_points(out_size, scale, half_pixel)
        floor = np.floor(points)
        lower = np.maximum(floor.astype(np.int64), 0)
        upper = np.minimum(np.ceil(points).astype(np.int64), in_size - 1)
        lerp = points - floor
        return (np.stack([lower, upper], 1), np.stack([_F32(1) - lerp, lerp], 1),
                np.ones((out_size, 2), bool))
    if method == "bicubic":
        return _bicubic_taps(in_size, out_size, scale, half_pixel)
    return _area_taps(in_size, out_size, scale)


def _bicubic_taps(in_size, out_size, scale, half_pixel):
    """TF's ``GetWeightsAndIndices``: Keys' a = -0.5 with half-pixel centers (samples
    outside the image get weight 0 and the rest are renormalized), else a = -0.75 with the
    edge pixels repeated."""
    near, far = _bicubic_table(-0.5 if half_pixel else -0.75)
    points = _sample_points(out_size, scale, half_pixel)
    base = np.floor(points).astype(np.int64)
    offset = np.rint((points - base) * _TABLE_SIZE).astype(np.int64)  # lrintf
    weight = np.stack([far[offset], near[offset], near[_TABLE_SIZE - offset],
                       far[_TABLE_SIZE - offset]], 1)
    wanted = base[:, None] + np.arange(-1, 3)
    index = np.clip(wanted, 0, in_size - 1)
    if half_pixel:
        weight = np.where(index == wanted, weight, _F32(0))
        total = weight.sum(1, dtype=_F32)
        usable = np.abs(total) >= 1000.0 * np.finfo(_F32).tiny
        weight = np.where(usable[:, None], weight / np.where(usable, total, 1)[:, None], weight)
    return index, weight.astype(_F32), np.ones(index.shape, bool)


def _area_taps(in_size, out_size, scale):
    """TF's ResizeArea: output ``i`` averages input cells over ``[i*scale, (i+1)*scale)``,
    each weighted by the length it overlaps (cells past the edge read the last one)."""
    rows = []
    for i in range(out_size):
        start, end = _F32(i) * scale, _F32(i + 1) * scale
        cells = range(int(np.floor(start)), int(np.ceil(end)))
        rows.append([(min(c, in_size - 1), min(_F32(c + 1), end) - max(_F32(c), start))
                     for c in cells])
    width = max((len(r) for r in rows), default=1)
    index = np.zeros((out_size, width), np.int64)
    weight = np.zeros((out_size, width), _F32)
    valid = np.zeros((out_size, width), bool)
    for i, row in enumerate(rows):
        for t, (cell, overlap) in enumerate(row):
            index[i, t], weight[i, t], valid[i, t] = cell, overlap / scale, True
    return index, weight, valid


def apply_taps(x, axis, taps):
    """Resample ``x`` along ``axis`` by the taps (the forward resize)."""
    index, weight, valid = taps
    shape = [1] * x.ndim
    shape[axis] = index.shape[0]
    out = None
    for t in range(index.shape[1]):
        term = np.take(x, index[:, t], axis=axis) * weight[:, t].reshape(shape)
        if not valid[:, t].all():
            term = np.where(valid[:, t].reshape(shape), term, 0)
        out = term if out is None else out + term
    return out


def apply_taps_adjoint(dy, axis, taps, in_size):
    """The transpose of ``_apply``: scatter-add each output's weighted value to its taps."""
    index, weight, valid = taps
    moved = np.moveaxis(dy, axis, 0)
    out = np.zeros((in_size,) + moved.shape[1:], dy.dtype)
    for t in range(index.shape[1]):
        w = np.where(valid[:, t], weight[:, t], 0).astype(dy.dtype)
        np.add.at(out, index[:, t], moved * w.reshape((-1,) + (1,) * (moved.ndim - 1)))
    return np.moveaxis(out, 0, axis)
