"""``tf.contrib.rnn``: TF1 tutorials' spelling of the recurrent cells and loops
(``rnn.BasicLSTMCell``, ``rnn.static_rnn``...), the same classes as ``tf.nn.rnn_cell``."""
from graphc.rnn import (bidirectional_dynamic_rnn, dynamic_rnn,  # noqa: F401
                        static_bidirectional_rnn, static_rnn)
from graphc.rnn.rnn_cell import (BasicLSTMCell, BasicRNNCell, DropoutWrapper,  # noqa: F401
                                 GRUCell, LSTMCell, LSTMStateTuple, MultiRNNCell,
                                 ResidualWrapper, RNNCell)
