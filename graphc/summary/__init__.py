"""TensorBoard summaries in TF1's graph mode (``tf.summary``).

Summary ops (``scalar``, ``histogram``, ``image``, ``audio``, ``text``, ``tensor_summary``)
are graph ops whose value is a serialized ``Summary`` protobuf; ``merge``/``merge_all``
combine them; ``FileWriter`` writes their values, and the graph, into event files that
TensorBoard reads. The protobufs and the event writer are the ``tensorboard`` package's,
installed with ``pip install 'graphc[tensorboard]'``; ``Summary``, ``Event``,
``SessionLog``, ``SummaryMetadata`` and ``HistogramProto`` here are its classes, imported
on first use.

Example:
    >>> gc.summary.scalar("loss", loss)
    >>> gc.summary.histogram("weights", W)
    >>> merged = gc.summary.merge_all()
    >>> writer = gc.summary.FileWriter("/tmp/logs", sess.graph)
    >>> writer.add_summary(sess.run(merged, feed), global_step=step)
"""
from graphc.summary.api import (audio, histogram, image, merge, merge_all, scalar,  # noqa
                                tensor_summary, text)
from graphc.summary.graph_def import graph_def  # noqa: F401
from graphc.summary.protos import protos as _protos
from graphc.summary.writer import FileWriter, FileWriterCache, summary_iterator  # noqa: F401

__all__ = ["scalar", "histogram", "image", "audio", "text", "tensor_summary", "merge",
           "merge_all", "FileWriter", "FileWriterCache", "summary_iterator", "graph_def"]

# TF1's protobuf classes (tf.summary.Summary, tf.Summary, tf.Event ...), from tensorboard
PROTO_NAMES = ("Summary", "SummaryMetadata", "HistogramProto", "Event", "SessionLog",
               "TaggedRunMetadata")


def __getattr__(name):
    if name in PROTO_NAMES:
        return getattr(_protos(), name)
    raise AttributeError(f"module 'graphc.summary' has no attribute {name!r}")
