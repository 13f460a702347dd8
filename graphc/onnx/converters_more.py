"""ONNX converters for tensors' shapes, reductions, linear algebra and neural-network layers
(the elementwise ones and the table itself are in converters.py)."""
from __future__ import annotations

import numpy as np

import graphc as gc

from . import dynamic_ops as dyn
from .converters import CONVERTERS, UnsupportedOpError, _ints, converter, static


def _graphc_dtype(onnx_type: int):
    from onnx import helper  # noqa: PLC0415 - the optional extra, present when importing
    dtype = np.dtype(helper.tensor_dtype_to_np_dtype(onnx_type))
    try:
        return gc.as_dtype(dtype)
    except TypeError:
        raise UnsupportedOpError(f"graphc has no dtype {dtype}") from None


# -- linear algebra ---------------------------------------------------------------------------
@converter("MatMul")
def _matmul(ctx, ins, attrs):
    a, b = ins
    if a.shape.rank == 1 or b.shape.rank == 1:  # NumPy's rules: a vector's one axis contracts
        return gc.tensordot(a, b, [[a.shape.rank - 1], [max(b.shape.rank - 2, 0)]])
    if a.shape.rank != b.shape.rank:
        raise UnsupportedOpError(f"MatMul: batch broadcasting of ranks {a.shape.rank} and "
                                 f"{b.shape.rank}")
    return gc.matmul(a, b)


@converter("Gemm")
def _gemm(ctx, ins, attrs):
    a, b = ins[0], ins[1]
    product = gc.matmul(a, b, transpose_a=bool(attrs.get("transA", 0)),
                        transpose_b=bool(attrs.get("transB", 0)))
    alpha, beta = attrs.get("alpha", 1.0), attrs.get("beta", 1.0)
    if alpha != 1.0:
        product = product * gc.cast(alpha, product.dtype)
    if len(ins) > 2 and ins[2] is not None:
        c = ins[2] if beta == 1.0 else ins[2] * gc.cast(beta, ins[2].dtype)
        product = product + c
    return product


@converter("Einsum")
def _einsum(ctx, ins, attrs):
    equation = attrs["equation"].replace(" ", "")
    if "..." in equation:
        equation = _spelled_out(equation, [t.shape.rank for t in ins])
    return gc.einsum(equation, *ins)


def _spelled_out(equation, ranks) -> str:
    """An einsum equation with each ``...`` replaced by letters of its own (the operands'
    ranks say how many): ``"...ii->...i"`` of a rank-3 operand is ``"Aii->Ai"``."""
    if None in ranks:
        raise UnsupportedOpError("Einsum: an ellipsis ('...') over an operand of unknown rank")
    inputs, _, output = equation.partition("->")
    terms = inputs.split(",")
    spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in equation]
    widest = max(rank - len(term.replace("...", "")) for term, rank in zip(terms, ranks)
                 if "..." in term)
    letters = "".join(spare[:widest])
    # an operand with fewer broadcast dims takes the trailing ones (NumPy's alignment)
    spelled = [term.replace("...", letters[widest - (rank - len(term.replace("...", ""))):])
               for term, rank in zip(terms, ranks)]
    if "->" not in equation:  # implicit output: the broadcast dims, then the lone letters
        lone = sorted(c for c in set(inputs) if c.isalpha() and inputs.count(c) == 1)
        return ",".join(spelled) + "->" + letters + "".join(lone)
    return ",".join(spelled) + "->" + output.replace("...", letters)


# -- reductions -------------------------------------------------------------------------------
_REDUCTIONS = {"ReduceSum": "sum", "ReduceMean": "mean", "ReduceMax": "max", "ReduceMin": "min",
               "ReduceProd": "prod", "ReduceL1": "l1", "ReduceL2": "l2",
               "ReduceSumSquare": "sum_square", "ReduceLogSum": "log_sum",
               "ReduceLogSumExp": "log_sum_exp"}
_AXES_AS_INPUT = {"ReduceSum": 13}  # the others took axes as an input from opset 18


