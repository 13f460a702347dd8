"""The LSTM cell's gate arithmetic as one op each way (as TF's LSTMBlockCell and cuDNN do).

``lstm_gates(z, c)`` takes the gate pre-activations ``z = [x, h] @ kernel + bias`` (columns
``i, j, f, o``, ``n`` each) and the cell state, and gives
``c' = c sigmoid(f + forget_bias) + sigmoid(i) tanh(j)`` and ``h' = tanh(c') sigmoid(o)``,
plus what its gradient reads: the four activations (``[4, batch, n]``) and ``tanh(c')``.
``lstm_gates_grad`` turns the gradients of ``c'`` and ``h'`` into those of ``z`` (written in
place of the four pieces: no concat) and of ``c``.

Built of separate ops, an LSTM iteration runs about 9 small ops forward and 8 backward
(split, three sigmoids, two tanh, their products, and the concat of the gate gradients),
each a Python-level kernel call on a ``[batch, n]`` array; in a ``dynamic_rnn`` the loop runs
them every iteration (benchmark W8: 50 iterations each way per training step). The NumPy
forward kernel computes exactly the ufuncs the separate ops do, in the same order, so its
results are bitwise theirs; the gradient is the chain rule of the same formulas. Where numba
is installed, both run as compiled loops (graphc.rnn.gate_loops): the gradient bitwise the
NumPy kernel's, the float32 forward within the SIMD engine's ulp bound of it.

Example:
    >>> new_c, new_h = lstm_gates(z, c, forget_bias=1.0)   # z: [batch, 4n], c: [batch, n]
"""
from __future__ import annotations

import numpy as np

from graphc import registry
from graphc.control_flow.subgraph import service
from graphc.ops.array import concat
from graphc.ops.common import apply_op
from graphc.ops.control import stop_gradient
from graphc.ops.creation import zeros_like
from graphc.ops.indexing import gather
from graphc.registry import OpDef
from graphc.shapes import TensorShape

from . import gate_loops

__all__ = ["lstm_gates", "GATES", "GATES_GRAD"]


def _float_dtypes(name):
    def dtypes(in_dtypes, attrs):
        first = in_dtypes[0]
        if not first.is_floating or any(d is not first for d in in_dtypes):
            raise TypeError(f"{name}: every input must have one float dtype, got "
                            f"{[d.name for d in in_dtypes]}")
        return [first] * (4 if name == "lstm_gates" else 2)
    return dtypes


def _units(z_shape: TensorShape, c_shape: TensorShape, name: str) -> None:
    """Check ``z`` is ``[batch, 4n]`` for ``c`` of ``[batch, n]`` (where known)."""
    if z_shape.rank not in (None, 2) or c_shape.rank not in (None, 2):
        raise ValueError(f"{name}: the gates and the cell state must be matrices, got shapes "
                         f"{z_shape} and {c_shape}")
    if z_shape.rank is None or c_shape.rank is None:
        return
    (batch, width), (c_batch, units) = z_shape.dims, c_shape.dims
    if None not in (width, units) and width != 4 * units or \
            None not in (batch, c_batch) and batch != c_batch:
        raise ValueError(f"{name}: gates of shape {z_shape} do not fit a cell state of shape "
                         f"{c_shape} (need [batch, 4 * units] and [batch, units])")


def _gates_shapes(inputs, attrs):
    z, c = inputs
    _units(z.shape, c.shape, "lstm_gates")
    blocks = TensorShape(None) if c.shape.rank is None else TensorShape([4, *c.shape.dims])
    return [c.shape, c.shape, blocks, c.shape]


# The activations are kept as [4, batch, n] blocks in the order i, f, o, j (the sigmoids
# side by side): each is then a contiguous array. On [batch, n] column blocks of the
# [batch, 4n] gates every ufunc runs its inner loop once per row (measured on LSTM W8's
# 32 x 128 blocks: the gradient took 77 us on column blocks, 27 us on contiguous ones).
I, F, O, J = range(4)


