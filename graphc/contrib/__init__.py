"""``gc.contrib``: the parts of TF1's ``tf.contrib`` that tutorials reach for.

So far ``contrib.layers``' initializers (``xavier_initializer``,
``variance_scaling_initializer``) and regularizers (``l1_regularizer``, ``l2_regularizer``,
``l1_l2_regularizer``, ``sum_regularizer``, ``apply_regularization``).
"""
from graphc.contrib import layers  # noqa: F401
