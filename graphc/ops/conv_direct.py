"""Direct convolution kernels (issue 14): stride-1 NHWC convolutions with few output
channels, forward and filter gradient, compiled by numba (the optional ``fast`` extra); the
input gradient of a stride-1 convolution is the forward convolution of the output gradient
with the flipped, transposed filter (graphc.ops.conv_kernels), so it takes these too.

At W7's shapes the GEMMs of the im2col and row-window kernels have 8-32 columns (the output
channels), which BLAS runs at a third of a core's speed. Here the output channels are the
vector lanes: each step of the inner loop loads one filter vector per block of output
channels and multiplies it into several output pixels' accumulators (a filter load serves
``pixels`` FMAs), which stay in registers across all taps; the filter gradient keeps a
block of (filter tap element, output channel) accumulators in registers while it streams
over the output pixels. With no column dilation a filter row's kw taps meet kw * C_in
contiguous input elements, so both loops run over that row as one contiguous "depth".

Each loop is compiled per (output channels, block size), both compile-time constants, so
the loops over a block's accumulators (buffers on the stack, which nothing else can point
to) unroll and the accumulators live in registers; LLVM's SLP vectorizer, switched on for
these loops only (numba keeps it off), then turns each pixel's C_out multiply-adds into
vector FMAs (4-10x faster than without it; offsets are unsigned, as numba's wraparound of
negative indices would hide that a vector's loads are adjacent). ``fastmath`` allows only
contraction into FMAs (NaN, infinities and signed zeros behave as IEEE says).
Results differ from the GEMM kernels only in the order of the float sums (by filter row,
then along the row's depth; the filter gradient by chunks of images, then pixels): within
the float-sum bound that tests/test_conv_direct.py checks against tests/conv_baseline.py
and against the GEMM kernels.

The register blocks are sized for the compile target's vector registers (16 with AVX2, 32
with AVX-512: ``_block``), counted in 32-byte vectors: on an Intel host (KVM's model 167,
which LLVM takes for a Rocket Lake, AVX-512) LLVM's prefer-256-bit tuning compiles the loops
to 256-bit vectors, and 512-bit ones (``NUMBA_CPU_FEATURES`` with ``-prefer-256-bit``) left
W7 (b)'s step where it was (2026-12-02, separate processes in turns: 34.1 and 34.6 ms against
35.4 and 33.9): the loops are not bound by the FMA width. The filter gradient's
accumulators are named locals rather than a stack buffer (``_grad_block``): with a buffer,
LLVM's vectorizers on an AVX-512 target reached them through gather and scatter
instructions (93 ms per call at W7 (b) on a Zen 4 EPYC, against 0.97 ms per 8 images with
locals).

When the kernels are chosen (``takes_direct_forward``, ``takes_direct_filter_grad``):
numba installed, one float dtype (float32 or float64), stride 1, no column dilation, C_out
one of DIRECT_CHANNELS; and where they timed faster than the GEMM kernels on this machine
(graphc.ops.kernel_choice). Measured on a Zen 3 EPYC (AVX2) at W7's shapes, GEMM kernels
-> direct, ms per call (process CPU time, BLAS 1 thread as graphc's pool
policy sets it, medians of 9 interleaved rounds of 10 calls, 2-core EPYC at load 2-5):

    (a) 64 x 8x8        forward        filter grad    input grad (its forward)
    conv1 3x3 1->32     0.320 -> 0.126  0.342 -> 0.159  -
    1x1 32->16          0.101 -> 0.081  0.099 -> 0.109  0.123 -> 0.077 (1x1 16->32)
    1x1 32->8           0.098 -> 0.073  0.113 -> 0.103  0.124 -> 0.078 (1x1 8->32)
    3x3 16->24          1.265 -> 0.515  1.302 -> 0.682  1.255 -> 0.493 (3x3 24->16)
    5x5 8->8            1.175 -> 0.352  1.251 -> 0.379  1.205 -> 0.357
    (b) 32 x 32x32
    conv1 3x3 3->32     2.833 -> 1.369  3.501 -> 1.909  -
    1x1 32->16          1.071 -> 0.867  1.111 -> 1.028  0.774 -> 0.605
    1x1 32->8           0.800 -> 0.496  0.899 -> 0.981  0.826 -> 0.608
    3x3 16->24          9.173 -> 3.841  7.391 -> 4.408  7.657 -> 4.151
    5x5 8->8            5.924 -> 2.587  6.094 -> 2.841  5.817 -> 2.406

The 1x1 filter gradients were as often slower as faster (0.90 -> 0.98 and 0.74 -> 0.90 at
(b)): they stay one GEMM. The whole W7 step (process CPU time per step, medians of
interleaved rounds, same load): (a) 22.5 -> 16.3 ms, (b) 143 -> 114 ms. float64 at (a),
load 7: forward 1.2-4.8x faster (5x5 8->8: 3.03 -> 0.63), 3x3 and 5x5 filter gradients
1.35-3.8x, input gradients 1.2-4.2x; 1x1 filter gradients again even (0.32 -> 0.33).

Each (kind, C_out, dtype) compiles on first use (1.5-3 s). Without numba,
graphc.ops.conv_kernels' GEMM kernels run (the reference path).
"""
from __future__ import annotations

