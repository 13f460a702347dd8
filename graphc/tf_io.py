"""``tf.io``: files from graphs and graphs to files (``gfile``, ``read_file``,
``write_file``, ``write_graph``, ``serialize_tensor``/``parse_tensor``).

``read_file``/``write_file``, ``serialize_tensor`` and ``parse_tensor`` are ops that call
Python when they run (graphc's ``py_func``), so a graph holding them runs in-process but is
not written to GraphDef files. ``serialize_tensor`` writes NumPy's ``.npy`` bytes (not TF's
TensorProto); ``parse_tensor`` reads them back.

Example:
    >>> contents = gc.io.read_file("data/labels.txt")      # a string scalar tensor
    >>> sess.run(gc.io.write_file("copy.txt", contents))
    >>> gc.io.write_graph(sess.graph, "run", "graph.pbtxt")
"""
from __future__ import annotations

import io as _io

import numpy as np

from graphc import dtypes as gdt
from graphc import gfile
from graphc.errors import InvalidArgumentError
from graphc.graph import get_default_graph
from graphc.ops.py_func import py_func
from graphc.queues import PaddingFIFOQueue, PriorityQueue, QueueBase, RandomShuffleQueue  # noqa
from graphc.saving import write_graph
from graphc.variables import GraphKeys, Variable

__all__ = ["gfile", "read_file", "write_file", "write_graph", "serialize_tensor",
           "parse_tensor", "matching_files", "match_filenames_once", "QueueBase",
           "RandomShuffleQueue", "PaddingFIFOQueue", "PriorityQueue"]


def _text(value) -> str:
    value = value.item() if isinstance(value, np.ndarray) else value
    return value.decode() if isinstance(value, bytes) else str(value)


def _read(filename):
    with gfile.GFile(_text(filename), "rb") as f:
        return np.array(f.read(), dtype=object)


def _write(filename, contents):
    contents = contents.item() if isinstance(contents, np.ndarray) else contents
    with gfile.GFile(_text(filename), "wb") as f:
        f.write(contents if isinstance(contents, bytes) else str(contents).encode())
    return np.zeros((), np.int32)


def read_file(filename, name=None):
    """A string scalar: the bytes of the file ``filename`` names when the op runs.

    Raises (when run):
        NotFoundError: no such file.

    Example:
        >>> data = gc.io.read_file(filename_placeholder)
    """
    return py_func(_read, [filename], gdt.string, name=name or "ReadFile")


def write_file(filename, contents, name=None):
    """An op writing the string scalar ``contents`` to the file ``filename`` when run.

    Example:
        >>> sess.run(gc.io.write_file("out.txt", gc.constant("hello")))
    """
    result = py_func(_write, [filename, contents], gdt.int32, name=name or "WriteFile")
    return result.op


def matching_files(pattern, name=None):
    """A 1-D string tensor: the sorted paths matching ``pattern`` (a string or a 1-D string
    tensor of them) when the op runs.

    Example:
        >>> files = gc.io.matching_files("data/*.csv")
    """
    def match(patterns):
        found = gfile.glob([_text(p) for p in np.atleast_1d(patterns)])
        return np.array([f.encode() for f in found], dtype=object)

    return py_func(match, [pattern], gdt.string, name=name or "MatchingFiles")


def match_filenames_once(pattern, name=None):
    """A local variable holding the file names matching ``pattern`` (a glob, or a list),
    found when it is initialized (TF1 ``tf.train.match_filenames_once``; run
    ``gc.local_variables_initializer()``).

    Example:
        >>> files = gc.train.match_filenames_once("data/*.csv")
    """
    with get_default_graph().name_scope(name or "matching_filenames") as scope:
        return Variable(name=scope, initial_value=matching_files(pattern), trainable=False,
                        validate_shape=False, collections=[GraphKeys.LOCAL_VARIABLES])


def _serialize(array):
    buffer = _io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return np.array(buffer.getvalue(), dtype=object)


def serialize_tensor(tensor, name=None):
    """A string scalar holding ``tensor``'s dtype, shape and values (``parse_tensor``
    reads it back).

    Example:
        >>> blob = gc.io.serialize_tensor(W)
    """
    return py_func(_serialize, [tensor], gdt.string, name=name or "SerializeTensor")


def parse_tensor(serialized, out_type, name=None):
    """The tensor ``serialize_tensor`` stored in ``serialized`` (its dtype must be
    ``out_type``; the shape is known when the op runs).

    Raises (when run):
        InvalidArgumentError: the bytes hold another dtype, or are no serialized tensor.

    Example:
        >>> W_again = gc.io.parse_tensor(blob, gc.float32)
    """
    want = gdt.as_dtype(out_type)

    def parse(data):
        data = data.item() if isinstance(data, np.ndarray) else data
        try:
            array = np.load(_io.BytesIO(data), allow_pickle=False)
        except (ValueError, OSError, EOFError) as err:
            raise InvalidArgumentError(None, None, f"parse_tensor: the input is not a "
                                       f"serialized tensor ({err})") from None
        if array.dtype != want.np:
            raise InvalidArgumentError(None, None, f"parse_tensor: type mismatch between "
                                       f"parsed tensor ({array.dtype}) and dtype "
                                       f"({want.name})")
        return array

    return py_func(parse, [serialized], want, name=name or "ParseTensor")

from graphc.ops.decode_raw import decode_raw  # noqa: E402,F401 - tf.io.decode_raw
from graphc.ops.decode_csv import decode_csv  # noqa: E402,F401 - tf.io.decode_csv
from graphc.ops.string_codecs import decode_base64, decode_compressed, encode_base64  # noqa
from graphc.ops.image_codec_ops import *  # noqa: F401,F403,E402 - PNG/JPEG/GIF/BMP files
# TFRecord files (also in tf.python_io)
from graphc.records.tfrecord import (TFRecordCompressionType, TFRecordOptions,  # noqa: E402
                                     TFRecordWriter, tf_record_iterator)
# tf.train.Example parsing (graphc/parsing.py)
from graphc.parsing import (FixedLenFeature, FixedLenSequenceFeature,  # noqa: E402,F401
                            SparseFeature, VarLenFeature, parse_example, parse_single_example,
                            parse_single_sequence_example)
