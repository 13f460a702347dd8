"""Recurrent networks (TF1's ``tf.nn.rnn_cell`` and ``tf.nn.*_rnn``), built on
``gc.while_loop`` and ``TensorArray``.

Example:
    >>> cell = gc.nn.rnn_cell.BasicLSTMCell(128)
    >>> outputs, state = gc.nn.dynamic_rnn(cell, x, dtype=gc.float32)   # rnn/basic_lstm_cell/*
"""
from . import rnn_cell  # noqa: F401
from .loops import (bidirectional_dynamic_rnn, dynamic_rnn, static_bidirectional_rnn,  # noqa
                    static_rnn)
