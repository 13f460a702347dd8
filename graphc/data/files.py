"""Datasets read from files: ``TextLineDataset`` (each line, without its line ending),
``FixedLengthRecordDataset`` (records of a fixed byte length between a header and a
footer) and ``TFRecordDataset`` (the records of TFRecord files, checksums checked), over
one or more files read in order, plain or GZIP/ZLIB compressed (TF1's ``compression_type``).
Files are opened when the iterator reaches them; a missing one ends the run with
NotFoundError, as in TF.

Example:
    >>> lines = gc.data.TextLineDataset(["train.csv"]).skip(1)   # without the header
    >>> fields = lines.map(lambda line: gc.strings.to_number(line))
"""
from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor
from graphc.errors import InvalidArgumentError, NotFoundError
from graphc.graph import Tensor
from graphc.records.tfrecord import open_records, read_records

from .dataset import Dataset
from .stage import Stage
from .structure import Spec

__all__ = ["TextLineDataset", "FixedLengthRecordDataset", "TFRecordDataset"]

_COMPRESSIONS = ("", "GZIP", "ZLIB")


def _filenames(filenames, what: str):
    """The file names as a string tensor (captured) or a list of Python strings."""
    if isinstance(filenames, Tensor) or hasattr(filenames, "_as_graph_element"):
        tensor = convert_to_tensor(filenames)
        if tensor.dtype is not gdt.string or tensor.shape.rank not in (None, 0, 1):
            raise TypeError(f"{what}: filenames must be a string scalar or vector, got "
                            f"{tensor.dtype.name} of shape {tensor.shape}")
        return tensor
    names = [filenames] if isinstance(filenames, (str, bytes)) else list(filenames)
    if not all(isinstance(n, (str, bytes, os.PathLike)) for n in names):
        raise TypeError(f"{what}: filenames must be strings, got {filenames!r}")
    return [os.fsdecode(n) for n in names]


def _compression(compression_type, what: str) -> str:
    kind = (compression_type or "").upper()
    if kind not in _COMPRESSIONS:
        raise ValueError(f"{what}: compression_type must be '', 'GZIP' or 'ZLIB', got "
                         f"{compression_type!r}")
    return kind


