"""The numba pieces the generated direct-convolution modules of graphc.ops.conv_direct
import (importing this module imports numba: only those modules and a compile do).

``stack_vector(size, dtype)``: a pointer to ``size`` elements on the calling loop's stack.
Unlike an np.empty buffer, LLVM knows nothing else can point there, so once the loops over it
are unrolled its elements live in registers.

Example:
    >>> acc = numba.carray(stack_vector(24, numba.float32), 24)   # inside an njit function
"""
from __future__ import annotations

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["stack_vector"]


@intrinsic
def stack_vector(typingctx, size, dtype):
    def lower(context, builder, signature, args):
        return cgutils.alloca_once(builder, context.get_value_type(dtype.dtype), size=args[0])
    return types.CPointer(dtype.dtype)(types.int64, dtype), lower
