"""The TFRecord format: a file is a sequence of records, each

    uint64 length (little-endian) | uint32 masked CRC-32C of those 8 bytes |
    data (length bytes)           | uint32 masked CRC-32C of the data

optionally inside one GZIP or ZLIB stream over the whole file (TF's ``compression_type``).
Reading checks both CRCs of every record and stops at the first damage with a DataLossError
naming the file and the offset of the record (in the uncompressed stream), as TF does; a
file that ends inside a record is reported as truncated.

Example:
    >>> with TFRecordWriter("data.tfrecord.gz", TFRecordOptions("GZIP")) as writer:
    ...     writer.write(b"first"); writer.write(b"second")
    >>> list(tf_record_iterator("data.tfrecord.gz", "GZIP"))
    [b'first', b'second']
"""
from __future__ import annotations

import io
import os
import struct
import zlib

from graphc.errors import DataLossError, NotFoundError
from graphc.records.checksum import masked_crc32c

__all__ = ["TFRecordWriter", "TFRecordOptions", "TFRecordCompressionType",
           "tf_record_iterator", "read_records", "open_records"]

_LENGTH = struct.Struct("<Q")
_CRC = struct.Struct("<I")
_HEADER_BYTES = _LENGTH.size + _CRC.size
# zlib's wbits: 15 is a zlib stream, 16 + 15 a gzip one (what TF's GZIP files are)
_WINDOW_BITS = {"ZLIB": 15, "GZIP": 16 + 15}


class TFRecordCompressionType:
    """TF1's compression kinds of TFRecord files (``tf.python_io.TFRecordCompressionType``)."""

    NONE = 0
    ZLIB = 1
    GZIP = 2


_BY_NUMBER = {0: "", 1: "ZLIB", 2: "GZIP"}


def _compression_name(kind, what: str) -> str:
    if kind is None:
        return ""
    if isinstance(kind, TFRecordOptions):
        return kind.compression_type
    if isinstance(kind, int) and not isinstance(kind, bool) and kind in _BY_NUMBER:
        return _BY_NUMBER[kind]
    if isinstance(kind, (str, bytes)):
        name = os.fsdecode(kind).upper()
        if name in ("", "ZLIB", "GZIP"):
            return name
    raise ValueError(f"{what}: compression_type must be '', 'ZLIB', 'GZIP' or a "
                     f"TFRecordCompressionType, got {kind!r}")


class TFRecordOptions:
    """How a TFRecord file is compressed (TF1 ``tf.io.TFRecordOptions``).

    Args:
        compression_type: ``''``/None, ``'ZLIB'``, ``'GZIP'`` or a TFRecordCompressionType.
        compression_level: zlib's level, 0-9 (default 6, TF's).
        window_bits, mem_level, compression_strategy: zlib's, for the writer.
        flush_mode, input_buffer_size, output_buffer_size, compression_method: accepted
            for TF's signature; zlib's defaults serve.

    Example:
        >>> writer = gc.io.TFRecordWriter("a.tfrecord", gc.io.TFRecordOptions("ZLIB"))
    """

    compression_type_map = {TFRecordCompressionType.NONE: "",
                            TFRecordCompressionType.ZLIB: "ZLIB",
                            TFRecordCompressionType.GZIP: "GZIP"}

    def __init__(self, compression_type=None, flush_mode=None, input_buffer_size=None,
                 output_buffer_size=None, window_bits=None, compression_level=None,
                 compression_method=None, mem_level=None, compression_strategy=None):
        self.compression_type = _compression_name(compression_type, "TFRecordOptions")
        self.flush_mode = flush_mode
        self.input_buffer_size = input_buffer_size
        self.output_buffer_size = output_buffer_size
        self.window_bits = window_bits
        self.compression_level = compression_level
        self.compression_method = compression_method
        self.mem_level = mem_level
        self.compression_strategy = compression_strategy
        if compression_level is not None and not 0 <= int(compression_level) <= 9:
            raise ValueError(f"TFRecordOptions: compression_level must be in 0..9, got "
                             f"{compression_level!r}")

    @classmethod
    def get_compression_type_string(cls, options) -> str:
        """``''``, ``'ZLIB'`` or ``'GZIP'`` for options (TFRecordOptions, a kind or None)."""
        return _compression_name(options, "TFRecordOptions")

    def __repr__(self) -> str:
        return f"TFRecordOptions(compression_type={self.compression_type!r})"


def _options(options, what: str) -> TFRecordOptions:
    return options if isinstance(options, TFRecordOptions) else TFRecordOptions(
        _compression_name(options, what))


