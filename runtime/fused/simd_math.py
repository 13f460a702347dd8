"""Branch-free float32 exp, sin/cos and tanh that LLVM vectorizes (used by ``simd``).

numba compiles ``np.exp``/``np.sin``/``np.tanh`` in a loop into calls to scalar libm, which
keeps LLVM from vectorizing the loop. These polynomials (Cephes' coefficients; sin and cos
reduced by quadrant in float64, exact for ``|x| < 2**20``; 2**n made from the float's exponent
bits) vectorize. They are compiled without fast-math, so nothing of the program is
contracted behind its back: only these functions' own steps (Horner, range reduction) are
fused multiply-adds, spelled out (``_mul_add``, the same in vector and scalar code). Zeros
keep their sign as in NumPy's functions (``tanh(-0.0)`` and ``sin(-0.0)`` are -0.0). Each
holds for the argument range its op's ``LoopExpr.vector_range`` states; the SIMD engine
computes other arguments with libm. Importing this module imports numba.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit
from numba.core import cgutils, types
from numba.extending import intrinsic

__all__ = ["f32", "vexp", "vsincos", "vtanh"]

f32 = np.float32
_inline = njit(inline="always", error_model="numpy")


@intrinsic
def _as_float32(typingctx, bits):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


@intrinsic
def _mul_add(typingctx, a, b, c):
    """a * b + c as one FMA where the CPU has one (``llvm.fmuladd``), in ``a``'s float type:
    the functions are approximations within their ulp bound either way, and FMAs keep W2's
    loop ~20% faster."""
    if a == types.float64:
        kind, name, llvm_type = types.float64, "llvm.fmuladd.f64", ir.DoubleType()
    else:
        kind, name, llvm_type = types.float32, "llvm.fmuladd.f32", ir.FloatType()

    def codegen(context, builder, signature, args):
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(llvm_type, [llvm_type] * 3), name)
        return builder.call(function, args)
    return kind(kind, kind, kind), codegen


@_inline
def vexp(x):
    x = min(max(x, f32(-87.0)), f32(87.0))  # outside: computed with libm instead
    n = np.floor(_mul_add(x, f32(1.442695040888963), f32(0.5)))
    r = _mul_add(n, f32(-0.693359375), x)  # exact: n * 0.693359375 has few bits
    r = _mul_add(n, f32(2.12194440e-4), r)
    p = _mul_add(f32(1.9875691500e-4), r, f32(1.3981999507e-3))
    p = _mul_add(p, r, f32(8.3334519073e-3))
    p = _mul_add(p, r, f32(4.1665795894e-2))
    p = _mul_add(p, r, f32(1.6666665459e-1))
    p = _mul_add(p, r, f32(5.0000001201e-1))
    p = _mul_add(p * r, r, r) + f32(1.0)
    return p * _as_float32((np.int32(n) + np.int32(127)) << np.int32(23))


@_inline
def vsincos(x, shift):
    xd = np.float64(x)  # the quadrant reduction in float64: exact for |x| < 2**20
    n = np.floor(_mul_add(xd, 0.6366197723675814, 0.5))
    r = np.float32(_mul_add(n, -6.077100506506192e-11, _mul_add(n, -1.5707963267341256, xd)))
    q = (np.int64(n) + shift) & 3
    z = r * r
    # odd in r: the sign of r also for r = -0.0, where r + (+0.0) would give +0.0
    ps = _mul_add(_mul_add(z, f32(-1.9515295891e-4), f32(8.3321608736e-3)), z,
                  f32(-1.6666654611e-1))
    s = np.copysign(_mul_add(r * z, ps, r), r)
    pc = _mul_add(_mul_add(z, f32(2.443315711809948e-5), f32(-1.388731625493765e-3)), z,
                  f32(4.166664568298827e-2))
    c = _mul_add(z * z, pc, _mul_add(f32(-0.5), z, f32(1.0)))
    v = s if (q & 1) == 0 else c
    return -v if q >= 2 else v


@_inline
def vtanh(x):
    a = np.abs(x)
    z = x * x
    p = _mul_add(f32(-5.70498872745e-3), z, f32(2.06390887954e-2))
    p = _mul_add(p, z, f32(-5.37397155531e-2))
    p = _mul_add(p, z, f32(1.33314422036e-1))
    p = _mul_add(p, z, f32(-3.33332819422e-1))
    small = _mul_add(x * z, p, x)
    e = vexp(f32(2.0) * (a if a < f32(9.0) else f32(9.0)))
    large = f32(1.0) - f32(2.0) / (e + f32(1.0))
    return np.copysign(small if a < f32(0.625) else large, x)  # odd, -0.0 included
