"""The SIMD loop engine for large float32 fused groups (numba, optional).

numba compiles ``np.exp``/``np.sin``/``np.tanh`` in a loop into calls to scalar libm, which
keeps LLVM from vectorizing the loop (40 ms for W2's chain, 8x slower than NumPy). Written
as polynomials over float32 with branch-free selects, they vectorize (AVX2/AVX-512 lanes):
the whole group becomes one pass over memory, with every value in registers. The
polynomials are Cephes' (exp, tanh) with a quadrant reduction in float64 for sin and cos;
measured against float64 references they stay within 1.5 ulp, as NumPy's own float32 SIMD
functions do. Arguments outside the polynomials' range (``|x| >= 87`` for exp, ``2**20``
for sin/cos, NaN and Inf for all) are counted, and a chunk that saw any is recomputed by
the NumPy engine, so results never depend on the engine. Only programs whose values are all
float32 and whose ops are in ``VECTOR_EXPRESSIONS`` or plain arithmetic qualify, with
inputs of the output's shape or single elements.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.ops.fused import replay_dtypes
from graphc.runtime.fused_loops import input_modes

__all__ = ["compile_vector_loop", "VECTOR_EXPRESSIONS"]

# op -> (expression, largest |argument| the expression is accurate for)
VECTOR_EXPRESSIONS = {
    "exp": ("vexp({0})", 87.0),
    "sin": ("vsincos({0}, 0)", 2.0 ** 20),
    "cos": ("vsincos({0}, 1)", 2.0 ** 20),
    "tanh": ("vtanh({0})", 3.0e38),
    "sigmoid": ("f32(1) / (f32(1) + vexp(-{0}))", 87.0),
}
# arithmetic whose registry loop expression vectorizes as it is
_PLAIN = {"add", "subtract", "multiply", "divide", "negative", "square", "abs", "maximum",
          "minimum", "relu", "squared_difference", "reciprocal", "sqrt", "bias_add", "add_n",
          "cast", "identity", "stop_gradient"}


@functools.lru_cache(maxsize=1)
def _helpers() -> dict:
    """The vectorizable math, compiled once (numba imported here, not before)."""
    from llvmlite import ir
    from numba import njit
    from numba.core import types
    from numba.extending import intrinsic

    f32 = np.float32
    inline = njit(inline="always", error_model="numpy", fastmath={"contract"})

    @intrinsic
    def as_float32(typingctx, bits):
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], ir.FloatType())
        return types.float32(types.int32), codegen

    @inline
    def vexp(x):
        x = min(max(x, f32(-87.0)), f32(87.0))  # outside: counted, recomputed by NumPy
        n = np.floor(x * f32(1.442695040888963) + f32(0.5))
        r = x - n * f32(0.693359375)
        r = r - n * f32(-2.12194440e-4)
        p = f32(1.9875691500e-4)
        p = p * r + f32(1.3981999507e-3)
        p = p * r + f32(8.3334519073e-3)
        p = p * r + f32(4.1665795894e-2)
        p = p * r + f32(1.6666665459e-1)
        p = p * r + f32(5.0000001201e-1)
        p = p * r * r + r + f32(1.0)
        return p * as_float32((np.int32(n) + np.int32(127)) << np.int32(23))

    @inline
    def vsincos(x, shift):
        xd = np.float64(x)  # the quadrant reduction in float64: exact for |x| < 2**20
        n = np.floor(xd * 0.6366197723675814 + 0.5)
        r = np.float32((xd - n * 1.5707963267341256) - n * 6.077100506506192e-11)
        q = (np.int64(n) + shift) & 3
        z = r * r
        s = r + r * z * (f32(-1.6666654611e-1) + z * (f32(8.3321608736e-3)
                                                      + z * f32(-1.9515295891e-4)))
        c = f32(1.0) - f32(0.5) * z + z * z * (f32(4.166664568298827e-2) + z * (
            f32(-1.388731625493765e-3) + z * f32(2.443315711809948e-5)))
        v = s if (q & 1) == 0 else c
        return -v if q >= 2 else v

    @inline
    def vtanh(x):
        a = np.abs(x)
        z = x * x
        small = x + x * z * ((((f32(-5.70498872745e-3) * z + f32(2.06390887954e-2)) * z
                                - f32(5.37397155531e-2)) * z + f32(1.33314422036e-1)) * z
                              - f32(3.33332819422e-1))
        e = vexp(f32(2.0) * (a if a < f32(9.0) else f32(9.0)))
        large = np.copysign(f32(1.0) - f32(2.0) / (e + f32(1.0)), x)
        return small if a < f32(0.625) else large

    return {"vexp": vexp, "vsincos": vsincos, "vtanh": vtanh, "f32": f32, "np": np,
            "math": math, "njit": njit}


def vector_source(program, modes) -> str | None:
    """The loop's source, or None when the program is not covered."""
    if any(dtype.np != np.float32
           for dtype in replay_dtypes([gdt.float32] * len(modes), program)):
        return None
    params = ", ".join(f"a{k}" for k in range(len(modes)))
    lines = [f"def loop(out, {params}):", "    bad = 0", "    for i in range(out.size):"]
    for k, mode in enumerate(modes):
        lines.append(f"        x{k} = a{k}[{'i' if mode == 'full' else '0'}]")
    for index, (op_type, args, _) in enumerate(program):
        names = [f"x{i}" if kind == "in" else f"v{i}" for kind, i in args]
        if op_type in VECTOR_EXPRESSIONS:
            template, limit = VECTOR_EXPRESSIONS[op_type]
            lines.append(f"        bad += not (abs({names[0]}) < f32({limit!r}))")
            expression = template.format(*names)
        elif op_type in _PLAIN:
            loop = registry.get(op_type).loop
            expression = loop(names) if callable(loop) else loop.format(*names)
        else:
            return None
        lines.append(f"        v{index} = f32({expression})")
    lines.append(f"        out[i] = v{len(program) - 1}")
    lines.append("    return bad")
    return "\n".join(lines) + "\n"


