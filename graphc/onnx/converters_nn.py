"""ONNX converters for neural-network layers: convolutions and pools (NCHW around graphc's
NHWC), batch, layer and instance normalization."""
from __future__ import annotations

import numpy as np

import graphc as gc

from .converters import CONVERTERS, UnsupportedOpError, converter
from .converters_pool import gathered_pool


# -- neural-network layers (ONNX NCHW around graphc's NHWC) -------------------------------------
def _to_nhwc(x):
    return gc.transpose(x, [0, 2, 3, 1])


def _to_nchw(x):
    return gc.transpose(x, [0, 3, 1, 2])


def _spatial_pads(attrs, kernel, strides, dilations, x):
    """graphc's padding for ONNX's ``auto_pad``/``pads``: "SAME", "VALID" or explicit NHWC
    pairs (SAME_LOWER puts the odd extra row first, so it needs the input's static size)."""
    auto = attrs.get("auto_pad", "NOTSET")
    if auto == "SAME_UPPER":
        return "SAME"
    if auto == "VALID":
        return "VALID"
    if auto == "SAME_LOWER":
        sizes = x.shape.dims[2:] if x.shape.rank == 4 else None
        if sizes is None or None in sizes:
            raise UnsupportedOpError("auto_pad SAME_LOWER of an input of unknown spatial size")
        pairs = []
        for size, k, stride, dilation in zip(sizes, kernel, strides, dilations):
            total = max((-(-size // stride) - 1) * stride + (k - 1) * dilation + 1 - size, 0)
            pairs.append([total - total // 2, total // 2])
        return [[0, 0], *pairs, [0, 0]]
    pads = list(attrs.get("pads", [0, 0, 0, 0]))
    if not any(pads):
        return "VALID"
    return [[0, 0], [pads[0], pads[2]], [pads[1], pads[3]], [0, 0]]


_LIFTED_ATTRS = {"kernel_shape": [1], "strides": [1], "dilations": [1],
                 "output_padding": [0], "output_shape": [1]}


def _also_1d(convert):
    """A 2-D converter that also takes 1-D (NCL) inputs: as NC1L images, with a unit first
    spatial dimension in the weights and the attributes, and the unit dim dropped after."""
    def lifted(ctx, ins, attrs):
        if ins[0].shape.rank != 3:
            return convert(ctx, ins, attrs)
        ins = [gc.expand_dims(t, 2) if t is not None and t.shape.rank == 3 else t
               for t in ins]
        attrs = dict(attrs)
        for key, unit in _LIFTED_ATTRS.items():
            if key in attrs:
                attrs[key] = unit + list(attrs[key])
        if "pads" in attrs:
            attrs["pads"] = [0, attrs["pads"][0], 0, attrs["pads"][1]]
        results = convert(ctx, ins, attrs)
        if isinstance(results, (list, tuple)):
            return [gc.squeeze(r, [2]) for r in results]
        return gc.squeeze(results, [2])
    return lifted


def _conv(ctx, ins, attrs):
    x, w = ins[0], ins[1]
    if x.shape.rank != 4:
        raise UnsupportedOpError(f"Conv: only 1-D and 2-D convolutions (input rank 3 or 4), "
                                 f"got rank {x.shape.rank} (graphc has no 3-D convolutions)")
    strides = list(attrs.get("strides", [1, 1]))
    dilations = list(attrs.get("dilations", [1, 1]))
    padding = _spatial_pads(attrs, w.shape.dims[2:], strides, dilations, x)
    groups = attrs.get("group", 1)
    images = _to_nhwc(x)
    if isinstance(padding, list):
        images, padding = gc.pad(images, padding), "VALID"
    filters = gc.transpose(w, [2, 3, 1, 0])  # OIHW -> HWIO
    if groups == 1:
        out = gc.nn.conv2d(images, filters, [1, *strides, 1], padding,
                           dilations=[1, *dilations, 1])
    elif _depthwise(groups, images, w):  # one kernel, not one conv per group
        out_channels, _, height, width = w.shape.dims  # group g's outputs: g * M + m, as TF's
        depth = gc.transpose(gc.reshape(w, [groups, out_channels // groups, height, width]),
                             [2, 3, 0, 1])  # -> [kH, kW, C_in, M]
        out = gc.nn.depthwise_conv2d_native(images, depth, [1, *strides, 1], padding,
                                            dilations=[1, *dilations, 1])
    else:
        parts = zip(gc.split(images, groups, axis=3), gc.split(filters, groups, axis=3))
        out = gc.concat([gc.nn.conv2d(xi, wi, [1, *strides, 1], padding,
                                      dilations=[1, *dilations, 1]) for xi, wi in parts], 3)
    if len(ins) > 2 and ins[2] is not None:
        out = gc.nn.bias_add(out, ins[2])
    return _to_nchw(out)


def _depthwise(groups, images, w) -> bool:
    """Whether a grouped Conv is depthwise: a group per input channel, static filter dims."""
    return (images.shape.rank == 4 and images.shape.dims[3] == groups
            and w.shape.is_fully_defined() and w.shape.dims[1] == 1)


CONVERTERS["Conv"] = _also_1d(_conv)


def _conv_transpose_geometry(attrs, sizes, kernel):
    """Per spatial dim, ``(pad_begin, output_size)``: ONNX ConvTranspose's output is the
    unpadded transposed convolution (``(in - 1) * stride + (k - 1) * dilation + 1`` long)
    read from ``pad_begin`` on, zero beyond its end (output_padding), ``output_size`` long."""
    rank = len(sizes)
    strides = list(attrs.get("strides", [1] * rank))
    dilations = list(attrs.get("dilations", [1] * rank))
    extra = list(attrs.get("output_padding", [0] * rank))
    full = [(n - 1) * s + (k - 1) * d + 1 for n, s, k, d in zip(sizes, strides, kernel,
                                                                 dilations)]
    auto = attrs.get("auto_pad", "NOTSET")
    if "pads" in attrs or auto not in ("SAME_UPPER", "SAME_LOWER"):
        pads = list(attrs.get("pads", [0] * 2 * rank))
        begins = pads[:rank]
        outputs = list(attrs.get("output_shape") or
                       [f + e - b - pe for f, e, b, pe in zip(full, extra, begins, pads[rank:])])
        return list(zip(begins, outputs)), strides, dilations, full
    outputs = list(attrs.get("output_shape") or [n * s for n, s in zip(sizes, strides)])
    begins = []
    for f, e, out in zip(full, extra, outputs):
        total = f + e - out
        begins.append(total // 2 if auto == "SAME_UPPER" else total - total // 2)
    return list(zip(begins, outputs)), strides, dilations, full


def _conv_transpose(ctx, ins, attrs):
    x, w = ins[0], ins[1]
    if x.shape.rank != 4:
        raise UnsupportedOpError(f"ConvTranspose: only 1-D and 2-D (input rank 3 or 4; graphc "
                                 f"has no 3-D convolutions), got rank {x.shape.rank}")
    sizes, kernel = x.shape.dims[2:], w.shape.dims[2:]
    if None in sizes or None in kernel or w.shape.dims[1] is None:
        raise UnsupportedOpError("ConvTranspose: an input or kernel of unknown spatial size")
    geometry, strides, dilations, full = _conv_transpose_geometry(attrs, sizes, kernel)
    if any(begin < 0 for begin, _ in geometry):
        raise UnsupportedOpError("ConvTranspose: negative pads")
    groups = attrs.get("group", 1)
    images = _to_nhwc(x)
    filters = gc.transpose(w, [2, 3, 1, 0])  # (C_in, C_out/group, kH, kW) -> HW(out)(in)
    batch = gc.shape(x)[0]
    out_shape = gc.stack([batch, full[0], full[1], w.shape.dims[1]])
    parts = zip(gc.split(images, groups, axis=3), gc.split(filters, groups, axis=3))
    out = gc.concat([gc.nn.conv2d_transpose(xi, wi, out_shape, [1, *strides, 1], "VALID",
                                            dilations=[1, *dilations, 1])
                     for xi, wi in parts], 3) if groups > 1 else gc.nn.conv2d_transpose(
        images, filters, out_shape, [1, *strides, 1], "VALID", dilations=[1, *dilations, 1])
    beyond = [max(begin + size - f, 0) for (begin, size), f in zip(geometry, full)]
    if any(beyond):
        out = gc.pad(out, [[0, 0], [0, beyond[0]], [0, beyond[1]], [0, 0]])
    out = out[:, geometry[0][0]:geometry[0][0] + geometry[0][1],
              geometry[1][0]:geometry[1][0] + geometry[1][1], :]
    if len(ins) > 2 and ins[2] is not None:
        out = gc.nn.bias_add(out, ins[2])
    return _to_nchw(out)


CONVERTERS["ConvTranspose"] = _also_1d(_conv_transpose)


def _ceil_extra(padding, x, kernel, strides):
    """Rows and columns ceil_mode adds at the end of each spatial dim: enough for a last,
    partial window, unless that window would start in the end padding (ONNX's rule)."""
    sizes = x.shape.dims[2:]
    if padding == "SAME" or None in sizes:
        raise UnsupportedOpError("ceil_mode with auto_pad SAME or an unknown spatial size")
    pairs = padding[1:3] if isinstance(padding, list) else [[0, 0], [0, 0]]
    extra = []
    for size, (begin, end), k, stride in zip(sizes, pairs, kernel, strides):
        span = size + begin + end
        count = -(-(span - k) // stride) + 1
        if (count - 1) * stride >= size + begin:
            count -= 1
        extra.append(max((count - 1) * stride + k - span, 0))
    return [[0, 0], *[[b, e + more] for (b, e), more in zip(pairs, extra)], [0, 0]], pairs


def _pool(kind):
    def convert(ctx, ins, attrs):
        x = ins[0]
        if x.shape.rank != 4 or ctx.output_count > 1 or any(
                d != 1 for d in attrs.get("dilations", [1, 1])):
            return gathered_pool(ctx, kind, x, attrs)  # 3-D, dilated, or with Indices
        kernel = list(attrs["kernel_shape"])
        strides = list(attrs.get("strides", [1, 1]))
        padding = _spatial_pads(attrs, kernel, strides, [1, 1], x)
        explicit = padding[1:3] if isinstance(padding, list) else None
        if attrs.get("ceil_mode", 0):
            padding, explicit = _ceil_extra(padding, x, kernel, strides)
        images = _to_nhwc(x)
        pool = gc.nn.max_pool if kind == "MaxPool" else gc.nn.avg_pool
        window, steps = [1, *kernel, 1], [1, *strides, 1]
        if not isinstance(padding, list):
            return _to_nchw(pool(images, window, steps, padding))
        fill = -np.inf if kind == "MaxPool" else 0.0
        pooled = pool(gc.pad(images, padding, constant_values=fill), window, steps, "VALID")
        if kind == "AveragePool":
            # window sums over the counted cells: the real ones, and the explicit pads too
            # with count_include_pad (never the cells ceil_mode adds)
            counted = gc.ones_like(images)
            if attrs.get("count_include_pad", 0):
                counted = gc.pad(counted, [[0, 0], *explicit, [0, 0]], constant_values=1.0)
                padding = [[0, 0], *[[0, p[1] - e[1]] for p, e in zip(padding[1:3],
                                                                      explicit)], [0, 0]]
            pooled = pooled / pool(gc.pad(counted, padding), window, steps, "VALID")
        return _to_nchw(pooled)
    return convert


CONVERTERS["MaxPool"] = _also_1d(_pool("MaxPool"))
CONVERTERS["AveragePool"] = _also_1d(_pool("AveragePool"))


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
    rank = x.shape.rank
    epsilon = gc.cast(attrs.get("epsilon", 1e-5), x.dtype)
    running = None
    if attrs.get("training_mode", 0):  # normalize with the batch's statistics, and update
        axes = [0, *range(2, rank)]  # the running ones: r * momentum + batch * (1 - momentum)
        momentum = attrs.get("momentum", 0.9)
        batch_mean, batch_var = gc.nn.moments(x, axes)
        running = [mean * momentum + gc.cast(batch_mean, mean.dtype) * (1 - momentum),
                   var * momentum + gc.cast(batch_var, var.dtype) * (1 - momentum)]
        mean, var = batch_mean, batch_var
    inv = _per_channel(scale, rank) / gc.sqrt(_per_channel(var, rank) + epsilon)
    y = (x - _per_channel(mean, rank)) * inv + _per_channel(bias, rank)
    return y if running is None else [y, *running]


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
