"""Which engine runs a fused node, and when it switches: the engine policy in one place.

Every fused node starts on the NumPy engine (``numpy_engine``), which needs no compilation.
After ``hot_calls`` calls a node of ``LOOP_MIN_STEPS`` ops or more turns hot for the input
shapes it sees (a shorter node too, once its output is larger than ``LOOP_MAX_ELEMENTS``):
a background thread compiles it, outputs of at most ``LOOP_MAX_ELEMENTS``
elements into one scalar loop (``loops``), larger float32 ones into a SIMD loop (``simd``),
while the calls go on running on NumPy; the compiled kernel is then timed against NumPy on a
copy of those inputs, and the node switches to it only if it is faster. Either way the
results are the NumPy kernels': the engines are bitwise equal to them on exact ops and within
each op's ``LoopExpr.ulp`` on transcendental functions, with the same NaN, +-Inf and signed
zeros. Compiled kernels are cached on disk across processes (``common``).

Knobs, read when a plan binds a fused node (``EnginePolicy.from_environment``):
``GRAPHC_FUSED_ENGINE=auto`` (default), ``numpy`` (never compile) or ``loops`` (compile every
node, whatever its length, on the calling thread, and keep it untimed: for tests);
``GRAPHC_FUSED_HOT_CALLS=N``, the calls before a node turns hot (16; 1 with ``loops``).
``wait_for_compiles()`` waits for the background compiles started so far.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import math
import os
import threading
import time

import numpy as np

from .common import not_compiled_for, numba_available
from .loops import compile_loop
from .numpy_engine import PARALLEL_MIN, ChunkedProgram, compile_program
from .simd import compile_simd_loop

__all__ = ["EnginePolicy", "FusedKernel", "fused_kernel", "wait_for_compiles"]

HOT_CALLS = 16
# Larger outputs run best on NumPy's SIMD functions over cache-sized chunks on every core,
# which beat numba's scalar libm calls 8x (W2), unless the SIMD engine covers the group
LOOP_MAX_ELEMENTS = 1 << 11
# Small groups of a few ops stay on NumPy: timed alone their loops win, but inside W5's
# gradient (2-3 op groups between matrix products) the plan ran slower with them (1.62 vs
# 1.49 ms). Larger outputs compile whatever the group's length: each ufunc call is a pass
# over memory (a ReLU gradient's compare, cast and multiply: 3 passes and 2 temporaries),
# the SIMD loop one pass (W7 (a)'s 64x8x8x32 gradients 3-5x faster)
LOOP_MIN_STEPS = 6

# One compile at a time, off the threads that run sessions (a compile takes 0.2-3 s)
_COMPILER = concurrent.futures.ThreadPoolExecutor(max_workers=1,
                                                  thread_name_prefix="graphc-compile")
_PENDING: set = set()
_FAILURES: list = []
_LOCK = threading.Lock()


@dataclasses.dataclass(frozen=True)
class EnginePolicy:
    """When a fused node compiles and what it keeps.

    Example:
        >>> kernel = FusedKernel(program, EnginePolicy(hot_calls=2, timed=False))
    """

    engine: str = "auto"  # "auto", "numpy" (never compile) or "loops" (compile every node)
    hot_calls: int = HOT_CALLS  # calls before a node compiles for the shapes it sees
    background: bool = True  # compile on a background thread, running on NumPy meanwhile
    timed: bool = True  # keep a compiled kernel only if it beats NumPy on those inputs
    min_steps: int = LOOP_MIN_STEPS

    @classmethod
    def from_environment(cls) -> "EnginePolicy":
        """The policy set by ``GRAPHC_FUSED_ENGINE`` and ``GRAPHC_FUSED_HOT_CALLS``."""
        engine = os.environ.get("GRAPHC_FUSED_ENGINE", "auto")
        if engine not in ("auto", "numpy", "loops"):
            raise ValueError(f"GRAPHC_FUSED_ENGINE must be auto, numpy or loops, not {engine!r}")
        forced = engine == "loops"
        hot = os.environ.get("GRAPHC_FUSED_HOT_CALLS", "1" if forced else str(HOT_CALLS))
        if not hot.isdigit() or int(hot) < 1:
            raise ValueError(f"GRAPHC_FUSED_HOT_CALLS must be a positive integer, not {hot!r}")
        return cls(engine, int(hot), background=not forced, timed=not forced,
                   min_steps=1 if forced else LOOP_MIN_STEPS)

    @property
    def compiles(self) -> bool:
        return self.engine != "numpy" and numba_available()


def fused_kernel(program, shape=None, policy: EnginePolicy | None = None):
    """The kernel for a fused node whose output has static ``shape`` (a TensorShape, if
    known): a ``FusedKernel`` when a compiled loop may serve it, else the NumPy engine; for
    a short program with a small static output, its straight-line function itself (no
    wrapper at all: W5 runs 400 such nodes per step).

    Example:
        >>> kernel = fused_kernel(program)
        >>> y = kernel(x, bias)
    """
    policy = policy or EnginePolicy.from_environment()
    known = shape is not None and shape.is_fully_defined()
    small = known and math.prod(shape.dims) <= LOOP_MAX_ELEMENTS
    # a short program compiles only for large outputs (see FusedKernel._compile)
    if not policy.compiles or (len(program) < policy.min_steps and small):
        if known and math.prod(shape.dims) < PARALLEL_MIN:
            return compile_program(program)
        return ChunkedProgram(program)
    return FusedKernel(program, policy)


class FusedKernel:
    """The plan-time kernel of one fused node: NumPy until hot, then the compiled engine
    that serves its input shapes (see the module docstring).

    Example:
        >>> kernel = FusedKernel(program)
        >>> y = kernel(x, bias)
        >>> kernel.engine(x.shape, bias.shape)
        'numpy'
    """

    def __init__(self, program, policy: EnginePolicy | None = None):
        self.program = program
        self.policy = policy or EnginePolicy.from_environment()
        self.numpy = ChunkedProgram(program)
        self.calls = 0
        # input shapes -> the kernel serving them (the NumPy engine while compiling)
        self.kernels: dict = {}
        self._lock = threading.Lock()

    def __call__(self, *arrays, out=None):
        """The program's result; ``out``, a C-contiguous array of the result's shape and
        dtype (a plan's buffer kept across runs), receives it where the engine can write in
        place (a compiled loop, or chunks); the result is returned either way."""
        kernel = self.kernels.get(tuple([a.shape for a in arrays]))
        if kernel is None:
            self.calls += 1
            kernel = self.numpy
            if self.calls >= self.policy.hot_calls and self.policy.compiles:
                kernel = self._turn_hot(arrays)
        if kernel is self.numpy:
            return kernel(*arrays, out=out)
        try:
            return kernel(*arrays, out=out)
        except Exception as error:  # noqa: BLE001 - numba's errors have no common base
            if not not_compiled_for(error):  # arrays of a layout it was not compiled for
                raise
            return self.numpy(*arrays, out=out)

    def engine(self, *shapes) -> str:
        """The engine serving inputs of these shapes now: "numpy", "loops" or "simd"."""
        return getattr(self.kernels.get(tuple(shapes)), "engine", "numpy")

    def _turn_hot(self, arrays):
        key = tuple([a.shape for a in arrays])
        with self._lock:
            if key in self.kernels:
                return self.kernels[key]
            if not self.policy.background:  # compile errors propagate: a testing mode
                self.kernels[key] = self._compile(arrays)
                return self.kernels[key]
            self.kernels[key] = self.numpy  # until the compiled kernel is ready
        copies = [_copy_like(a) for a in arrays]  # the caller may refill its arrays meanwhile
        future = _COMPILER.submit(self._compile_in_background, key, copies)
        with _LOCK:
            _PENDING.add(future)
        return self.numpy

    def _compile_in_background(self, key, arrays):
        try:
            # timing the engines runs them on the run's values in this thread, where the
            # Session's silenced NumPy errors do not reach: NaN/Inf are values, not warnings
            with np.errstate(all="ignore"):
                self.kernels[key] = self._compile(arrays)
        except Exception as error:  # noqa: BLE001 - the node stays on NumPy; tests see it
            with _LOCK:
                _FAILURES.append(f"{self.program!r} on shapes {key}: {error!r}")

    def _compile(self, arrays):
        """The kernel to serve inputs like ``arrays``: a compiled loop, or the NumPy engine
        when none covers them or (``timed``) none beats it."""
        small = max(a.size for a in arrays) <= LOOP_MAX_ELEMENTS
        if small and len(self.program) < self.policy.min_steps:
            return self.numpy  # a few ufunc calls on small arrays: a loop gains nothing
        if small:
            run = compile_loop(self.program, arrays)
        else:  # large: only the SIMD loops (float32) can beat NumPy's chunks
            run = compile_simd_loop(self.program, arrays)
        if run is None or (self.policy.timed and not _faster(run, self.numpy, arrays)):
            return self.numpy
        return run


def wait_for_compiles(timeout: float | None = None) -> None:
    """Block until every background compile started so far has finished, so that tests see
    the switch deterministically.

    Raises:
        TimeoutError: ``timeout`` seconds passed first.
        RuntimeError: some compilation failed (its node stays on NumPy; runs never see it).

    Example:
        >>> sess.run(y, feeds)  # the call that turns the node hot
        >>> wait_for_compiles()
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        with _LOCK:
            _PENDING.difference_update([f for f in _PENDING if f.done()])
            pending = list(_PENDING)
        if not pending:
            break
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        if concurrent.futures.wait(pending, timeout=left).not_done:
            raise TimeoutError(f"{len(pending)} fused kernels still compiling after {timeout} s")
    with _LOCK:
        failures, _FAILURES[:] = list(_FAILURES), []
    if failures:
        raise RuntimeError("fused kernels failed to compile (they run on NumPy): "
                           + "; ".join(failures))


def _copy_like(array):
    """A copy as read-only as the original: numba compiles per flag, and the kernel must be
    compiled for the arrays that runs pass (feeds and constants are read-only)."""
    copy = array.copy()
    if isinstance(copy, np.ndarray):
        copy.flags.writeable = array.flags.writeable
    return copy


def _faster(loop, numpy, arrays, repeats: int = 5) -> bool:
    """Whether the compiled loop beats the NumPy engine on these very inputs (best of
    ``repeats`` calls each)."""
    def best(kernel):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            kernel(*arrays)
            times.append(time.perf_counter() - start)
        return min(times)
    return best(loop) < best(numpy)
