"""``with_epilogue``: an op whose kernel (the host, e.g. conv2d) hands each finished block
of its result to an elementwise program while the block is still in cache (made by the
epilogue pass, passes/epilogue.py, from a fused elementwise group reading only the host's
result, e.g. conv2d -> bias_add -> relu).

Inputs: the host's inputs, then the program's other inputs (small operands that broadcast
over a block: a bias, a scalar). Attributes: ``host`` (its op type), ``host_attrs`` (its
attributes, as sorted items), ``host_inputs`` (how many inputs are the host's),
``program`` (as for ``fused_elementwise``) and ``position`` (the program input standing for
the host's result).

The program runs on each block through the registry's own kernels, step by step, in the
program's order: every element gets exactly the operations, in the same order and dtype,
that the unfused graph gives it, so results are bitwise the unfused ones (NaN, infinities
and signed zeros included). In a plan, where every op of the program is exact in the
fused engines' loops (``LoopExpr.ulp`` 0: bias_add, relu, arithmetic), the block runs
instead through the fused engines' kernel (``program_kernel``: one compiled pass once hot,
the SIMD loop taking a bias row by row), bitwise the same by the engines' own contract. At W7 (b) the NumPy steps
(bias_add's inner loop of C_out elements per pixel, then relu) took 1.2 ms of a 3x3 16->24
convolution's 3.0 ms. A host that can run the program in its own loops does so instead of
calling ``epilogue(block)``: the runner sets ``epilogue.inline`` to ``(program, position,
extras)`` and the direct convolutions run it on each output row as they store it
(graphc.ops.conv_direct_epilogue; the block copy and pass cost 0.3-0.9 ms per convolution
at W7 (b), 3 ms of its step). Its gradient is the expanded ops' (host, then the program).
"""
from __future__ import annotations

import threading

import numpy as np

from graphc import registry
from graphc.ops.conv_direct_epilogue import takes_inline
from graphc.ops.fused import FUSED, Spec, program_kernel, replay_dtypes, replay_specs
from graphc.registry import OpDef

__all__ = ["run_program", "run_in_place", "WITH_EPILOGUE"]


def run_program(program, inputs):
    """The program's result on ``inputs``, by the registry kernels of its steps in order.

    Example:
        >>> run_program((("relu", (("in", 0),), ()),), [np.array([-1.0, 2.0])])
        array([0., 2.])
    """
    values: list = []
    for op_type, args, attrs in program:
        ins = [inputs[i] if kind == "in" else values[i] for kind, i in args]
        values.append(registry.get(op_type).kernel(*ins, **dict(attrs)))
    return values[-1]


def _read_after(program):
    """For each step, the refs (``("in", k)``, ``("step", j)``) that later steps read."""
    later: set = set()
    read_after = []
    for _, args, _ in reversed(program):
        read_after.append(frozenset(later))
        later.update(args)
    return read_after[::-1]


def run_in_place(program, inputs, position):
    """``inputs[position]`` (the block) overwritten with ``run_program(program, inputs)``:
    a ufunc step whose result has the block's shape and dtype writes straight into the
    block once no later step reads the block's old value (bias_add: np.add), saving a
    fresh array and a copy per step; the others run as in ``run_program``. The same
    kernels on the same values: bitwise ``run_program``'s result.

    Example:
        >>> block = np.array([-1.0, 2.0])
        >>> run_in_place((("bias_add", (("in", 0), ("in", 1)), ()),), [block, np.ones(2)], 0)
        array([0., 3.])
    """
    block = inputs[position]
    held = {("in", position)}  # the refs whose value the block holds now
    values: list = []
    for (op_type, args, attrs), read_after in zip(program, _read_after(program)):
        ins = [inputs[i] if kind == "in" else values[i] for kind, i in args]
        opdef = registry.get(op_type)
        kernel = opdef.kernel
        if (opdef.ufunc and not attrs and not held & read_after
                and np.result_type(*ins) == block.dtype
                and np.broadcast_shapes(*(np.shape(v) for v in ins)) == block.shape):
            values.append(kernel(*ins, out=block))
            held = {("step", len(values) - 1)}
        else:
            values.append(kernel(*ins, **dict(attrs)))
            if np.may_share_memory(values[-1], block):  # a view (identity, reshape)
                held.add(("step", len(values) - 1))
    if values[-1] is not block:
        np.copyto(block, values[-1])
    return block


def _split(values, attrs):
    """(the host's part of ``values``, the program's other inputs)."""
    count = attrs["host_inputs"]
    return list(values[:count]), list(values[count:])


def _program_inputs(result, extras, position):
    inputs = list(extras)
    inputs.insert(position, result)
    return inputs


