"""``tf.version`` (and the same names at the top level, TF1's ``tf.VERSION`` ...): which
TensorFlow API graphc follows and which graph format it writes.

- ``VERSION``: TF's release whose ``tf.compat.v1`` names and semantics graphc follows
  (TensorFlow 2.21, whose ``compat.v1.VERSION`` it is); ``GIT_VERSION`` names graphc's own
  release, so a log line tells the two apart.
- ``GRAPH_DEF_VERSION``: the format version of the graphs graphc writes
  (``Graph.as_graph_def().versions``, graphc.serialization.container); the
  ``MIN_CONSUMER``/``MIN_PRODUCER`` pair: the oldest format a graphc that reads this one
  must understand, and the oldest it reads.
- ``COMPILER_VERSION``: the compiler of the Python running graphc (graphc has no C++
  library of its own); ``CXX11_ABI_FLAG``, ``CXX_VERSION`` and ``MONOLITHIC_BUILD`` are
  TF 2.21's values, for build scripts of custom ops that read them.

Example:
    >>> import graphc as tf
    >>> tf.VERSION, tf.version.VERSION
    ('2.21.0', '2.21.0')
"""
from __future__ import annotations

import platform

from graphc.serialization.container import FORMAT_VERSION

__all__ = ["VERSION", "GIT_VERSION", "COMPILER_VERSION", "GRAPH_DEF_VERSION",
           "GRAPH_DEF_VERSION_MIN_CONSUMER", "GRAPH_DEF_VERSION_MIN_PRODUCER",
           "CXX11_ABI_FLAG", "CXX_VERSION", "MONOLITHIC_BUILD", "GRAPHC_VERSION"]

GRAPHC_VERSION = "0.1.0"  # graphc.__version__
VERSION = "2.21.0"
GIT_VERSION = f"graphc-v{GRAPHC_VERSION}"
COMPILER_VERSION = platform.python_compiler()
GRAPH_DEF_VERSION = FORMAT_VERSION
GRAPH_DEF_VERSION_MIN_CONSUMER = 1
GRAPH_DEF_VERSION_MIN_PRODUCER = 1
CXX11_ABI_FLAG = 1
CXX_VERSION = 201703
MONOLITHIC_BUILD = 0
