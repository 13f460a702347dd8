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
and signed zeros included). Its gradient is the expanded ops' (host, then the program).
"""
from __future__ import annotations

import numpy as np

from graphc import registry
from graphc.ops.fused import FUSED, Spec, replay_dtypes, replay_specs
from graphc.registry import OpDef

__all__ = ["run_program", "WITH_EPILOGUE"]


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


def _runner(host, host_attrs, host_inputs, program, position, ops=()):
    """The host's kernel with its attributes and the block-wise program bound."""
    kernel, host_attrs = registry.get(host).kernel, dict(host_attrs)

    def run(*arrays, out=None):
        extras = arrays[host_inputs:]

        def epilogue(block):
            np.copyto(block, run_program(program, _program_inputs(block, extras, position)))
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
    bind=lambda op: _runner(**op.attrs),
    attrs={"host": "", "host_attrs": (), "host_inputs": 0, "program": (), "position": 0,
           "ops": ()},
    fresh_output=True, takes_out=True, distribution=_distribution,
    tested_elsewhere="tests/test_conv_epilogue.py (made by the epilogue pass after fusion; "
                     "no public function)",
    doc="A host op (conv2d) whose result blocks an elementwise program transforms in place."))
