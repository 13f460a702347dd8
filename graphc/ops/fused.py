"""``fused_elementwise``: one node standing for a group of elementwise ops (made by fusion).

Its ``program`` attribute lists the group's ops in order, each as ``(op type, argument refs,
attrs)`` where a ref is ``("in", k)`` (the fused node's k-th input) or ``("step", j)``. How it
runs (NumPy over cache-sized chunks, or one compiled loop) is ``graphc.runtime.fused``.
"""
from __future__ import annotations

import numpy as np

from graphc import registry
from graphc.ops.common import apply_op, rand
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import TensorShape

__all__ = ["fused_elementwise", "program_from_ops", "Spec", "replay_specs", "replay_dtypes",
           "register_service", "program_kernel"]

# What a fused node needs from the layers above core, registered by them (imports only go
# down): "kernel", ``kernel(program, shape=None) -> callable``, from graphc.runtime.fused;
# "gradients", the ``gradients`` function of graphc.passes.gradients.
_SERVICES: dict = {}


def register_service(name: str, function) -> None:
    """Install the higher layer's ``function`` for service ``name`` ("kernel", "gradients").

    Example:
        >>> register_service("kernel", fused_kernel)  # graphc.runtime.fused does this
    """
    if name not in ("kernel", "gradients"):
        raise ValueError(f"fused_elementwise has no service {name!r}")
    _SERVICES[name] = function


def program_kernel(program):
    """The fused engines' kernel for ``program`` (``kernel(*arrays, out=None)``, the one a
    fused node of it runs), or None where no engine is registered (core alone).

    Example:
        >>> run = program_kernel(program)
        >>> y = run(x, bias) if run is not None else run_program(program, [x, bias])
    """
    factory = _SERVICES.get("kernel")
    return None if factory is None else factory(program)


def _service(name: str):
    try:
        return _SERVICES[name]
    except KeyError:
        layer = "graphc.runtime" if name == "kernel" else "graphc.passes.gradients"
        raise RuntimeError(f"fused_elementwise needs {layer}, which registers its {name!r} "
                           "service when imported (import graphc)") from None


class Spec:
    """The static shape and dtype of one value of a program."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape, self.dtype = shape, dtype


def replay_specs(inputs, program) -> list:
    """Specs of every step from the input specs, with the registry's own rules.

    Example:
        >>> replay_specs([Spec(TensorShape([3]), gc.float32)], (("tanh", (("in", 0),), ()),))
    """
    values = []
    for op_type, args, attrs in program:
        opdef, attrs = registry.get(op_type), dict(attrs)
        ins = [inputs[i] if kind == "in" else values[i] for kind, i in args]
        dtype = opdef.dtypes([t.dtype for t in ins], attrs)[0]
        if any(t.shape.rank is None for t in ins) and not opdef.unknown_rank_ok:
            shape = TensorShape(None)
        else:
            shape = opdef.shapes(ins, attrs)[0]
        values.append(Spec(shape, dtype))
    return values


def replay_dtypes(in_dtypes, program) -> list:
    """The dtype of every step from the input dtypes (the registry's dtype rules only)."""
    values: list = []
    for op_type, args, attrs in program:
        ins = [in_dtypes[i] if kind == "in" else values[i] for kind, i in args]
        values.append(registry.get(op_type).dtypes(ins, dict(attrs))[0])
    return values


def bind_program(op):
    """The plan-time kernel of a fused node (see ``graphc.runtime.fused``)."""
    return _service("kernel")(op.attrs["program"], op.outputs[0].shape)


def _fused_kernel(*arrays, program, ops):
    return _service("kernel")(program)(*arrays)


def _fused_grad(op, dy):
    """Differentiate the expanded program (fusion normally runs after differentiation, so
    only a graph differentiated after ``gc.optimize`` meets a fused node)."""
    gradients = _service("gradients")
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
    dtypes=lambda d, attrs: [replay_dtypes(d, attrs["program"])[-1]],
    shapes=lambda ins, attrs: [replay_specs(ins, attrs["program"])[-1].shape],
    kernel=_fused_kernel, grad=_fused_grad, attrs={"program": (), "ops": ()},
    bind=bind_program, fresh_output=True, takes_out=True, distribution=registry.ELEMENTWISE,
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
