"""Control flow as functional ops holding subgraphs: ``cond``/``case``/``switch_case``,
``while_loop``, and on top ``TensorArray``, ``map_fn``, ``scan``, ``foldl``, ``foldr``.

Example:
    >>> y = gc.cond(x > 0, lambda: x * 2.0, lambda: -x)
    >>> i, s = gc.while_loop(lambda i, s: i < 10, lambda i, s: (i + 1, s + i), [0, 0])
"""
from .cond import case, cond, switch_case
from .functional import foldl, foldr, map_fn, scan
from .subgraph import BodyGraph, Subgraph, register_service, root_graph, subgraphs_of
from .tensor_array import TensorArray
from .while_loop import while_loop

__all__ = ["cond", "case", "switch_case", "while_loop", "TensorArray", "map_fn", "scan",
           "foldl", "foldr", "Subgraph", "BodyGraph", "register_service", "root_graph",
           "subgraphs_of"]
