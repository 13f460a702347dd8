"""Graphs and tensors as files (core): the checksummed container, the attribute codec and
``GraphDef``. Loading into graphs, meta graphs and checkpoints are in ``graphc.saving``.

The file formats are specified in docs/formats.md.
"""
from graphc.serialization.container import FORMAT_VERSION  # noqa: F401
from graphc.serialization.graph_def import GraphDef, NodeDef  # noqa: F401
