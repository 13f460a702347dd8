"""The Philox-4x32-10 counter-based generator and TensorFlow's ways of turning its bits into
numbers, so graphc's stateless random ops draw exactly TF's values for the same seed.

Philox (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011) maps a 128-bit
counter and a 64-bit key to 128 random bits (one *block*: four uint32). TF's stateless ops
derive the key and the starting counter from their int seed pair by one Philox block under a
fixed key (``key_and_counter``), then read blocks at consecutive counters. The conversions
follow TF's ``random_distributions.h``: a float32 takes the low 23 bits of one uint32 as its
mantissa, a float64 52 bits of two, Box-Muller turns two uniforms into two normals.

Example:
    >>> key, counter = key_and_counter([1, 2])
    >>> uint32_to_float32(blocks(key, counter, 2).reshape(-1))[:2]   # TF's first two
    array([0.8440604 , 0.19204533], dtype=float32)
"""
from __future__ import annotations

import numpy as np

__all__ = ["key_and_counter", "blocks", "blocks_at", "uint32_to_float32", "uint32_to_float16",
           "uint32_pair_to_float64", "uint32_pair_to_uint64", "box_muller",
           "philox_block_reference"]

_MULTIPLIERS = (0xD2511F53, 0xCD9E8D57)
_KEY_STEPS = (0x9E3779B9, 0xBB67AE85)
_ROUNDS = 10
# TF's fixed key for scrambling a seed pair into the op's key and counter
# (GenerateKey in tensorflow/core/kernels/stateless_random_ops.cc)
_SEED_KEY = (0x3EC8F720, 0x02461E29)
_LOW32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)


def _rounds(c0, c1, c2, c3, k0: int, k1: int):
    """Philox's ten rounds on uint64 arrays holding uint32 values."""
    m0, m1 = np.uint64(_MULTIPLIERS[0]), np.uint64(_MULTIPLIERS[1])
    for _ in range(_ROUNDS):
        product0, product1 = m0 * c0, m1 * c2
        c0, c1, c2, c3 = ((product1 >> _SHIFT32) ^ c1 ^ np.uint64(k0), product1 & _LOW32,
                          (product0 >> _SHIFT32) ^ c3 ^ np.uint64(k1), product0 & _LOW32)
        k0, k1 = (k0 + _KEY_STEPS[0]) & 0xFFFFFFFF, (k1 + _KEY_STEPS[1]) & 0xFFFFFFFF
    return c0, c1, c2, c3


def key_and_counter(seed) -> tuple[tuple[int, int], tuple[int, int, int, int]]:
    """TF's key and first counter for a stateless op's seed pair (two int64s)."""
    seed0, seed1 = (int(v) & 0xFFFFFFFFFFFFFFFF for v in seed)
    words = [np.array([w], np.uint64) for w in
             (seed0 & 0xFFFFFFFF, seed0 >> 32, seed1 & 0xFFFFFFFF, seed1 >> 32)]
    mix = [int(w[0]) for w in _rounds(*words, *_SEED_KEY)]
    return (mix[0], mix[1]), (0, 0, mix[2], mix[3])


def blocks(key, counter, count: int, first: int = 0) -> np.ndarray:
    """Philox blocks ``first .. first + count - 1`` after ``counter``: (count, 4) uint32."""
    return blocks_at(key, counter, np.arange(first, first + count, dtype=np.uint64))


def blocks_at(key, counter, offsets: np.ndarray) -> np.ndarray:
    """The Philox blocks at ``counter + offsets`` (any shape of offsets): (..., 4) uint32."""
    low = np.uint64(counter[0] | (counter[1] << 32))
    high = np.uint64(counter[2] | (counter[3] << 32))
    offsets = np.asarray(offsets, dtype=np.uint64)
    with np.errstate(over="ignore"):
        lows = low + offsets  # a 128-bit counter: carry into the high half on wrap-around
        highs = high + (lows < low).astype(np.uint64)
    words = _rounds(lows & _LOW32, lows >> _SHIFT32, highs & _LOW32, highs >> _SHIFT32, *key)
    return np.stack(words, axis=-1).astype(np.uint32)


def uint32_to_float32(bits: np.ndarray) -> np.ndarray:
    """Uniform floats in [0, 1): the low 23 bits as the mantissa of a float in [1, 2), minus 1."""
    ones = (bits & np.uint32(0x7FFFFF)) | np.uint32(127 << 23)
    return ones.view(np.float32) - np.float32(1.0)


def uint32_to_float16(bits: np.ndarray) -> np.ndarray:
    """Uniform halves in [0, 1) from the low 10 bits of each uint32."""
    ones = ((bits & np.uint32(0x3FF)) | np.uint32(15 << 10)).astype(np.uint16)
    return ones.view(np.float16) - np.float16(1.0)


def uint32_pair_to_float64(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """Uniform doubles in [0, 1): 20 bits of ``high`` and all of ``low`` as the mantissa."""
    mantissa = ((high.astype(np.uint64) & np.uint64(0xFFFFF)) << _SHIFT32) | low.astype(np.uint64)
    return (mantissa | np.uint64(1023 << 52)).view(np.float64) - 1.0


def uint32_pair_to_uint64(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """One uint64 from two consecutive uint32 draws, the second as the high half (TF's order)."""
    return (second.astype(np.uint64) << _SHIFT32) | first.astype(np.uint64)


def box_muller(u1: np.ndarray, u2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two standard normals per pair of uniforms, in the uniforms' precision. As in TF, u1 is
    kept above 1e-7 (so the log stays finite), and for float32 the angle 2*pi*u2 is rounded
    from the double product (TF multiplies by the double M_PI)."""
    u1 = np.maximum(u1, u1.dtype.type(1e-7))
    angle = (2.0 * np.pi * u2.astype(np.float64)).astype(u2.dtype)
    radius = np.sqrt(u1.dtype.type(-2.0) * np.log(u1))
    return np.sin(angle) * radius, np.cos(angle) * radius


def philox_block_reference(counter, key) -> list[int]:
    """One Philox block in plain Python integers: the independent reference of the tests."""
    c, (k0, k1) = list(counter), key
    for _ in range(_ROUNDS):
        p0, p1 = _MULTIPLIERS[0] * c[0], _MULTIPLIERS[1] * c[2]
        c = [(p1 >> 32) ^ c[1] ^ k0, p1 & 0xFFFFFFFF, (p0 >> 32) ^ c[3] ^ k1, p0 & 0xFFFFFFFF]
        k0, k1 = (k0 + _KEY_STEPS[0]) & 0xFFFFFFFF, (k1 + _KEY_STEPS[1]) & 0xFFFFFFFF
    return c
