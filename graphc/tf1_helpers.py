"""More TF1 functions that are compositions of graphc ops (no op of their own):
``tf.histogram_fixed_width_bins``, ``tf.linalg.cross`` and ``tf.add_check_numerics_ops``.

Example:
    >>> gc.histogram_fixed_width_bins([-1.0, 0.0, 1.5, 2.0, 5.0, 15], [0.0, 5.0], nbins=5)
    ...                                                      # [0, 0, 1, 2, 4, 4]
    >>> gc.linalg.cross([1.0, 0.0, 0.0], [0.0, 1.0, 0.0])   # [0, 0, 1]
"""
from __future__ import annotations

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor, graph_of
from graphc.graph import get_default_graph
from graphc.ops.array import stack
from graphc.ops.control import check_numerics, group
from graphc.ops.elementwise import floor, subtract
from graphc.ops.select import cast, clip_by_value
from graphc.ops.shape_ops import reshape, shape as shape_of

__all__ = ["histogram_fixed_width_bins", "cross", "add_check_numerics_ops"]


def histogram_fixed_width_bins(values, value_range, nbins=100, dtype=gdt.int32, name=None):
    """The bin index of each of ``values`` among ``nbins`` equal bins over ``value_range``
    ([low, high]); values below or above go to the first or last bin (TF1
    ``tf.histogram_fixed_width_bins``; the same shape as ``values``).

    Example:
        >>> bins = gc.histogram_fixed_width_bins(ages, [0.0, 100.0], nbins=10)
    """
    graph = graph_of(values, value_range)
    with graph.as_default(), graph.atomic(), graph.name_scope(name or "histogram_fixed_width"):
        values = convert_to_tensor(values, dtype_hint=gdt.float32)
        value_range = convert_to_tensor(value_range, dtype=values.dtype)
        count = float(nbins)
        flat = reshape(values, [-1])
        scaled = (flat - value_range[0]) / (value_range[1] - value_range[0])
        indices = clip_by_value(floor(scaled * count), 0.0, count - 1.0)
        return reshape(cast(indices, dtype), shape_of(values))


def cross(a, b, name=None):
    """The cross product of the 3-vectors along the last axis of ``a`` and ``b`` (TF1
    ``tf.cross`` / ``tf.linalg.cross``), differentiable in both.

    Example:
        >>> normal = gc.linalg.cross(edge_u, edge_v)      # [..., 3]
    """
    graph = graph_of(a, b)
    with graph.as_default(), graph.atomic(), graph.name_scope(name or "Cross"):
        a, b = convert_to_tensor(a), convert_to_tensor(b)
        for label, t in (("a", a), ("b", b)):
            if t.shape.rank is not None and (t.shape.rank == 0 or
                                             t.shape.dims[-1] not in (None, 3)):
                raise ValueError(f"cross: {label} must have 3 components in its last "
                                 f"dimension, got shape {t.shape} ({t.name})")
        if a.dtype != b.dtype:
            raise TypeError(f"cross: a and b must have the same dtype, got {a.dtype.name} and "
                            f"{b.dtype.name}")
        (a0, a1, a2), (b0, b1, b2) = ([t[..., i] for i in range(3)] for t in (a, b))
        return stack([subtract(a1 * b2, a2 * b1), subtract(a2 * b0, a0 * b2),
                      subtract(a0 * b1, a1 * b0)], axis=-1)


def add_check_numerics_ops():
    """A check (``check_numerics``) on every floating-point output of the default graph's
    ops, each running after the checks of its op's inputs, grouped into one op: running it
    fails at the first tensor holding NaN or Inf, naming it (TF1
    ``tf.add_check_numerics_ops``). Ops added later are not checked.

    Example:
        >>> checks = gc.add_check_numerics_ops()
        >>> sess.run([train_op, checks], feed_dict=feeds)
    """
    graph = get_default_graph()
    checks_of: dict = {}
    with graph.atomic():
        for op in list(graph.get_operations()):
            before = [checks_of[t] for t in op.inputs if t in checks_of]
            for output in op.outputs:
                if output.dtype.is_floating:
                    with graph.control_dependencies(before):
                        checks_of[output] = check_numerics(
                            output, f"{op.name}:{output.value_index} : {op.name}").op
        return group(*checks_of.values(), name="CheckNumerics") if checks_of else group()
