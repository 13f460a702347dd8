"""TF1's sparse variable updates: ``gc.scatter_update(ref, indices, updates)`` and the
combining forms, row-wise (``scatter_add``, ``scatter_sub``, ``scatter_mul``,
``scatter_div``, ``scatter_max``, ``scatter_min``) and at index tuples
(``scatter_nd_update``, ``scatter_nd_add``, ``scatter_nd_sub``).

Each returns the variable's new value when run. ``updates`` has shape
``indices.shape + ref.shape[1:]`` (row forms; a scalar is broadcast) or
``indices.shape[:-1] + ref.shape[indices.shape[-1]:]`` (nd forms).

Example:
    >>> table = gc.Variable(gc.zeros([5, 2]))
    >>> bump = gc.scatter_add(table, [0, 3, 0], gc.ones([3, 2]))   # rows 0 (twice) and 3
"""
from __future__ import annotations

from graphc.convert import convert_to_tensor, reads_variables_here
from graphc.graph import get_default_graph
from graphc.ops import state_scatter
from graphc.variables import _handle_of

__all__ = list(state_scatter.SCATTER_COMBINE) + list(state_scatter.SCATTER_ND_COMBINE)


def _scatter(op_type, ref, indices, updates, use_locking, name):
    handle = _handle_of(ref)
    graph = get_default_graph() if reads_variables_here() else handle.graph
    with graph.as_default(), graph.atomic():
        indices = convert_to_tensor(indices)
        updates = convert_to_tensor(updates, dtype_hint=handle.dtype)
        # use_locking has no meaning here: a run's writes are committed together
        return graph.create_op(op_type, [handle, indices, updates], {},
                               name=name or _camel(op_type)).outputs[0]


def _camel(op_type: str) -> str:  # TF1's op names: ScatterAdd, ScatterNdUpdate
    return "".join(part.title() for part in op_type.split("_"))


def _public(op_type: str, what: str):
    def build(ref, indices, updates, use_locking=True, name=None):
        return _scatter(op_type, ref, indices, updates, use_locking, name)
    build.__name__ = build.__qualname__ = op_type
    build.__doc__ = (f"{what} when run (TF1 ``tf.{op_type}``); outputs the variable's new "
                     f"value.\n\n    Example:\n        >>> update = gc.{op_type}(table, "
                     f"indices, updates)\n")
    return build


scatter_update = _public("scatter_update", "``ref[indices] = updates``")
scatter_add = _public("scatter_add", "``ref[indices] += updates`` (repeated indices add up)")
scatter_sub = _public("scatter_sub", "``ref[indices] -= updates`` (repeated indices add up)")
scatter_mul = _public("scatter_mul", "``ref[indices] *= updates``")
scatter_div = _public("scatter_div", "``ref[indices] /= updates`` (integers truncate)")
scatter_max = _public("scatter_max", "``ref[indices] = max(ref[indices], updates)``")
scatter_min = _public("scatter_min", "``ref[indices] = min(ref[indices], updates)``")
scatter_nd_update = _public("scatter_nd_update", "``ref[indices[..., :]] = updates``")
scatter_nd_add = _public("scatter_nd_add", "``ref[indices[..., :]] += updates``")
scatter_nd_sub = _public("scatter_nd_sub", "``ref[indices[..., :]] -= updates``")
