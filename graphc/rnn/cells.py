"""TF1's recurrent cells (``tf.nn.rnn_cell``): the math of one time step, with TF1's
variable names so weights can be copied between TensorFlow and graphc by name.

A cell creates its variables on its first call, inside a variable scope named after it
(``basic_lstm_cell``, made unique among siblings as TF1's layers are) within whatever scope
the caller opened (``rnn/`` for ``dynamic_rnn``); later calls reuse them, so one cell object
stepped 50 times in a loop owns one kernel and one bias.

Gate layouts follow TF1 exactly: BasicLSTMCell/LSTMCell split ``[x, h] @ kernel + bias`` into
``i, j, f, o`` (input gate, new input, forget gate, output gate), GRUCell's ``gates`` give
``r, u`` and its ``candidate`` the new value.
"""
from __future__ import annotations

import collections

from graphc import initializers
from graphc.ops.array import concat, split
from graphc.ops.creation import zeros
from graphc.ops.elementwise import sigmoid, tanh
from graphc.ops.linalg import matmul
from graphc.ops.nn import bias_add
from graphc.ops.select import clip_by_value
from graphc.variable_scope import get_variable, variable_scope

from .gates import lstm_gates

__all__ = ["RNNCell", "BasicRNNCell", "BasicLSTMCell", "LSTMCell", "GRUCell",
           "LSTMStateTuple"]


class LSTMStateTuple(collections.namedtuple("LSTMStateTuple", ("c", "h"))):
    """An LSTM's state: ``c`` the cell, ``h`` the output (TF1's ``LSTMStateTuple``)."""

    __slots__ = ()

    @property
    def dtype(self):
        return self.c.dtype


class RNNCell:
    """The TF1 cell interface: ``output, new_state = cell(inputs, state)``.

    Subclasses give ``state_size``, ``output_size``, ``_build(input_depth)`` (create
    variables) and ``_step(inputs, state)``.
    """

    base_name = "rnn_cell"

    def __init__(self, name=None, reuse=None, dtype=None):
        self._name = name
        self._reuse = reuse
        self._dtype = dtype
        self._scope = None  # the variable scope of the first call: later calls reuse it
        self.variables: list = []

    @property
    def state_size(self):
        raise NotImplementedError

    @property
    def output_size(self):
        raise NotImplementedError

    @property
    def trainable_variables(self) -> list:
        return [v for v in self.variables if v.trainable]

    @property
    def trainable_weights(self) -> list:
        return self.trainable_variables

    def zero_state(self, batch_size, dtype):
        """A state of zeros for ``batch_size`` sequences, in ``state_size``'s structure."""
        return _map_sizes(self.state_size, lambda size: zeros([batch_size, size], dtype=dtype))

    def __call__(self, inputs, state, scope=None):
        if self._scope is None:
            with variable_scope(scope or self._name, default_name=self.base_name,
                                reuse=self._reuse) as opened:
                self._scope = opened
                self._build(int(inputs.shape[-1]), inputs.dtype)
                return self._step(inputs, state)
        with variable_scope(self._scope, reuse=True):
            return self._step(inputs, state)

    def _variable(self, name, shape, dtype, initializer=None):
        variable = get_variable(name, shape, dtype=dtype, initializer=initializer)
        self.variables.append(variable)
        return variable

    def _build(self, input_depth: int, dtype) -> None:
        raise NotImplementedError

    def _step(self, inputs, state):
        raise NotImplementedError


def _map_sizes(size, fn):
    if isinstance(size, tuple):
        return type(size)(*[_map_sizes(s, fn) for s in size]) if hasattr(size, "_fields") \
            else tuple(_map_sizes(s, fn) for s in size)
    return fn(size)


def _linear(inputs, state, kernel, bias):
    return bias_add(matmul(concat([inputs, state], 1), kernel), bias)


