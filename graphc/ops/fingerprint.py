"""TF's Fingerprint64 (FarmHash's ``farmhashna::Hash64``) of byte strings, and the op made of
it: ``string_to_hash_bucket_fast`` (``Fingerprint64(s) mod num_buckets``, TF's values; the
hash of ``tf.strings.to_hash_bucket_fast`` and of the lookup tables' out-of-vocabulary
buckets).

Pure Python over 64-bit integers: the same arithmetic as FarmHash's C++ (unsigned wraparound,
right rotations, little-endian loads), checked against TensorFlow's values in
tests/test_fingerprint.py.

Example:
    >>> fingerprint64(b"hello")
    >>> apply_op("string_to_hash_bucket_fast", [words], {"num_buckets": 100})
"""
from __future__ import annotations

import struct

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.ops.common import apply_op
from graphc.registry import OpDef

__all__ = ["fingerprint64", "STRING_TO_HASH_BUCKET_FAST", "to_hash_bucket_fast"]

_MASK = (1 << 64) - 1
_K0, _K1, _K2 = 0xC3A5C85C97CB3127, 0xB492B66FBE98F273, 0x9AE16A3B2F90404F


def _fetch64(s: bytes, i: int) -> int:
    return struct.unpack_from("<Q", s, i)[0]


def _fetch32(s: bytes, i: int) -> int:
    return struct.unpack_from("<I", s, i)[0]


def _rotate(value: int, shift: int) -> int:
    return value if shift == 0 else ((value >> shift) | (value << (64 - shift))) & _MASK


def _shift_mix(value: int) -> int:
    return value ^ (value >> 47)


def _hash_len16(u: int, v: int, mul: int) -> int:
    a = ((u ^ v) * mul) & _MASK
    a ^= a >> 47
    b = ((v ^ a) * mul) & _MASK
    b ^= b >> 47
    return (b * mul) & _MASK


def _hash_len0to16(s: bytes, length: int) -> int:
    if length >= 8:
        mul = _K2 + length * 2
        a = (_fetch64(s, 0) + _K2) & _MASK
        b = _fetch64(s, length - 8)
        c = (_rotate(b, 37) * mul + a) & _MASK
        d = ((_rotate(a, 25) + b) * mul) & _MASK
        return _hash_len16(c, d, mul)
    if length >= 4:
        mul = _K2 + length * 2
        a = _fetch32(s, 0)
        return _hash_len16((length + (a << 3)) & _MASK, _fetch32(s, length - 4), mul)
    if length > 0:
        a, b, c = s[0], s[length >> 1], s[length - 1]
        y = (a + (b << 8)) & 0xFFFFFFFF
        z = (length + (c << 2)) & 0xFFFFFFFF
        return (_shift_mix(((y * _K2) ^ (z * _K0)) & _MASK) * _K2) & _MASK
    return _K2


def _hash_len17to32(s: bytes, length: int) -> int:
    mul = _K2 + length * 2
    a = (_fetch64(s, 0) * _K1) & _MASK
    b = _fetch64(s, 8)
    c = (_fetch64(s, length - 8) * mul) & _MASK
    d = (_fetch64(s, length - 16) * _K2) & _MASK
    return _hash_len16((_rotate((a + b) & _MASK, 43) + _rotate(c, 30) + d) & _MASK,
                       (a + _rotate((b + _K2) & _MASK, 18) + c) & _MASK, mul)


def _hash_len33to64(s: bytes, length: int) -> int:
    mul = _K2 + length * 2
    a = (_fetch64(s, 0) * _K2) & _MASK
    b = _fetch64(s, 8)
    c = (_fetch64(s, length - 8) * mul) & _MASK
    d = (_fetch64(s, length - 16) * _K2) & _MASK
    y = (_rotate((a + b) & _MASK, 43) + _rotate(c, 30) + d) & _MASK
    z = _hash_len16(y, (a + _rotate((b + _K2) & _MASK, 18) + c) & _MASK, mul)
    e = (_fetch64(s, 16) * mul) & _MASK
    f = _fetch64(s, 24)
    g = ((y + _fetch64(s, length - 32)) * mul) & _MASK
    h = ((z + _fetch64(s, length - 24)) * mul) & _MASK
    return _hash_len16((_rotate((e + f) & _MASK, 43) + _rotate(g, 30) + h) & _MASK,
                       (e + _rotate((f + a) & _MASK, 18) + g) & _MASK, mul)


def _weak_hash32(s: bytes, i: int, a: int, b: int) -> tuple:
    w, x, y, z = (_fetch64(s, i + k) for k in (0, 8, 16, 24))
    a = (a + w) & _MASK
    b = _rotate((b + a + z) & _MASK, 21)
    c = a
    a = (a + x + y) & _MASK
    b = (b + _rotate(a, 44)) & _MASK
    return (a + z) & _MASK, (b + c) & _MASK