class TFRecordWriter:
    """Writes records to a TFRecord file (TF1 ``tf.io.TFRecordWriter``); the file is
    created (or truncated) at once, and complete when ``close`` returns.

    Args:
        path: the file to write.
        options: a TFRecordOptions, a compression name (``''``, ``'ZLIB'``, ``'GZIP'``) or
            None.

    Example:
        >>> with gc.io.TFRecordWriter("train.tfrecord") as writer:
        ...     for example in examples:
        ...         writer.write(example.SerializeToString())
    """

    def __init__(self, path, options=None):
        self._options = _options(options, "TFRecordWriter")
        self._path = os.fsdecode(path)
        try:
            self._file = open(self._path, "wb")
        except FileNotFoundError:
            raise NotFoundError(None, None, f"TFRecordWriter: {self._path}; No such file "
                                "or directory") from None
        kind = self._options.compression_type
        self._compressor = None
        if kind:
            level = self._options.compression_level
            self._compressor = zlib.compressobj(
                6 if level is None else int(level), zlib.DEFLATED,
                _WINDOW_BITS[kind] if self._options.window_bits is None
                else int(self._options.window_bits) + (16 if kind == "GZIP" else 0),
                self._options.mem_level or 8,
                self._options.compression_strategy or zlib.Z_DEFAULT_STRATEGY)

    def _put(self, data: bytes) -> None:
        self._file.write(self._compressor.compress(data) if self._compressor else data)

    def write(self, record) -> None:
        """Append one record (bytes, or a str written as UTF-8)."""
        if self._file is None:
            raise ValueError(f"TFRecordWriter: {self._path} is closed")
        if isinstance(record, str):
            record = record.encode()
        if not isinstance(record, (bytes, bytearray, memoryview)):
            raise TypeError(f"TFRecordWriter.write takes bytes, got {type(record).__name__}")
        record = bytes(record)
        length = _LENGTH.pack(len(record))
        self._put(length + _CRC.pack(masked_crc32c(length)) + record
                  + _CRC.pack(masked_crc32c(record)))

    def flush(self) -> None:
        """Push what was written so far to the file (readable by another reader)."""
        if self._file is None:
            return
        if self._compressor:
            self._file.write(self._compressor.flush(zlib.Z_SYNC_FLUSH))
        self._file.flush()

    def close(self) -> None:
        """Finish the file (the compressed stream's end) and close it; idempotent."""
        if self._file is None:
            return
        if self._compressor:
            self._file.write(self._compressor.flush(zlib.Z_FINISH))
        self._file.close()
        self._file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Inflated(io.RawIOBase):
    """A readable stream of a whole-file ZLIB or GZIP stream's uncompressed bytes."""

    def __init__(self, raw, kind: str, path: str):
        self._raw = raw
        self._inflater = zlib.decompressobj(_WINDOW_BITS[kind])
        self._pending = b""
        self._path = path

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending and not self._inflater.eof:
            chunk = self._raw.read(1 << 16)
            try:
                self._pending = (self._inflater.decompress(chunk) if chunk
                                 else self._inflater.flush())
            except zlib.error as err:
                raise DataLossError(None, None, f"{self._path}: not a valid compressed "
                                    f"stream ({err})") from None
            if not chunk:
                break
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_records(path, compression_type="", buffer_size=None, what="TFRecord"):
    """A binary stream of the (uncompressed) TFRecord bytes of file ``path``."""
    path = os.fsdecode(path)
    try:
        raw = open(path, "rb", buffering=int(buffer_size) if buffer_size else -1)
    except FileNotFoundError:
        raise NotFoundError(None, None, f"{what}: {path}; No such file or directory") from None
    kind = _compression_name(compression_type, what)
    return io.BufferedReader(_Inflated(raw, kind, path)) if kind else raw


def read_records(stream, path: str):
    """The records of a TFRecord ``stream`` (see ``open_records``), checked one by one.

    Raises:
        DataLossError: a record is truncated or a checksum does not match; the message
            names ``path`` and the record's offset.
    """
    offset = 0
    while True:
        header = stream.read(_HEADER_BYTES)
        if not header:
            return
        if len(header) < _HEADER_BYTES:
            raise _damaged(path, offset, "truncated record", "the file ends in its header")
        (length,), (length_crc,) = _LENGTH.unpack_from(header), _CRC.unpack_from(header, 8)
        if masked_crc32c(header[:8]) != length_crc:
            raise _damaged(path, offset, "corrupted record", "the length's checksum does "
                           "not match")
        data = stream.read(length)
        footer = stream.read(_CRC.size)
        if len(data) < length or len(footer) < _CRC.size:
            raise _damaged(path, offset, "truncated record", f"the file ends inside a "
                           f"record of {length} bytes")
        if masked_crc32c(data) != _CRC.unpack(footer)[0]:
            raise _damaged(path, offset, "corrupted record", "the data's checksum does "
                           "not match")
        yield data
        offset += _HEADER_BYTES + length + _CRC.size


def _damaged(path: str, offset: int, kind: str, detail: str) -> DataLossError:
    return DataLossError(None, None, f"{path}: {kind} at {offset} ({detail})")


def tf_record_iterator(path, options=None):
    """The records of the TFRecord file ``path``, as bytes, one at a time (TF1
    ``tf.python_io.tf_record_iterator``).

    Args:
        path: the file.
        options: a TFRecordOptions, a compression name or None.

    Raises:
        NotFoundError: no such file.
        DataLossError: a damaged record (the message names the file and its offset).

    Example:
        >>> for record in gc.python_io.tf_record_iterator("train.tfrecord"):
        ...     example = gc.train.Example.FromString(record)
    """
    kind = _options(options, "tf_record_iterator").compression_type
    stream = open_records(path, kind, what="tf_record_iterator")  # a missing file: now

    def records():
        with stream:
            yield from read_records(stream, os.fsdecode(path))

    return records()
