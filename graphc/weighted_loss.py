"""TF1's loss reduction: ``tf.losses.Reduction``, ``compute_weighted_loss`` and ``add_loss``.

Every ``gc.losses`` function computes elementwise losses and hands them here, as TF1's
``losses_impl.py`` does: losses and weights are cast to float32, multiplied, reduced as the
``Reduction`` says (dividing safely: 0 when there is nothing to divide by), cast back to the
losses' dtype and added to ``loss_collection``.

Example:
    >>> per_example = gc.square(pred - y)                       # shape [batch, 1]
    >>> loss = gc.losses.compute_weighted_loss(per_example, weights=mask)
    >>> gc.losses.get_losses() == [loss]
    True
"""
from __future__ import annotations

from contextlib import nullcontext

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor, graph_of
from graphc.ops.creation import ones_like, zeros_like
from graphc.ops.debug import Assert
from graphc.ops.elementwise import divide, equal, logical_or, multiply
from graphc.ops.reduce import reduce_all, reduce_sum
from graphc.ops.select import cast, where
from graphc.ops.shape_ops import shape, size
from graphc.variables import GraphKeys

__all__ = ["Reduction", "compute_weighted_loss", "add_loss"]


class Reduction:
    """How ``compute_weighted_loss`` reduces weighted losses (TF1's values).

    - ``NONE``: the weighted losses, unreduced (the losses' shape).
    - ``SUM``: their sum.
    - ``MEAN``: the sum divided by the sum of the weights (broadcast to the losses).
    - ``SUM_OVER_BATCH_SIZE``: the sum divided by the number of elements of the losses.
    - ``SUM_BY_NONZERO_WEIGHTS`` (the default), alias ``SUM_OVER_NONZERO_WEIGHTS``: the sum
      divided by the number of losses whose (broadcast) weight is not 0.

    Example:
        >>> gc.losses.mean_squared_error(y, pred, reduction=gc.losses.Reduction.SUM)
    """

    NONE = "none"
    SUM = "weighted_sum"
    MEAN = "weighted_mean"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls) -> tuple:
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE,
                cls.SUM_OVER_NONZERO_WEIGHTS, cls.SUM_BY_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key) -> None:
        if key not in cls.all():
            raise ValueError(f"Invalid Reduction Key {key}.")


def add_loss(loss, loss_collection=GraphKeys.LOSSES) -> None:
    """Add ``loss`` to ``loss_collection`` (nothing when the collection is None or "").

    Example:
        >>> gc.losses.add_loss(custom_loss)
        >>> total = gc.losses.get_total_loss()
    """
    if loss_collection:
        graph_of(loss).add_to_collection(loss_collection, loss)


def to_float32(x):
    """``x`` as float32: itself when it is already (TF1's ``cast`` adds no op then)."""
    x = convert_to_tensor(x, dtype_hint=gdt.float32)
    return x if x.dtype == gdt.float32 else cast(x, gdt.float32)


def check_broadcastable(weights, values):
    """TF1's ``assert_broadcastable``: ``weights`` is a scalar, or has the rank of ``values``
    with every dimension 1 or equal to that of ``values``. Checked when the graph is built
    (a ValueError) where the shapes decide it, otherwise by the returned ``Assert`` op (None
    when nothing is left to check at run time), which the loss then depends on."""
    w, v = weights.shape, values.shape
    if w.rank is None or v.rank is None or w.rank == 0:
        return None
    if w.rank != v.rank:
        raise ValueError(f"weights can not be broadcast to values. values.rank={v.rank}. "
                         f"weights.rank={w.rank}. values.shape={v}. weights.shape={w}.")
    for i, (dw, dv) in enumerate(zip(w.dims, v.dims)):
        if dw is not None and dv is not None and dw not in (1, dv):
            raise ValueError(f"weights can not be broadcast to values. Mismatch at dim {i}. "
                             f"values.shape={v} weights.shape={w}.")
    if all(dw == 1 or (dw is not None and dv is not None) for dw, dv in zip(w.dims, v.dims)):
        return None
    weights_shape, values_shape = shape(weights), shape(values)
    fits = reduce_all(logical_or(equal(weights_shape, 1), equal(weights_shape, values_shape)))
    return Assert(fits, ["weights can not be broadcast to values.", "weights.shape=",
                         weights_shape, "values.shape=", values_shape],
                  name="assert_broadcastable")