@functools.lru_cache(maxsize=256)
def _compiled(source: str):
    namespace = dict(_helpers())
    exec(compile(source, "<graphc vector loop>", "exec"), namespace)  # noqa: S102
    return namespace["njit"](nogil=True, error_model="numpy", fastmath={"contract"})(
        namespace["loop"])


def compile_vector_loop(program, arrays, pool, workers: int, fallback):
    """A function of inputs like ``arrays`` computing the program in one vectorized pass,
    split over ``workers`` threads of ``pool``; chunks that meet an argument out of range
    are recomputed by ``fallback`` (the NumPy engine). None when not covered.

    Example:
        >>> run = compile_vector_loop(program, [x, c], pool, 2, numpy_engine)
        >>> y = run(x, c)
    """
    shapes = [np.shape(a) for a in arrays]
    out_shape = np.broadcast_shapes(*shapes)
    if any(np.result_type(a) != np.float32 for a in arrays):
        return None
    modes = input_modes(shapes, out_shape)
    if modes is None or "tail" in modes:
        return None  # a modulo per element would keep the loop from vectorizing
    source = vector_source(program, modes)
    if source is None:
        return None
    loop = _compiled(source)
    size = math.prod(out_shape)
    bounds = [(w * size // workers, (w + 1) * size // workers) for w in range(workers)]

    def run(*inputs, out=None):
        result = out if out is not None else np.empty(out_shape, np.float32)
        flat_out = result.reshape(-1)
        flat = [a.reshape(-1) for a in inputs]

        def share(bound):
            start, stop = bound
            pieces = [f[start:stop] if mode == "full" else f for f, mode in zip(flat, modes)]
            if loop(flat_out[start:stop], *pieces):
                return bound
            return None
        redo = [b for b in pool.map(share, bounds) if b is not None]
        if redo:  # an argument out of the polynomials' range: NumPy computes these chunks
            exact = fallback(*inputs)
            for start, stop in redo:
                flat_out[start:stop] = np.asarray(exact).reshape(-1)[start:stop]
        return result
    run(*arrays)  # compile now, not in the middle of a later run
    return run
