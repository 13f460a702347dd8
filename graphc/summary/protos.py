"""The TensorBoard protocol buffers graphc writes, imported when first needed.

They come from the ``tensorboard`` package (``tensorboard.compat.proto``: TensorBoard's own
copies of TF's ``Event``, ``Summary``, ``GraphDef``...), installed by graphc's optional
``tensorboard`` extra. graphc imports without it; building a summary op or a FileWriter
without it raises an ImportError that says how to install it.
"""
from __future__ import annotations

import functools
import types

__all__ = ["protos", "INSTALL_HINT"]

INSTALL_HINT = ("TensorBoard summaries need the 'tensorboard' package: "
                "pip install 'graphc[tensorboard]' (or pip install tensorboard)")


@functools.lru_cache(maxsize=None)
def protos() -> types.SimpleNamespace:
    """The protobuf modules and helpers of the tensorboard package, as one namespace.

    Raises:
        ImportError: tensorboard is not installed (the message names the extra).

    Example:
        >>> pb = protos()
        >>> pb.Summary(value=[pb.Summary.Value(tag="loss", simple_value=0.5)])
    """
    try:
        from tensorboard.compat.proto import (attr_value_pb2, event_pb2, graph_pb2,
                                              node_def_pb2, summary_pb2, tensor_shape_pb2,
                                              types_pb2)
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
        from tensorboard.util import tensor_util
    except ImportError as err:
        raise ImportError(f"{INSTALL_HINT} ({err})") from err
    return types.SimpleNamespace(
        Summary=summary_pb2.Summary, SummaryMetadata=summary_pb2.SummaryMetadata,
        HistogramProto=summary_pb2.HistogramProto, Event=event_pb2.Event,
        SessionLog=event_pb2.SessionLog, TaggedRunMetadata=event_pb2.TaggedRunMetadata,
        GraphDef=graph_pb2.GraphDef, NodeDef=node_def_pb2.NodeDef,
        AttrValue=attr_value_pb2.AttrValue, TensorShapeProto=tensor_shape_pb2.TensorShapeProto,
        types=types_pb2, make_tensor_proto=tensor_util.make_tensor_proto,
        EventFileWriter=EventFileWriter)
