"""Validating ``feed_dict``: keys must be tensors of this graph; values must convert to the
tensor's dtype without loss and match its static shape."""
from __future__ import annotations

import numpy as np

from graphc.convert import numpy_value
from graphc.graph import Graph, Tensor

__all__ = ["prepare_feeds"]


def _feed_key(graph: Graph, key) -> Tensor:
    try:
        tensor = graph.as_graph_element(key, allow_tensor=True, allow_operation=False)
    except (TypeError, KeyError) as err:
        raise TypeError(f"Cannot interpret feed_dict key {key!r} as a Tensor of this "
                        f"Session's graph: {err}") from None
    except ValueError as err:
        raise ValueError(f"Cannot feed {key!r}: {err}") from None
    if tensor.op.type == "variable":
        raise ValueError(f"Tensor {tensor.name!r} is a variable handle and cannot be fed; "
                         "feed the Variable itself (its read value) instead")
    return tensor


def _component_feeds(feed_dict):
    """The items of ``feed_dict``, a composite key (a SparseTensor fed a SparseTensorValue)
    split into a feed per component tensor."""
    for key, value in (feed_dict or {}).items():
        split = getattr(key, "_feed_components", None)
        if split is None:
            yield key, value
        else:
            yield from split(value)


def prepare_feeds(graph: Graph, feed_dict) -> dict:
    """``{tensor: array}`` checked against each tensor's dtype and static shape.

    Raises:
        TypeError: a key is not a tensor of this graph, or a value cannot be converted
            to the tensor's dtype without losing information.
        ValueError: a value's shape does not match the tensor's static shape.
    """
    feeds: dict = {}
    for key, value in _component_feeds(feed_dict):
        tensor = _feed_key(graph, key)
        if isinstance(value, Tensor) or hasattr(value, "_as_graph_element"):
            raise TypeError(f"The value of a feed cannot be a gc.Tensor object ({value!r}, fed "
                            f"for '{tensor.name}'). Acceptable feed values include Python "
                            "scalars, lists and NumPy arrays.")
        array = numpy_value(value, tensor.dtype,
                            context=f"Cannot feed value for tensor '{tensor.name}' "
                                    f"({tensor.dtype.name}, shape {tensor.shape}): ")
        if not tensor.shape.is_compatible_with(array.shape):
            raise ValueError(f"Cannot feed value of shape {tuple(array.shape)} for Tensor "
                             f"'{tensor.name}', which has shape {tensor.shape}")
        if isinstance(array, np.ndarray) and array.flags.writeable:
            array = array.view()
            array.flags.writeable = False  # kernels may keep references; the caller keeps its own
        feeds[tensor] = array
    return feeds
