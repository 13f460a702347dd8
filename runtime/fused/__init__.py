"""How fused elementwise nodes run: the NumPy engine, and compiled loops once a node is hot.

- ``policy``: which engine when (thresholds, hot switching, background compiles);
- ``numpy_engine``: the program as straight-line ufunc calls, in chunks over a thread pool;
- ``loops``: one compiled scalar loop for small outputs (numba);
- ``simd``: one vectorized loop for large float32 outputs (numba), with ``simd_math``;
- ``common``: what they share (the pool, input layouts, compiling with a disk cache).

Importing this package registers its kernels with ``graphc.ops.fused``, which core cannot
import (layers import downwards only).
"""
from graphc.ops import fused as _fused_op

from .policy import EnginePolicy, FusedKernel, fused_kernel, wait_for_compiles

__all__ = ["EnginePolicy", "FusedKernel", "fused_kernel", "wait_for_compiles"]

_fused_op.register_service("kernel", fused_kernel)
