"""``tf.summary.FileWriter``: summaries, graphs and events into a TensorBoard event file.

The file is the one TensorBoard reads (``events.out.tfevents.<time>.<host>...`` in the
logdir: TFRecord-framed ``Event`` protobufs behind a ``brain.Event:2`` version record),
written by the tensorboard package's own ``EventFileWriter``, which frames the records,
computes their CRCs and writes from a background thread (``flush`` waits for it). As TF1's
writer, a tag's plugin metadata is written with its first value only, and events added after
``close`` are dropped (``reopen`` starts a new file in the same logdir). Writers still open
when Python exits are closed then, so a script that never calls ``close`` loses nothing
(the writer thread would otherwise die with up to ``flush_secs`` of events unwritten).
"""
from __future__ import annotations

import atexit
import threading
import time

import numpy as np

from graphc.graph import Graph, get_default_graph
from graphc.serialization.graph_def import GraphDef
from graphc.summary.graph_def import graph_def as to_graph_def
from graphc.summary.protos import protos

__all__ = ["FileWriter", "FileWriterCache", "summary_iterator"]

# strong references: a writer nobody holds any more still has events in its queue
_OPEN_WRITERS = set()  # type: set


@atexit.register
def _close_open_writers() -> None:
    for writer in list(_OPEN_WRITERS):
        writer.close()


def _summary_proto(summary):
    """A ``Summary`` from what ``sess.run`` of a summary op gives (bytes, a 0-d object
    array holding bytes) or a Summary itself."""
    pb = protos()
    if isinstance(summary, pb.Summary):
        copy = pb.Summary()
        copy.CopyFrom(summary)  # the caller's protobuf stays as it was
        return copy
    if isinstance(summary, np.ndarray) and summary.dtype == object and summary.ndim == 0:
        summary = summary[()]
    if isinstance(summary, bytes):
        return pb.Summary.FromString(summary)
    raise TypeError(f"add_summary takes a Summary protobuf or the serialized bytes a summary "
                    f"op gives, got {type(summary).__name__}")