def _read_all(path: str, compression: str, what: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise NotFoundError(None, None, f"{what}: {path}; No such file or directory") from None
    if compression == "GZIP":
        return gzip.decompress(data)
    if compression == "ZLIB":
        return zlib.decompress(data)
    return data


class _FileStage(Stage):
    fresh = True  # bytes objects in new arrays

    def __init__(self, filenames, compression_type, what):
        self._names = _filenames(filenames, what)
        self._compression = _compression(compression_type, what)
        self._what = what
        super().__init__(Spec(gdt.string, []),
                         tensors=[self._names] if isinstance(self._names, Tensor) else [])

    def _paths(self, env) -> list:
        if isinstance(self._names, Tensor):
            values = np.asarray(env.value(self._names), dtype=object).reshape(-1)
            return [os.fsdecode(v) for v in values]
        return self._names

    def _elements(self, env):
        for path in self._paths(env):
            for record in self._records(_read_all(path, self._compression, self._what), path):
                yield [np.array(record, dtype=object)]


class _TextLines(_FileStage):
    kind = "TextLineDataset"

    def _records(self, data: bytes, path: str):
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()  # the file's last line ending ends no extra line
        for line in lines:
            yield line[:-1] if line.endswith(b"\r") else line


class _FixedLengthRecords(_FileStage):
    kind = "FixedLengthRecordDataset"

    def __init__(self, filenames, record_bytes, header_bytes, footer_bytes, compression_type):
        super().__init__(filenames, compression_type, "FixedLengthRecordDataset")
        self._sizes = (int(record_bytes), int(header_bytes or 0), int(footer_bytes or 0))
        if self._sizes[0] <= 0 or min(self._sizes[1:]) < 0:
            raise ValueError(f"FixedLengthRecordDataset: record_bytes must be positive and "
                             f"header/footer bytes non-negative, got {self._sizes}")

    def _records(self, data: bytes, path: str):
        record, header, footer = self._sizes
        body = data[header:len(data) - footer]
        if len(data) < header + footer or len(body) % record:
            raise InvalidArgumentError(None, None, f"FixedLengthRecordDataset: {path} holds "
                                       f"{len(data)} bytes, not a header of {header}, whole "
                                       f"records of {record} and a footer of {footer}")
        for start in range(0, len(body), record):
            yield body[start:start + record]


class _TFRecords(_FileStage):
    kind = "TFRecordDataset"

    def __init__(self, filenames, compression_type, buffer_size):
        super().__init__(filenames, compression_type, "TFRecordDataset")
        if buffer_size is not None and (isinstance(buffer_size, Tensor) or buffer_size < 0):
            raise ValueError(f"TFRecordDataset: buffer_size must be a non-negative int, got "
                             f"{buffer_size!r}")
        self._buffer_size = buffer_size

    def _elements(self, env):
        # streamed record by record: a TFRecord file is often bigger than memory
        for path in self._paths(env):
            with open_records(path, self._compression, self._buffer_size,
                              self._what) as stream:
                for record in read_records(stream, path):
                    yield [np.array(record, dtype=object)]


def TextLineDataset(filenames, compression_type=None, buffer_size=None,  # noqa: N802
                    num_parallel_reads=None) -> Dataset:
    """The lines of ``filenames`` (a string, a list or a string tensor), in order, as
    scalar strings without their line endings (TF1 ``tf.data.TextLineDataset``).

    Example:
        >>> ds = gc.data.TextLineDataset("words.txt").map(gc.strings.strip)
    """
    return Dataset(_TextLines(filenames, compression_type, "TextLineDataset"))


def FixedLengthRecordDataset(filenames, record_bytes, header_bytes=None,  # noqa: N802
                             footer_bytes=None, buffer_size=None, compression_type=None,
                             num_parallel_reads=None) -> Dataset:
    """Records of ``record_bytes`` bytes from ``filenames``, after ``header_bytes`` and
    before ``footer_bytes`` of each file (TF1 ``tf.data.FixedLengthRecordDataset``; CIFAR's
    binary files are read this way).

    Example:
        >>> ds = gc.data.FixedLengthRecordDataset(["data_batch_1.bin"], 1 + 32 * 32 * 3)
    """
    return Dataset(_FixedLengthRecords(filenames, record_bytes, header_bytes, footer_bytes,
                                       compression_type))


def TFRecordDataset(filenames, compression_type=None, buffer_size=None,  # noqa: N802
                    num_parallel_reads=None) -> Dataset:
    """The records of the TFRecord files ``filenames`` (a string, a list, a string tensor or
    a dataset of names), in order, as scalar strings (TF1 ``tf.data.TFRecordDataset``). Each
    record's checksums are checked as it is read.

    Args:
        filenames: the files, read one after the other.
        compression_type: ``''``/None, ``'ZLIB'`` or ``'GZIP'`` (the whole file's stream).
        buffer_size: bytes read from the file at a time (None: Python's default).
        num_parallel_reads: accepted for TF's signature; the files are read in order.

    Raises (when run):
        NotFoundError: a file does not exist.
        DataLossError: a damaged record; the message names the file and the record's offset.

    Example:
        >>> ds = gc.data.TFRecordDataset(["train-0.tfrecord", "train-1.tfrecord"])
        >>> ds = ds.map(lambda record: gc.io.parse_single_example(record, features))
    """
    if isinstance(filenames, Dataset):  # a dataset of names, as TF takes too
        return filenames.flat_map(lambda name: TFRecordDataset(name, compression_type,
                                                               buffer_size))
    return Dataset(_TFRecords(filenames, compression_type, buffer_size))
