"""Cells made of cells (TF1's ``MultiRNNCell``, ``DropoutWrapper``, ``ResidualWrapper``)."""
from __future__ import annotations

from graphc.ops.array import concat, split
from graphc.ops.random import dropout
from graphc.variable_scope import variable_scope

from .cells import RNNCell

__all__ = ["MultiRNNCell", "DropoutWrapper", "ResidualWrapper"]


class MultiRNNCell(RNNCell):
    """Cells stacked in depth: cell k's output is cell k+1's input; the state is the tuple
    of their states (variables under ``multi_rnn_cell/cell_k/``).

    Example:
        >>> cell = gc.nn.rnn_cell.MultiRNNCell([gc.nn.rnn_cell.LSTMCell(64) for _ in range(2)])
    """

    base_name = "multi_rnn_cell"

    def __init__(self, cells, state_is_tuple=True):
        super().__init__()
        if not cells:
            raise ValueError("MultiRNNCell: must specify at least one cell")
        self._cells = list(cells)
        self._state_is_tuple = bool(state_is_tuple)
        if not state_is_tuple and any(isinstance(c.state_size, tuple) for c in self._cells):
            raise ValueError("MultiRNNCell: state_is_tuple=False needs cells whose states are "
                             "single tensors")

    @property
    def state_size(self):
        sizes = tuple(cell.state_size for cell in self._cells)
        return sizes if self._state_is_tuple else sum(sizes)

    output_size = property(lambda self: self._cells[-1].output_size)

    @property
    def variables(self) -> list:
        return [v for cell in self._cells for v in cell.variables]

    @variables.setter
    def variables(self, value) -> None:
        pass  # the base class's list: the cells own theirs

    def zero_state(self, batch_size, dtype):
        states = tuple(cell.zero_state(batch_size, dtype) for cell in self._cells)
        return states if self._state_is_tuple else concat(list(states), 1)

    def __call__(self, inputs, state, scope=None):
        if self._scope is None:
            with variable_scope(scope, default_name=self.base_name) as opened:
                self._scope = opened
                return self._stack(inputs, state)
        with variable_scope(self._scope, reuse=True):
            return self._stack(inputs, state)

    def _stack(self, inputs, state):
        states = state if self._state_is_tuple else split(
            state, [cell.state_size for cell in self._cells], axis=1)
        current, new_states = inputs, []
        for index, (cell, cell_state) in enumerate(zip(self._cells, states)):
            with variable_scope(f"cell_{index}"):
                current, new_state = cell(current, cell_state)
            new_states.append(new_state)
        return current, (tuple(new_states) if self._state_is_tuple else
                         concat(new_states, 1))


class _Wrapper(RNNCell):
    def __init__(self, cell):
        super().__init__()
        self.cell = cell

    state_size = property(lambda self: self.cell.state_size)
    output_size = property(lambda self: self.cell.output_size)
    variables = property(lambda self: self.cell.variables, lambda self, value: None)

    def zero_state(self, batch_size, dtype):
        return self.cell.zero_state(batch_size, dtype)


class DropoutWrapper(_Wrapper):
    """Dropout on a cell's inputs, outputs and/or new state (keep probabilities; seeded).

    Example:
        >>> cell = gc.nn.rnn_cell.DropoutWrapper(cell, output_keep_prob=0.8, seed=1)
    """

    def __init__(self, cell, input_keep_prob=1.0, output_keep_prob=1.0, state_keep_prob=1.0,
                 variational_recurrent=False, input_size=None, dtype=None, seed=None,
                 dropout_state_filter_visitor=None):
        super().__init__(cell)
        if variational_recurrent:
            raise NotImplementedError("DropoutWrapper: variational_recurrent is not supported")
        for name, keep in (("input_keep_prob", input_keep_prob),
                           ("output_keep_prob", output_keep_prob),
                           ("state_keep_prob", state_keep_prob)):
            if isinstance(keep, (int, float)) and not 0.0 < keep <= 1.0:
                raise ValueError(f"DropoutWrapper: {name} must be in (0, 1], got {keep}")
        self._keeps = (input_keep_prob, output_keep_prob, state_keep_prob)
        self._seed = seed

    def _dropped(self, value, keep, salt):
        if isinstance(keep, (int, float)) and keep == 1.0:
            return value
        seed = None if self._seed is None else self._seed + salt
        return dropout(value, keep_prob=keep, seed=seed)

    def __call__(self, inputs, state, scope=None):
        keep_in, keep_out, keep_state = self._keeps
        output, new_state = self.cell(self._dropped(inputs, keep_in, 0), state, scope=scope)
        new_state = _map_structure(lambda s: self._dropped(s, keep_state, 2), new_state)
        return self._dropped(output, keep_out, 1), new_state


class ResidualWrapper(_Wrapper):
    """``output = inputs + cell(inputs)``: the input added to the cell's output."""

    def __init__(self, cell, residual_fn=None):
        super().__init__(cell)
        self._residual_fn = residual_fn or (lambda inputs, output: inputs + output)

    def __call__(self, inputs, state, scope=None):
        output, new_state = self.cell(inputs, state, scope=scope)
        return self._residual_fn(inputs, output), new_state


def _map_structure(fn, state):
    if isinstance(state, tuple):
        mapped = [_map_structure(fn, s) for s in state]
        return type(state)(*mapped) if hasattr(state, "_fields") else tuple(mapped)
    return fn(state)


