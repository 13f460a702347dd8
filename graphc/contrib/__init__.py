"""``gc.contrib``: the parts of TF1's ``tf.contrib`` that tutorials reach for.

So far ``contrib.layers``' initializers (``xavier_initializer``,
``variance_scaling_initializer``) and regularizers (``l1_regularizer``, ``l2_regularizer``,
``l1_l2_regularizer``, ``sum_regularizer``, ``apply_regularization``), and ``contrib.rnn``
(the recurrent cells and loops of ``tf.nn``), and ``contrib.seq2seq.sequence_loss``.
"""
from graphc.contrib import layers, rnn, seq2seq  # noqa: F401
from graphc import lookup  # noqa: F401,E402 - tf.contrib.lookup
from graphc.contrib.layer_functions import conv2d, flatten, fully_connected  # noqa

layers.fully_connected, layers.conv2d, layers.flatten = fully_connected, conv2d, flatten
