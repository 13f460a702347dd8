"""An epilogue program (bias_add, relu, ...) inlined into the direct forward convolution's
loop (graphc.ops.conv_direct), run over each output row as soon as the row is stored,
instead of a copy and a pass over each finished block.

The with_epilogue op (graphc.ops.epilogue) hands its host kernel an ``epilogue(block)``
that copies the block and runs the fused engines' kernel over it: at W7 (b) that cost
0.3-0.9 ms per convolution beside 0.4-1.4 ms of the convolution itself (isolated calls, two
threads; 3 ms of the step in all). Here each element of a finished row, still in L1, goes
through the program's scalar loop forms (``LoopExpr.scalar``) in one vectorized loop.

Taken (``inline_epilogue``) where every op of the program is exact, plain arithmetic in the
loops (``LoopExpr.plain`` and ulp 0: bias_add, relu, add, multiply, ...), every step keeps
the result's dtype, and each other input of the program is a single element or one value
per output channel (a bias), of the result's dtype. Every step is rounded to that dtype, as
NumPy stores it; results are bitwise the block epilogue's, NaN, infinities and signed zeros
included (tests/test_conv_direct_epilogue.py). A product that a later step reads (a ``*``
in its scalar form) keeps the program on the blocks: the convolution's module is compiled
to contract multiply-adds into FMAs, and LLVM fused ``x * s + b`` into one rounding even
in a function of its own compiled without it (a third of the elements differed).

Example:
    >>> code = inline_epilogue(program, position, extras, np.dtype(np.float32), 16, 32)
    >>> code.source  # the module text of ``finish(v, i, e0, ...)``; code.arrays: e0, ...
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Optional

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.ops.fused import replay_dtypes

__all__ = ["InlineEpilogue", "inline_epilogue", "takes_inline"]


@dataclass(frozen=True)
class InlineEpilogue:
    """A program as the scalar function ``finish(v, i, e0, ...)`` of the value at index
    ``i`` of an output row (``source``, a module fragment; ``key`` names it among compiled
    loops) and its other inputs as flat arrays (``arrays``: a row's worth, read at ``i``,
    or one element, read at 0)."""

    key: tuple
    source: str
    arrays: tuple


def takes_inline(program) -> bool:
    """Whether every op of ``program`` has an exact, plain scalar loop form."""
    loops = [registry.get(op_type).loop for op_type, _, _ in program]
    return bool(program) and all(loop is not None and loop.plain and loop.ulp == 0
                                 for loop in loops)


def _modes(extras, dtype, channels) -> Optional[list]:
    """"one" or "channel" per extra input, None where one fits neither or has another
    dtype."""
    modes = []
    for extra in extras:
        if not isinstance(extra, np.ndarray) or extra.dtype != dtype:
            return None
        if extra.size == 1:
            modes.append("one")
        elif extra.ndim and extra.shape[-1] == channels and extra.size == channels:
            modes.append("channel")
        else:
            return None
    return modes


def inline_epilogue(program, position: int, extras, dtype, channels: int, width: int
                    ) -> Optional[InlineEpilogue]:
    """The program with the accumulator as input ``position`` and ``extras`` as the others,
    for a result of ``dtype`` with ``channels`` output channels and rows of ``width``
    pixels; None where it does not qualify (see the module docstring)."""
    dtype = np.dtype(dtype)
    modes = _modes(extras, dtype, channels)
    if modes is None:
        return None
    made = _made(program, position, tuple(modes), dtype)
    if made is None:
        return None
    # per-channel inputs repeated along a row: ``finish`` reads them at the row's index
    arrays = tuple(np.tile(e.reshape(-1), width) if mode == "channel" else e.reshape(-1)
                   for e, mode in zip(extras, modes))
    return InlineEpilogue(key=made[0], source=made[1], arrays=arrays)


@functools.lru_cache(maxsize=256)
def _made(program, position, modes, dtype) -> Optional[tuple]:
    """``(key, source)`` of the program's ``finish``, made once per program and input
    modes; None where some op or step's dtype does not qualify."""
    if not takes_inline(program) or dtype not in (np.float32, np.float64):
        return None
    in_dtypes = [gdt.as_dtype(dtype)] * (len(modes) + 1)
    if any(step.np != dtype for step in replay_dtypes(in_dtypes, program)):
        return None
    # program input k: the accumulator at ``position``, else extra e = k or k - 1
    names = ["v" if k == position else f"x{k - (k > position)}" for k in range(len(modes) + 1)]
    lines = [f"    x{e} = e{e}[{'i' if mode == 'channel' else '0'}]"
             for e, mode in enumerate(modes)]
    params = "".join(f", e{e}" for e in range(len(modes)))
    head = ["", "@numba.njit(nogil=True, cache=CACHE)", f"def finish(v, i{params}):"]
    for index, (op_type, args, _) in enumerate(program):
        refs = [names[i] if kind == "in" else f"s{i}" for kind, i in args]
        code = registry.get(op_type).loop.scalar_code(refs)
        if "*" in code and index < len(program) - 1:
            return None  # a product another step reads: LLVM would fuse it into an FMA
        lines.append(f"    s{index} = VALUE({code})")
    lines.append(f"    return s{len(program) - 1}")
    return (program, position, modes), "\n".join(head + lines) + "\n"