import functools
import hashlib
import string
from pathlib import Path

import numpy as np

from graphc.ops import jit_cache
from graphc.ops.conv_buffers import padded
from graphc.ops.conv_direct_epilogue import inline_epilogue
from graphc.ops.conv_loops import HAVE_NUMBA

__all__ = ["takes_direct_forward", "takes_direct_filter_grad", "direct_forward",
           "direct_filter_grad", "DIRECT_CHANNELS"]

# the compiled loops by (kind, C_out, block, dtype)
_COMPILED: dict = {}
FOLDER = "conv-kernels"  # in graphc's cache (graphc.ops.jit_cache)


@functools.lru_cache(maxsize=1)
def _stamp() -> str:
    """What a generated module's file name digests beside its source: the compile options
    and the helpers it imports (a change of them must change its name)."""
    helpers = Path(__file__).with_name("conv_direct_support.py").read_bytes()
    return f"slp=1 {hashlib.sha256(helpers).hexdigest()[:16]}"

# output channel counts the direct kernels take: whole 8-lane float32 vectors, up to 64
# (graphc.ops.kernel_choice then times them against the GEMM kernels, shape by shape: the
# merged 1x1 gradient of W7's Inception block has 40; at (a) direct 0.11 ms, GEMM 0.19)
DIRECT_CHANNELS = tuple(range(8, 65, 8))
# accumulator vector registers (32-byte units) a loop may keep: AVX2 has 16 vector
# registers, AVX-512 32 (its VL extension gives 256-bit code all 32); the rest hold the filter
# or gradient vectors, the broadcast input and addresses
ACCUMULATOR_REGISTERS = {16: 12, 32: 28}
# the filter gradient sums chunks of about this many bytes of input and output gradient
# at a time, so its repeated passes over a chunk (one per filter row and block of depth)
# read it from cache (half a Zen 4 core's L2; against 128 KB, fewer chunks each with its
# Python: W7's filter gradients on the pool, interleaved medians, 3-12% faster, e.g. (b)'s
# conv1 0.98 -> 0.86 ms, (a)'s 3x3 16->24 0.42 -> 0.37 ms)
GRAD_CHUNK_BYTES = 1 << 19
# the forward convolution pads and computes blocks of about this many output bytes, and
# hands each to the epilogue while it is in cache (half a Zen 4 core's L2: W7 step A/B,
# in-process medians, 256 KB -> 512 KB: (a) 7.66 -> 6.97 ms, (b) 35.2 -> 33.3 ms; 1 MB
# between the two, as each block's epilogue call costs ~10 us of Python)
FORWARD_BLOCK_BYTES = 1 << 19


def _takes(w_shape, strides, dilations, arrays) -> bool:
    kh, kw, c_in, c_out = w_shape
    dtypes = {a.dtype for a in arrays}
    # the result (the last array) is written through a flat view of it
    return (HAVE_NUMBA and len(dtypes) == 1 and arrays[-1].flags.c_contiguous
            and dtypes <= {np.dtype(np.float32), np.dtype(np.float64)}
            and tuple(strides) == (1, 1) and dilations[1] == 1
            and c_out in DIRECT_CHANNELS and min(kh, kw, c_in) > 0)


def takes_direct_forward(w_shape, strides, dilations, *arrays) -> bool:
    """Whether ``direct_forward`` takes this convolution of ``arrays`` (input, filter,
    output): numba installed, one float dtype, stride 1, no column dilation, C_out one of
    DIRECT_CHANNELS (faster at every such W7 shape, 1x1 included: see the module docstring)."""
    return _takes(w_shape, strides, dilations, arrays)