def fingerprint64(s: bytes) -> int:
    """TF's ``Fingerprint64`` of ``s`` (FarmHash ``farmhashna::Hash64``), an unsigned int.

    Example:
        >>> fingerprint64(b"") == 0x9AE16A3B2F90404F
        True
    """
    length = len(s)
    if length <= 16:
        return _hash_len0to16(s, length)
    if length <= 32:
        return _hash_len17to32(s, length)
    if length <= 64:
        return _hash_len33to64(s, length)
    seed = 81
    x = seed
    y = (seed * _K1 + 113) & _MASK
    z = (_shift_mix((y * _K2 + 113) & _MASK) * _K2) & _MASK
    v = w = (0, 0)
    x = (x * _K2 + _fetch64(s, 0)) & _MASK
    end = ((length - 1) // 64) * 64
    last64 = end + ((length - 1) & 63) - 63
    i = 0
    while True:
        x = (_rotate((x + y + v[0] + _fetch64(s, i + 8)) & _MASK, 37) * _K1) & _MASK
        y = (_rotate((y + v[1] + _fetch64(s, i + 48)) & _MASK, 42) * _K1) & _MASK
        x ^= w[1]
        y = (y + v[0] + _fetch64(s, i + 40)) & _MASK
        z = (_rotate((z + w[0]) & _MASK, 33) * _K1) & _MASK
        v = _weak_hash32(s, i, (v[1] * _K1) & _MASK, (x + w[0]) & _MASK)
        w = _weak_hash32(s, i + 32, (z + w[1]) & _MASK, (y + _fetch64(s, i + 16)) & _MASK)
        z, x = x, z
        i += 64
        if i == end:
            break
    mul = _K1 + ((z & 0xFF) << 1)
    i = last64
    w = ((w[0] + ((length - 1) & 63)) & _MASK, w[1])
    v = ((v[0] + w[0]) & _MASK, v[1])
    w = ((w[0] + v[0]) & _MASK, w[1])
    x = (_rotate((x + y + v[0] + _fetch64(s, i + 8)) & _MASK, 37) * mul) & _MASK
    y = (_rotate((y + v[1] + _fetch64(s, i + 48)) & _MASK, 42) * mul) & _MASK
    x ^= (w[1] * 9) & _MASK
    y = (y + v[0] * 9 + _fetch64(s, i + 40)) & _MASK
    z = (_rotate((z + w[0]) & _MASK, 33) * mul) & _MASK
    v = _weak_hash32(s, i, (v[1] * mul) & _MASK, (x + w[0]) & _MASK)
    w = _weak_hash32(s, i + 32, (z + w[1]) & _MASK, (y + _fetch64(s, i + 16)) & _MASK)
    z, x = x, z
    return _hash_len16((_hash_len16(v[0], w[0], mul) + _shift_mix(y) * _K0 + z) & _MASK,
                       (_hash_len16(v[1], w[1], mul) + x) & _MASK, mul)


def _as_bytes(value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def _bucket_kernel(strings, num_buckets):
    strings = np.asarray(strings, dtype=object)
    flat = [fingerprint64(_as_bytes(s)) % num_buckets for s in strings.reshape(-1)]
    return np.array(flat, np.int64).reshape(strings.shape)


def _bucket_dtypes(in_dtypes, attrs):
    if not in_dtypes[0].is_string:
        raise TypeError(f"string_to_hash_bucket_fast: input must be a string tensor, got "
                        f"{in_dtypes[0].name}")
    if int(attrs["num_buckets"]) < 1:
        raise ValueError(f"string_to_hash_bucket_fast: num_buckets must be at least 1, got "
                         f"{attrs['num_buckets']}")
    return [gdt.int64]


STRING_TO_HASH_BUCKET_FAST = registry.register(OpDef(
    name="string_to_hash_bucket_fast", dtypes=_bucket_dtypes,
    shapes=lambda ins, attrs: [ins[0].shape], kernel=_bucket_kernel,
    grad=registry.NOT_DIFFERENTIABLE, attrs={"num_buckets": 1},
    tested_elsewhere="tests/test_fingerprint.py",
    doc="Fingerprint64 (FarmHash) of each string modulo num_buckets, int64."))


def to_hash_bucket_fast(input, num_buckets, name=None):  # noqa: A002 - TF's argument name
    """Each string's bucket, ``Fingerprint64(s) mod num_buckets`` (int64, TF's values: TF's
    ``tf.strings.to_hash_bucket_fast`` and ``tf.string_to_hash_bucket_fast``).

    Example:
        >>> gc.strings.to_hash_bucket_fast(["hello", "world"], 100)
    """
    return apply_op("string_to_hash_bucket_fast", [input], {"num_buckets": int(num_buckets)},
                    name=name or "StringToHashBucketFast")
