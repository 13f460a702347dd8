"""Reading back what a forward loop kept for its gradient: ``loop_history_read(history,
index)`` is row ``index`` of a ``while_loop`` history output.

A history read only by these ops is handed over as the list of the arrays the loop kept
(TF1's stack of pushed tensors): nothing is stacked after the forward loop and nothing is
copied when the backward loop reads a row; the row *is* the forward iteration's array,
which nobody writes (a history read is not a fresh output, so no plan updates it in
place). A history some other op reads is stacked into one array as before; the read then
gives a view of its row.
"""
from __future__ import annotations

import numpy as np

from graphc import registry
from graphc.ops.common import apply_op
from graphc.ops.indexing import gather
from graphc.registry import OpDef
from graphc.shapes import TensorShape

from .subgraph import subgraphs_of

__all__ = ["read_history", "only_read_by_rows", "HISTORY_READ"]


def _read_dtypes(in_dtypes, attrs):
    if not in_dtypes[1].is_integer:
        raise TypeError(f"loop_history_read: the index must be an integer, got "
                        f"{in_dtypes[1].name}")
    return [in_dtypes[0]]


def _row_shape(history: TensorShape) -> TensorShape:
    return TensorShape(None) if history.rank is None else TensorShape(history.dims[1:])


def _read_kernel(history, index):
    row = int(index)
    if not 0 <= row < len(history):
        raise IndexError(f"loop_history_read: iteration {row} is not in [0, {len(history)})")
    return history[row]


def _read_grad(op, dy):
    return [apply_op("loop_history_row_grad", [op.inputs[0], op.inputs[1], dy]), None]


def _row_grad_kernel(history, index, dy):
    out = np.zeros((len(history),) + np.shape(dy), dtype=np.asarray(dy).dtype)
    out[int(index)] = dy
    return out


HISTORY_READ = registry.register(OpDef(
    name="loop_history_read", dtypes=_read_dtypes,
    shapes=lambda inputs, attrs: [_row_shape(inputs[0].shape)], kernel=_read_kernel,
    grad=_read_grad, unknown_rank_ok=True, tested_elsewhere="tests/test_control_flow_saving.py",
    doc="Row ``index`` of a while_loop history (the list of arrays it kept, or their stack)."))

ROW_GRAD = registry.register(OpDef(
    name="loop_history_row_grad", dtypes=lambda d, attrs: [d[2]],
    shapes=lambda inputs, attrs: [TensorShape(None) if inputs[2].shape.rank is None else
                                  TensorShape([None, *inputs[2].shape.dims])],
    kernel=_row_grad_kernel, unknown_rank_ok=True, fresh_output=True,
    grad=lambda op, dy: [None, None, gather(dy, op.inputs[1])],
    tested_elsewhere="tests/test_control_flow_saving.py",
    doc="The gradient of a history read for the history: zeros but row ``index``, ``dy``."))


def read_history(history, index):
    """Row ``index`` (an iteration) of ``history``, a while_loop history output.

    Example:
        >>> c_before = read_history(loop.outputs[count + 1], iteration)
    """
    return apply_op("loop_history_read", [history, index], name="HistoryRead")


def only_read_by_rows(tensor) -> bool:
    """Whether every op reading ``tensor`` is a history read of it (so the list of kept
    arrays may stand for it), looking into the subgraphs of control-flow ops that take it
    (a backward loop captures the history its body reads)."""
    readers = tensor.consumers()
    if not readers:
        return False
    for reader in readers:
        if registry.get(reader.type) is HISTORY_READ and reader.inputs[0] is tensor:
            continue
        if not reader.opdef.subgraphs:
            return False
        for _, sub in subgraphs_of(reader):
            for inner, outer in zip(sub.inputs, reader.inputs[sub.first_input:]):
                if outer is tensor and (inner in sub.outputs or (
                        inner.consumers() and not only_read_by_rows(inner))):
                    return False
    return True