# A floating reduction over axes known at import time is graphc's own reduction: it has a
# gradient (an imported model fine-tunes through its ReduceMean head) and static shapes. On
# empty inputs these agree with ONNX (sum 0, prod 1, max -inf, min inf, mean NaN).
_STATIC_REDUCTIONS = {
    "sum": lambda x, axes, keep: gc.reduce_sum(x, axes, keepdims=keep),
    "mean": lambda x, axes, keep: gc.reduce_mean(x, axes, keepdims=keep),
    "max": lambda x, axes, keep: gc.reduce_max(x, axes, keepdims=keep),
    "min": lambda x, axes, keep: gc.reduce_min(x, axes, keepdims=keep),
    "prod": lambda x, axes, keep: gc.reduce_prod(x, axes, keepdims=keep),
    "l1": lambda x, axes, keep: gc.reduce_sum(gc.abs(x), axes, keepdims=keep),
    "l2": lambda x, axes, keep: gc.sqrt(gc.reduce_sum(gc.square(x), axes, keepdims=keep)),
    "sum_square": lambda x, axes, keep: gc.reduce_sum(gc.square(x), axes, keepdims=keep),
    "log_sum": lambda x, axes, keep: gc.log(gc.reduce_sum(x, axes, keepdims=keep)),
    "log_sum_exp": lambda x, axes, keep: gc.reduce_logsumexp(x, axes, keepdims=keep)}


def _reduction(op_type, kind):
    def convert(ctx, ins, attrs):
        x = ins[0]
        axes_input = ins[1] if len(ins) > 1 else None
        if axes_input is None and "axes" in attrs:
            axes_input = gc.constant(np.asarray(attrs["axes"], np.int64))
        keepdims, noop = attrs.get("keepdims", 1), attrs.get("noop_with_empty_axes", 0)
        axes = [] if axes_input is None else _ints(axes_input, "axes")
        if axes is not None and x.dtype.is_floating and x.shape.rank is not None:
            if not axes and noop:
                return gc.identity(x)
            return _STATIC_REDUCTIONS[kind](x, [a % max(x.shape.rank, 1) for a in axes] or None,
                                            bool(keepdims))
        return dyn.onnx_reduce(x, axes_input, kind, keepdims, noop)
    return convert


for _op, _kind in _REDUCTIONS.items():
    CONVERTERS[_op] = _reduction(_op, _kind)


def _arg_family(largest: bool):
    def convert(ctx, ins, attrs):
        x, axis = ins[0], attrs.get("axis", 0)
        if attrs.get("select_last_index", 0):
            flipped = dyn.onnx_slice(x, gc.constant([-1], gc.int64),
                                     gc.constant([-(2 ** 62)], gc.int64),
                                     gc.constant([axis], gc.int64), gc.constant([-1], gc.int64))
            found = (gc.argmax if largest else gc.argmin)(flipped, axis=axis,
                                                          output_type=gc.int64)
            found = gc.cast(gc.shape(x, out_type=gc.int64)[axis] - 1, gc.int64) - found
        else:
            found = (gc.argmax if largest else gc.argmin)(x, axis=axis, output_type=gc.int64)
        return gc.expand_dims(found, axis) if attrs.get("keepdims", 1) else found
    return convert


CONVERTERS["ArgMax"] = _arg_family(True)
CONVERTERS["ArgMin"] = _arg_family(False)


# -- shapes -------------------------------------------------------------------------------
@converter("Reshape")
def _reshape(ctx, ins, attrs):
    x, shape = ins
    dims = _ints(shape, "shape")
    if dims is not None and not attrs.get("allowzero", 0) and 0 in dims:
        known = x.shape.dims
        if known is None or any(known[i] is None for i, d in enumerate(dims) if d == 0):
            raise UnsupportedOpError("Reshape: a 0 (copy) dimension of an unknown input dim")
        dims = [known[i] if d == 0 else d for i, d in enumerate(dims)]
    elif dims is None and not attrs.get("allowzero", 0):
        current = gc.shape(x, out_type=gc.int64)
        shape = gc.cast(shape, gc.int64)
        padded = gc.concat([current, gc.zeros([8], gc.int64)], 0)[: gc.size(shape)]
        shape = gc.where(gc.equal(shape, 0), padded, shape)
    return gc.reshape(x, dims if dims is not None else shape)


@converter("Flatten")
def _flatten(ctx, ins, attrs):
    x = ins[0]
    axis = attrs.get("axis", 1)
    shape = gc.shape(x, out_type=gc.int64)
    rank = x.shape.rank
    axis = axis % rank if axis < 0 else axis
    outer = gc.reduce_prod(shape[:axis]) if axis else gc.constant(1, gc.int64)
    inner = gc.reduce_prod(shape[axis:]) if axis < rank else gc.constant(1, gc.int64)
    return gc.reshape(x, gc.stack([outer, inner]))


@converter("Transpose")
def _transpose(ctx, ins, attrs):
    perm = attrs.get("perm")
    return gc.transpose(ins[0], list(perm) if perm is not None else None)


