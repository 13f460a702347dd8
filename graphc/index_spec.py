"""The ``spec`` attribute of ``strided_slice`` ops: how ``tensor[...]`` is stored in a graph.

A spec is a tuple with one item per index: an int, ``None`` (newaxis), ``Ellipsis``, or
``("s", start, stop, step)`` for a slice. It lives below the op families because the IR reads
it too (``static_values`` knows ``shape(x)[i]`` when x's dim i is known).
"""
from __future__ import annotations

__all__ = ["spec_to_index"]


def spec_to_index(spec) -> tuple:
    """The NumPy index a spec stands for.

    Example:
        >>> spec_to_index((1, ("s", None, None, 2), None))
        (1, slice(None, None, 2), None)
    """
    return tuple(slice(item[1], item[2], item[3]) if isinstance(item, tuple) else item
                 for item in spec)
