"""ONNX MaxPool and AveragePool in every form graphc's 2-D pools do not cover: 3-D (any
rank), dilations, and MaxPool's Indices output.

Each output element's window is a fixed set of positions of the padded input (the input's
spatial sizes are static): one ``gather`` of those positions, then a max or a sum over them.
That is exact for every padding, stride, dilation and ceil_mode, and slower than graphc's
own pools, so converters_nn uses it only for the forms those lack.
"""
from __future__ import annotations

import numpy as np

import graphc as gc

from .converters import UnsupportedOpError


def _geometry(attrs, sizes, kernel):
    """Per spatial dim: ``(begin pad, end pad incl. ceil_mode's extra, output count)``."""
    rank = len(sizes)
    strides = list(attrs.get("strides", [1] * rank))
    dilations = list(attrs.get("dilations", [1] * rank))
    spans = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    auto = attrs.get("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        totals = [max((-(-n // s) - 1) * s + span - n, 0)
                  for n, s, span in zip(sizes, strides, spans)]
        begins = [t - t // 2 if auto == "SAME_LOWER" else t // 2 for t in totals]
        ends = [t - b for t, b in zip(totals, begins)]
    else:
        pads = [0] * 2 * rank if auto == "VALID" else list(attrs.get("pads", [0] * 2 * rank))
        begins, ends = pads[:rank], pads[rank:]
    geometry = []
    for n, s, span, b, e in zip(sizes, strides, spans, begins, ends):
        reach = n + b + e - span
        count = (-(-reach // s) if attrs.get("ceil_mode", 0) else reach // s) + 1
        if (count - 1) * s >= n + b:  # a last window may not start in the end padding
            count -= 1
        extra = max((count - 1) * s + span - (n + b + e), 0)
        geometry.append((b, e + extra, count))
    return geometry, strides, dilations


def _window_positions(geometry, strides, dilations, kernel, padded):
    """``[*output counts, window size]`` flat positions into the padded spatial volume."""
    per_axis = [np.arange(count)[:, None] * s + np.arange(k)[None, :] * d
                for (_, _, count), s, d, k in zip(geometry, strides, dilations, kernel)]
    rank = len(per_axis)
    flat = np.zeros([g[2] for g in geometry] + list(kernel), np.int64)
    place = np.cumprod([1] + padded[::-1])[:-1][::-1]  # row-major strides of the padded dims
    for axis, positions in enumerate(per_axis):
        shape = [1] * (2 * rank)
        shape[axis], shape[rank + axis] = positions.shape
        flat = flat + positions.reshape(shape) * place[axis]
    return flat.reshape([g[2] for g in geometry] + [-1])


def gathered_pool(ctx, kind, x, attrs):
    sizes, kernel = x.shape.dims[2:], list(attrs["kernel_shape"])
    if x.shape.rank is None or None in sizes:
        raise UnsupportedOpError(f"{kind}: an input of unknown spatial size")
    geometry, strides, dilations = _geometry(attrs, sizes, kernel)
    padded = [n + b + e for n, (b, e, _) in zip(sizes, geometry)]
    positions = _window_positions(geometry, strides, dilations, kernel, padded)
    fill = -np.inf if kind == "MaxPool" else 0.0
    batch_and_channels = gc.shape(x, out_type=gc.int64)[:2]
    xp = gc.pad(x, [[0, 0], [0, 0], *[[b, e] for b, e, _ in geometry]], constant_values=fill)
    flat = gc.reshape(xp, gc.concat([batch_and_channels, gc.constant([-1], gc.int64)], 0))
    windows = gc.gather(flat, gc.constant(positions), axis=2)  # [N, C, *counts, window]
    if kind == "AveragePool":
        counted = np.zeros(padded, x.dtype.as_numpy_dtype)  # the cells a window's mean counts
        inside = tuple(slice(0 if attrs.get("count_include_pad", 0) else b,
                             b + n + (e_pad if attrs.get("count_include_pad", 0) else 0))
                       for n, (b, _, _), e_pad in zip(sizes, geometry, _explicit_ends(attrs,
                                                                                       sizes)))
        counted[inside] = 1
        counts = counted.ravel()[positions].sum(axis=-1)
        return gc.reduce_sum(windows, axis=-1) / gc.constant(counts)
    pooled = gc.reduce_max(windows, axis=-1)
    if ctx.output_count < 2:
        return pooled
    # Indices: the flat (N, C, spatial) index of each window's first largest element
    unpadded = np.full(padded, -1, np.int64)
    unpadded[tuple(slice(b, b + n) for n, (b, _, _) in zip(sizes, geometry))] = \
        np.arange(int(np.prod(sizes))).reshape(sizes, order="F" if attrs.get(
            "storage_order", 0) else "C")  # storage_order 1: the spatial index column-major
    table = gc.constant(unpadded.ravel()[positions])  # [*counts, window]
    chosen = gc.one_hot(gc.argmax(windows, axis=-1, output_type=gc.int32), positions.shape[-1],
                        dtype=gc.int64)
    spatial = gc.reduce_sum(chosen * table, axis=-1)
    unit_dims = gc.constant([1] * len(sizes), gc.int64)
    planes = gc.reshape(gc.range(gc.reduce_prod(batch_and_channels)),
                        gc.concat([batch_and_channels, unit_dims], 0))
    return pooled, spatial + planes * int(np.prod(sizes))


def _explicit_ends(attrs, sizes):
    """The end pads count_include_pad counts: the explicit ones, not ceil_mode's extra."""
    rank = len(sizes)
    if attrs.get("auto_pad", "NOTSET") != "NOTSET":
        return [0] * rank  # SAME/VALID pads are never counted (ONNX's reference)
    return list(attrs.get("pads", [0] * 2 * rank))[rank:]
