"""How a fused elementwise node runs: NumPy first, a compiled loop once it is hot.

Every fused node starts on the NumPy engine (``fused_numpy``), which needs no compilation.
After ``HOT_CALLS`` calls, a node whose output has at most ``LOOP_MAX_ELEMENTS`` elements is
compiled into one numba loop (``fused_loops``) for the input shapes it sees, when numba is
installed and the program is covered; larger outputs stay on NumPy, whose SIMD transcendental
functions over cache-sized chunks on every core beat scalar compiled loops (measured in
``tools/bench.py``, W2, and README "Fused kernels"). ``GRAPHC_FUSED_ENGINE=numpy`` turns the
loops off; ``=loops`` compiles on the first call, whatever the size (for tests).
"""
from __future__ import annotations

import os
import threading

from graphc.runtime.fused_loops import available, compile_loop
from graphc.runtime.fused_numpy import ChunkedProgram

__all__ = ["FusedKernel", "settings"]

HOT_CALLS = 16
LOOP_MAX_ELEMENTS = 1 << 11
_MISSING = object()


def settings() -> tuple:
    """(engine, calls before compiling, largest output compiled) from GRAPHC_FUSED_ENGINE."""
    engine = os.environ.get("GRAPHC_FUSED_ENGINE", "auto")
    if engine not in ("auto", "numpy", "loops"):
        raise ValueError(f"GRAPHC_FUSED_ENGINE must be auto, numpy or loops, not {engine!r}")
    if engine == "loops":
        return engine, 1, float("inf")
    return engine, HOT_CALLS, LOOP_MAX_ELEMENTS


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
                size = max(a.size for a in arrays)
                self.loops[key] = (compile_loop(self.program, arrays)
                                   if size <= self.max_elements else None)
            return self.loops[key]
