"""TF1's norm clipping: ``clip_by_norm``, ``clip_by_global_norm``, ``global_norm`` and
``clip_by_average_norm``, composed of registry ops (so their gradients come from those ops).

Example:
    >>> grads, norm = gc.clip_by_global_norm(gc.gradients(loss, tvars), 5.0)
    >>> train_op = opt.apply_gradients(zip(grads, tvars))
"""
from __future__ import annotations

from typing import Optional

from graphc.convert import convert_to_tensor, graph_of
from graphc.ops.array import stack
from graphc.ops.control import identity
from graphc.ops.creation import ones_like
from graphc.ops.elementwise import maximum, minimum, rsqrt, sqrt
from graphc.ops.nn import l2_loss
from graphc.ops.reduce import reduce_sum
from graphc.ops.select import cast, where
from graphc.ops.shape_ops import size

__all__ = ["clip_by_norm", "clip_by_global_norm", "global_norm", "clip_by_average_norm"]


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """``t * clip_norm / max(l2norm(t), clip_norm)``: ``t`` rescaled so that its L2 norm
    (over ``axes``, default all) is at most ``clip_norm``.

    The norm is taken with TF1's two-tap ``where`` so that a zero ``t`` has a finite
    gradient; the gradient flows through the norm, as in TF1.

    Example:
        >>> clipped = gc.clip_by_norm(grad, 1.0)
    """
    graph = graph_of(t, clip_norm)
    with graph.as_default(), graph.atomic(), graph.name_scope(name or "clip_by_norm") as scope:
        values = convert_to_tensor(t, name="t")
        l2sum = reduce_sum(values * values, axes, keepdims=True)
        positive = l2sum > 0
        l2sum_safe = where(positive, l2sum, ones_like(l2sum))
        l2norm = where(positive, sqrt(l2sum_safe), l2sum)
        clip_norm = convert_to_tensor(clip_norm, dtype_hint=values.dtype)
        scaled = values * clip_norm
        if not values.shape.is_compatible_with(scaled.shape):
            raise ValueError(f"clip_by_norm: clip_norm of shape {clip_norm.shape} would "
                             f"broadcast t of shape {values.shape} to {scaled.shape}")
        return identity(scaled / maximum(l2norm, clip_norm), name=scope)


def _tensor_list(t_list, what: str) -> list:
    if isinstance(t_list, str) or not isinstance(t_list, (list, tuple)):
        raise TypeError(f"{what}: t_list should be a sequence (a list or tuple), got "
                        f"{type(t_list).__name__}")
    return [None if t is None else convert_to_tensor(t) for t in t_list]


def global_norm(t_list, name: Optional[str] = None):
    """``sqrt(sum of the squared L2 norms of the tensors of t_list)``; None entries are
    skipped.

    Example:
        >>> norm = gc.global_norm(gc.gradients(loss, tvars))
    """
    values = [t for t in _tensor_list(t_list, "global_norm") if t is not None]
    if not values:
        raise ValueError("global_norm: t_list holds no tensor (every entry is None)")
    graph = graph_of(*values)
    with graph.as_default(), graph.atomic(), graph.name_scope(name or "global_norm") as scope:
        half_squared_norms = [l2_loss(v) for v in values]
        dtypes = {h.dtype for h in half_squared_norms}
        if len(dtypes) > 1:
            raise TypeError(f"global_norm: the tensors have different dtypes "
                            f"{sorted(d.name for d in dtypes)}: {[v.name for v in values]}")
        half_squared_norm = reduce_sum(stack(half_squared_norms))
        return sqrt(half_squared_norm * 2.0, name=scope)


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name: Optional[str] = None):
    """Rescale every tensor of ``t_list`` by ``clip_norm / max(global_norm, clip_norm)``.

    Returns ``(list_clipped, global_norm)``; None entries stay None. ``use_norm`` supplies
    the global norm when it is already computed. An infinite or NaN norm makes every entry
    NaN, as in TF1 (the step is then visibly broken rather than silently skipped).

    Example:
        >>> grads, norm = gc.clip_by_global_norm(gc.gradients(loss, tvars), 5.0)
        >>> train_op = opt.apply_gradients(zip(grads, tvars))
    """
    values = _tensor_list(t_list, "clip_by_global_norm")
    present = [v for v in values if v is not None]
    graph = graph_of(*present, clip_norm, use_norm)
    with graph.as_default(), graph.atomic():
        if use_norm is None:
            use_norm = global_norm(present, name)
        use_norm = convert_to_tensor(use_norm)
        with graph.name_scope(name or "clip_by_global_norm") as scope:
            clip_norm = cast(convert_to_tensor(clip_norm, dtype_hint=use_norm.dtype),
                             use_norm.dtype)
            scale_for_finite = clip_norm * minimum(1.0 / use_norm, 1.0 / clip_norm)
            scale = scale_for_finite + (use_norm - use_norm)  # NaN when the norm is not finite
            base = scope.rstrip("/").rsplit("/", 1)[-1]
            clipped = [None if v is None else identity(v * cast(scale, v.dtype),
                                                        name=f"{base}_{i}")
                       for i, v in enumerate(values)]
    return clipped, use_norm


def clip_by_average_norm(t, clip_norm, name: Optional[str] = None):
    """``t * clip_norm / max(l2norm(t) / size(t), clip_norm)``: clip by the L2 norm per
    element.

    Example:
        >>> clipped = gc.clip_by_average_norm(grad, 0.1)
    """
    graph = graph_of(t, clip_norm)
    with graph.as_default(), graph.atomic(), \
            graph.name_scope(name or "clip_by_average_norm") as scope:
        values = convert_to_tensor(t, name="t")
        n_element = cast(size(values), values.dtype)
        l2norm_inv = rsqrt(reduce_sum(values * values))
        clip_norm = convert_to_tensor(clip_norm, dtype_hint=values.dtype)
        return identity(values * clip_norm * minimum(l2norm_inv * n_element, 1.0 / clip_norm),
                        name=scope)
