"""CRC-32C (Castagnoli), the checksum of TFRecord files, in NumPy and without a C extension.

``crc32c(data)`` is the standard CRC-32C (reflected polynomial 0x82F63B78, initial value and
final xor 0xFFFFFFFF: ``crc32c(b"123456789") == 0xE3069283``); ``masked_crc32c`` is TFRecord's
masking of it (rotate right by 15 bits, add 0xA282EAD8), so that a CRC stored next to data
that itself holds CRCs does not checksum to itself.

Why NumPy: a table-driven CRC reads one byte after the other, which in pure Python costs
~0.1 us a byte (~9 MB/s). A CRC is linear over GF(2), so the data is cut into K lanes of L
bytes that the byte loop advances all at once (L NumPy steps over K lanes), and the lanes'
CRCs are then combined pairwise: ``raw(A + B) = shift_len(B)(raw(A)) ^ raw(B)``, where the
shift, running the register over ``len(B)`` zero bytes, is a linear map applied through four
256-entry tables. Short inputs take the plain byte loop.

Example:
    >>> hex(crc32c(b"123456789"))
    '0xe3069283'
"""
from __future__ import annotations

import functools

import numpy as np

__all__ = ["crc32c", "masked_crc32c", "unmask_crc32c"]

_POLY = 0x82F63B78
_MASK_DELTA = 0xA282EAD8
_VECTOR_FROM = 1024  # bytes; below, the plain loop is as fast


def _byte_table() -> list:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ (_POLY if crc & 1 else 0)
        table.append(crc)
    return table


_TABLE = _byte_table()
_TABLE_NP = np.array(_TABLE, dtype=np.uint32)


def _raw_loop(register: int, data) -> int:
    table = _TABLE
    for byte in data:
        register = table[(register ^ byte) & 0xFF] ^ (register >> 8)
    return register


def _apply(images: tuple, value: int) -> int:
    """The linear map with basis images ``images`` (bit k -> images[k]) applied to value."""
    result = 0
    bit = 0
    while value:
        if value & 1:
            result ^= images[bit]
        value >>= 1
        bit += 1
    return result


@functools.lru_cache(maxsize=None)
def _zero_shift(log2_bytes: int) -> tuple:
    """Basis images of the map running a CRC register over 2**log2_bytes zero bytes."""
    if log2_bytes == 0:
        return tuple(_raw_loop(1 << bit, b"\0") for bit in range(32))
    half = _zero_shift(log2_bytes - 1)
    return tuple(_apply(half, image) for image in half)


@functools.lru_cache(maxsize=None)
def _shift_tables(log2_bytes: int) -> np.ndarray:
    """The zero shift of 2**log2_bytes bytes as four 256-entry tables, one per register
    byte: shift(x) = t[0][x & 255] ^ t[1][(x >> 8) & 255] ^ t[2][...] ^ t[3][x >> 24]."""
    images = np.array(_zero_shift(log2_bytes), dtype=np.uint32).reshape(4, 8)
    byte_values = np.arange(256)
    tables = np.zeros((4, 256), dtype=np.uint32)
    for bit in range(8):
        chosen = ((byte_values >> bit) & 1).astype(bool)
        tables[:, chosen] ^= images[:, bit:bit + 1]
    return tables


def _raw_vector(data: np.ndarray) -> int:
    """The CRC register after ``data`` from a zero register, lane by lane (see module)."""
    size = data.size
    log2_lane = max(int(size - 1).bit_length() // 2, 1)
    lane = 1 << log2_lane
    lanes = 1 << max(int(-(-size // lane) - 1).bit_length(), 0)
    # leading zero bytes leave a zero register at zero, so padding in front changes nothing
    padded = np.zeros(lanes * lane, dtype=np.uint8)
    padded[padded.size - size:] = data
    columns = np.ascontiguousarray(padded.reshape(lanes, lane).T).astype(np.uint32)
    registers = np.zeros(lanes, dtype=np.uint32)
    for column in columns:
        registers = _TABLE_NP[(registers ^ column) & 0xFF] ^ (registers >> 8)
    level = log2_lane
    while registers.size > 1:
        tables = _shift_tables(level)
        first, second = registers[0::2], registers[1::2]
        shifted = (tables[0][first & 0xFF] ^ tables[1][(first >> 8) & 0xFF]
                   ^ tables[2][(first >> 16) & 0xFF] ^ tables[3][first >> 24])
        registers = shifted ^ second
        level += 1
    return int(registers[0])


def crc32c(data) -> int:
    """The CRC-32C of ``data`` (bytes, bytearray, memoryview or a uint8 array).

    Example:
        >>> crc32c(b"") , hex(crc32c(b"a"))
        (0, '0xc1d04330')
    """
    view = memoryview(data).cast("B") if not isinstance(data, np.ndarray) else data
    if len(view) < _VECTOR_FROM:
        return _raw_loop(0xFFFFFFFF, bytes(view)) ^ 0xFFFFFFFF
    array = np.frombuffer(view, dtype=np.uint8) if not isinstance(view, np.ndarray) \
        else view.reshape(-1).view(np.uint8)
    # the initial 0xFFFFFFFF register is the same as xor-ing it into the first four bytes
    array = array.copy()
    array[:4] ^= 0xFF
    return _raw_vector(array) ^ 0xFFFFFFFF


def masked_crc32c(data) -> int:
    """TFRecord's masked CRC-32C of ``data``: ``rotr15(crc) + 0xA282EAD8`` (mod 2**32).

    Example:
        >>> hex(masked_crc32c(b"\\x05" + b"\\0" * 7))   # the length field of a 5-byte record
        '0x3e04b2ea'
    """
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def unmask_crc32c(masked: int) -> int:
    """The CRC-32C that ``masked_crc32c`` masked into ``masked``."""
    rotated = (masked - _MASK_DELTA) & 0xFFFFFFFF
    return ((rotated >> 17) | (rotated << 15)) & 0xFFFFFFFF
