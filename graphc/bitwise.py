"""``gc.bitwise``: TF1's ``tf.bitwise`` namespace.

Example:
    >>> gc.bitwise.bitwise_xor(a, b)
"""
from graphc.ops.bitwise import (bitwise_and, bitwise_or, bitwise_xor, invert,  # noqa: F401
                                left_shift, right_shift)
