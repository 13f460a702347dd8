"""TF1 fetch structures: any nesting of lists, tuples, namedtuples and dicts around graph
elements (tensors, operations, variables or their names), flattened and rebuilt."""
from __future__ import annotations

from typing import Any, Callable

from graphc.graph import Graph, Operation, Tensor

__all__ = ["FetchStructure"]


class FetchStructure:
    """Flattens ``fetches`` into unique graph elements and rebuilds results in their shape.

    Example:
        >>> s = FetchStructure(g, {"p": probs, "l": [logits, (W,)]})
        >>> s.rebuild({probs: 1, logits: 2, W_read: 3})
        {'p': 1, 'l': [2, (3,)]}
    """

    def __init__(self, graph: Graph, fetches: Any):
        self.elements: list = []
        self._seen: set = set()
        self._build: Callable = self._flatten(graph, fetches)

    def _element(self, graph: Graph, fetch):
        try:
            element = graph.as_graph_element(fetch)
        except (TypeError, KeyError, ValueError) as err:
            raise type(err)(f"Fetch argument {fetch!r} cannot be interpreted as a Tensor or "
                            f"Operation of this Session's graph: {err}") from None
        if element not in self._seen:
            self._seen.add(element)
            self.elements.append(element)
        return element

    def _flatten(self, graph: Graph, fetches) -> Callable:
        if fetches is None:
            raise TypeError("Fetch argument None has invalid type <class 'NoneType'>")
        if isinstance(fetches, dict):
            builders = {k: self._flatten(graph, v) for k, v in fetches.items()}
            kind = type(fetches)
            return lambda values: kind((k, b(values)) for k, b in builders.items())
        components = getattr(fetches, "_fetch_components", None)
        if components is not None:  # a composite (SparseTensor): its parts, then its value
            parts, make_value = components()
            builders = [self._flatten(graph, part) for part in parts]
            return lambda values: make_value(*(b(values) for b in builders))
        if isinstance(fetches, tuple) and hasattr(fetches, "_fields"):
            builders = [self._flatten(graph, v) for v in fetches]
            kind = type(fetches)
            return lambda values: kind(*(b(values) for b in builders))
        if isinstance(fetches, (list, tuple)):
            builders = [self._flatten(graph, v) for v in fetches]
            kind = type(fetches)
            return lambda values: kind(b(values) for b in builders)
        element = self._element(graph, fetches)
        if isinstance(element, Operation):
            return lambda values: None
        return lambda values: values[element]

    @property
    def tensors(self) -> list[Tensor]:
        return [e for e in self.elements if isinstance(e, Tensor)]

    @property
    def operations(self) -> list[Operation]:
        return [e for e in self.elements if isinstance(e, Operation)]

    def rebuild(self, values: dict):
        """The fetch structure with each tensor replaced by ``values[tensor]``."""
        return self._build(values)
