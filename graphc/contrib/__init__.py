"""``gc.contrib``: the parts of TF1's ``tf.contrib`` that tutorials reach for.

So far ``contrib.layers``' initializers (``xavier_initializer``,
``variance_scaling_initializer``) and regularizers (``l1_regularizer``, ``l2_regularizer``,
``l1_l2_regularizer``, ``sum_regularizer``, ``apply_regularization``), and ``contrib.rnn``
(the recurrent cells and loops of ``tf.nn``).
"""
from graphc.contrib import layers, rnn  # noqa: F401
