"""The SIMD loop engine for large float32 fused groups (numba, optional).

numba compiles ``np.exp``/``np.sin``/``np.tanh`` in a loop into calls to scalar libm, which
keeps LLVM from vectorizing the loop (40 ms for W2's chain, 8x slower than NumPy). Ops with a
``LoopExpr.vector`` form use the branch-free float32 polynomials of ``simd_math`` instead,
plain arithmetic its scalar form, so the whole group becomes one vectorized pass over memory
with every value in registers, split over the thread pool when the threading policy
allows. The loop runs in blocks and counts arguments outside a polynomial's range (NaN,
+-Inf, huge); a block that met any is computed again element by element, those arguments
with the op's scalar (libm) form, so every element's value depends on its inputs alone,
never on its neighbours. Only programs whose
values are all float32 (but for the bools of comparisons between them, as a ReLU gradient's
``dy * cast(x > 0)``), with inputs of the output's shape, single elements, or the
output's trailing elements (a bias over its last axis: the loop then runs row by row),
qualify.
"""
from __future__ import annotations

import functools
import hashlib
import math
from pathlib import Path

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.ops.fused import replay_dtypes

from ..threads import kernel_threads, run_shares
from .common import WORKERS, input_modes, jit_source, warm_up
from .loops import scalar_expression
from .numpy_engine import PARALLEL_MIN

__all__ = ["compile_simd_loop", "simd_source"]

BLOCK = 1 << 12  # elements per range check: a block with an argument out of range is redone
# the longest loop row a short tail input is tiled to (a bias of 32 channels: 32 rows of
# a W7 block in one; the epilogue's bias + ReLU call on a 2x32x32x32 block, its copy
# included, 30 -> 22 us on Zen 4, one run each)
TAIL_ROW = 1024


@functools.lru_cache(maxsize=1)
def _header() -> str:
    """The generated module's imports, with a digest of the helpers' source (numba's disk
    cache stamps only the generated file: a change of the helpers must change its name)."""
    helpers = Path(__file__).with_name("simd_math.py").read_bytes()
    return ("import math\nimport numpy as np\n"
            "from graphc.runtime.fused.simd_math import f32, vexp, vsincos, vtanh\n"
            f"# simd_math {hashlib.sha256(helpers).hexdigest()[:16]}\n\n")


def _expressions(op_type, names, exact: bool):
    """(expression, range check or None) of one step; None when the op is not covered."""
    form = registry.get(op_type).loop
    if form is None or not (form.vector or form.plain):
        return None
    scalar = scalar_expression(op_type, names)
    if not form.vector:
        return scalar, None
    vector = form.vector.format(*names)
    inside = f"abs({names[0]}) < f32({form.vector_range!r})"
    if exact:
        return f"{vector} if {inside} else {scalar}", None
    return vector, f"not ({inside})"


def _function(program, modes, exact: bool, step_dtypes) -> list | None:
    """The lines of ``exact`` (one block, element by element, arguments out of range with
    libm) or of ``loop`` (blocks of vectorized code, each redone by ``exact`` if it met an
    argument out of range)."""
    params = ", ".join(f"a{k}" for k in range(len(modes)))
    lines = [f"def exact(out, {params}, start, stop):" if exact else f"def loop(out, {params}):"]
    lines += [f"    x{k} = a{k}[0]" for k, mode in enumerate(modes) if mode == "one"]
    tails = [k for k, mode in enumerate(modes) if mode == "tail"]
    if tails:  # every tail input has the output's last c elements (compile_simd_loop)
        lines.append(f"    c = a{tails[0]}.size")
    if exact:
        lines.append("    for i in range(start, stop):")
        indent = " " * 8
        lines += [f"{indent}x{k} = a{k}[i % c]" for k in tails]
    else:  # indices from 0 on block views: no negative-index wraparound in the loop
        # with tail inputs, blocks of whole rows of c: an inner loop over a row reads them
        # at the row's index, no modulo (which would keep the loop from vectorizing)
        step = f"max(1, {BLOCK} // c) * c" if tails else f"{BLOCK}"
        lines += ["    n = out.size", "    if n == 0:", "        return", f"    step = {step}",
                  "    for start in range(0, n, step):",
                  "        stop = min(start + step, n)", "        block = out[start:stop]"]
        lines += [f"        b{k} = a{k}[start:stop]" for k, mode in enumerate(modes)
                  if mode == "full"]
        lines.append("        bad = 0")
        if tails:  # views of one row, indexed from 0 (as the blocks, for the same reason)
            lines += ["        for row in range(0, stop - start, c):",
                      "            line = block[row:row + c]"]
            lines += [f"            r{k} = b{k}[row:row + c]" for k, mode in enumerate(modes)
                      if mode == "full"]
            lines.append("            for i in range(c):")
            indent = " " * 16
            lines += [f"{indent}x{k} = a{k}[i]" for k in tails]
        else:
            lines.append("        for i in range(stop - start):")
            indent = " " * 12
    source = "a" if exact else "r" if tails else "b"
    lines += [f"{indent}x{k} = {source}{k}[i]" for k, mode in enumerate(modes) if mode == "full"]
    for index, (op_type, args, _) in enumerate(program):
        names = [f"x{i}" if kind == "in" else f"v{i}" for kind, i in args]
        found = _expressions(op_type, names, exact)
        if found is None:
            return None
        expression, check = found
        if check:
            lines.append(f"{indent}bad += {check}")
        # a comparison's bool stays a bool (a select in the vector code); values are float32
        rounded = f"f32({expression})" if step_dtypes[index] == np.float32 else f"({expression})"
        lines.append(f"{indent}v{index} = {rounded}")
    target = "out" if exact else "line" if tails else "block"
    lines.append(f"{indent}{target}[i] = v{len(program) - 1}")
    if not exact:
        lines += ["        if bad:", f"            exact(out, {params}, start, stop)"]
    return lines


