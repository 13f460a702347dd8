"""Switching eager execution on: for the whole program or inside a ``with`` block.

There is one eager graph per process (its variables and random streams live in one
``EagerState``); ``gc.eager()`` makes it the default graph of the block, and
``gc.enable_eager_execution()`` makes it the global default graph, as TF1's switch did.
"""
from __future__ import annotations

from graphc import graph as graph_module
from graphc.compat import executing_eagerly  # noqa: F401 - the one definition

from .core import EagerGraph, EagerState

__all__ = ["eager", "enable_eager_execution", "executing_eagerly", "eager_graph"]

_EAGER = EagerGraph(EagerState())


def eager_graph() -> EagerGraph:
    """The process's eager graph."""
    return _EAGER


def eager():
    """A ``with`` block in which ops run as they are built.

    Example:
        >>> with gc.eager():
        ...     print(gc.constant(2.0) * 3.0)
        <gc.Tensor 'multiply:0': shape=(), dtype=float32, numpy=6.0>
    """
    return _EAGER.as_default()


def enable_eager_execution(config=None, device_policy=None, execution_mode=None) -> None:
    """Run ops eagerly from now on, in the whole program (TF1's switch; call it first).

    Raises:
        ValueError: ops were already built in the default graph (they could not run).
    """
    if graph_module._THREAD.stack:
        raise ValueError("enable_eager_execution() must be called at program startup, "
                         "outside any graph.as_default() block")
    current = graph_module._GLOBAL_DEFAULT[0]
    if current is not _EAGER and len(current):
        raise ValueError(f"enable_eager_execution() must be called at program startup: the "
                         f"default graph already has {len(current)} ops")
    graph_module._GLOBAL_DEFAULT[0] = _EAGER  # the slot reset_default_graph() replaces


