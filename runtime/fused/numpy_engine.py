"""The NumPy engine for fused elementwise groups (always available).

A program (see ``graphc.ops.fused``) becomes one straight-line Python function over the
registry's kernels. Small outputs run it directly. Large outputs run it in chunks of at
most ``CHUNK_BYTES`` along the first axis, spread over a thread pool (NumPy releases the GIL):
intermediates exist only chunk by chunk, in scratch buffers each thread keeps, so they stay in
cache and cost no allocation (and no page faults) after the first chunk; the group's last
step writes straight into the output.
"""
from __future__ import annotations

import functools
import math
import threading

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.ops.fused import Spec, replay_specs
from graphc.shapes import TensorShape

from ..threads import kernel_threads, run_shares

__all__ = ["compile_program", "ChunkedProgram", "CHUNK_BYTES", "PARALLEL_MIN"]

# Measured on W2 (2 cores): chunks of 64K elements lose ~40% to GIL hand-offs between the
# threads (one per ufunc call); 1 MB chunks (256K float32 elements) keep them rare while
# the scratch buffers still fit in L2/L3. Below PARALLEL_MIN elements one thread is faster.
CHUNK_BYTES = 1 << 20
PARALLEL_MIN = 1 << 17


def _takes_out(op_type: str, attrs) -> bool:
    """The step's kernel is a ufunc called without attributes, so it accepts ``out=``."""
    return registry.get(op_type).ufunc and not attrs


@functools.lru_cache(maxsize=4096)
def compile_program(program, with_out: bool = False):
    """The program as one straight-line function over the registry's kernels (each bound to
    its attributes). With ``with_out`` the function takes a first argument ``o`` and every
    ufunc step ``j`` writes into ``o[j]`` (None allocates).

    Example:
        >>> compile_program((("tanh", (("in", 0),), ()),))(np.ones(3))
    """
    namespace, lines = {}, []
    dies_at = last_uses(program)
    for index, (op_type, args, attrs) in enumerate(program):
        kernel = registry.get(op_type).kernel
        namespace[f"k{index}"] = functools.partial(kernel, **dict(attrs)) if attrs else kernel
        names = ", ".join(f"a[{i}]" if kind == "in" else f"v{i}" for kind, i in args)
        out = f", out=o[{index}]" if with_out and _takes_out(op_type, attrs) else ""
        lines.append(f"    v{index} = k{index}({names}{out})")
        dead = dies_at.get(index)
        if dead:
            lines.append("    del " + ", ".join(f"v{j}" for j in dead))
    # ``out`` is accepted and left alone: the small-output path returns fresh results
    head = "def fused(o, *a):" if with_out else "def fused(*a, out=None):"
    source = head + "\n" + "\n".join(lines) + f"\n    return v{len(program) - 1}\n"
    exec(compile(source, "<graphc fused>", "exec"), namespace)  # noqa: S102 - generated here
    return namespace["fused"]


def last_uses(program) -> dict:
    """``{step: [values whose last reader it is]}``, so intermediates die early."""
    last: dict = {}
    for index, (_, args, _) in enumerate(program):
        for kind, j in args:
            if kind == "step":
                last[j] = index
    final = len(program) - 1
    uses: dict = {}
    for value, reader in last.items():
        if value != final:
            uses.setdefault(reader, []).append(value)
    return uses


