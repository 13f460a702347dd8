"""TF1's ``tf.nn.crelu``: a composition of concat and relu."""
from __future__ import annotations

from graphc.convert import convert_to_tensor, graph_of
from graphc.graph import Tensor
from graphc.ops.array import concat
from graphc.ops.elementwise import negative, relu

__all__ = ["crelu"]


def crelu(features, name=None, axis=-1) -> Tensor:
    """Concatenated ReLU: ``relu(concat([features, -features], axis))``.

    Example:
        >>> gc.nn.crelu([-1.0, 2.0])   # [0., 2., 1., 0.]
    """
    graph = graph_of(features)
    with graph.as_default(), graph.name_scope(name or "CRelu"):
        features = convert_to_tensor(features, name="features")
        return relu(concat([features, negative(features)], axis))
