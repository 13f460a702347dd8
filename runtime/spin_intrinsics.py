"""The few machine instructions graphc's spinning workers need that numba does not offer:
atomic loads, stores and compare-and-swap on an int64 array's elements, the CPU's spin-wait
hint, its cycle counter, and a direct call of the BLAS library's ``cblas_?gemm`` (by symbol
name, so that numba's disk cache keeps the code: a ctypes function pointer would embed an
address, which numba refuses to cache).

Imported only where numba is installed (graphc.runtime.spin_workers loads it lazily).

Example:
    >>> @numba.njit(nogil=True)
    ... def bump(flags):
    ...     return fetch_add(flags, 0, 1)
"""
from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["atomic_load", "atomic_store", "compare_swap", "fetch_add", "spin_hint", "cycles",
           "gemm_caller"]


def _element(context, builder, array_type, array, index):
    view = context.make_array(array_type)(context, builder, array)
    return cgutils.get_item_pointer(context, builder, array_type, view, [index])


@intrinsic
def atomic_load(typingctx, flags, index):
    """``flags[index]``, read with sequentially consistent ordering."""
    def codegen(context, builder, sig, args):
        pointer = _element(context, builder, sig.args[0], *args)
        return builder.load_atomic(pointer, "seq_cst", 8)
    return types.int64(flags, index), codegen


@intrinsic
def atomic_store(typingctx, flags, index, value):
    """``flags[index] = value``, sequentially consistent (an exchange on x86: a later load
    of another element by this thread cannot pass it, as the sleep handshake needs)."""
    def codegen(context, builder, sig, args):
        pointer = _element(context, builder, sig.args[0], args[0], args[1])
        builder.atomic_rmw("xchg", pointer, args[2], "seq_cst")
        return context.get_dummy_value()
    return types.void(flags, index, value), codegen


@intrinsic
def compare_swap(typingctx, flags, index, expected, value):
    """Set ``flags[index]`` to ``value`` if it holds ``expected``; whether it did."""
    def codegen(context, builder, sig, args):
        pointer = _element(context, builder, sig.args[0], args[0], args[1])
        pair = builder.cmpxchg(pointer, args[2], args[3], "seq_cst", "seq_cst")
        return builder.extract_value(pair, 1)
    return types.boolean(flags, index, expected, value), codegen


@intrinsic
def fetch_add(typingctx, flags, index, value):
    """Add ``value`` to ``flags[index]``; the value it held before."""
    def codegen(context, builder, sig, args):
        pointer = _element(context, builder, sig.args[0], args[0], args[1])
        return builder.atomic_rmw("add", pointer, args[2], "seq_cst")
    return types.int64(flags, index, value), codegen


@intrinsic
def spin_hint(typingctx):
    """x86's ``pause``: a spinning core yields its pipeline (and its sibling hyperthread)."""
    def codegen(context, builder, sig, args):
        hint = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), []), "llvm.x86.sse2.pause")
        builder.call(hint, [])
        return context.get_dummy_value()
    return types.void(), codegen


@intrinsic
def cycles(typingctx):
    """The CPU's cycle counter (x86's time-stamp counter: constant rate on current CPUs)."""
    def codegen(context, builder, sig, args):
        counter = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.IntType(64), []), "llvm.readcyclecounter")
        return builder.call(counter, [])
    return types.int64(), codegen


def gemm_caller(symbol: str, real: str, int64_indices: bool):
    """An intrinsic calling ``symbol`` (CBLAS ``?gemm``, row-major, alpha 1, beta 0) on raw
    addresses: ``call(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc)``, all int64.
    ``real``: "float32" or "float64"; ``int64_indices``: the library's integers are 64-bit
    (an ILP64 build, as NumPy's own OpenBLAS)."""
    scalar = ir.FloatType() if real == "float32" else ir.DoubleType()
    index = ir.IntType(64 if int64_indices else 32)
    enum = ir.IntType(32)
    address = ir.IntType(8).as_pointer()
    signature = ir.FunctionType(ir.VoidType(), [
        enum, enum, enum, index, index, index, scalar, address, index, address, index, scalar,
        address, index])

    @intrinsic
    def call(typingctx, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc):
        def codegen(context, builder, sig, args):
            function = cgutils.get_or_insert_function(builder.module, signature, symbol)
            ta, tb, m, n, k, a, lda, b, ldb, c, ldc = args

            def count(value):
                return value if int64_indices else builder.trunc(value, index)
            row_major = ir.Constant(enum, 101)
            builder.call(function, [
                row_major, builder.trunc(ta, enum), builder.trunc(tb, enum), count(m),
                count(n), count(k), ir.Constant(scalar, 1.0), builder.inttoptr(a, address),
                count(lda), builder.inttoptr(b, address), count(ldb), ir.Constant(scalar, 0.0),
                builder.inttoptr(c, address), count(ldc)])
            return context.get_dummy_value()
        return types.void(*[types.int64] * 11), codegen
    return call
