"""``gc.random``: TF1's ``tf.random`` namespace."""
from graphc.ops.random import random_normal as normal  # noqa: F401
from graphc.ops.random import random_uniform as uniform  # noqa: F401
from graphc.ops.random import set_random_seed, truncated_normal  # noqa: F401
