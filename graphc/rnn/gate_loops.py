"""The LSTM gate kernels of graphc.rnn.gates as compiled loops (numba, the optional ``fast``
extra): one pass over the gates instead of about 15 NumPy passes each way.

Why: in a ``dynamic_rnn`` the gate arithmetic runs once per time step on small
``[batch, n]`` blocks, where NumPy's passes cost more than their arithmetic, and on CPUs
without AVX-512 NumPy's float32 ``exp`` and ``tanh`` are scalar loops: on W8's 32 x 128
blocks (AMD EPYC, AVX2) the forward kernel took 80-110 us in NumPy, the gradient 40-60 us;
these loops take 40 us and 17 us (2026-12-01, machine loaded by other work).

- The gradient (``grad_loop``) is exact arithmetic in the NumPy kernel's order (numba adds
  no fused multiply-adds without fast-math), so its results are bitwise NumPy's, NaN and
  infinities included; it serves every float dtype.
- The forward (``forward_loop``, float32) computes ``exp`` and ``tanh`` with the SIMD
  engine's polynomials (``graphc.runtime.fused.simd_math``: within the ops' ``LoopExpr.ulp``
  of NumPy's, 4 ulp), everything else as NumPy does. It counts arguments outside the
  polynomials' range (NaN, +-Inf, ``|x| >= 87`` for exp); the caller then runs the NumPy
  kernel instead, so such inputs give NumPy's values exactly.

Compiled on first use and cached on disk by numba (``cache=True``).

Example:
    >>> forward = forward_loop()   # None without numba
    >>> bad = forward(z, c, np.float32(1.0), new_c, new_h, act, tanh_c)
"""
from __future__ import annotations

import functools

import numpy as np

from graphc.runtime.fused.common import numba_available

__all__ = ["forward_loop", "grad_loop"]

# the NumPy kernel's block order of the activations (graphc.rnn.gates): i, f, o, j
I, F, O, J = range(4)


@functools.lru_cache(maxsize=1)
def forward_loop():
    """The compiled float32 forward, or None without numba."""
    if not numba_available():
        return None
    import numba  # here: importing numba maps LLVM, paid only when an LSTM runs

    from graphc.runtime.fused.simd_math import f32, vexp, vtanh  # it imports numba too

    jit = numba.njit(cache=True, nogil=True, error_model="numpy")
    limit, huge = f32(87.0), f32(3.0e38)

    # one loop per output row, each over contiguous 1-D slices (with many arrays in one
    # loop LLVM's alias checks give up and the loop stays scalar: 3x slower)
    @jit
    def sigmoid_of(pre, shift, out):
        """sigmoid(pre + shift) = 1 / (exp(-pre - shift) + 1), as NumPy's kernel; -(f + b)
        is (-f) - b, and -x - 0.0 is -x, -0.0 included."""
        one, bad = f32(1.0), 0
        for k in range(pre.size):
            a = (-pre[k]) - shift
            bad += not abs(a) < limit
            out[k] = one / (vexp(a) + one)
        return bad

    @jit
    def tanh_of(x, out):
        bad = 0
        for k in range(x.size):
            bad += not abs(x[k]) < huge
            out[k] = vtanh(x[k])
        return bad

    @jit
    def cell_of(c, si, sf, so, tj, new_c, tanh_c, new_h):
        bad = 0
        for k in range(c.size):
            cell = c[k] * sf[k] + si[k] * tj[k]
            bad += not abs(cell) < huge
            tc = vtanh(cell)
            new_c[k], tanh_c[k], new_h[k] = cell, tc, tc * so[k]
        return bad

    @jit
    def forward(z, c, forget_bias, new_c, new_h, act, tanh_c):
        """``z`` [batch, 4n] (i, j, f, o), ``c`` [batch, n] -> the four outputs, written in
        place; returns how many arguments fell outside the polynomials' range."""
        n, bad, none = c.shape[1], 0, f32(0.0)
        for b in range(c.shape[0]):
            row = z[b]
            bad += sigmoid_of(row[:n], none, act[I, b])
            bad += tanh_of(row[n:2 * n], act[J, b])
            bad += sigmoid_of(row[2 * n:3 * n], forget_bias, act[F, b])
            bad += sigmoid_of(row[3 * n:], none, act[O, b])
            bad += cell_of(c[b], act[I, b], act[F, b], act[O, b], act[J, b], new_c[b],
                           tanh_c[b], new_h[b])
        return bad
    return forward


@functools.lru_cache(maxsize=1)
def grad_loop():
    """The compiled gradient (any float dtype), or None without numba."""
    if not numba_available():
        return None
    import numba  # here: importing numba maps LLVM, paid only when an LSTM runs

    @numba.njit(cache=True, nogil=True, error_model="numpy")
    def grad(d_c, d_h, c, act, tanh_c, one, d_z, d_c_prev):
        """The gradients of z (columns i, j, f, o) and c, in the NumPy kernel's order
        (``one``: 1 in act's dtype)."""
        batch, n = c.shape
        for b in range(batch):
            for k in range(n):
                si, sf, so, tj = act[I, b, k], act[F, b, k], act[O, b, k], act[J, b, k]
                tc, dh = tanh_c[b, k], d_h[b, k]
                total = (one - tc * tc) * so * dh + d_c[b, k]
                d_z[b, k] = (one - si) * si * tj * total
                d_z[b, n + k] = (one - tj * tj) * si * total
                d_z[b, 2 * n + k] = (one - sf) * sf * c[b, k] * total
                d_z[b, 3 * n + k] = (one - so) * so * tc * dh
                d_c_prev[b, k] = total * sf
    return grad