class ChunkedProgram:
    """A program's NumPy kernel: direct on small outputs, chunked and threaded on large ones.

    Example:
        >>> run = ChunkedProgram(program)
        >>> y = run(x, bias)
    """

    def __init__(self, program):
        self.program = program
        self.direct = compile_program(program)
        self._into = None  # compiled when an output first needs chunks
        self._layouts: dict = {}  # piece (shapes, dtypes) -> (scratch layout, out dtype)
        self._scratch = threading.local()

    def __call__(self, *arrays, out=None):
        """The program's result, written into ``out`` (of the result's shape and dtype)
        when it is given and the output is large enough to run in chunks."""
        if max([a.size for a in arrays]) < PARALLEL_MIN:
            return self.direct(*arrays)  # small inputs: no chunking (and no shape arithmetic)
        shape = np.broadcast_shapes(*(np.shape(a) for a in arrays))
        rows, total = shape[0], math.prod(shape)
        workers = kernel_threads()  # the threading policy's, now (1 under a CPU load)
        per_thread = -(-total // workers)
        itemsize = max(np.result_type(a).itemsize for a in arrays)
        step = max(1, min(CHUNK_BYTES // itemsize, per_thread) // max(1, total // rows))
        bounds = [(start, min(rows, start + step)) for start in range(0, rows, step)]
        sliced = [np.ndim(a) == len(shape) and np.shape(a)[0] == rows for a in arrays]

        def pieces(start, stop):
            return [a[start:stop] if cut else a for a, cut in zip(arrays, sliced)]

        _, out_dtype = self._layout(pieces(*bounds[0]))
        if out is None or out.shape != shape or out.dtype != out_dtype:
            out = np.empty(shape, dtype=out_dtype)
        last = len(self.program) - 1

        errors = np.geterr()  # the caller's (a Session ignores NaN/Inf), in every thread

        def fill(share):
            """One thread's contiguous share of the chunks, run one after another."""
            with np.errstate(**errors):
                fill_share(share)

        def fill_share(share):
            for start, stop in share:
                args = pieces(start, stop)
                layout, _ = self._layout(args)
                scratch = self._buffers(layout)
                target = out[start:stop]
                if layout[last] is not None and layout[last][0] == target.shape:
                    scratch[last] = target
                    try:
                        self.into(scratch, *args)
                    finally:
                        scratch[last] = None  # the output belongs to the caller
                else:
                    target[...] = self.into(scratch, *args)
        workers = min(len(bounds), workers)
        if workers == 1:
            fill(bounds)  # on the calling thread: a pool's hand-off costs more than it saves
            return out
        shares = [bounds[w * len(bounds) // workers:(w + 1) * len(bounds) // workers]
                  for w in range(workers)]
        run_shares(fill, shares)
        return out

    @property
    def into(self):
        """The program writing ufunc results into scratch buffers (``compile_program``)."""
        if self._into is None:
            self._into = compile_program(self.program, with_out=True)
        return self._into

    @into.setter
    def into(self, function):
        self._into = function

    def _layout(self, args):
        """Per step: (shape, dtype, buffer id) of its scratch buffer, or None; and the output
        dtype. Buffers are shared by steps whose values are never alive together."""
        key = tuple((np.shape(a), np.result_type(a)) for a in args)
        found = self._layouts.get(key)
        if found is not None:
            return found
        specs = replay_specs([Spec(TensorShape(s), gdt.as_dtype(d)) for s, d in key],
                             self.program)
        dies_at, free, layout, owner, count = last_uses(self.program), {}, [], {}, 0
        last = len(self.program) - 1
        for index, (op_type, _, attrs) in enumerate(self.program):
            spec = specs[index]
            if not _takes_out(op_type, attrs) or not spec.shape.is_fully_defined():
                layout.append(None)  # allocates; its result may even be a view of an input,
                continue             # so the buffers it reads stay reserved
            # a ufunc may write over an input that dies here (elementwise, same shape)
            for dead in dies_at.get(index, ()):
                if dead in owner:
                    kind, buffer = owner.pop(dead)
                    free[kind].append(buffer)
            kind = (tuple(spec.shape.dims), spec.dtype.np)
            if index == last:
                layout.append(kind + (None,))  # written straight into the output
                continue
            pool = free.setdefault(kind, [])
            buffer = pool.pop() if pool else count
            count += buffer == count
            layout.append(kind + (buffer,))
            owner[index] = (kind, buffer)
        found = self._layouts[key] = (layout, specs[-1].dtype.np)
        return found

    def _buffers(self, layout) -> list:
        """This thread's scratch list for ``layout`` (buffers made on first use)."""
        cache = getattr(self._scratch, "lists", None)
        if cache is None:
            cache = self._scratch.lists = {}
        key = id(layout)
        scratch = cache.get(key)
        if scratch is None:
            made: dict = {}
            scratch = []
            for entry in layout:
                if entry is None or entry[2] is None:
                    scratch.append(None)  # allocating step, or the output (set per chunk)
                    continue
                shape, dtype, buffer = entry
                if buffer not in made:
                    made[buffer] = np.empty(shape, dtype)
                scratch.append(made[buffer])
            cache[key] = scratch
        return scratch