def after(check):
    """Ops created inside run after ``check`` (an op, or None: no dependency)."""
    return check.graph.control_dependencies([check]) if check is not None else nullcontext()


def div_no_nan(numerator, denominator, name="value"):
    """``numerator / denominator``, 0 where the denominator is 0 (and a 0 gradient there:
    the division never sees a 0, so no NaN reaches the gradient)."""
    is_zero = equal(denominator, 0.0)
    safe = where(is_zero, ones_like(denominator), denominator)
    quotient = divide(numerator, safe)
    return where(is_zero, zeros_like(quotient), quotient, name=name)


def num_present(losses, weights, per_batch: bool = False):
    """The number of losses whose broadcast weight is not 0 (per batch row: summed over every
    axis but the first, kept as size-1 axes)."""
    graph = graph_of(losses, weights)
    with graph.name_scope("num_present") as scope:
        weights = to_float32(weights)
        present = where(equal(weights, 0.0), zeros_like(weights), ones_like(weights))
        if not (present.shape.is_fully_defined() and losses.shape.is_fully_defined()
                and present.shape.is_compatible_with(losses.shape)):
            present = multiply(present, ones_like(losses))  # TF1's broadcast_weights
        if per_batch:
            axes = list(range(1, static_rank(present, "num_present")))
            return reduce_sum(present, axis=axes, keepdims=True, name=scope)
        return reduce_sum(present, name=scope)


def static_rank(tensor, what: str) -> int:
    if tensor.shape.rank is None:
        raise ValueError(f"{what}: the rank of {tensor.name!r} must be known when the graph is "
                         "built")
    return tensor.shape.rank


def _num_elements(losses):
    with graph_of(losses).name_scope("num_elements") as scope:
        return cast(size(losses, name=scope), losses.dtype)


def _reduced(losses, weights, reduction: str):
    """The weighted losses in float32, reduced, in the losses' dtype again."""
    input_dtype = losses.dtype
    losses, weights = to_float32(losses), to_float32(weights)
    loss = multiply(losses, weights)
    if reduction != Reduction.NONE:
        loss = reduce_sum(loss)
        if reduction == Reduction.MEAN:
            loss = div_no_nan(loss, reduce_sum(ones_like(losses) * weights))
        elif reduction == Reduction.SUM_BY_NONZERO_WEIGHTS:
            loss = div_no_nan(loss, num_present(losses, weights))
        elif reduction == Reduction.SUM_OVER_BATCH_SIZE:
            loss = div_no_nan(loss, _num_elements(losses))
    return loss if loss.dtype == input_dtype else cast(loss, input_dtype)


def compute_weighted_loss(losses, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Weight ``losses`` and reduce them as ``reduction`` says; the result (in the dtype of
    ``losses``) is added to ``loss_collection``.

    Args:
        losses: the elementwise losses, shape ``[batch, d1, ... dN]``.
        weights: a scalar, or a tensor of the rank of ``losses`` whose every dimension is 1
            or that of ``losses``.
        scope: name scope of the ops (default "weighted_loss").
        loss_collection: the collection the loss joins (None: none).
        reduction: a ``Reduction`` value.

    Raises:
        ValueError: an unknown reduction, weights of None or weights that cannot broadcast
            to the losses.

    Example:
        >>> loss = gc.losses.compute_weighted_loss(per_pixel, weights=mask,
        ...                                        reduction=gc.losses.Reduction.MEAN)
    """
    Reduction.validate(reduction)
    if weights is None:
        raise ValueError("compute_weighted_loss: weights must not be None (1.0 weighs every "
                         "loss equally)")
    graph = graph_of(losses, weights)
    with graph.as_default(), graph.atomic(), graph.name_scope(scope or "weighted_loss"):
        losses = convert_to_tensor(losses)
        weights = convert_to_tensor(weights, dtype_hint=gdt.float32)
        with after(check_broadcastable(weights, losses)):
            loss = _reduced(losses, weights, reduction)
    add_loss(loss, loss_collection)
    return loss