@converter("Squeeze")
def _squeeze(ctx, ins, attrs):
    x = ins[0]
    axes = attrs.get("axes") if len(ins) < 2 else _ints(ins[1], "axes")
    if axes is None and len(ins) > 1 and ins[1] is not None:
        return dyn.onnx_squeeze(x, ins[1])
    return gc.squeeze(x, axis=list(axes)) if axes else gc.squeeze(x)


@converter("Unsqueeze")
def _unsqueeze(ctx, ins, attrs):
    x = ins[0]
    axes = attrs.get("axes") if len(ins) < 2 else _ints(ins[1], "axes")
    if axes is None:
        return dyn.onnx_unsqueeze(x, ins[1])
    rank = (x.shape.rank or 0) + len(axes)
    for axis in sorted(a % rank for a in axes):
        x = gc.expand_dims(x, axis)
    return x


@converter("Concat")
def _concat(ctx, ins, attrs):
    return gc.concat([t for t in ins if t is not None], attrs["axis"])


@converter("Split")
def _split(ctx, ins, attrs):
    x, axis = ins[0], attrs.get("axis", 0)
    sizes = attrs.get("split")
    if len(ins) > 1 and ins[1] is not None:
        sizes = _ints(ins[1], "split")
        if sizes is None:
            return _split_at_run_time(x, ins[1], axis, ctx.output_count)
    if sizes is None:
        count = attrs.get("num_outputs") or ctx.output_count
        dim = x.shape[axis]
        if dim is None:
            raise UnsupportedOpError("Split: equal parts of an unknown dimension")
        chunk = -(-dim // count)
        sizes = [min(chunk, dim - i * chunk) for i in range(count)]
    return gc.split(x, list(sizes), axis=axis)


def _split_at_run_time(x, sizes, axis, count):
    """Split with run-time part sizes: part i is the slice between the running sums."""
    ends = gc.cumsum(gc.cast(sizes, gc.int64))
    starts = ends - gc.cast(sizes, gc.int64)
    axes = gc.constant([axis], gc.int64)
    return [dyn.onnx_slice(x, starts[i:i + 1], ends[i:i + 1], axes) for i in range(count)]


@converter("Slice")
def _slice(ctx, ins, attrs):
    x = ins[0]
    if len(ins) == 1:  # opset < 10: attributes
        operands = [gc.constant(np.asarray(attrs[k], np.int64)) for k in ("starts", "ends")]
        if "axes" in attrs:
            operands.append(gc.constant(np.asarray(attrs["axes"], np.int64)))
        return dyn.onnx_slice(x, *operands)
    return dyn.onnx_slice(x, *[t for t in ins[1:] if t is not None]) if all(
        t is not None for t in ins[1:]) else dyn.onnx_slice(
            x, ins[1], ins[2], ins[3] if len(ins) > 3 and ins[3] is not None else
            gc.range(gc.size(ins[1], out_type=gc.int64)), *(ins[4:5] if len(ins) > 4 else []))


@converter("Gather")
def _gather(ctx, ins, attrs):
    data, indices = ins
    axis = attrs.get("axis", 0)
    dim = gc.shape(data, out_type=indices.dtype)[axis]
    wrapped = gc.where(gc.less(indices, 0), indices + dim, indices)  # ONNX: negative counts back
    return gc.gather(data, wrapped, axis=axis)


@converter("Expand")
def _expand(ctx, ins, attrs):
    return dyn.onnx_expand(ins[0], ins[1])


@converter("Tile")
def _tile(ctx, ins, attrs):
    repeats = _ints(ins[1], "repeats")
    return gc.tile(ins[0], repeats) if repeats is not None else dyn.onnx_tile(ins[0], ins[1])


@converter("Pad")
def _pad(ctx, ins, attrs):
    x = ins[0]
    mode = attrs.get("mode", "constant")
    given = list(ins[1:])  # pads, constant_value, axes (opset 11+), any of them omitted
    pads = attrs.get("pads") if not given else _ints(given[0], "pads")
    value_input = given[1] if len(given) > 1 else None
    axes_input = given[2] if len(given) > 2 else None
    value = attrs.get("value", 0) if value_input is None else static(value_input)
    axes = None if axes_input is None else _ints(axes_input, "axes")
    rank = x.shape.rank
    static_form = (pads is not None and value is not None and rank is not None
                   and (axes_input is None or axes is not None) and mode in _GRAPHC_PAD_MODES
                   and min(pads, default=0) >= 0)
    if not static_form:  # run-time pads, value or axes, edge/wrap modes or cropping
        pads_tensor = given[0] if given else gc.constant(np.asarray(pads, np.int64))
        if value_input is None and axes_input is not None:
            value_input = gc.cast(value, x.dtype)
        return dyn.onnx_pad(x, pads_tensor, value_input, axes_input, mode)
    axes = list(range(rank)) if axes is None else [a % rank for a in axes]
    half = len(pads) // 2
    paddings = [[0, 0] for _ in range(rank)]
    for k, axis in enumerate(axes):
        paddings[axis] = [pads[k], pads[k + half]]
    fill = np.asarray(value).ravel()[0].item() if np.size(value) else 0
    return gc.pad(x, paddings, mode=_GRAPHC_PAD_MODES[mode], constant_values=fill)


_GRAPHC_PAD_MODES = {"constant": "CONSTANT", "reflect": "REFLECT"}


@converter("Shape")
def _shape(ctx, ins, attrs):
    shape = gc.shape(ins[0], out_type=gc.int64)
    start, end = attrs.get("start", 0), attrs.get("end")
    return shape[start:end] if (start or end is not None) else shape


@converter("Size")
def _size(ctx, ins, attrs):
    return gc.size(ins[0], out_type=gc.int64)


@converter("Range")
def _range(ctx, ins, attrs):
    start, limit, delta = ins
    return gc.range(start, limit, delta, dtype=start.dtype)


@converter("ConstantOfShape")
def _constant_of_shape(ctx, ins, attrs):
    from onnx import numpy_helper  # noqa: PLC0415
    value = numpy_helper.to_array(attrs["value"]).ravel() if "value" in attrs else \
        np.zeros(1, np.float32)
    return gc.fill(ins[0], gc.constant(value[0]))


@converter("Constant")
def _constant(ctx, ins, attrs):
    from onnx import numpy_helper  # noqa: PLC0415
    if "value" in attrs:
        return gc.constant(numpy_helper.to_array(attrs["value"]))
    for key, dtype in (("value_float", np.float32), ("value_floats", np.float32),
                       ("value_int", np.int64), ("value_ints", np.int64)):
        if key in attrs:
            return gc.constant(np.asarray(attrs[key], dtype))
    raise UnsupportedOpError(f"Constant: attribute {sorted(attrs)}")


@converter("Cast")
def _cast(ctx, ins, attrs):
    return gc.cast(ins[0], _graphc_dtype(attrs["to"]))


@converter("CastLike")
def _cast_like(ctx, ins, attrs):
    return gc.cast(ins[0], ins[1].dtype)


@converter("OneHot")
def _one_hot(ctx, ins, attrs):
    indices, depth, values = ins
    rank = indices.shape.rank
    if rank is None:
        raise UnsupportedOpError("OneHot: indices of unknown rank")
    axis = attrs.get("axis", -1) % (rank + 1)
    depth = gc.cast(gc.reshape(depth, []), gc.int64)  # the depth may be a run-time value
    where = gc.cast(indices, gc.int64)
    where = gc.where(gc.less(where, 0), where + depth, where)  # ONNX: negative counts back
    # entry j along the new axis is "hot" where the index equals j (none when out of range)
    positions = gc.reshape(gc.range(depth, dtype=gc.int64),
                           [-1 if d == axis else 1 for d in range(rank + 1)])
    hot = gc.equal(gc.expand_dims(where, axis), positions)
    return gc.where(hot, gc.fill(gc.shape(hot), values[1]), gc.fill(gc.shape(hot), values[0]))


@converter("Dropout")
def _dropout(ctx, ins, attrs):
    x = ins[0]
    ratio = ins[1] if len(ins) > 1 and ins[1] is not None else attrs.get("ratio", 0.5)
    training = ins[2] if len(ins) > 2 and ins[2] is not None else None
    if training is None or static(training) is not None and not bool(static(training)):
        return gc.identity(x), gc.ones_like(x, dtype=gc.bool)  # inference: nothing dropped
    # training: keep each element with probability 1 - ratio, scaled by 1 / (1 - ratio);
    # ``training`` may be a run-time value, so both forms are built and it picks one
    ratio = gc.cast(ratio, x.dtype)
    kept = gc.greater_equal(gc.random_uniform(gc.shape(x), dtype=x.dtype,
                                              seed=attrs.get("seed")), ratio)
    dropped = gc.where(kept, x / (1 - ratio), gc.zeros_like(x))
    training = gc.cast(training, gc.bool)
    return (gc.where(training, dropped, x),
            gc.logical_or(kept, gc.logical_not(training)))


from . import converters_nn  # noqa: E402,F401 - the conv, pool and normalization converters
from . import converters_index  # noqa: E402,F401 - element indexing, TopK and CumSum
from . import converters_control  # noqa: E402,F401 - If, Loop and Scan
