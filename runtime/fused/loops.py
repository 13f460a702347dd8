"""The compiled-loop engine for small fused groups (numba, an optional dependency).

A program becomes one loop over the output's elements that evaluates every step on scalars
(each op's ``LoopExpr.scalar`` from the registry), so a group of a hundred ops costs one call
instead of a hundred ufunc calls of ~0.5 us each. Elements are evaluated ``LANES`` side by
side: independent chains the CPU overlaps. Every step's value is rounded to the step's
dtype, as NumPy would store it. Only programs over float32/float64/bool values whose ops all
have a loop form are compiled, and only for inputs that are the output's shape, a single
element, or a trailing block of it (a bias row); anything else stays on NumPy.
"""
from __future__ import annotations

import math

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.ops.fused import replay_dtypes

from .common import input_modes, jit_source, numba_available, warm_up

__all__ = ["compile_loop", "loop_source", "scalar_expression"]

LANES = 4  # elements evaluated side by side: independent chains the CPU overlaps
MAX_STEPS = 512  # compile time grows with the program; longer groups stay on NumPy
_LOOP_DTYPES = {np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.bool_)}
HEADER = "import math\nimport numpy as np\n\n"


def scalar_expression(op_type: str, names: list) -> str:
    """The op's scalar loop form (``LoopExpr.scalar``) applied to argument ``names``."""
    return registry.get(op_type).loop.scalar_code(names)


def loop_source(program, in_dtypes, modes, lanes: int = LANES) -> str | None:
    """The module source of the element loop, or None when some step cannot be compiled."""
    steps = [d.np for d in replay_dtypes([gdt.as_dtype(d) for d in in_dtypes], program)]
    if any(np.dtype(d) not in _LOOP_DTYPES for d in list(in_dtypes) + steps):
        return None
    if len(program) > MAX_STEPS or any(registry.get(op_type).loop is None
                                       for op_type, _, _ in program):
        return None
    params = ", ".join(f"a{k}" for k in range(len(in_dtypes)))
    lines = [f"def loop(out, {params}):", "    n = out.size",
             f"    for i in range(0, n - n % {lanes}, {lanes}):"]
    lines += _body(program, steps, modes, lanes)
    lines.append(f"    for i in range(n - n % {lanes}, n):")
    lines += _body(program, steps, modes, 1)
    return HEADER + "\n".join(lines) + "\n"


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
            lines.append(f"        v{index}_{lane} = {cast}({scalar_expression(op_type, names)})")
    last = len(program) - 1
    for lane in range(lanes):
        lines.append(f"        out[i + {lane}] = v{last}_{lane}" if lane
                     else f"        out[i] = v{last}_0")
    return lines


def compile_loop(program, arrays, lanes: int = LANES):
    """A function of ``arrays``-like inputs (same shapes and dtypes) computing the program
    with one compiled loop, or None when the engine does not cover this case. Every element
    gets the same value whatever ``lanes`` (1 compiles 5x less code: for tests).

    Example:
        >>> run = compile_loop(program, [x, bias])
        >>> y = run(x, bias)
    """
    if not numba_available():
        return None
    in_shapes = [np.shape(a) for a in arrays]
    in_dtypes = [np.result_type(a) for a in arrays]
    out_shape = np.broadcast_shapes(*in_shapes)
    modes = input_modes(in_shapes, out_shape)
    if modes is None:
        return None
    source = loop_source(program, in_dtypes, modes, lanes)
    if source is None:
        return None
    loop = jit_source(source, ("loop",))
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
    namespace = {"empty": np.empty, "dtype": out_dtype, "loop": loop, "shape": out_shape}
    exec(compile(source, "<graphc loop call>", "exec"), namespace)  # noqa: S102 - generated
    warm_up(loop, np.empty(math.prod(out_shape), out_dtype), *[np.reshape(a, -1) for a in arrays])
    run = namespace["run"]
    run.engine = "loops"
    return run
