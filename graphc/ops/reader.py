"""Reader ops of TF1's input pipelines: a ``reader`` op makes a reader's handle; ``reader_read``
and ``reader_read_up_to`` take records from the work (file names) a queue holds, and
``reader_num_records_produced``, ``reader_num_work_units_completed`` and ``reader_reset``
report on and restart it.

A reader is Session state (``RunContext.resource``), like a queue: it keeps the file it is in
and its position. When it needs work it dequeues a string from the queue (waiting for one;
the queue's OutOfRangeError once it is closed and empty ends the input), reads the records of
that work and moves on at its end, with TF1's keys: ``file:line`` (1-based, header lines
counted) for ``TextLineReader``, ``file:record`` (0-based) for ``FixedLengthRecordReader``,
the file name for ``WholeFileReader`` and the work itself (key and value) for
``IdentityReader``. Every op here is stateful.

Example:
    >>> reader = gc.TextLineReader(skip_header_lines=1)
    >>> key, line = reader.read(filename_queue)      # b"data.csv:2", b"1,2,3"
"""
from __future__ import annotations

import gzip
import os
import threading
import zlib

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.errors import InvalidArgumentError, NotFoundError, describe_op
from graphc.ops.queue import queue_of, resource_of
from graphc.registry import OpDef
from graphc.shapes import TensorShape

__all__ = ["READER_KINDS", "ReaderState"]


def _file_bytes(path: str, encoding: str, op) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise NotFoundError(None, op, f"{path}; No such file or directory "
                            f"({describe_op(op)})") from None
    except IsADirectoryError:
        raise InvalidArgumentError(None, op, f"{path} is a directory, not a file "
                                   f"({describe_op(op)})") from None
    if encoding == "GZIP":
        return gzip.decompress(data)
    if encoding == "ZLIB":
        return zlib.decompress(data)
    return data


def _text_lines(work: bytes, data: bytes, attrs) -> list:
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the last line ending ends no extra line
    name = work.decode(errors="replace")
    skip = attrs["skip_header_lines"]
    return [(f"{name}:{number}".encode(), line[:-1] if line.endswith(b"\r") else line)
            for number, line in enumerate(lines, start=1) if number > skip]


def _fixed_length_records(work: bytes, data: bytes, attrs) -> list:
    size, header, footer = attrs["record_bytes"], attrs["header_bytes"], attrs["footer_bytes"]
    hop = attrs["hop_bytes"] or size
    end = len(data) - footer
    name = work.decode(errors="replace")
    return [(f"{name}:{index}".encode(), data[start:start + size]) for index, start in
            enumerate(range(header, end - size + 1, hop))]


def _whole_file(work: bytes, data: bytes, attrs) -> list:
    return [(work, data)]


class ReaderState:
    """One reader in one Session: its current work's records, where it is in them, and its
    counts. ``lock`` makes each read atomic when runs of several threads share it."""

    def __init__(self, kind: str, attrs: dict):
        self.kind, self.attrs = kind, attrs
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.records, self.position = None, 0
        self.produced = self.completed = 0

    def _next_work(self, ctx, queue_handle) -> None:
        op = ctx.op
        queue = queue_of(ctx, queue_handle)
        [element] = queue.dequeue_many(1, op)
        work = element[0].item() if isinstance(element[0], np.ndarray) else element[0]
        if not isinstance(work, bytes):
            work = str(work).encode()
        self.records, self.position = [], 0  # the work is taken even if it fails to open
        if self.kind == "IdentityReader":
            self.records = [(work, work)]
            return
        data = _file_bytes(os.fsdecode(work), self.attrs["encoding"], op)
        self.records = READER_KINDS[self.kind](work, data, self.attrs)

    def read(self, ctx, queue_handle, count: int) -> list:
        """Up to ``count`` records of the current work (the next work's when it is done),
        at least one: ``count`` of them unless the work ends first."""
        with self.lock:
            while True:
                if self.records is None:
                    self._next_work(ctx, queue_handle)
                taken = self.records[self.position:self.position + count]
                self.position += len(taken)
                self.produced += len(taken)
                if self.position >= len(self.records):
                    self.records = None
                    self.completed += 1
                if taken:
                    return taken


# the ``kind`` attribute of a ``reader`` op -> its records of one work (None: the work)
READER_KINDS = {"TextLineReader": _text_lines, "FixedLengthRecordReader": _fixed_length_records,
                "WholeFileReader": _whole_file, "IdentityReader": None}