class BasicRNNCell(RNNCell):
    """``h' = activation([x, h] @ kernel + bias)`` (variables ``basic_rnn_cell/kernel|bias``).

    Example:
        >>> cell = gc.nn.rnn_cell.BasicRNNCell(32)
        >>> outputs, state = gc.nn.dynamic_rnn(cell, x, dtype=gc.float32)
    """

    base_name = "basic_rnn_cell"

    def __init__(self, num_units, activation=None, reuse=None, name=None, dtype=None):
        super().__init__(name, reuse, dtype)
        self.num_units = int(num_units)
        self._activation = activation or tanh

    state_size = property(lambda self: self.num_units)
    output_size = property(lambda self: self.num_units)

    def _build(self, input_depth, dtype):
        self._kernel = self._variable("kernel", [input_depth + self.num_units, self.num_units],
                                      dtype)
        self._bias = self._variable("bias", [self.num_units], dtype,
                                    initializers.zeros_initializer())

    def _step(self, inputs, state):
        output = self._activation(_linear(inputs, state, self._kernel, self._bias))
        return output, output


class BasicLSTMCell(RNNCell):
    """TF1's basic LSTM: ``i, j, f, o = split([x, h] @ kernel + bias)``,
    ``c' = c sigmoid(f + forget_bias) + sigmoid(i) tanh(j)``, ``h' = tanh(c') sigmoid(o)``.

    Example:
        >>> cell = gc.nn.rnn_cell.BasicLSTMCell(128)   # rnn/basic_lstm_cell/kernel, /bias
    """

    base_name = "basic_lstm_cell"

    def __init__(self, num_units, forget_bias=1.0, state_is_tuple=True, activation=None,
                 reuse=None, name=None, dtype=None):
        super().__init__(name, reuse, dtype)
        self.num_units = int(num_units)
        self._forget_bias = float(forget_bias)
        self._state_is_tuple = bool(state_is_tuple)
        self._activation = activation or tanh

    @property
    def state_size(self):
        n = self.num_units
        return LSTMStateTuple(n, n) if self._state_is_tuple else 2 * n

    output_size = property(lambda self: self.num_units)

    def _build(self, input_depth, dtype):
        n = self.num_units
        self._kernel = self._variable("kernel", [input_depth + n, 4 * n], dtype)
        self._bias = self._variable("bias", [4 * n], dtype, initializers.zeros_initializer())

    def _step(self, inputs, state):
        c, h = state if self._state_is_tuple else split(state, 2, axis=1)
        gates = _linear(inputs, h, self._kernel, self._bias)
        if self._activation is tanh:  # the same arithmetic as one op each way (gates.py)
            new_c, new_h = lstm_gates(gates, c, self._forget_bias)
        else:
            i, j, f, o = split(gates, 4, axis=1)
            new_c = c * sigmoid(f + self._forget_bias) + sigmoid(i) * self._activation(j)
            new_h = self._activation(new_c) * sigmoid(o)
        new_state = LSTMStateTuple(new_c, new_h) if self._state_is_tuple else \
            concat([new_c, new_h], 1)
        return new_h, new_state


