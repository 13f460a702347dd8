"""Sparse variable updates: TF1's ``scatter_update``/``scatter_add``/``sub``/``mul``/``div``/
``max``/``min`` (rows of the first dimension) and ``scatter_nd_update``/``add``/``sub``
(elements or slices at index tuples).

Like ``assign_add`` they write the whole new value as a staged write (so a run that fails
later changes nothing) and output it; repeated indices accumulate for the combining forms
(``np.add.at``), and the last one wins for the ``*_update`` forms. An index out of range
fails the run naming it, as TF's kernels do. The public functions are in
``graphc.variable_scatter`` (they take Variables).
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.ops.common import INTEGER, NUMERIC, check_kind
from graphc.registry import OpDef
from graphc.shapes import TensorShape

__all__ = ["SCATTER_COMBINE", "SCATTER_ND_COMBINE"]


def _truncating_divide(x, y):
    if x.dtype.kind in "iu":
        if not np.all(y):
            raise ZeroDivisionError("Integer division by zero")
        quotient = np.abs(x) // np.abs(y)
        return np.where((x < 0) != (y < 0), -quotient, quotient).astype(x.dtype)
    return np.divide(x, y)


# how each op folds updates into the rows it reaches (None: plain assignment)
SCATTER_COMBINE = {"scatter_update": None, "scatter_add": np.add, "scatter_sub": np.subtract,
                   "scatter_mul": np.multiply, "scatter_div": _truncating_divide,
                   "scatter_max": np.maximum, "scatter_min": np.minimum}
SCATTER_ND_COMBINE = {"scatter_nd_update": None, "scatter_nd_add": np.add,
                      "scatter_nd_sub": np.subtract}


def _dtypes(op_type):
    def rule(in_dtypes, attrs):
        ref, indices, updates = in_dtypes
        check_kind(op_type, indices, INTEGER)
        if indices not in (gdt.int32, gdt.int64):
            raise TypeError(f"{op_type}: indices must be int32 or int64, got {indices.name}")
        if updates is not ref:
            raise TypeError(f"{op_type}: updates of dtype {updates.name} do not match the "
                            f"variable's dtype {ref.name}")
        if SCATTER_COMBINE.get(op_type, SCATTER_ND_COMBINE.get(op_type)) is not None:
            check_kind(op_type, ref, NUMERIC)
        return [ref]
    return rule


def _expected_updates(op_type, ref: TensorShape, indices: TensorShape) -> TensorShape:
    if ref.rank is None or indices.rank is None:
        return TensorShape(None)
    if op_type in SCATTER_COMBINE:  # rows of the first dimension
        return TensorShape(list(indices.dims) + list(ref.dims[1:]))
    depth = indices.dims[-1] if indices.rank else None
    if depth is None:
        return TensorShape(None)
    if depth > ref.rank:
        raise ValueError(f"{op_type}: indices of shape {indices} index {depth} dimensions of "
                         f"a variable of rank {ref.rank}")
    return TensorShape(list(indices.dims[:-1]) + list(ref.dims[depth:]))


def _shapes(op_type):
    def rule(inputs, attrs):
        ref, indices, updates = (t.shape for t in inputs)
        expected = _expected_updates(op_type, ref, indices)
        scalar_ok = op_type in SCATTER_COMBINE and updates.rank == 0
        if not scalar_ok and not updates.is_compatible_with(expected):
            raise ValueError(f"{op_type}: updates of shape {updates} must have shape "
                             f"{expected} (indices {indices}, variable {ref})")
        return [ref]
    return rule


def _checked_rows(op_type, indices, size):
    flat = np.asarray(indices).reshape(-1)
    bad = np.flatnonzero((flat < 0) | (flat >= size))
    if bad.size:
        # IndexError: the run reports it as InvalidArgumentError with the op and its line
        raise IndexError(f"{op_type}: indices[{bad[0]}] = {flat[bad[0]]} is not in "
                         f"[0, {size})")
    return np.asarray(indices)


def _kernel(op_type, combine, nd: bool):
    def kernel(ctx, handle, indices, updates):
        current = ctx.read_variable(handle.op)
        if nd:
            depth = indices.shape[-1]
            where = tuple(_checked_rows(op_type, indices[..., axis], current.shape[axis])
                          for axis in range(depth))
        else:
            where = _checked_rows(op_type, indices, current.shape[0] if current.ndim else 0)
        buffer = ctx.recycled(handle.op, current.shape, current.dtype)
        updated = np.array(current, copy=True) if buffer is None else buffer
        if buffer is not None:
            np.copyto(updated, current)
        if combine is None:
            updated[where] = updates
        elif combine is _truncating_divide and updated.dtype.kind in "iu":
            _divide_rows(updated, where, updates)
        else:
            (np.divide if combine is _truncating_divide else combine).at(updated, where, updates)
        return ctx.write_variable(handle.op, updated, owned=True)
    return kernel


def _divide_rows(updated, rows, updates):
    """Integer scatter_div: one truncating division per index, in order (as TF's kernel:
    each quotient is truncated before the next division)."""
    rows = rows.reshape(-1)
    divisors = np.broadcast_to(updates, rows.shape + updated.shape[1:]) if np.ndim(updates) \
        == 0 else np.asarray(updates).reshape(rows.shape + updated.shape[1:])
    for row, divisor in zip(rows, divisors):
        updated[row] = _truncating_divide(updated[row], divisor)


for _op_type, _combine in list(SCATTER_COMBINE.items()) + list(SCATTER_ND_COMBINE.items()):
    registry.register(OpDef(
        name=_op_type, dtypes=_dtypes(_op_type), shapes=_shapes(_op_type),
        kernel=_kernel(_op_type, _combine, _op_type in SCATTER_ND_COMBINE),
        grad=registry.NOT_DIFFERENTIABLE, stateful=True,
        foldable=False, needs_context=True, unknown_rank_ok=True, updates_variable=True,
        raises_on_values=True, tested_elsewhere="tests/test_variable_scatter.py",
        doc=f"TF1 {_op_type}: a sparse update of a variable; outputs its new value."))
