"""How a fused elementwise node runs: NumPy first, a compiled loop once it is hot.

Every fused node starts on the NumPy engine (``fused_numpy``), which needs no compilation.
After ``HOT_CALLS`` calls, a node whose output has at most ``LOOP_MAX_ELEMENTS`` elements is
compiled into one numba loop (``fused_loops``) for the input shapes it sees, when numba is
installed, the program is covered and has at least ``LOOP_MIN_STEPS`` ops, and kept if it
beats NumPy on those inputs (timed there and then: a hundred ops on 4 elements gain 5x).
Larger outputs stay on NumPy, whose SIMD transcendental functions over cache-sized chunks on
every core beat numba's scalar libm calls 8x (W2 in ``tools/bench.py``; README "Fused
kernels"), except for float32 groups of sin/cos/exp/tanh/sigmoid and arithmetic, which
``fused_vector`` compiles into SIMD loops over the thread pool (W2: 2.4 ms against 4.4 ms).
``GRAPHC_FUSED_ENGINE=numpy`` turns the loops off; ``=loops`` compiles every node on its
first call, whatever its length (for tests).
"""
from __future__ import annotations

import math
import os
import threading
import time

from graphc.runtime.fused_loops import available, compile_loop
from graphc.runtime.fused_numpy import _POOL, PARALLEL_MIN, ChunkedProgram, compile_program
from graphc.runtime.fused_vector import compile_vector_loop

__all__ = ["FusedKernel", "fused_kernel", "settings"]

HOT_CALLS = 16
LOOP_MAX_ELEMENTS = 1 << 11
# Groups of a few ops stay on NumPy: timed alone their loops win, but inside W5's gradient
# (2-3 op groups between matrix products) the plan ran slower with them (1.62 vs 1.49 ms)
LOOP_MIN_STEPS = 6
_MISSING = object()


def settings() -> tuple:
    """(engine, calls before compiling, largest output compiled) from GRAPHC_FUSED_ENGINE."""
    engine = os.environ.get("GRAPHC_FUSED_ENGINE", "auto")
    if engine not in ("auto", "numpy", "loops"):
        raise ValueError(f"GRAPHC_FUSED_ENGINE must be auto, numpy or loops, not {engine!r}")
    if engine == "loops":
        return engine, 1, LOOP_MAX_ELEMENTS
    return engine, HOT_CALLS, LOOP_MAX_ELEMENTS


def fused_kernel(program, shape=None):
    """The kernel for a fused node whose output has static ``shape`` (a TensorShape, if
    known): a ``FusedKernel`` when a compiled loop may serve it, else the NumPy engine; for
    a short program with a small static output, its straight-line function itself (no
    wrapper at all: W5 runs 400 such nodes per step).

    Example:
        >>> kernel = fused_kernel(program)
        >>> y = kernel(x, bias)
    """
    engine, _, _ = settings()
    short = engine == "auto" and len(program) < LOOP_MIN_STEPS
    if engine == "numpy" or not available() or short:
        if (shape is not None and shape.is_fully_defined()
                and math.prod(shape.dims) < PARALLEL_MIN):
            return compile_program(program)
        return ChunkedProgram(program)
    return FusedKernel(program)


class FusedKernel:
    """The plan-time kernel of one fused node.

    Example:
        >>> kernel = FusedKernel(program)
        >>> y = kernel(x, bias)
    """

    def __init__(self, program):
        self.program = program
        self.numpy = ChunkedProgram(program)
        engine, self.hot_calls, self.max_elements = settings()
        self.compiling = engine != "numpy" and available()
        self.forced = engine == "loops"
        self.calls = 0
        self.loops: dict = {}  # input shapes -> compiled loop, or None (stay on NumPy)
        self._lock = threading.Lock()

    def __call__(self, *arrays, out=None):
        """The program's result; ``out``, a C-contiguous array of the result's shape and
        dtype (a plan's buffer kept across runs), receives it where the engine can write in
        place (a compiled loop, or chunks); the result is returned either way."""
        if self.compiling:
            key = tuple([a.shape for a in arrays])
            loop = self.loops.get(key, _MISSING)
            if loop is not _MISSING:
                return loop(*arrays, out=out) if loop is not None else self.numpy(*arrays, out=out)
            self.calls += 1
            if self.calls >= self.hot_calls:
                loop = self._compile(key, arrays)
                if loop is not None:
                    return loop(*arrays, out=out)
        return self.numpy(*arrays, out=out)

    def _compile(self, key, arrays):
        with self._lock:
            if key not in self.loops:
                self.loops[key] = self._engine_for(arrays)
            return self.loops[key]

    def _engine_for(self, arrays):
        """A compiled loop for inputs like ``arrays``, or None (stay on NumPy)."""
        if not self.forced and len(self.program) < LOOP_MIN_STEPS:
            return None
        size = max(a.size for a in arrays)
        if size <= self.max_elements:
            loop = compile_loop(self.program, arrays)
        else:  # large: only the SIMD loops (float32) can beat NumPy's chunks
            loop = compile_vector_loop(self.program, arrays, _POOL, _POOL._max_workers,
                                       self.numpy)
        if loop is not None and not self.forced and not _faster(loop, self.numpy, arrays):
            loop = None  # measured slower on these very inputs
        return loop


def _faster(loop, numpy, arrays, repeats: int = 5) -> bool:
    """Whether the compiled loop beats the NumPy engine on these very inputs (best of
    ``repeats`` calls each; they are small, so this costs microseconds)."""
    def best(kernel):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            kernel(*arrays)
            times.append(time.perf_counter() - start)
        return min(times)
    return best(loop) < best(numpy)