def _reader_of(ctx, handle) -> ReaderState:
    return resource_of(ctx, handle, "reader")


def _make_reader_kernel(ctx, kind, shared_name, **attrs):
    name = shared_name or ctx.op.name
    state = ctx.resource(name, lambda: ReaderState(kind, attrs))
    if state.kind != kind or state.attrs != attrs:
        raise InvalidArgumentError(None, ctx.op, f"{describe_op(ctx.op)}: shared reader "
                                   f"'{name}' is a {state.kind} {state.attrs}, not a {kind} "
                                   f"{attrs}")
    return np.array(name.encode(), dtype=object)


def _strings(values) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _read_kernel(ctx, reader, queue):
    [(key, value)] = _reader_of(ctx, reader).read(ctx, queue, 1)
    return np.array(key, dtype=object), np.array(value, dtype=object)


def _read_up_to_kernel(ctx, reader, queue, count):
    count = int(count)
    if count <= 0:
        raise InvalidArgumentError(None, ctx.op, f"{describe_op(ctx.op)}: num_records must "
                                   f"be positive, got {count}")
    records = _reader_of(ctx, reader).read(ctx, queue, count)
    return _strings([k for k, _ in records]), _strings([v for _, v in records])


def _handles_dtypes(outputs):
    def rule(in_dtypes, attrs):
        for position in range(min(len(in_dtypes), 2)):
            if in_dtypes[position] is not gdt.string:
                raise TypeError(f"input {position} must be a reader or queue handle (a "
                                f"string scalar), got {in_dtypes[position].name}")
        if len(in_dtypes) > 2 and not in_dtypes[2].is_integer:
            raise TypeError(f"num_records must be an integer, got {in_dtypes[2].name}")
        return list(outputs)
    return rule


def _counter(field):
    def kernel(ctx, reader):
        state = _reader_of(ctx, reader)
        with state.lock:
            return np.array(getattr(state, field), np.int64)
    return kernel


def _reset_kernel(ctx, reader):
    state = _reader_of(ctx, reader)
    with state.lock:
        state.reset()


_COMMON = dict(grad=registry.NOT_DIFFERENTIABLE, stateful=True, foldable=False,
               needs_context=True, unknown_rank_ok=True, tested_elsewhere="tests/test_readers.py")
_VECTOR = TensorShape([None])

READER = registry.register(OpDef(
    name="reader", dtypes=lambda d, attrs: [gdt.string], shapes=lambda ins, attrs: [()],
    kernel=_make_reader_kernel,
    attrs={"kind": "WholeFileReader", "shared_name": "", "skip_header_lines": 0,
           "header_bytes": 0, "record_bytes": 0, "footer_bytes": 0, "hop_bytes": 0,
           "encoding": ""},
    doc="Makes (on first use in a Session) the reader and gives its handle.", **_COMMON))
READER_READ = registry.register(OpDef(
    name="reader_read", dtypes=_handles_dtypes([gdt.string, gdt.string]),
    shapes=lambda ins, attrs: [TensorShape([]), TensorShape([])], kernel=_read_kernel,
    fresh_output=True, doc="The next record (key, value), taking new work from the queue "
    "as needed.", **_COMMON))
READER_READ_UP_TO = registry.register(OpDef(
    name="reader_read_up_to", dtypes=_handles_dtypes([gdt.string, gdt.string]),
    shapes=lambda ins, attrs: [_VECTOR, _VECTOR], kernel=_read_up_to_kernel,
    fresh_output=True, doc="Up to num_records records (keys, values) of the current work.",
    **_COMMON))
READER_NUM_RECORDS_PRODUCED = registry.register(OpDef(
    name="reader_num_records_produced", dtypes=_handles_dtypes([gdt.int64]),
    shapes=lambda ins, attrs: [TensorShape([])], kernel=_counter("produced"),
    doc="How many records the reader produced (int64).", **_COMMON))
READER_NUM_WORK_UNITS_COMPLETED = registry.register(OpDef(
    name="reader_num_work_units_completed", dtypes=_handles_dtypes([gdt.int64]),
    shapes=lambda ins, attrs: [TensorShape([])], kernel=_counter("completed"),
    doc="How many works (files) the reader finished (int64).", **_COMMON))
READER_RESET = registry.register(OpDef(
    name="reader_reset", dtypes=_handles_dtypes([]), shapes=lambda ins, attrs: [],
    kernel=_reset_kernel, doc="Back to the reader's initial state (no work, counts 0).",
    **_COMMON))
