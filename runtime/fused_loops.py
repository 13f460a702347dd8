"""The compiled-loop engine for fused elementwise groups (numba, an optional dependency).

A program becomes one loop over the output's elements that evaluates every step on scalars
(each op's ``loop`` expression from the registry), so a group of a hundred ops costs one
call instead of a hundred ufunc calls of ~0.5 us each. Every step's value is rounded to the
step's dtype, as NumPy would store it. Only programs over float32/float64/bool values whose
ops all have a loop expression are compiled, and only for inputs that are the output's shape,
a single element, or a trailing block of it (a bias row); anything else stays on NumPy.
"""
from __future__ import annotations

import functools
import importlib.util
import math

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.ops.fused import replay_dtypes

__all__ = ["available", "compile_loop", "loop_source", "input_modes"]

LANES = 4  # elements evaluated side by side: independent chains the CPU overlaps
MAX_STEPS = 512  # compile time grows with the program; longer groups stay on NumPy
_LOOP_DTYPES = {np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.bool_)}


@functools.lru_cache(maxsize=1)
def available() -> bool:
    """Whether numba is installed (the engine is optional). Found, not imported: importing
    numba maps ~50 MB of LLVM, which only a program that turns hot should pay for."""
    return importlib.util.find_spec("numba") is not None


def _expression(op_type: str, names: list) -> str:
    template = registry.get(op_type).loop
    return template(names) if callable(template) else template.format(*names)


def input_modes(in_shapes, out_shape):
    """Per input: "full" (the output's shape), "one" (a single element) or "tail" (the
    output's trailing dims, indexed modulo its size); None when some input is none of them."""
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


def loop_source(program, in_dtypes, modes) -> str | None:
    """The Python source of the element loop, or None when some step cannot be compiled."""
    steps = [d.np for d in replay_dtypes([gdt.as_dtype(d) for d in in_dtypes], program)]
    if any(np.dtype(d) not in _LOOP_DTYPES for d in list(in_dtypes) + steps):
        return None
    if len(program) > MAX_STEPS or any(not registry.get(op_type).loop
                                       for op_type, _, _ in program):
        return None
    params = ", ".join(f"a{k}" for k in range(len(in_dtypes)))
    lines = [f"def loop(out, {params}):", "    n = out.size",
             f"    for i in range(0, n - n % {LANES}, {LANES}):"]
    lines += _body(program, steps, modes, LANES)
    lines.append(f"    for i in range(n - n % {LANES}, n):")
    lines += _body(program, steps, modes, 1)
    return "\n".join(lines) + "\n"


def _body(program, step_dtypes, modes, lanes: int) -> list:
    """Loop body computing elements ``i .. i + lanes - 1``, interleaved step by step."""
    lines = []
    for lane in range(lanes):
        at = f"i + {lane}" if lane else "i"
        for k, mode in enumerate(modes):
            index = {"full": at, "one": "0", "tail": f"({at}) % a{k}.size"}[mode]
            lines.append(f"        x{k}_{lane} = a{k}[{index}]")
    for index, (op_type, args, _) in enumerate(program):
        dtype = step_dtypes[index]
        cast = "bool" if dtype == np.bool_ else "np." + dtype.name
        for lane in range(lanes):
            names = [f"x{i}_{lane}" if kind == "in" else f"v{i}_{lane}" for kind, i in args]
            lines.append(f"        v{index}_{lane} = {cast}({_expression(op_type, names)})")
    last = len(program) - 1
    for lane in range(lanes):
        lines.append(f"        out[i + {lane}] = v{last}_{lane}" if lane
                     else f"        out[i] = v{last}_0")
    return lines


@functools.lru_cache(maxsize=1024)
def _compiled_loop(source: str):
    import numba
    namespace = {"np": np, "math": math}
    exec(compile(source, "<graphc loop>", "exec"), namespace)  # noqa: S102 - generated here
    return numba.njit(nogil=True, error_model="numpy", cache=False)(namespace["loop"])


def compile_loop(program, arrays):
    """A function of ``arrays``-like inputs (same shapes and dtypes) computing the program
    with one compiled loop, or None when the engine does not cover this case.

    Example:
        >>> run = compile_loop(program, [x, bias])
        >>> y = run(x, bias)
    """
    if not available():
        return None
    in_shapes = [np.shape(a) for a in arrays]
    in_dtypes = [np.result_type(a) for a in arrays]
    out_shape = np.broadcast_shapes(*in_shapes)
    modes = input_modes(in_shapes, out_shape)
    if modes is None:
        return None
    source = loop_source(program, in_dtypes, modes)
    if source is None:
        return None
    loop = _compiled_loop(source)
    out_dtype = replay_dtypes([gdt.as_dtype(d) for d in in_dtypes], program)[-1].np
    flat = [f"a{k}.reshape(-1)" for k in range(len(arrays))]  # a view when contiguous
    params = ", ".join(f"a{k}" for k in range(len(arrays)))
    result = "out[()]" if out_shape == () else "out"
    source = (f"def run({params}, out=None):\n"
              f"    if out is not None:\n"
              f"        loop(out.reshape(-1), {', '.join(flat)})\n"
              f"        return out\n"
              f"    out = empty(shape, dtype)\n"
              f"    loop(out.reshape(-1), {', '.join(flat)})\n"
              f"    return {result}\n")
    namespace = {"np": np, "empty": np.empty, "dtype": out_dtype,
                 "loop": loop, "shape": out_shape}
    exec(compile(source, "<graphc loop call>", "exec"), namespace)  # noqa: S102
    run = namespace["run"]
    run(*arrays)  # compile now, not in the middle of a later run
    return run