def _dtypes(in_dtypes, attrs):
    host, extras = _split(in_dtypes, attrs)
    hosted = registry.get(attrs["host"]).dtypes(host, dict(attrs["host_attrs"]))[0]
    return [replay_dtypes(_program_inputs(hosted, extras, attrs["position"]),
                          attrs["program"])[-1]]


def _shapes(inputs, attrs):
    host, extras = _split(inputs, attrs)
    hostdef, host_attrs = registry.get(attrs["host"]), dict(attrs["host_attrs"])
    result = Spec(hostdef.shapes(host, host_attrs)[0],
                  hostdef.dtypes([t.dtype for t in host], host_attrs)[0])
    return [replay_specs(_program_inputs(result, extras, attrs["position"]),
                         attrs["program"])[-1].shape]


def _exact_in_loops(program) -> bool:
    """Whether every op of ``program`` runs bitwise in the fused engines' loops."""
    loops = [registry.get(op_type).loop for op_type, _, _ in program]
    return all(loop is not None and loop.ulp == 0 for loop in loops)


# each thread's copy of the block it hands the fused kernel (whose inputs must not be its
# output: a SIMD block with an argument out of range is computed again from its inputs)
_BLOCK_COPIES = threading.local()


def _block_copy(block):
    copy = getattr(_BLOCK_COPIES, "buffer", None)
    if copy is None or copy.size < block.size or copy.dtype != block.dtype:
        copy = _BLOCK_COPIES.buffer = np.empty(block.size, block.dtype)
    view = copy[:block.size].reshape(block.shape)
    np.copyto(view, block)
    return view


def _runner(host, host_attrs, host_inputs, program, position, ops=(), bound=False):
    """The host's kernel with its attributes and the block-wise program bound. Only a
    ``bound`` runner (a plan's, kept across its runs) takes the fused engines' kernel: one
    made for a single call would never turn hot, and making it costs more than the call."""
    kernel, host_attrs = registry.get(host).kernel, dict(host_attrs)
    fused = program_kernel(program) if bound and _exact_in_loops(program) else None
    inline = bound and takes_inline(program)

    def run(*arrays, out=None):
        extras = arrays[host_inputs:]

        def epilogue(block):
            if fused is None or not block.flags.c_contiguous:
                run_in_place(program, _program_inputs(block, extras, position), position)
                return
            result = fused(*_program_inputs(_block_copy(block), extras, position), out=block)
            if result is not block:
                np.copyto(block, result)
        if inline:  # a host that can run the program in its own store (conv_direct_epilogue)
            epilogue.inline = (program, position, extras)
        return kernel(*arrays[:host_inputs], **host_attrs, out=out, epilogue=epilogue)
    return run


def _grad(op, dy):
    """The gradients of the expanded ops: the host, then the program as one fused node
    (the epilogue pass runs after differentiation, so only a graph differentiated after
    ``gc.optimize`` meets this op)."""
    attrs = op.attrs
    host_inputs, extras = _split(list(op.inputs), attrs)
    graph = op.graph
    host = graph.create_op(attrs["host"], host_inputs, dict(attrs["host_attrs"]))
    group = graph.create_op(FUSED.name, _program_inputs(host.outputs[0], extras,
                                                        attrs["position"]),
                            {"program": attrs["program"], "ops": attrs["ops"]})
    group_grads = list(FUSED.grad(group, dy))
    host_result_grad = group_grads.pop(attrs["position"])
    if host_result_grad is None:
        return [None] * len(host_inputs) + group_grads
    return list(registry.get(attrs["host"]).grad(host, host_result_grad)) + group_grads


def _distribution(op, host_inputs):
    """Rowwise where the host is (graphc.dask): the program maps each chunk's rows of the
    host's result, and its other inputs have no batch axis (the pass checks)."""
    split = registry.get(op.attrs["host"]).distribution
    return split if isinstance(split, registry.Split) and split.kind == "rowwise" else None


def _kernel(*arrays, out=None, **attrs):
    return _runner(**attrs)(*arrays, out=out)


WITH_EPILOGUE = registry.register(OpDef(
    name="with_epilogue", dtypes=_dtypes, shapes=_shapes, kernel=_kernel, grad=_grad,
    bind=lambda op: _runner(**op.attrs, bound=True),
    attrs={"host": "", "host_attrs": (), "host_inputs": 0, "program": (), "position": 0,
           "ops": ()},
    fresh_output=True, takes_out=True, distribution=_distribution,
    tested_elsewhere="tests/test_conv_epilogue.py (made by the epilogue pass after fusion; "
                     "no public function)",
    doc="A host op (conv2d) whose result blocks an elementwise program transforms in place."))
