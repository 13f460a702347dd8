"""``tf.nn.rnn_cell``: the cell classes and the LSTM state tuple."""
from .cells import (BasicLSTMCell, BasicRNNCell, GRUCell, LSTMCell, LSTMStateTuple,  # noqa
                    RNNCell)
from .wrappers import DropoutWrapper, MultiRNNCell, ResidualWrapper  # noqa: F401
