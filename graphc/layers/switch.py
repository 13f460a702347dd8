"""The training switch of layers: ``training=`` True/False, a bool tensor, or None for the
graph's ``learning_phase()``, one ``placeholder_with_default(False)`` per graph.

Example:
    >>> h = gc.layers.Dropout(0.5)(x)                       # drops only when fed True
    >>> sess.run(train_op, {x: batch, gc.layers.learning_phase(): True})
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor
from graphc.graph import Tensor, get_default_graph
from graphc.ops.control import placeholder_with_default

__all__ = ["learning_phase", "training_switch", "LEARNING_PHASE"]

LEARNING_PHASE = "__learning_phase"  # graph collection holding the switch


def learning_phase(graph=None) -> Tensor:
    """The graph's training switch: a bool ``placeholder_with_default(False)`` that layers
    called with ``training=None`` read (Dropout drops, BatchNormalization uses batch
    statistics and updates its averages only when it is fed True; ``fit`` feeds True).

    Example:
        >>> sess.run(train_op, {x: batch, gc.layers.learning_phase(): True})
    """
    graph = graph or get_default_graph()
    items = graph.get_collection_ref(LEARNING_PHASE)
    if not items:
        with graph.as_default(), graph.name_scope(None), graph.control_dependencies(None):
            items.append(placeholder_with_default(False, shape=[], name="keras_learning_phase"))
    return items[0]


def training_switch(training, graph=None):
    """``training`` as a layer uses it: a Python bool as it is, None as the graph's
    ``learning_phase()``, a bool tensor as it is."""
    if training is None:
        return learning_phase(graph)
    if isinstance(training, (bool, np.bool_)):
        return bool(training)
    tensor = convert_to_tensor(training)
    if tensor.dtype is not gdt.bool or tensor.shape.rank not in (0, None):
        raise TypeError(f"training must be a Python bool or a scalar bool tensor, got "
                        f"{tensor.dtype.name}{tensor.shape} from '{tensor.name}'")
    return tensor