class LSTMCell(RNNCell):
    """TF1's LSTMCell: BasicLSTMCell's gates plus optional peepholes (``w_f_diag``,
    ``w_i_diag``, ``w_o_diag``), cell clipping, and a projection of the output to
    ``num_proj`` units (``projection/kernel``) with optional clipping.

    Example:
        >>> cell = gc.nn.rnn_cell.LSTMCell(64, use_peepholes=True, num_proj=32)
    """

    base_name = "lstm_cell"

    def __init__(self, num_units, use_peepholes=False, cell_clip=None, initializer=None,
                 num_proj=None, proj_clip=None, num_unit_shards=None, num_proj_shards=None,
                 forget_bias=1.0, state_is_tuple=True, activation=None, reuse=None, name=None,
                 dtype=None):
        super().__init__(name, reuse, dtype)
        self.num_units = int(num_units)
        self._use_peepholes = bool(use_peepholes)
        self._cell_clip = cell_clip
        self._initializer = initializer
        self._num_proj = None if num_proj is None else int(num_proj)
        self._proj_clip = proj_clip
        self._forget_bias = float(forget_bias)
        self._state_is_tuple = bool(state_is_tuple)
        self._activation = activation or tanh

    @property
    def state_size(self):
        out = self._num_proj or self.num_units
        return LSTMStateTuple(self.num_units, out) if self._state_is_tuple else \
            self.num_units + out

    output_size = property(lambda self: self._num_proj or self.num_units)

    def _build(self, input_depth, dtype):
        n, out = self.num_units, self._num_proj or self.num_units
        self._kernel = self._variable("kernel", [input_depth + out, 4 * n], dtype,
                                      self._initializer)
        self._bias = self._variable("bias", [4 * n], dtype, initializers.zeros_initializer())
        if self._use_peepholes:
            self._peepholes = [self._variable(name, [n], dtype, self._initializer)
                               for name in ("w_f_diag", "w_i_diag", "w_o_diag")]
        if self._num_proj is not None:
            with variable_scope("projection"):
                self._projection = self._variable("kernel", [n, self._num_proj], dtype,
                                                  self._initializer)

    def _step(self, inputs, state):
        if self._state_is_tuple:
            c, m = state
        else:
            c, m = split(state, [self.num_units, self.output_size], axis=1)
        i, j, f, o = split(_linear(inputs, m, self._kernel, self._bias), 4, axis=1)
        if self._use_peepholes:
            w_f, w_i, w_o = self._peepholes
            new_c = (sigmoid(f + self._forget_bias + w_f * c) * c
                     + sigmoid(i + w_i * c) * self._activation(j))
        else:
            new_c = sigmoid(f + self._forget_bias) * c + sigmoid(i) * self._activation(j)
        if self._cell_clip is not None:
            new_c = clip_by_value(new_c, -self._cell_clip, self._cell_clip)
        gate = o + self._peepholes[2] * new_c if self._use_peepholes else o
        new_m = sigmoid(gate) * self._activation(new_c)
        if self._num_proj is not None:
            new_m = matmul(new_m, self._projection)
            if self._proj_clip is not None:
                new_m = clip_by_value(new_m, -self._proj_clip, self._proj_clip)
        new_state = LSTMStateTuple(new_c, new_m) if self._state_is_tuple else \
            concat([new_c, new_m], 1)
        return new_m, new_state


class GRUCell(RNNCell):
    """TF1's GRU: ``r, u = split(sigmoid([x, h] @ gates/kernel + gates/bias))`` (bias 1.0),
    ``c = tanh([x, r h] @ candidate/kernel + candidate/bias)``, ``h' = u h + (1 - u) c``.

    Example:
        >>> cell = gc.nn.rnn_cell.GRUCell(64)     # rnn/gru_cell/gates/kernel, ...
    """

    base_name = "gru_cell"

    def __init__(self, num_units, activation=None, reuse=None, kernel_initializer=None,
                 bias_initializer=None, name=None, dtype=None):
        super().__init__(name, reuse, dtype)
        self.num_units = int(num_units)
        self._activation = activation or tanh
        self._kernel_initializer = kernel_initializer
        self._bias_initializer = bias_initializer

    state_size = property(lambda self: self.num_units)
    output_size = property(lambda self: self.num_units)

    def _build(self, input_depth, dtype):
        n = self.num_units
        with variable_scope("gates"):
            self._gate_kernel = self._variable("kernel", [input_depth + n, 2 * n], dtype,
                                               self._kernel_initializer)
            self._gate_bias = self._variable(
                "bias", [2 * n], dtype,
                self._bias_initializer or initializers.constant_initializer(1.0))
        with variable_scope("candidate"):
            self._candidate_kernel = self._variable("kernel", [input_depth + n, n], dtype,
                                                    self._kernel_initializer)
            self._candidate_bias = self._variable(
                "bias", [n], dtype, self._bias_initializer or initializers.zeros_initializer())

    def _step(self, inputs, state):
        gates = sigmoid(_linear(inputs, state, self._gate_kernel, self._gate_bias))
        r, u = split(gates, 2, axis=1)
        candidate = self._activation(_linear(inputs, r * state, self._candidate_kernel,
                                             self._candidate_bias))
        new_h = u * state + (1.0 - u) * candidate
        return new_h, new_h
