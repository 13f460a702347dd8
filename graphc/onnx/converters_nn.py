"""ONNX converters for neural-network layers: convolutions and pools (NCHW around graphc's
NHWC), batch, layer and instance normalization."""
from __future__ import annotations

import numpy as np

import graphc as gc

from .converters import CONVERTERS, UnsupportedOpError, converter


# -- neural-network layers (ONNX NCHW around graphc's NHWC) -------------------------------------
def _to_nhwc(x):
    return gc.transpose(x, [0, 2, 3, 1])


def _to_nchw(x):
    return gc.transpose(x, [0, 3, 1, 2])


def _spatial_pads(attrs, kernel, strides, dilations, x):
    auto = attrs.get("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        return "SAME" if auto == "SAME_UPPER" else None
    if auto == "VALID":
        return "VALID"
    pads = list(attrs.get("pads", [0, 0, 0, 0]))
    if not any(pads):
        return "VALID"
    return [[0, 0], [pads[0], pads[2]], [pads[1], pads[3]], [0, 0]]


@converter("Conv")
def _conv(ctx, ins, attrs):
    x, w = ins[0], ins[1]
    if x.shape.rank != 4:
        raise UnsupportedOpError(f"Conv: only 2-D convolutions (input rank 4), got rank "
                                 f"{x.shape.rank}")
    strides = list(attrs.get("strides", [1, 1]))
    dilations = list(attrs.get("dilations", [1, 1]))
    padding = _spatial_pads(attrs, None, strides, dilations, x)
    if padding is None:
        raise UnsupportedOpError("Conv: auto_pad SAME_LOWER")
    groups = attrs.get("group", 1)
    images = _to_nhwc(x)
    if isinstance(padding, list):
        images, padding = gc.pad(images, padding), "VALID"
    filters = gc.transpose(w, [2, 3, 1, 0])  # OIHW -> HWIO
    if groups == 1:
        out = gc.nn.conv2d(images, filters, [1, *strides, 1], padding,
                           dilations=[1, *dilations, 1])
    else:
        parts = zip(gc.split(images, groups, axis=3), gc.split(filters, groups, axis=3))
        out = gc.concat([gc.nn.conv2d(xi, wi, [1, *strides, 1], padding,
                                      dilations=[1, *dilations, 1]) for xi, wi in parts], 3)
    if len(ins) > 2 and ins[2] is not None:
        out = gc.nn.bias_add(out, ins[2])
    return _to_nchw(out)


def _pool(kind):
    def convert(ctx, ins, attrs):
        x = ins[0]
        if x.shape.rank != 4:
            raise UnsupportedOpError(f"{kind}: only 2-D pooling (input rank 4)")
        if ctx.output_count > 1:
            raise UnsupportedOpError(f"{kind}: the Indices output")
        if attrs.get("ceil_mode", 0) or any(d != 1 for d in attrs.get("dilations", [1, 1])):
            raise UnsupportedOpError(f"{kind}: ceil_mode or dilations")
        kernel = list(attrs["kernel_shape"])
        strides = list(attrs.get("strides", [1, 1]))
        padding = _spatial_pads(attrs, kernel, strides, [1, 1], x)
        images = _to_nhwc(x)
        pool = gc.nn.max_pool if kind == "MaxPool" else gc.nn.avg_pool
        window, steps = [1, *kernel, 1], [1, *strides, 1]
        if padding is None:
            raise UnsupportedOpError(f"{kind}: auto_pad SAME_LOWER")
        if isinstance(padding, list):
            fill = -np.inf if kind == "MaxPool" else 0.0
            padded = gc.pad(images, padding, constant_values=fill)
            pooled = pool(padded, window, steps, "VALID")
            if kind == "AveragePool" and not attrs.get("count_include_pad", 0):
                # the mean of the real elements only: window sums over window counts
                counted = pool(gc.pad(gc.ones_like(images), padding), window, steps, "VALID")
                pooled = pooled / counted
            return _to_nchw(pooled)
        return _to_nchw(pool(images, window, steps, padding))
    return convert


CONVERTERS["MaxPool"] = _pool("MaxPool")
CONVERTERS["AveragePool"] = _pool("AveragePool")


@converter("GlobalAveragePool")
def _global_average(ctx, ins, attrs):
    x = ins[0]
    return gc.reduce_mean(x, axis=list(range(2, x.shape.rank)), keepdims=True)


@converter("GlobalMaxPool")
def _global_max(ctx, ins, attrs):
    x = ins[0]
    return gc.reduce_max(x, axis=list(range(2, x.shape.rank)), keepdims=True)


def _per_channel(v, rank):
    return gc.reshape(v, [-1] + [1] * (rank - 2))


@converter("BatchNormalization")
def _batch_norm(ctx, ins, attrs):
    x, scale, bias, mean, var = ins[:5]
    if attrs.get("training_mode", 0):
        raise UnsupportedOpError("BatchNormalization: training_mode")
    rank = x.shape.rank
    epsilon = gc.cast(attrs.get("epsilon", 1e-5), x.dtype)
    inv = _per_channel(scale, rank) / gc.sqrt(_per_channel(var, rank) + epsilon)
    return (x - _per_channel(mean, rank)) * inv + _per_channel(bias, rank)


@converter("LayerNormalization")
def _layer_norm(ctx, ins, attrs):
    x, scale = ins[0], ins[1]
    bias = ins[2] if len(ins) > 2 else None
    rank = x.shape.rank
    axis = attrs.get("axis", -1) % rank
    axes = list(range(axis, rank))
    compute = gc.float32 if x.dtype in (gc.float16,) else x.dtype
    xs = gc.cast(x, compute)
    mean = gc.reduce_mean(xs, axis=axes, keepdims=True)
    centered = xs - mean
    var = gc.reduce_mean(centered * centered, axis=axes, keepdims=True)
    inv_std = gc.rsqrt(var + gc.cast(attrs.get("epsilon", 1e-5), compute))
    y = gc.cast(centered * inv_std, x.dtype) * scale
    if bias is not None:
        y = y + bias
    return y, mean, inv_std


@converter("InstanceNormalization")
def _instance_norm(ctx, ins, attrs):
    x, scale, bias = ins
    rank = x.shape.rank
    axes = list(range(2, rank))
    mean = gc.reduce_mean(x, axis=axes, keepdims=True)
    var = gc.reduce_mean(gc.square(x - mean), axis=axes, keepdims=True)
    epsilon = gc.cast(attrs.get("epsilon", 1e-5), x.dtype)
    return (x - mean) * gc.rsqrt(var + epsilon) * _per_channel(scale, rank) + _per_channel(
        bias, rank)


@converter("LRN")
def _lrn(ctx, ins, attrs):
    size = attrs["size"]
    if size % 2 == 0:
        raise UnsupportedOpError("LRN: an even size (an asymmetric window)")
    # ONNX divides alpha by the window size; TF's depth_radius is the half window
    out = gc.nn.local_response_normalization(
        _to_nhwc(ins[0]), depth_radius=(size - 1) // 2, bias=attrs.get("bias", 1.0),
        alpha=attrs.get("alpha", 1e-4) / size, beta=attrs.get("beta", 0.75))
    return _to_nchw(out)
