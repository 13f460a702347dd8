"""TF's stateless random ops: the same ``seed`` pair always gives the same values, in every
Session and every run, and they are TensorFlow's values bit for bit (the Philox-4x32-10
stream of graphc.ops.philox, converted as TF converts it; normals within a few ulps of TF's,
where libm's log/sin/cos differ).

Being pure functions of their inputs, they are ordinary ops for the compiler: two with equal
inputs may be merged, and none draws from a Session's generator.

One difference from TF: ``stateless_multinomial`` draws row after row from one stream, which
is TF's result when its kernel runs in one shard (TF's own values for many rows depend on how
its thread pool splits them).

Example:
    >>> noise = gc.random.stateless_normal([2, 3], seed=[1, 2])
    >>> keys = gc.random.split([1, 2], num=4)            # four new seed pairs
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.ops import philox
from graphc.ops.common import apply_op, check_kind
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape
from graphc.static_values import constant_value, constant_value_as_shape

__all__ = ["stateless_random_uniform", "stateless_random_normal", "stateless_truncated_normal",
           "stateless_random_uniform_int", "stateless_random_uniform_full_int",
           "stateless_multinomial"]

_FLOATS = (gdt.float16, gdt.float32, gdt.float64)
_INTS = (gdt.int32, gdt.int64)
_FULL_INTS = (gdt.int32, gdt.int64, gdt.uint32, gdt.uint64)
# TF's truncated normal gives each group of outputs its own stretch of the stream, so a
# group's rejections never shift the next group's draws (kReservedSamplesPerOutput)
_RESERVED_DRAWS_PER_OUTPUT = 256


def _count(shape) -> int:
    return int(np.prod([int(d) for d in np.reshape(shape, -1)], dtype=np.int64))


def _stream(seed, count: int, per_block: int):
    """The first ``count`` values' uint32 draws (``4 // per_block`` per value, in order)."""
    key, counter = philox.key_and_counter(seed)
    return philox.blocks(key, counter, -(-count // per_block)).reshape(-1)


def _uniform_floats(seed, count: int, dtype) -> np.ndarray:
    if dtype == np.float64:
        bits = _stream(seed, count, 2)
        return philox.uint32_pair_to_float64(bits[0::2], bits[1::2])[:count]
    bits = _stream(seed, count, 4)[:count]
    return (philox.uint32_to_float16 if dtype == np.float16 else philox.uint32_to_float32)(bits)


def _wide_bits(seed, count: int, dtype) -> np.ndarray:
    """Raw uniform integers: one uint32 per 32-bit value, two per 64-bit value."""
    if np.dtype(dtype).itemsize == 8:
        bits = _stream(seed, count, 2)
        return philox.uint32_pair_to_uint64(bits[0::2], bits[1::2])[:count]
    return _stream(seed, count, 4)[:count]


def _normals_of_blocks(block_bits: np.ndarray, dtype) -> np.ndarray:
    """Box-Muller normals of Philox blocks (..., 4): four per block in float32/float16 (two
    uniform pairs), two per block in float64 (each uniform takes two uint32)."""
    if dtype == np.float64:
        first, second = philox.box_muller(
            philox.uint32_pair_to_float64(block_bits[..., 0], block_bits[..., 1]),
            philox.uint32_pair_to_float64(block_bits[..., 2], block_bits[..., 3]))
        return np.stack([first, second], axis=-1)
    uniforms = philox.uint32_to_float32(block_bits)
    first, second = philox.box_muller(uniforms[..., 0::2], uniforms[..., 1::2])
    return np.stack([first, second], axis=-1).reshape(block_bits.shape[:-1] + (4,))


def _normals(seed, count: int, dtype) -> np.ndarray:
    key, counter = philox.key_and_counter(seed)
    per_block = 2 if dtype == np.float64 else 4
    block_bits = philox.blocks(key, counter, -(-count // per_block))
    return _normals_of_blocks(block_bits, dtype).reshape(-1)[:count].astype(dtype)


def _truncated_normals(seed, count: int, dtype) -> np.ndarray:
    """TF's rejection sampling: group g of outputs (4, or 2 for float64) reads blocks from
    ``g * group * 256 / 4`` on, keeping the normals within 2 in stream order."""
    key, counter = philox.key_and_counter(seed)
    group = 2 if dtype == np.float64 else 4
    groups = -(-count // group)
    out = np.zeros((groups, group), np.float64 if dtype == np.float64 else np.float32)
    filled = np.zeros(groups, np.int64)
    pending = np.arange(groups)
    step = 0
    while pending.size:
        offsets = pending.astype(np.uint64) * np.uint64(group * _RESERVED_DRAWS_PER_OUTPUT // 4)
        normals = _normals_of_blocks(philox.blocks_at(key, counter, offsets + np.uint64(step)),
                                     dtype)
        kept = np.abs(normals) < 2.0
        slot = filled[pending, None] + np.cumsum(kept, axis=1) - 1
        use = kept & (slot < group)
        rows = np.broadcast_to(pending[:, None], slot.shape)
        out[rows[use], slot[use]] = normals[use]
        filled[pending] = np.minimum(filled[pending] + kept.sum(axis=1), group)
        pending = pending[filled[pending] < group]
        step += 1
    return out.reshape(-1)[:count].astype(dtype)


def _check_seed(op_type, seed_shape: TensorShape) -> None:
    if seed_shape.rank is not None and (seed_shape.rank != 1 or seed_shape.dims[0] not in (None, 2)):
        raise ValueError(f"{op_type}: seed must have shape [2], got shape {seed_shape}")


def _shape_rule(op_type):
    def rule(inputs, attrs):
        if inputs[0].shape.rank not in (None, 1):
            raise ValueError(f"{op_type}: shape must be a 1-D tensor, got shape {inputs[0].shape}")
        _check_seed(op_type, inputs[1].shape)
        for bound in inputs[2:]:
            if bound.shape.rank not in (None, 0):
                raise ValueError(f"{op_type}: minval and maxval must be scalars, got shape "
                                 f"{bound.shape}")
        return [constant_value_as_shape(inputs[0])]
    return rule


def _dtype_rule(op_type, allowed):
    def rule(in_dtypes, attrs):
        check_kind(op_type, in_dtypes[0], "integer", "shape")
        if in_dtypes[1] not in (gdt.int32, gdt.int64):
            raise TypeError(f"{op_type}: seed must be int32 or int64, got {in_dtypes[1].name}")
        out = gdt.as_dtype(attrs["dtype"])
        if out not in allowed:
            raise TypeError(f"{op_type}: dtype must be one of "
                            f"{', '.join(d.name for d in allowed)}, got {out.name}")
        for bound in in_dtypes[2:]:
            if bound != out:
                raise TypeError(f"{op_type}: minval and maxval must have dtype {out.name}, got "
                                f"{bound.name}")
        return [out]
    return rule


def _seed_pair(seed) -> np.ndarray:
    seed = np.asarray(seed)
    if seed.shape != (2,):
        raise ValueError(f"seed must have shape [2], got shape {list(seed.shape)}")
    return seed


def _uniform_int_kernel(shape, seed, minval, maxval, dtype):
    dtype = gdt.as_dtype(dtype).np
    if not minval < maxval:
        raise ValueError(f"stateless_random_uniform_int: need minval < maxval, got {minval} "
                         f">= {maxval}")
    unsigned = np.dtype(dtype.str.replace("i", "u"))
    span = (np.asarray(maxval).astype(unsigned) - np.asarray(minval).astype(unsigned)).astype(unsigned)
    draws = _wide_bits(_seed_pair(seed), _count(shape), dtype) % span
    with np.errstate(over="ignore"):
        return (draws.astype(unsigned) + np.asarray(minval).astype(unsigned)).view(dtype).reshape(
            [int(d) for d in shape])


def _drawn(draw):
    """The kernel ``(shape, seed, dtype)`` of ``draw(seed pair, count, NumPy dtype)``."""
    def kernel(shape, seed, dtype):
        values = draw(_seed_pair(seed), _count(shape), gdt.as_dtype(dtype).np)
        return values.reshape([int(d) for d in np.reshape(shape, -1)])
    return kernel


def _full_range_ints(seed, count: int, dtype) -> np.ndarray:
    return _wide_bits(seed, count, dtype).view(dtype)


_KERNELS = {
    "stateless_random_uniform": _drawn(_uniform_floats),
    "stateless_random_normal": _drawn(_normals),
    "stateless_truncated_normal": _drawn(_truncated_normals),
    "stateless_random_uniform_full_int": _drawn(_full_range_ints),
    "stateless_random_uniform_int": _uniform_int_kernel,
}
_DOCS = {
    "stateless_random_uniform": "Uniform floats in [0, 1) from a seed pair (TF's values).",
    "stateless_random_normal": "Standard normals from a seed pair (TF's values).",
    "stateless_truncated_normal": "Standard normals within 2 from a seed pair (TF's values).",
    "stateless_random_uniform_full_int": "Integers over the dtype's whole range, from a seed pair.",
    "stateless_random_uniform_int": "Integers in [minval, maxval) from a seed pair.",
}


def _samples(op_type):
    seed = np.array([3, -7], np.int64)
    if op_type == "stateless_random_uniform_int":
        return lambda: [Sample((np.array([2, 3], np.int32), seed, np.int32(-4), np.int32(9)),
                               {"dtype": gdt.int32}),
                        Sample((np.array([5], np.int32), seed, np.int64(0), np.int64(1 << 40)),
                               {"dtype": gdt.int64})]
    dtype = gdt.int64 if op_type.endswith("full_int") else gdt.float32
    return lambda: [Sample((np.array([3, 5], np.int32), seed), {"dtype": dtype}),
                    Sample((np.array([0, 4], np.int64), seed), {"dtype": dtype}),
                    Sample((np.array([7], np.int32), seed.astype(np.int32)),
                           {"dtype": gdt.float64 if dtype is gdt.float32 else gdt.uint32})]


def _reference(op_type):
    """An independent check for the tests: scalar Python Philox blocks, value by value."""
    def reference(shape, seed, *bounds, dtype):
        values = _reference_values(op_type, _count(shape), seed, bounds, gdt.as_dtype(dtype).np)
        return np.asarray(values, gdt.as_dtype(dtype).np).reshape([int(d) for d in shape])
    return reference


def _reference_values(op_type, count, seed, bounds, dtype) -> list:
    key, counter = philox.key_and_counter(seed)
    start = sum(c << (32 * i) for i, c in enumerate(counter))

    def block(index) -> np.ndarray:
        value = (start + index) % (1 << 128)
        words = [(value >> (32 * i)) & 0xFFFFFFFF for i in range(4)]
        return np.array(philox.philox_block_reference(words, key), np.uint32)

    def normals(bits) -> list:
        if dtype == np.float64:
            pairs = [(philox.uint32_pair_to_float64(bits[0:1], bits[1:2]),
                      philox.uint32_pair_to_float64(bits[2:3], bits[3:4]))]
        else:
            uniforms = philox.uint32_to_float32(bits)
            pairs = [(uniforms[0:1], uniforms[1:2]), (uniforms[2:3], uniforms[3:4])]
        return [float(v[0]) for u1, u2 in pairs for v in philox.box_muller(u1, u2)]

    wide = np.dtype(dtype).itemsize == 8
    if op_type == "stateless_truncated_normal":
        group = 2 if wide else 4
        values = []
        for first in range(0, count, group):
            kept, index = [], first // group * group * _RESERVED_DRAWS_PER_OUTPUT // 4
            while len(kept) < group:
                kept += [v for v in normals(block(index)) if abs(v) < 2.0]
                index += 1
            values += kept[:group]
        return values[:count]
    per_block = 2 if wide else 4
    bits = [block(i) for i in range(-(-count // per_block))]
    if op_type == "stateless_random_normal":
        return [v for b in bits for v in normals(b)][:count]
    flat = np.concatenate(bits) if bits else np.zeros(0, np.uint32)
    if op_type == "stateless_random_uniform":
        if wide:
            return list(philox.uint32_pair_to_float64(flat[0::2], flat[1::2]))[:count]
        convert = philox.uint32_to_float16 if dtype == np.float16 else philox.uint32_to_float32
        return list(convert(flat))[:count]
    raw = [int(v) for v in (philox.uint32_pair_to_uint64(flat[0::2], flat[1::2]) if wide else flat)]
    if op_type == "stateless_random_uniform_int":
        low, high = (int(b) for b in bounds)
        return [low + r % (high - low) for r in raw][:count]
    return list(np.array(raw[:count], np.uint64 if wide else np.uint32).view(dtype))


def _register(op_type, allowed, bounds=False):
    return registry.register(OpDef(
        name=op_type, dtypes=_dtype_rule(op_type, allowed), shapes=_shape_rule(op_type),
        kernel=_KERNELS[op_type], grad=registry.NOT_DIFFERENTIABLE,
        attrs={"dtype": gdt.int32 if bounds or "int" in op_type else gdt.float32},
        foldable=False,  # cheap to recompute; folding would store every value in the graph
        raises_on_values=bounds, finite_outputs=registry.always_finite,
        reference=_reference(op_type), samples=_samples(op_type),
        error_samples=lambda: [ErrorSample((np.array([2], np.int32), np.array([1, 2, 3])),
                                           match=r"seed must have shape \[2\]")],
        doc=_DOCS[op_type]))


STATELESS_RANDOM_UNIFORM = _register("stateless_random_uniform", _FLOATS)
STATELESS_RANDOM_NORMAL = _register("stateless_random_normal", _FLOATS)
STATELESS_TRUNCATED_NORMAL = _register("stateless_truncated_normal", _FLOATS)
STATELESS_RANDOM_UNIFORM_FULL_INT = _register("stateless_random_uniform_full_int", _FULL_INTS)
STATELESS_RANDOM_UNIFORM_INT = _register("stateless_random_uniform_int", _INTS, bounds=True)


def _raw(op_type, opdef, default_dtype):
    @registry.public(opdef)
    def build(shape, seed, *bounds, dtype=default_dtype, name=None):
        graph = graph_of(shape, seed, *bounds)
        with graph.as_default(), graph.atomic():
            shape = convert_to_tensor(shape, dtype_hint=gdt.int32)
            seed = convert_to_tensor(seed, dtype_hint=gdt.int64)
            dtype = gdt.as_dtype(dtype)
            bounds = [convert_to_tensor(b, dtype=dtype) for b in bounds]
            return apply_op(op_type, [shape, seed, *bounds], {"dtype": dtype}, name=name)
    build.__name__ = build.__qualname__ = op_type
    build.__doc__ = (f"The raw op ``{op_type}``: {_DOCS[op_type][0].lower()}"
                     f"{_DOCS[op_type][1:]}\n\n    Use the ``gc.random.stateless_*`` functions.")
    return build


stateless_random_uniform = _raw("stateless_random_uniform", STATELESS_RANDOM_UNIFORM, gdt.float32)
stateless_random_normal = _raw("stateless_random_normal", STATELESS_RANDOM_NORMAL, gdt.float32)
stateless_truncated_normal = _raw("stateless_truncated_normal", STATELESS_TRUNCATED_NORMAL,
                                  gdt.float32)
stateless_random_uniform_full_int = _raw("stateless_random_uniform_full_int",
                                         STATELESS_RANDOM_UNIFORM_FULL_INT, gdt.int64)
stateless_random_uniform_int = _raw("stateless_random_uniform_int", STATELESS_RANDOM_UNIFORM_INT,
                                    gdt.int32)


# -- multinomial --------------------------------------------------------------------------
def _multinomial_kernel(logits, num_samples, seed, output_dtype):
    logits = np.asarray(logits, np.float64)
    rows, samples = logits.shape[0], int(num_samples)
    if samples < 0:
        raise ValueError(f"stateless_multinomial: num_samples must be >= 0, got {samples}")
    bits = _stream(_seed_pair(seed), rows * samples, 2)
    draws = philox.uint32_pair_to_float64(bits[0::2], bits[1::2])[:rows * samples]
    draws = draws.reshape(rows, samples)
    finite = np.isfinite(logits)
    # TF's kernel: the cumulative exp(logit - max) over the finite logits only, in float64
    top = np.where(finite, logits, -np.inf).max(axis=1, initial=-np.inf, keepdims=True)
    with np.errstate(invalid="ignore", over="ignore"):
        weights = np.where(finite, np.exp(logits - np.where(np.isfinite(top), top, 0.0)), 0.0)
    cdf = np.cumsum(weights, axis=1)
    out = np.empty((rows, samples), gdt.as_dtype(output_dtype).np)
    for row in range(rows):
        total = cdf[row, -1] if cdf.shape[1] else 0.0
        out[row] = np.searchsorted(cdf[row], draws[row] * total, side="right")
    return out


def _multinomial_shapes(inputs, attrs):
    logits, num_samples, seed = inputs
    if logits.shape.rank not in (None, 2):
        raise ValueError(f"stateless_multinomial: logits must be 2-D [batch, classes], got "
                         f"shape {logits.shape}")
    if num_samples.shape.rank not in (None, 0):
        raise ValueError(f"stateless_multinomial: num_samples must be a scalar, got shape "
                         f"{num_samples.shape}")
    _check_seed("stateless_multinomial", seed.shape)
    count = constant_value(num_samples)
    batch = logits.shape.dims[0] if logits.shape.rank is not None else None
    return [TensorShape([batch, None if count is None else int(count)])]


def _multinomial_dtypes(in_dtypes, attrs):
    check_kind("stateless_multinomial", in_dtypes[0], "floating", "logits")
    out = gdt.as_dtype(attrs["output_dtype"])
    if out not in _INTS:
        raise TypeError(f"stateless_multinomial: output_dtype must be int32 or int64, got "
                        f"{out.name}")
    return [out]


def _multinomial_reference(logits, num_samples, seed, output_dtype=gdt.int64):
    draws = iter(_reference_values("stateless_random_uniform", logits.shape[0] * num_samples,
                                   seed, (), np.float64))
    out = []
    for row in np.asarray(logits, np.float64):
        finite = [v for v in row if np.isfinite(v)]
        top = max(finite) if finite else 0.0
        cdf = np.cumsum([np.exp(v - top) if np.isfinite(v) else 0.0 for v in row])
        out.append([int(np.searchsorted(cdf, next(draws) * cdf[-1], side="right"))
                    for _ in range(num_samples)])
    return np.array(out, gdt.as_dtype(output_dtype).np).reshape(len(out), num_samples)


STATELESS_MULTINOMIAL = registry.register(OpDef(
    name="stateless_multinomial", dtypes=_multinomial_dtypes, shapes=_multinomial_shapes,
    kernel=_multinomial_kernel, grad=registry.NOT_DIFFERENTIABLE,
    attrs={"output_dtype": gdt.int64}, foldable=False, raises_on_values=True,
    reference=_multinomial_reference,
    samples=lambda: [Sample((np.log(np.array([[0.1, 0.2, 0.7], [0.5, 0.5, 1e-9]], np.float32)),
                             6, np.array([5, 6], np.int64))),
                     Sample((np.array([[0.0, -np.inf, 1.0]]), 4, np.array([1, 2], np.int32)),
                            {"output_dtype": gdt.int32})],
    error_samples=lambda: [ErrorSample((np.zeros(3, np.float32), 2, np.array([1, 2])),
                                       match="2-D")],
    doc="Class indices drawn from each row of logits, from a seed pair (TF's values)."))


@registry.public(STATELESS_MULTINOMIAL)
def stateless_multinomial(logits, num_samples, seed, output_dtype=gdt.int64, name=None):
    """``num_samples`` class indices per row of ``logits`` [batch, classes], drawn from a seed
    pair (TF1 ``tf.random.stateless_multinomial``).

    Example:
        >>> picks = gc.random.stateless_multinomial([[0.0, 1.0, 2.0]], 5, seed=[1, 2])
    """
    graph = graph_of(logits, num_samples, seed)
    with graph.as_default(), graph.atomic():
        logits = convert_to_tensor(logits, dtype_hint=gdt.float32)
        num_samples = convert_to_tensor(num_samples, dtype=gdt.int32)
        seed = convert_to_tensor(seed, dtype_hint=gdt.int64)
        return apply_op("stateless_multinomial", [logits, num_samples, seed],
                        {"output_dtype": gdt.as_dtype(output_dtype)},
                        name=name or "StatelessMultinomial")
