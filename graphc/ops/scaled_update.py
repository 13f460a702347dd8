"""``scaled_assign_sub``: ``variable -= scale * delta`` as one op (what the scaled_updates
pass, passes/scaled_updates.py, makes of ``assign_sub(v, multiply(scale, delta))``: an SGD
step, TF1's ApplyGradientDescent). Inputs: the variable's handle, the 0-d ``scale`` and
``delta``; attribute ``scale_first``: whether the product was ``scale * delta`` (else
``delta * scale``), kept so that even NaN payloads come out as before.

The product is written straight into the buffer of the variable's next value (its previous
value, when nothing holds it: ``RunContext.recycled``), and the difference over it: no
temporary array and one plan step instead of two. The same two NumPy calls on the same
values as the two ops make: bitwise their result. Where numba is installed, float arrays
of at least ``LOOP_MIN_SIZE`` elements take one compiled pass instead
(graphc.ops.update_loops: the same two operations per element, bitwise the same values,
the NumPy calls redoing any update with a NaN result). A ``delta`` that only broadcasts to
the variable's shape takes ``assign_sub``'s own path (its checks and errors).

Example:
    >>> step = gc.Session(graph=g).run(train)  # an SGD step runs scaled_assign_sub ops
"""
from __future__ import annotations

import numpy as np

from graphc import registry
from graphc.ops.state import ASSIGN_SUB, _assign_dtypes, _assign_shapes
from graphc.ops.update_loops import update_loop
from graphc.registry import OpDef

__all__ = ["SCALED_ASSIGN_SUB", "LOOP_MIN_SIZE"]

_LOOP_DTYPES = (np.float32, np.float64)
# below this many elements the two NumPy calls cost about what one compiled call does
LOOP_MIN_SIZE = 4096


def _declared_fits(declared, shape) -> bool:
    """Whether a value of ``shape`` fits the variable's declared dims (None: any)."""
    return declared is None or shape == declared or (len(declared) == len(shape) and all(
        d is None or d == s for d, s in zip(declared, shape)))


def _update(ctx, handle, scale, delta, scale_first, declared):
    current = ctx.read_variable(handle.op)
    shape = current.shape
    if (np.shape(delta) != shape or np.ndim(scale) != 0 or delta.dtype != current.dtype
            or not _declared_fits(declared, shape)):
        product = np.multiply(scale, delta) if scale_first else np.multiply(delta, scale)
        return ASSIGN_SUB.kernel(ctx, handle, product)  # broadcasting, errors: assign_sub's
    buffer = ctx.recycled(handle.op, shape, current.dtype)
    if buffer is None:
        buffer = np.empty(shape, current.dtype)
    if _compiled_update(current, scale, delta, scale_first, buffer):
        return ctx.write_variable(handle.op, buffer, owned=True)
    if scale_first:
        np.multiply(scale, delta, out=buffer)
    else:
        np.multiply(delta, scale, out=buffer)
    np.subtract(current, buffer, out=buffer)
    return ctx.write_variable(handle.op, buffer, owned=True)


def _compiled_update(current, scale, delta, scale_first, buffer) -> bool:
    """``buffer = current - scale * delta`` by graphc.ops.update_loops' one pass, where it
    takes these arrays (C-contiguous floats of one dtype, a scale of it); False when it does
    not, or when some result is NaN (the NumPy calls then decide the NaN payloads)."""
    if (current.size < LOOP_MIN_SIZE or current.dtype.type not in _LOOP_DTYPES
            or delta.dtype != current.dtype or np.result_type(scale) != current.dtype
            or not (current.flags.c_contiguous and delta.flags.c_contiguous
                    and buffer.flags.c_contiguous)):
        return False
    loop = update_loop()
    return loop is not None and loop(current.reshape(-1), delta.reshape(-1), current.dtype.type(scale), scale_first,
                buffer.reshape(-1)) == 0


def _dims(shape):
    return None if shape.dims is None else tuple(shape.dims)


def _kernel(ctx, handle, scale, delta, scale_first=True):
    return _update(ctx, handle, scale, delta, scale_first, _dims(handle.op.outputs[0].shape))


def _bind(op):
    """The kernel with the attribute and the variable's declared dims bound once."""
    scale_first, declared = op.attrs["scale_first"], _dims(op.inputs[0].shape)

    def kernel(ctx, handle, scale, delta):
        return _update(ctx, handle, scale, delta, scale_first, declared)
    return kernel


def _dtypes(in_dtypes, attrs):
    ref, scale, delta = in_dtypes
    return _assign_dtypes("scaled_assign_sub", True)([ref, delta], attrs)


def _shapes(inputs, attrs):
    return _assign_shapes("scaled_assign_sub")([inputs[0], inputs[2]], {})


SCALED_ASSIGN_SUB = registry.register(OpDef(
    name="scaled_assign_sub", dtypes=_dtypes, shapes=_shapes, kernel=_kernel, bind=_bind,
    grad=registry.NOT_DIFFERENTIABLE, attrs={"scale_first": True}, stateful=True,
    foldable=False, needs_context=True, updates_variable=True,
    tested_elsewhere="tests/passes/test_scaled_updates.py (made by the scaled_updates pass; "
                     "no public function)",
    doc="variable -= scale * delta (an SGD step) in one kernel; outputs the new value."))