def _gates_kernel(z, c, forget_bias):
    batch, n = c.shape
    if z.shape != (batch, 4 * n):
        raise ValueError(f"lstm_gates: gates of shape {z.shape} do not fit a cell state of "
                         f"shape {c.shape}")
    compiled = gate_loops.forward_loop() if z.dtype == c.dtype == np.float32 else None
    if compiled is not None:
        outputs = (np.empty_like(c), np.empty_like(c), np.empty((4, batch, n), z.dtype),
                   np.empty_like(c))
        new_c, new_h, act, tanh_c = outputs
        if compiled(z, c, np.float32(forget_bias), new_c, new_h, act, tanh_c) == 0:
            return outputs
    return _numpy_gates(z, c, forget_bias)


def _numpy_gates(z, c, forget_bias):
    """The reference kernel (NumPy's ufuncs, the separate ops' values bitwise)."""
    batch, n = c.shape
    act = np.empty((4, batch, n), z.dtype)
    # sigmoid as the sigmoid kernel computes it (graphc.ops.common.fast_sigmoid), on the
    # three sigmoid blocks at once; -(f + b) is exactly (-f) - b
    np.negative(z[:, :n], out=act[I])
    np.negative(z[:, 2 * n:].reshape(batch, 2, n).transpose(1, 0, 2), out=act[F:O + 1])
    np.subtract(act[F], z.dtype.type(forget_bias), out=act[F])
    sigmoids = act[:J]
    with np.errstate(over="ignore"):
        np.exp(sigmoids, out=sigmoids)
    np.add(sigmoids, z.dtype.type(1), out=sigmoids)
    np.reciprocal(sigmoids, out=sigmoids)
    np.tanh(z[:, n:2 * n], out=act[J])
    new_c = np.multiply(c, act[F])
    new_c += np.multiply(act[I], act[J])
    tanh_c = np.tanh(new_c)
    return new_c, np.multiply(tanh_c, act[O]), act, tanh_c


def _gates_grad(op, d_c, d_h, d_act, d_tanh_c):
    z, c = op.inputs
    _, _, act, tanh_c = op.outputs
    d_c = zeros_like(c) if d_c is None else d_c
    d_h = zeros_like(c) if d_h is None else d_h
    if d_tanh_c is not None:  # only when something outside the cell reads tanh(c')
        d_c = d_c + d_tanh_c * (1.0 - tanh_c * tanh_c)
    d_z, d_c_prev = apply_op("lstm_gates_grad", [d_c, d_h, c, act, tanh_c])
    if d_act is not None:  # likewise for the activations
        s = {k: gather(act, k) for k in range(4)}
        d = {k: gather(d_act, k) for k in range(4)}
        d_z = d_z + concat([d[I] * s[I] * (1.0 - s[I]), d[J] * (1.0 - s[J] * s[J]),
                            d[F] * s[F] * (1.0 - s[F]), d[O] * s[O] * (1.0 - s[O])], 1)
    return [d_z, d_c_prev]


def _grad_shapes(inputs, attrs):
    d_c, d_h, c, act, tanh_c = inputs
    if act.shape.rank not in (None, 3) or c.shape.rank not in (None, 2):
        raise ValueError(f"lstm_gates_grad: activations of shape {act.shape} do not fit a "
                         f"cell state of shape {c.shape}")
    return [TensorShape(None) if c.shape.rank is None else
            TensorShape([c.shape.dims[0], None if c.shape.dims[1] is None
                         else 4 * c.shape.dims[1]]), c.shape]


_LOOP_DTYPES = ({np.dtype(np.float32)}, {np.dtype(np.float64)})  # numba's float types


def _grad_kernel(d_c, d_h, c, act, tanh_c):
    """The gradients of ``z`` and ``c``: ``s (1 - s)`` for the sigmoids, ``1 - t^2`` for
    the tanh, through ``c' = c f + i j`` and ``h' = tanh(c') o``."""
    batch, n = c.shape
    compiled = gate_loops.grad_loop()
    # the loop reads every array at [b, k] unchecked: only exactly matching operands
    if compiled is not None and {a.dtype for a in (d_c, d_h, c, act, tanh_c)} in _LOOP_DTYPES \
            and d_c.shape == d_h.shape == tanh_c.shape == c.shape \
            and act.shape == (4, batch, n):
        d_z, d_c_prev = np.empty((batch, 4 * n), act.dtype), np.empty_like(c)
        compiled(d_c, d_h, c, act, tanh_c, act.dtype.type(1), d_z, d_c_prev)
        return d_z, d_c_prev
    return _numpy_grad(d_c, d_h, c, act, tanh_c)