def takes_direct_filter_grad(w_shape, strides, dilations, *arrays) -> bool:
    """Whether ``direct_filter_grad`` takes this filter gradient of ``arrays`` (input,
    output gradient, result): as ``takes_direct_forward``. A 1x1 filter's gradient is one
    long GEMM (x^T dy over all pixels), which BLAS ran as fast on the Zen 3 host; on a Zen
    4 host the winner depended on the shape (one thread: 1x1 32->40 over 32 8x8 images,
    direct 0.11 ms against 0.19 by GEMM; 1x1 32->8 there, 0.040 against 0.016), so both
    compete (graphc.ops.kernel_choice)."""
    return _takes(w_shape, strides, dilations, arrays)


def _block(c_out, itemsize, limit=8, registers=None):
    """Pixels (forward) or row elements (filter gradient) per register block: the largest
    power of two (W7's rows of 8 and 32 pixels split evenly) whose C_out accumulators fit
    the ACCUMULATOR_REGISTERS budget of 32-byte vectors for this CPU's ``registers`` (the
    compile target's, ``_vector_registers``). Measured on a Zen 4 EPYC (AVX-512), W7 (b)'s
    forward per block of 8 images: 3x3 3->32 0.34 -> 0.24 ms with blocks of 4 pixels
    instead of 2, 1x1 32->16 0.15 -> 0.10 ms with 8 instead of 4; blocks of 16 were no
    faster (5x5 8->8 filter gradient 0.42 -> 0.73 ms), hence ``limit``."""
    budget = ACCUMULATOR_REGISTERS[registers or _vector_registers()]
    vectors = -(-c_out * itemsize // 32)
    fits = max(1, min(limit, budget // vectors))
    return 1 << (fits.bit_length() - 1)


@functools.lru_cache(maxsize=1)
def _vector_registers() -> int:
    """32 where numba compiles for a CPU with AVX-512 (``NUMBA_CPU_FEATURES`` where set,
    else the host's), else 16: also for a CPU named by ``NUMBA_CPU_NAME`` alone, whose
    features this cannot see (AVX2's budget is the one that fits every x86-64 target)."""
    from numba.core import config  # here, not at import time: see conv_loops.HAVE_NUMBA
    return _registers_for(config.CPU_FEATURES, config.CPU_NAME)


def _registers_for(features, cpu_name) -> int:
    if features is None:
        if cpu_name not in (None, "host"):
            return 16
        import llvmlite.binding as llvm  # numba's own LLVM binding, loaded with it
        features = llvm.get_host_cpu_features().flatten()
    return 32 if "+avx512f" in features.split(",") else 16


# The loops are generated source with C_out and the block as literals (compile-time
# constants: the loops over a block's accumulators unroll), written to graphc's cache
# (graphc.ops.jit_cache) so that numba's disk cache keeps their machine code: a later process
# loads a kernel in milliseconds instead of compiling it for 1.5-3 s.
_HEADER = """import numba
from graphc.ops.conv_direct_support import stack_vector

U = numba.uint64
VALUE = numba.$value
# numba's disk cache only for a module imported from its file in graphc's cache
CACHE = "__file__" in globals()
JIT = dict(nogil=True, fastmath={"contract"}, cache=CACHE)
"""

_FORWARD_BLOCK = """
@numba.njit(**JIT)
def block_$count(xp, w, out, b, r, c0, hp, wp, c, oh, ow, kh, depth, dh, zero):
    acc = numba.carray(stack_vector($size, VALUE), $size)
    filt = numba.carray(stack_vector($c_out, VALUE), $c_out)
    for q in range($size):
        acc[U(q)] = zero
    for i in range(kh):
        xb = U(((b * hp + r + i * dh) * wp + c0) * c)
        wb = U(i * depth * $c_out)
        for d in range(depth):
            wd, xd = wb + U(d * $c_out), xb + U(d)
            for o in range($c_out):
                filt[U(o)] = w[wd + U(o)]
            for p in range($count):
                pixel = xp[xd + U(p * c)]
                for o in range($c_out):
                    acc[U(p * $c_out + o)] += pixel * filt[U(o)]
    first = U(((b * oh + r) * ow + c0) * $c_out)
    for q in range($size):
        out[first + U(q)] = acc[U(q)]
"""

# an inlined epilogue program's ``finish`` (graphc.ops.conv_direct_epilogue) over each
# finished output row, still in L1: one loop over the row's elements, which LLVM vectorizes
# (the program's other inputs come as whole rows); in the blocks' stores the bias loads
# between stores to ``out`` (arrays that might alias, for all LLVM knows) kept the stores
# scalar: +50% for a 1x1 32->16 convolution, against +15% here
_FINISH_ROW = """
            first = U((b * oh + r) * ow * $c_out)
            for i in range(ow * $c_out):
                out[first + U(i)] = finish(out[first + U(i)], U(i)$extras)"""

_FORWARD = """
def loop(xp, w, out, n, hp, wp, c, oh, ow, kh, depth, dh, zero$extras):
    full = ow - ow % $block
    for b in range(n):
        for r in range(oh):
            for c0 in range(0, full, $block):
                block_$block(xp, w, out, b, r, c0, hp, wp, c, oh, ow, kh, depth, dh, zero)
            for c0 in range(full, ow):
                block_1(xp, w, out, b, r, c0, hp, wp, c, oh, ow, kh, depth, dh, zero)$finish
"""


def _grad_block(count: int, c_out: int) -> str:
    """The filter gradient's block of ``count`` row elements: its count x C_out accumulators
    are named locals, not a stack buffer as the forward's. With a buffer, LLVM's vectorizers
    on an AVX-512 target ran the multiply-adds across the block's row elements (contiguous
    in the input), reaching the accumulators (C_out apart) by gather and scatter
    instructions, which a Zen 4 EPYC runs microcoded: 3x3 16->24 at W7 (b) took 42 ms per
    block of 8 images against 0.97 ms with locals, whose only vector grouping left is along
    the output channels."""
    acc = [[f"a{e}_{o}" for o in range(c_out)] for e in range(count)]
    lines = ["", "@numba.njit(**JIT)",
             f"def block_{count}(xp, dy, dw, i, d0, n, hp, wp, c, oh, ow, depth, dh):",
             f"    first = U((i * depth + d0) * {c_out})"]
    lines += [f"    {acc[e][o]} = dw[first + U({e * c_out + o})]"
              for e in range(count) for o in range(c_out)]
    lines += ["    for b in range(n):",
              "        for r in range(oh):",
              "            xb = U(((b * hp + r + i * dh) * wp) * c + d0)",
              f"            yb = U((b * oh + r) * ow * {c_out})",
              "            for col in range(ow):",
              f"                xc, yc = xb + U(col * c), yb + U(col * {c_out})"]
    lines += [f"                g{o} = dy[yc + U({o})]" for o in range(c_out)]
    for e in range(count):
        lines.append(f"                pixel = xp[xc + U({e})]")
        lines += [f"                {acc[e][o]} += pixel * g{o}" for o in range(c_out)]
    lines += [f"    dw[first + U({e * c_out + o})] = {acc[e][o]}"
              for e in range(count) for o in range(c_out)]
    return "\n".join(lines) + "\n"


_GRAD = """
def loop(xp, dy, dw, n, hp, wp, c, oh, ow, kh, depth, dh):
    full = depth - depth % $block
    for i in range(kh):
        for d0 in range(0, full, $block):
            block_$block(xp, dy, dw, i, d0, n, hp, wp, c, oh, ow, depth, dh)
        for d0 in range(full, depth):
            block_1(xp, dy, dw, i, d0, n, hp, wp, c, oh, ow, depth, dh)
"""


def loop_source(kind, c_out, block, dtype, finish=None) -> str:
    """The generated module of loop ``kind`` ("forward" or "filter_grad"): ``loop`` with
    its blocks of ``block`` and of 1 pixels (forward) or row elements (filter gradient);
    the forward stores its results through ``finish`` (an InlineEpilogue) where given."""
    forward = kind == "forward"
    pieces = [string.Template(_HEADER).substitute(value=np.dtype(dtype).name)]
    extras = "".join(f", e{e}" for e in range(len(finish.arrays))) if finish else ""
    if finish is not None:
        pieces.append(finish.source)
    for count in sorted({block, 1}):
        pieces.append(string.Template(_FORWARD_BLOCK).substitute(
            count=count, size=count * c_out, c_out=c_out) if forward
            else _grad_block(count, c_out))
    rows = string.Template(_FINISH_ROW).substitute(c_out=c_out, extras=extras) if finish else ""
    pieces.append(string.Template(_FORWARD if forward else _GRAD).substitute(
        block=block, extras=extras, finish=rows))
    return "".join(pieces)


def _compiled(kind, c_out, block, dtype, finish=None):
    """The loop ``kind`` for (C_out, block, dtype) and the forward's inlined epilogue
    ``finish``: compiled on first use in this process, or loaded from the disk cache."""
    key = (kind, c_out, block, np.dtype(dtype), finish.key if finish else None)
    loop = _COMPILED.get(key)
    if loop is not None:
        return loop
    import numba  # here, not at import time: see conv_loops.HAVE_NUMBA
    from numba.core import config
    from numba.core.compiler_lock import global_compiler_lock
    value = numba.from_dtype(np.dtype(dtype))
    size = numba.int64
    # the inputs as read-only arrays (a graph's constants are): writable ones convert
    source_array = numba.types.Array(value, 1, "C", readonly=True)
    zero = (value,) if kind == "forward" else ()
    extras = (source_array,) * (len(finish.arrays) if finish else 0)
    signature = numba.void(source_array, source_array, value[::1], *(size,) * 9, *zero,
                           *extras)
    source = loop_source(kind, c_out, block, dtype, finish)
    with global_compiler_lock:  # an RLock: numba's compile below takes it again
        if key not in _COMPILED:
            # SLP on: it turns each unrolled run of C_out multiply-adds into vector FMAs
            before = config.SLP_VECTORIZE
            config.SLP_VECTORIZE = 1
            try:
                namespace, _ = jit_cache.generated_module(source, FOLDER, _stamp())
                _COMPILED[key] = numba.njit(signature, **namespace["JIT"])(namespace["loop"])
            finally:
                config.SLP_VECTORIZE = before
    return _COMPILED[key]


def _flat_padded(x, pads):
    """Flat C-contiguous ``x`` padded by ``pads`` and its padded shape."""
    xp = padded(x, *pads)
    if not xp.flags.c_contiguous:
        xp = np.ascontiguousarray(xp)
    return xp.reshape(-1), xp.shape


def direct_forward(x, w, dilation, pads, out, finish):
    """Correlate NHWC ``x`` padded by ``pads`` with HWIO ``w`` (stride 1, row dilation
    ``dilation``) into C-contiguous ``out``, ``finish(block)`` after each block of images;
    where ``finish.inline`` (the with_epilogue op's ``(program, position, extras)``) makes
    an InlineEpilogue (graphc.ops.conv_direct_epilogue), its program runs on each output
    row as the loop finishes it instead, and ``finish`` is not called.

    Example:
        >>> direct_forward(x, w, 1, (1, 1, 1, 1), out, lambda block: None)
    """
    kh, kw, c_in, c_out = w.shape
    n, oh, ow, _ = out.shape
    inline = getattr(finish, "inline", None)
    code = inline_epilogue(*inline, out.dtype, c_out, ow) if inline is not None else None
    loop = _compiled("forward", c_out, _block(c_out, out.itemsize), out.dtype, code)
    arrays = code.arrays if code is not None else ()
    filt = np.ascontiguousarray(w, dtype=out.dtype).reshape(-1)
    step = max(1, FORWARD_BLOCK_BYTES // max(1, out[:1].nbytes))
    for lo in range(0, n, step):
        block = out[lo:lo + step]
        xp, (images, hp, wp, _) = _flat_padded(x[lo:lo + step].astype(out.dtype, copy=False),
                                               pads)
        loop(xp, filt, block.reshape(-1), images, hp, wp, c_in, oh, ow, kh, kw * c_in,
             dilation, out.dtype.type(0), *arrays)
        if code is None:
            finish(block)
    return out


def direct_filter_grad(x, dy, dilation, pads, total):
    """The filter gradient (``total``, HWIO, C-contiguous) of the convolution of NHWC ``x``
    padded by ``pads`` (stride 1, row dilation ``dilation``) with output gradient ``dy``.

    Example:
        >>> direct_filter_grad(x, dy, 1, (1, 1, 1, 1), np.empty((3, 3, 16, 24), np.float32))
    """
    kh, kw, c_in, c_out = total.shape
    n, oh, ow, _ = dy.shape
    loop = _compiled("filter_grad", c_out, _block(c_out, total.itemsize), total.dtype)
    total.fill(0)
    flat = total.reshape(-1)
    per_image = (x[:1].size + dy[:1].size) * total.itemsize
    step = max(1, GRAD_CHUNK_BYTES // max(1, per_image))
    for lo in range(0, n, step):
        xp, (images, hp, wp, _) = _flat_padded(x[lo:lo + step].astype(total.dtype, copy=False),
                                               pads)
        grad = np.ascontiguousarray(dy[lo:lo + step], dtype=total.dtype).reshape(-1)
        loop(xp, grad, flat, images, hp, wp, c_in, oh, ow, kh, kw * c_in, dilation)
    return total