def simd_source(program, modes) -> str | None:
    """The generated module (``exact`` and ``loop``), or None when the program is not
    covered."""
    steps = [dtype.np for dtype in replay_dtypes([gdt.float32] * len(modes), program)]
    if steps[-1] != np.float32 or any(d not in (np.float32, np.bool_) for d in steps):
        return None
    exact, loop = (_function(program, modes, True, steps),
                   _function(program, modes, False, steps))
    if exact is None or loop is None:
        return None
    return _header() + "\n".join(exact) + "\n\n\n" + "\n".join(loop) + "\n"


def _tiles(rows: int, row: int) -> int:
    """How many rows of a tail input's length make one loop row: the most that divide
    ``rows`` and fit TAIL_ROW elements (1 where one row already does)."""
    for tiles in range(max(1, min(rows, TAIL_ROW // max(row, 1))), 0, -1):
        if rows % tiles == 0:
            return tiles
    return 1


def compile_simd_loop(program, arrays):
    """A function of inputs like ``arrays`` computing the program in one vectorized pass,
    split over the thread pool; None when not covered.

    Example:
        >>> run = compile_simd_loop(program, [x, c])
        >>> y = run(x, c)
    """
    shapes = [np.shape(a) for a in arrays]
    out_shape = np.broadcast_shapes(*shapes)
    if any(np.result_type(a) != np.float32 for a in arrays):
        return None
    modes = input_modes(shapes, out_shape)
    if modes is None or len({math.prod(shape) for shape, mode in zip(shapes, modes)
                             if mode == "tail"}) > 1:
        return None  # the loop's rows are one tail's length: all tails must share it
    source = simd_source(program, modes)
    if source is None:
        return None
    loop = jit_source(source, ("exact", "loop"))
    size = math.prod(out_shape)
    # shares of whole rows where tail inputs index by the position in a row
    row = max([math.prod(shape) for shape, mode in zip(shapes, modes) if mode == "tail"],
              default=1)
    rows = size // row if row else 0
    # a short tail (a bias over 8-56 channels) is tiled into rows of up to TAIL_ROW
    # elements: each row's vector loop then runs long enough to pay for its setup
    tiles = _tiles(rows, row)
    row, rows = row * tiles, rows // tiles
    # compiled here, on a few elements (a row where rows count), never in the pool's threads
    few = min(size, 8) if row == 1 else min(size, row)
    warm_up(loop, np.empty(few, np.float32), *[np.reshape(a, -1)[:few] if mode == "full" else
                                               np.reshape(a, -1) for a, mode in zip(arrays, modes)])
    splits = {workers: [(w * rows // workers * row, (w + 1) * rows // workers * row)
                        for w in range(workers)] for workers in range(1, WORKERS + 1)}

    def run(*inputs, out=None):
        result = out if out is not None else np.empty(out_shape, np.float32)
        flat_out = result.reshape(-1)
        flat = [np.reshape(a, -1) if mode != "tail" or tiles == 1
                else np.broadcast_to(np.reshape(a, -1), (tiles, np.size(a))).ravel()
                for a, mode in zip(inputs, modes)]

        def share(bound):
            start, stop = bound
            loop(flat_out[start:stop],
                 *[f[start:stop] if mode == "full" else f for f, mode in zip(flat, modes)])
        # the threading policy's threads now (1 under a CPU load), as the NumPy engine; a
        # hand-off to the pool costs more than it saves below PARALLEL_MIN elements
        workers = 1 if size < PARALLEL_MIN else min(WORKERS, kernel_threads())
        if workers == 1:
            share((0, size))
        else:
            run_shares(share, splits[workers])
        return result
    run.engine = "simd"
    return run
