"""What the fused engines share: the thread pool, input layouts, and compiling generated
source with numba, cached on disk across processes.

Compiled kernels are cached in the ``fused-kernels`` folder of graphc's cache
(graphc.ops.jit_cache: ``GRAPHC_CACHE_DIR``, else ``$XDG_CACHE_HOME/graphc`` or
``~/.cache/graphc``): each generated module is written there under a name hashed from its
source (which names a digest of any helper code it imports), the compile options and the
numba version, and numba's own cache keeps the machine code beside it, so a later process
loads a kernel in milliseconds instead of compiling it for seconds.
"""
from __future__ import annotations

import functools
import importlib.util
import math
import os
import threading
from pathlib import Path

from graphc.ops import jit_cache

__all__ = ["WORKERS", "numba_available", "input_modes", "cache_dir", "jit_source",
           "warm_up", "not_compiled_for"]

# the most threads a fused kernel's chunks are split for (they run on the threading
# policy's pool: graphc.runtime.threads.run_shares)
WORKERS = os.cpu_count() or 1
JIT_OPTIONS = {"nogil": True, "error_model": "numpy"}  # no fastmath: it changes results
FOLDER = "fused-kernels"  # in graphc's cache (graphc.ops.jit_cache)


@functools.lru_cache(maxsize=1)
def numba_available() -> bool:
    """Whether numba is installed (the compiled engines are optional). Found, not imported:
    importing numba maps ~50 MB of LLVM, which only a program that turns hot should pay for."""
    return importlib.util.find_spec("numba") is not None


def input_modes(in_shapes, out_shape):
    """Per input: "full" (the output's shape), "one" (a single element) or "tail" (the
    output's trailing dims, indexed modulo its size); None when some input is none of them.

    Example:
        >>> input_modes([(4, 3), (), (3,)], (4, 3))
        ['full', 'one', 'tail']
    """
    modes = []
    for shape in in_shapes:
        if shape == out_shape:
            modes.append("full")
        elif math.prod(shape) == 1:
            modes.append("one")
        else:
            core = tuple(shape)
            while core and core[0] == 1:
                core = core[1:]
            if core and len(core) <= len(out_shape) and out_shape[-len(core):] == core:
                modes.append("tail")
            else:
                return None
    return modes


def cache_dir() -> Path | None:
    """The folder of cached fused kernels, or None when the disk cache is off."""
    return jit_cache.cache_dir(FOLDER)


@functools.lru_cache(maxsize=1024)
def jit_source(source: str, names: tuple):
    """Compile the functions ``names`` (in order: later ones may call earlier ones) of the
    generated module ``source`` with numba; the last one is returned. Cached in memory and,
    where the cache folder allows, on disk.

    Example:
        >>> loop = jit_source("import numpy as np\\ndef loop(out, a0): ...\\n", ("loop",))
    """
    import numba
    namespace, on_disk = jit_cache.generated_module(source, FOLDER,
                                                    str(sorted(JIT_OPTIONS.items())))
    for name in names:
        function = namespace[name]
        try:
            namespace[name] = numba.njit(cache=on_disk, **JIT_OPTIONS)(function)
        except RuntimeError:  # numba found no writable place for its cache after all
            namespace[name] = numba.njit(**JIT_OPTIONS)(function)
    return namespace[names[-1]]


_WARM_UP_LOCK = threading.Lock()  # one dispatcher serves every kernel of its source


def warm_up(dispatcher, *args) -> None:
    """Compile ``dispatcher`` for these arguments' types here, then forbid it to compile
    anywhere else: a later call with other types (a read-only or strided array) raises
    TypeError, and that call runs on NumPy, instead of compiling for seconds on a thread
    that runs sessions (W2 stalled 4 s when the pool's threads compiled). Warm-ups take
    turns: one that disabled compiling while another compiled made that one fail."""
    with _WARM_UP_LOCK:
        dispatcher.disable_compile(False)
        try:
            dispatcher(*args)
        finally:
            dispatcher.disable_compile(True)


def not_compiled_for(error: Exception) -> bool:
    """Whether ``error``, raised by calling a warmed-up dispatcher, says only that it has no
    machine code for these arrays: the TypeError of a disabled dispatcher, or what a call
    meets while another thread's warm-up lets it compile (numba's "compilation disabled"
    RuntimeError once that warm-up ends, or a typing error for arrays the loop cannot
    take). The caller then runs the NumPy engine."""
    if isinstance(error, TypeError):
        return True
    if isinstance(error, RuntimeError) and "compilation disabled" in str(error):
        return True
    return type(error).__module__.startswith("numba.")