def _numpy_grad(d_c, d_h, c, act, tanh_c):
    """The reference gradient kernel (the compiled loop's values bitwise)."""
    batch, n = c.shape
    one = act.dtype.type(1)
    total = np.multiply(tanh_c, tanh_c)  # dc' in all: d_c + d_h o (1 - tanh(c')^2)
    np.subtract(one, total, out=total)
    total *= act[O]
    total *= d_h
    total += d_c
    blocks = np.empty_like(act)
    for k, other, upstream in ((I, act[J], total), (F, c, total), (O, tanh_c, d_h)):
        out = blocks[k]
        np.subtract(one, act[k], out=out)
        out *= act[k]
        out *= other
        out *= upstream
    out = blocks[J]
    np.multiply(act[J], act[J], out=out)
    np.subtract(one, out, out=out)
    out *= act[I]
    out *= total
    d_z = np.empty((batch, 4 * n), act.dtype)  # columns i, j, f, o
    columns = d_z.reshape(batch, 4, n).transpose(1, 0, 2)
    columns[0], columns[1] = blocks[I], blocks[J]
    columns[2:] = blocks[F:O + 1]
    return d_z, np.multiply(total, act[F])


def _grad_of_grad(op, g_z, g_c_prev):
    """Second order: the gradient kernel's formulas as graph ops, differentiated (on
    stand-ins of the inputs: ``d_c`` may itself depend on ``c``, a path the caller's
    gradient already follows)."""
    inputs = [stop_gradient(x) for x in op.inputs]
    d_c, d_h, c, act, tanh_c = inputs
    s = {k: gather(act, k) for k in range(4)}
    total = d_c + d_h * s[O] * (1.0 - tanh_c * tanh_c)
    d_z = concat([s[I] * (1.0 - s[I]) * s[J] * total, (1.0 - s[J] * s[J]) * s[I] * total,
                  s[F] * (1.0 - s[F]) * c * total, s[O] * (1.0 - s[O]) * tanh_c * d_h], 1)
    pairs = [(y, g) for y, g in ((d_z, g_z), (total * s[F], g_c_prev)) if g is not None]
    return service("gradients")([y for y, _ in pairs], inputs, grad_ys=[g for _, g in pairs])


GATES = registry.register(OpDef(
    name="lstm_gates", dtypes=_float_dtypes("lstm_gates"), shapes=_gates_shapes,
    kernel=_gates_kernel, grad=_gates_grad, attrs={"forget_bias": 1.0}, fresh_output=True,
    tested_elsewhere="tests/test_rnn_gates.py",
    doc="An LSTM cell's new state (c', h') from its gate pre-activations [i, j, f, o] and c, "
        "with the activations and tanh(c') its gradient reads."))

GATES_GRAD = registry.register(OpDef(
    name="lstm_gates_grad", dtypes=_float_dtypes("lstm_gates_grad"), shapes=_grad_shapes,
    kernel=_grad_kernel, grad=_grad_of_grad, fresh_output=True,
    tested_elsewhere="tests/test_rnn_gates.py",
    doc="The gradients of lstm_gates' inputs (z, c) from those of c' and h'."))


def lstm_gates(z, c, forget_bias=1.0, name=None):
    """``(c', h')`` of an LSTM cell from its gate pre-activations ``z`` (``[batch, 4n]``,
    blocks ``i, j, f, o``) and cell state ``c`` (``[batch, n]``); see the module docstring.

    Example:
        >>> new_c, new_h = lstm_gates(matmul(concat([x, h], 1), kernel) + bias, c)
    """
    new_c, new_h, _, _ = apply_op("lstm_gates", [z, c], {"forget_bias": float(forget_bias)},
                                  name=name or "lstm_gates")
    return new_c, new_h
