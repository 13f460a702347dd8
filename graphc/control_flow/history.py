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

__all__ = ["read_history", "only_read_by_rows", "HISTORY_READ", "StackedRows"]


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


class StackedRows:
    """One run's values of a history some op reads whole, written into one array as the
    iterations make them (while they are still in cache) instead of kept and stacked after
    the loop: one copy per row, none for the stack, and no copy of a value that may be a
    view (the row is the copy). The array is sized for ``capacity`` rows (the loop passes
    its previous run's count) and doubles when a run goes further; ``values()`` is a view
    of its filled rows. One object per run: concurrent runs of a plan share nothing.

    Example:
        >>> rows = StackedRows(4)
        >>> rows.append(np.ones(3)); rows.values().shape
        (1, 3)
    """

    __slots__ = ("buffer", "count", "capacity", "items")

    def __init__(self, capacity: int = 4):
        self.buffer, self.count, self.capacity, self.items = None, 0, max(1, capacity), None

    def append(self, value) -> None:
        value = np.asarray(value)
        buffer = self.buffer
        if self.items is not None or (buffer is not None and (
                buffer.shape[1:] != value.shape or buffer.dtype != value.dtype)):
            self._listed().append(np.array(value, copy=True))  # changing shape: kept apart
            return
        if buffer is None:
            buffer = self.buffer = np.empty((self.capacity,) + value.shape, value.dtype)
        elif self.count == len(buffer):
            grown = np.empty((2 * len(buffer),) + value.shape, value.dtype)
            grown[:self.count] = buffer
            buffer = self.buffer = grown
        buffer[self.count] = value
        self.count += 1

    def _listed(self) -> list:
        if self.items is None:
            self.items = list(self.buffer[:self.count]) if self.buffer is not None else []
        return self.items

    def __len__(self) -> int:
        return len(self.items) if self.items is not None else self.count

    def values(self):
        """The filled rows (None when no iteration ran); a list when a value's shape or
        dtype changed between iterations (the caller reports that)."""
        if self.items is not None:
            return self.items
        return None if self.buffer is None else self.buffer[:self.count]
