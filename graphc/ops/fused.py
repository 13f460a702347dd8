"""``fused_elementwise``: one node standing for a group of elementwise ops (made by fusion).

Its ``program`` attribute lists the group's ops in order, each as ``(op type, argument refs,
attrs)`` where a ref is ``("in", k)`` (the fused node's k-th input) or ``("step", j)``. The
kernel runs the program with the registry's own kernels, so results equal the unfused
graph's. Large outputs are computed in chunks of ``CHUNK_ELEMENTS`` along the first axis,
spread over a thread pool (NumPy releases the GIL): intermediates never exist at full size,
only chunk by chunk, and stay in cache.
"""
from __future__ import annotations

import concurrent.futures
import functools
import math
import os

import numpy as np

from graphc import registry
from graphc.ops.common import apply_op, rand
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape

__all__ = ["fused_elementwise", "program_from_ops"]


class _Spec:
    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape, self.dtype = shape, dtype


def _replay(inputs, program):
    """Static specs of every step, from the input specs, with the registry's rules."""
    values = []
    for op_type, args, attrs in program:
        opdef, attrs = registry.get(op_type), dict(attrs)
        ins = [inputs[i] if kind == "in" else values[i] for kind, i in args]
        dtype = opdef.dtypes([t.dtype for t in ins], attrs)[0]
        if any(t.shape.rank is None for t in ins) and not opdef.unknown_rank_ok:
            shape = TensorShape(None)
        else:
            shape = opdef.shapes(ins, attrs)[0]
        values.append(_Spec(shape, dtype))
    return values


@functools.lru_cache(maxsize=4096)
def compile_program(program):
    """The program as one straight-line Python function over the registry's kernels (each
    bound to its attributes), so evaluating it costs no interpretation per step."""
    namespace, lines = {}, []
    dies_at = _last_uses(program)
    for index, (op_type, args, attrs) in enumerate(program):
        kernel = registry.get(op_type).kernel
        namespace[f"k{index}"] = functools.partial(kernel, **dict(attrs)) if attrs else kernel
        names = ", ".join(f"a[{i}]" if kind == "in" else f"v{i}" for kind, i in args)
        lines.append(f"    v{index} = k{index}({names})")
        dead = dies_at.get(index)
        if dead:
            lines.append("    del " + ", ".join(f"v{j}" for j in dead))
    source = "def fused(*a):\n" + "\n".join(lines) + f"\n    return v{len(program) - 1}\n"
    exec(compile(source, "<graphc fused>", "exec"), namespace)  # noqa: S102 - generated here
    return namespace["fused"]


CHUNK_ELEMENTS = 1 << 16
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1,
                                              thread_name_prefix="graphc-fused")


def chunked(fused):
    """``fused`` evaluated chunk by chunk (in parallel) when its output is large."""
    def run(*arrays):
        if max(np.size(a) for a in arrays) < 4 * CHUNK_ELEMENTS:
            return fused(*arrays)  # small inputs: no chunking (and no shape arithmetic)
        shape = np.broadcast_shapes(*(np.shape(a) for a in arrays))
        total = math.prod(shape)
        rows = shape[0]
        step = max(1, CHUNK_ELEMENTS // max(1, total // rows))
        bounds = [(start, min(rows, start + step)) for start in range(0, rows, step)]

        def piece(bound):
            start, stop = bound
            return fused(*(a[start:stop] if np.ndim(a) == len(shape) and np.shape(a)[0] == rows
                           else a for a in arrays))

        first = np.asarray(piece(bounds[0]))
        out = np.empty(shape, dtype=first.dtype)
        out[bounds[0][0]:bounds[0][1]] = first

        def fill(bound):
            out[bound[0]:bound[1]] = piece(bound)
        list(_POOL.map(fill, bounds[1:]))
        return out
    return run


def bind_program(attrs):
    """The plan-time kernel of a fused node: compiled program, chunked when large."""
    return chunked(compile_program(attrs["program"]))


def _last_uses(program) -> dict:
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


def _fused_kernel(*arrays, program, ops):
    return bind_program({"program": program})(*arrays)


def _fused_grad(op, dy):
    """Differentiate the expanded program (fusion normally runs after differentiation)."""
    from graphc.passes.gradients import gradients
    graph = op.graph
    values = []
    for op_type, args, attrs in op.attrs["program"]:
        ins = [op.inputs[i] if kind == "in" else values[i] for kind, i in args]
        values.append(graph.create_op(op_type, ins, dict(attrs)).outputs[0])
    return gradients(values[-1], list(op.inputs), grad_ys=dy, name="unfused")


def _sample_program():
    # tanh(a + b) * a - 0.5 * b, with b broadcast along a's rows
    return (("add", (("in", 0), ("in", 1)), ()), ("tanh", (("step", 0),), ()),
            ("multiply", (("step", 1), ("in", 0)), ()), ("multiply", (("in", 2), ("in", 1)), ()),
            ("subtract", (("step", 2), ("step", 3)), ()))


FUSED = registry.register(OpDef(
    name="fused_elementwise",
    dtypes=lambda d, attrs: [_replay([_Spec(TensorShape(None), t) for t in d],
                                     attrs["program"])[-1].dtype],
    shapes=lambda ins, attrs: [_replay(ins, attrs["program"])[-1].shape],
    kernel=_fused_kernel, grad=_fused_grad, attrs={"program": (), "ops": ()},
    bind=bind_program,
    unknown_rank_ok=True,
    reference=lambda a, b, c, program, ops=(): np.tanh(a + b) * a - c * b,
    samples=lambda: [Sample((rand(3, 4), rand(4), np.float64(0.5), _sample_program()))],
    error_samples=lambda: [ErrorSample((rand(3, 4), rand(5), np.float64(0.5), _sample_program()),
                                       match="Incompatible shapes")],
    doc="A fused group of elementwise ops; attrs list the program and the user ops in it."))


@registry.public(FUSED)
def fused_elementwise(a, b, c, program, ops=(), name=None):
    """Build a fused node over inputs ``a, b, c`` (for tests; fusion builds them itself)."""
    return apply_op("fused_elementwise", [a, b, c], {"program": program, "ops": tuple(ops)},
                    name=name or "Fused")


def program_from_ops(members, external) -> tuple:
    """The program of ``members`` (topologically ordered ops) reading ``external`` tensors."""
    position = {op.outputs[0]: j for j, op in enumerate(members)}
    slots = {t: k for k, t in enumerate(external)}
    program = []
    for op in members:
        refs = tuple(("step", position[t]) if t in position else ("in", slots[t])
                     for t in op.inputs)
        program.append((op.type, refs, tuple(sorted(op.attrs.items()))))
    return tuple(program)
