"""TF1's readers: ``tf.ReaderBase``, ``tf.TextLineReader``, ``tf.FixedLengthRecordReader``,
``tf.WholeFileReader`` and ``tf.IdentityReader``.

A reader takes file names from a queue (a string queue, as ``string_input_producer`` makes)
and gives one record per ``read``: ``(key, value)`` string scalars, with TF1's keys (see
``graphc.ops.reader``). Its position lives in each Session.

Example:
    >>> filenames = gc.train.string_input_producer(["data_batch_1.bin"])
    >>> reader = gc.FixedLengthRecordReader(record_bytes=1 + 32 * 32 * 3)
    >>> key, value = reader.read(filenames)
    >>> record = gc.decode_raw(value, gc.uint8)
"""
from __future__ import annotations

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor
from graphc.graph import Tensor, get_default_graph
from graphc.queues import QueueBase

__all__ = ["ReaderBase", "TextLineReader", "FixedLengthRecordReader", "WholeFileReader",
           "IdentityReader"]

_ENCODINGS = ("", "GZIP", "ZLIB")


class ReaderBase:
    """The operations every reader has, on the reader ``reader_ref`` (a ``reader`` op's
    handle).

    Example:
        >>> key, value = reader.read(queue)
        >>> keys, values = reader.read_up_to(queue, 100)
    """

    def __init__(self, reader_ref, supports_serialize=False):
        self._reader_ref = reader_ref
        self._supports_serialize = bool(supports_serialize)

    reader_ref = property(lambda self: self._reader_ref, doc="The reader's handle tensor.")
    supports_serialize = property(lambda self: self._supports_serialize)

    @staticmethod
    def _create(kind: str, name, shared_name=None, **attrs):
        return get_default_graph().create_op(
            "reader", [], dict(kind=kind, shared_name=shared_name or "", **attrs),
            name=name or f"{kind}V2").outputs[0]

    def _op(self, op_type: str, inputs: list, name: str):
        graph = self._reader_ref.graph
        with graph.as_default():
            return graph.create_op(op_type, [self._reader_ref] + inputs, {}, name=name)

    @staticmethod
    def _queue_ref(queue) -> Tensor:
        if isinstance(queue, QueueBase):
            if queue.dtypes != [gdt.string]:
                raise TypeError(f"A reader reads file names from a queue of strings; queue "
                                f"'{queue.name}' holds {[d.name for d in queue.dtypes]}")
            return queue.queue_ref
        ref = convert_to_tensor(queue)
        if ref.dtype is not gdt.string or ref.shape.rank not in (None, 0):
            raise TypeError(f"A reader needs a queue (or its queue_ref), got {ref!r}")
        return ref

    def read(self, queue, name=None):
        """The next record: ``(key, value)`` string scalars. Takes new work from ``queue``
        when the current one is done; raises OutOfRangeError once it is closed and empty."""
        op = self._op("reader_read", [self._queue_ref(queue)], name or "ReaderReadV2")
        return op.outputs[0], op.outputs[1]

    def read_up_to(self, queue, num_records, name=None):
        """Up to ``num_records`` records of the current work: ``(keys, values)`` vectors
        (fewer at the end of a file)."""
        with self._reader_ref.graph.as_default():
            count = convert_to_tensor(num_records, dtype=gdt.int64)
        op = self._op("reader_read_up_to", [self._queue_ref(queue), count],
                      name or "ReaderReadUpToV2")
        return op.outputs[0], op.outputs[1]

    def num_records_produced(self, name=None):
        """An int64 scalar: how many records this reader produced."""
        return self._op("reader_num_records_produced", [],
                        name or "ReaderNumRecordsProducedV2").outputs[0]

    def num_work_units_completed(self, name=None):
        """An int64 scalar: how many works (files) this reader finished."""
        return self._op("reader_num_work_units_completed", [],
                        name or "ReaderNumWorkUnitsCompletedV2").outputs[0]

    def reset(self, name=None):
        """An op restoring the reader to its initial state."""
        return self._op("reader_reset", [], name or "ReaderResetV2")


class TextLineReader(ReaderBase):
    """Reads the lines of each file (without their line endings), after
    ``skip_header_lines``; keys are ``file:line`` (TF1 ``tf.TextLineReader``).

    Example:
        >>> key, line = gc.TextLineReader(skip_header_lines=1).read(filename_queue)
    """

    def __init__(self, skip_header_lines=None, name=None):
        skip = int(skip_header_lines or 0)
        if skip < 0:
            raise ValueError(f"TextLineReader: skip_header_lines must be >= 0, got {skip}")
        super().__init__(self._create("TextLineReader", name, skip_header_lines=skip))


class FixedLengthRecordReader(ReaderBase):
    """Reads records of ``record_bytes`` bytes between ``header_bytes`` and ``footer_bytes``
    of each file, one every ``hop_bytes`` bytes (default: back to back); keys are
    ``file:index`` (TF1 ``tf.FixedLengthRecordReader``; CIFAR-10's binary files).

    Example:
        >>> reader = gc.FixedLengthRecordReader(record_bytes=3073)
    """

    def __init__(self, record_bytes, header_bytes=None, footer_bytes=None, hop_bytes=None,
                 name=None, encoding=None):
        sizes = {"record_bytes": int(record_bytes), "header_bytes": int(header_bytes or 0),
                 "footer_bytes": int(footer_bytes or 0), "hop_bytes": int(hop_bytes or 0)}
        if sizes["record_bytes"] <= 0 or min(sizes.values()) < 0:
            raise ValueError(f"FixedLengthRecordReader: record_bytes must be positive and "
                             f"the other sizes non-negative, got {sizes}")
        encoding = (encoding or "").upper()
        if encoding not in _ENCODINGS:
            raise ValueError(f"FixedLengthRecordReader: encoding must be '', 'GZIP' or "
                             f"'ZLIB', got {encoding!r}")
        super().__init__(self._create("FixedLengthRecordReader", name, encoding=encoding,
                                      **sizes))


class WholeFileReader(ReaderBase):
    """Reads each file whole: the key is the file name, the value its contents (TF1
    ``tf.WholeFileReader``).

    Example:
        >>> filename, contents = gc.WholeFileReader().read(filename_queue)
    """

    def __init__(self, name=None):
        super().__init__(self._create("WholeFileReader", name))


class IdentityReader(ReaderBase):
    """Gives each work string as both key and value (TF1 ``tf.IdentityReader``).

    Example:
        >>> key, value = gc.IdentityReader().read(string_queue)
    """

    def __init__(self, name=None):
        super().__init__(self._create("IdentityReader", name))
