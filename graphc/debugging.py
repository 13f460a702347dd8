"""``gc.debugging``: TF1's ``tf.debugging`` namespace: run-time assertions and checks.

Example:
    >>> check = gc.debugging.assert_equal(gc.shape(x)[0], gc.shape(y)[0])
    >>> with gc.control_dependencies([check]):
    ...     loss = gc.reduce_mean(gc.square(x - y))
"""
from graphc.ops.check_ops import *  # noqa: F401,F403
from graphc.ops.control import check_numerics  # noqa: F401
from graphc.ops.debug import Assert  # noqa: F401
from graphc.ops.elementwise import is_finite, is_inf, is_nan  # noqa: F401