class FileWriter:
    """Writes summaries, the graph and events to a new event file in ``logdir`` (TF1).

    Args:
        logdir: the directory (created if missing) TensorBoard is pointed at.
        graph: a Graph to write at once (``sess.graph``), as ``add_graph`` does, or a
            GraphDef (``sess.graph_def``, TF1's older form).
        max_queue: events held before the writer thread must catch up.
        flush_secs: how often pending events are flushed to disk.
        graph_def: a GraphDef (graphc's or TensorBoard's protobuf) to write instead.
        filename_suffix: appended to the event file's name.

    Example:
        >>> with gc.summary.FileWriter("/tmp/logs", sess.graph) as writer:
        ...     for step in range(100):
        ...         summary, _ = sess.run([merged, train_op], feed)
        ...         writer.add_summary(summary, step)
    """

    def __init__(self, logdir, graph=None, max_queue=10, flush_secs=120, graph_def=None,
                 filename_suffix=None):
        pb = protos()
        self._logdir = str(logdir)
        self._options = (max_queue, flush_secs, filename_suffix or "")
        self._writer = pb.EventFileWriter(self._logdir, *self._options)
        self._seen_tags: set = set()
        self._closed = False
        _OPEN_WRITERS.add(self)
        if isinstance(graph, (GraphDef, pb.GraphDef)):  # TF1 took a GraphDef there too
            graph, graph_def = None, graph
        if graph is not None or graph_def is not None:
            self.add_graph(graph, graph_def=graph_def)

    def get_logdir(self) -> str:
        """The directory the event file is in."""
        return self._logdir

    def add_event(self, event) -> None:
        """Write an ``Event`` protobuf as it is (dropped once the writer is closed)."""
        if not self._closed:
            self._writer.add_event(event)

    def _add(self, event, global_step) -> None:
        event.wall_time = time.time()
        if global_step is not None:
            event.step = int(global_step)
        self.add_event(event)

    def add_summary(self, summary, global_step=None) -> None:
        """Write the value of a summary op (``sess.run(merged)``) or a ``Summary`` protobuf
        at step ``global_step``.

        Raises:
            TypeError: ``summary`` is neither.
        """
        summary = _summary_proto(summary)
        for value in summary.value:
            if not value.HasField("metadata"):
                continue
            if value.tag in self._seen_tags:
                value.ClearField("metadata")  # stored once, with the tag's first value
            else:
                self._seen_tags.add(value.tag)
        self._add(protos().Event(summary=summary), global_step)

    def add_graph(self, graph, global_step=None, graph_def=None) -> None:
        """Write ``graph`` (or ``graph_def``: graphc's ``graph.as_graph_def()`` or a protobuf)
        for TensorBoard's graph tab.

        Raises:
            ValueError: neither or both are given.
            TypeError: what is given is no Graph or GraphDef.
        """
        if graph is not None and graph_def is not None:
            raise ValueError("add_graph takes a graph or a graph_def, not both")
        graph_def = graph if graph is not None else graph_def
        if graph_def is None:
            raise ValueError("add_graph needs a graph (e.g. sess.graph) or a graph_def")
        if isinstance(graph_def, (Graph, GraphDef)):
            graph_def = to_graph_def(graph_def)
        elif not isinstance(graph_def, protos().GraphDef):
            raise TypeError(f"add_graph takes a gc.Graph (e.g. sess.graph) or a GraphDef, got "
                            f"{type(graph_def).__name__}")
        self._add(protos().Event(graph_def=graph_def.SerializeToString()), global_step)

    def add_session_log(self, session_log, global_step=None) -> None:
        """Write a ``SessionLog`` (START, STOP, CHECKPOINT) event."""
        self._add(protos().Event(session_log=session_log), global_step)

    def add_run_metadata(self, run_metadata, tag, global_step=None) -> None:
        """Write a tagged run's metadata; graphc traces no step statistics, so what is
        written is an empty ``RunMetadata`` unless a protobuf is given."""
        serialize = getattr(run_metadata, "SerializeToString", None)
        data = serialize() if callable(serialize) else b""
        self._add(protos().Event(tagged_run_metadata=protos().TaggedRunMetadata(
            tag=tag, run_metadata=data)), global_step)

    def flush(self) -> None:
        """Wait until every event added so far is on disk."""
        if not self._closed:
            self._writer.flush()

    def close(self) -> None:
        """Flush and close the file; later events are dropped until ``reopen``."""
        if not self._closed:
            self._writer.close()
            self._closed = True
            _OPEN_WRITERS.discard(self)

    def reopen(self) -> None:
        """After ``close``: write later events into a new event file in the same logdir."""
        if self._closed:
            self._writer = protos().EventFileWriter(self._logdir, *self._options)
            self._closed = False
            _OPEN_WRITERS.add(self)

    def __enter__(self) -> "FileWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class FileWriterCache:
    """One FileWriter per logdir, shared by whoever asks (TF1 ``FileWriterCache``).

    Example:
        >>> writer = gc.summary.FileWriterCache.get("/tmp/logs")
    """

    _writers: dict = {}
    _lock = threading.Lock()

    @staticmethod
    def get(logdir) -> FileWriter:
        """The logdir's writer, made with the default graph the first time."""
        with FileWriterCache._lock:
            writer = FileWriterCache._writers.get(str(logdir))
            if writer is None:
                writer = FileWriterCache._writers[str(logdir)] = FileWriter(
                    logdir, graph=get_default_graph())
            return writer

    @staticmethod
    def clear() -> None:
        """Close and forget every cached writer."""
        with FileWriterCache._lock:
            for writer in FileWriterCache._writers.values():
                writer.close()
            FileWriterCache._writers.clear()


def summary_iterator(path):
    """The ``Event`` protobufs of one event file, in order and as written (TF1
    ``tf.train.summary_iterator``; TensorBoard's own loader without its migration of old
    summaries to tensors).

    Example:
        >>> steps = [e.step for e in summary_iterator(path) if e.HasField("summary")]
    """
    protos()
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader
    yield from LegacyEventFileLoader(str(path)).Load()
