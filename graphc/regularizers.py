"""Regularizers: functions from a weight to a scalar penalty tensor (or None: no penalty).

Two families, as in TF1. ``tf.contrib.layers``' ``l1_regularizer(scale)`` (``scale *
sum|w|``), ``l2_regularizer(scale)`` (``scale * sum(w**2) / 2``, i.e. ``nn.l2_loss``),
``l1_l2_regularizer`` and ``sum_regularizer``; and Keras' ``L1L2`` objects (``l1(l)``,
``l2(l)``, ``l1_l2(l1, l2)``) whose L2 term has no 1/2. Given to ``get_variable`` or a
``variable_scope``, a regularizer's penalty goes into ``GraphKeys.REGULARIZATION_LOSSES``,
which ``gc.losses.get_regularization_loss()`` sums.

Example:
    >>> with gc.variable_scope("fc", regularizer=gc.contrib.layers.l2_regularizer(1e-4)):
    ...     W = gc.get_variable("W", [784, 10])     # adds fc/W/Regularizer/l2_regularizer
    >>> total = gc.losses.get_regularization_loss()
"""
from __future__ import annotations

import numbers

from graphc.convert import convert_to_tensor, graph_of
from graphc.ops.creation import constant
from graphc.ops.elementwise import abs as abs_, add, add_n, multiply, square
from graphc.ops.nn import l2_loss
from graphc.ops.reduce import reduce_sum
from graphc.variables import GraphKeys

__all__ = ["l1_regularizer", "l2_regularizer", "l1_l2_regularizer", "sum_regularizer",
           "apply_regularization", "Regularizer", "L1L2", "L1", "L2", "l1", "l2", "l1_l2"]


def _check_scale(scale, what: str = "scale") -> bool:
    """TF1's checks; True when the scale is a number equal to 0 (the regularizer is off)."""
    if isinstance(scale, numbers.Integral):
        raise ValueError(f"{what} cannot be an integer: {scale}")
    if isinstance(scale, numbers.Real):
        if scale < 0.0:
            raise ValueError(f"Setting a {what} less than 0 on a regularizer: {scale}")
        return scale == 0.0
    return False


def _scaled(kind, scale, penalty, scope):
    """A regularizer ``weights -> scale * penalty(weights)`` named ``<scope or kind>``."""
    if _check_scale(scale):
        return lambda _: None

    def regularize(weights):
        graph = graph_of(weights)
        with graph.as_default(), graph.atomic(), graph.name_scope(scope or kind) as name:
            weights = convert_to_tensor(weights)
            factor = convert_to_tensor(scale, dtype=weights.dtype, name="scale")
            return multiply(factor, penalty(weights), name=name)
    regularize.__name__ = kind
    return regularize


def l1_regularizer(scale, scope=None):
    """``w -> scale * sum(|w|)`` (TF1 ``tf.contrib.layers.l1_regularizer``); scale 0: off.

    Example:
        >>> penalty = gc.contrib.layers.l1_regularizer(0.01)(W)
    """
    return _scaled("l1_regularizer", scale, lambda w: reduce_sum(abs_(w)), scope)


def l2_regularizer(scale, scope=None):
    """``w -> scale * sum(w**2) / 2`` (TF1 ``tf.contrib.layers.l2_regularizer``).

    Example:
        >>> W = gc.get_variable("W", [10, 5], regularizer=gc.contrib.layers.l2_regularizer(0.1))
    """
    return _scaled("l2_regularizer", scale, l2_loss, scope)


def sum_regularizer(regularizer_list, scope=None):
    """A regularizer adding the penalties of ``regularizer_list`` (None entries skipped).

    Example:
        >>> reg = gc.contrib.layers.sum_regularizer([l1_regularizer(0.1), l2_regularizer(0.2)])
    """
    regularizers = [r for r in regularizer_list if r is not None]
    if not regularizers:
        return None

    def regularize(weights):
        graph = graph_of(weights)
        with graph.as_default(), graph.atomic(), \
                graph.name_scope(scope or "sum_regularizer") as name:
            penalties = [p for p in (r(weights) for r in regularizers) if p is not None]
            return add_n(penalties, name=name) if penalties else None
    return regularize


def l1_l2_regularizer(scale_l1=1.0, scale_l2=1.0, scope=None):
    """``w -> scale_l1 * sum|w| + scale_l2 * sum(w**2) / 2``; a zero scale drops its term.

    Example:
        >>> reg = gc.contrib.layers.l1_l2_regularizer(scale_l1=1e-5, scale_l2=1e-4)
    """
    l1_off = _check_scale(scale_l1, "scale_l1")
    l2_off = _check_scale(scale_l2, "scale_l2")
    if l1_off and l2_off:
        return lambda _: None
    if l1_off:
        return l2_regularizer(scale_l2, scope)
    if l2_off:
        return l1_regularizer(scale_l1, scope)
    return sum_regularizer([l1_regularizer(scale_l1), l2_regularizer(scale_l2)], scope=scope)


def apply_regularization(regularizer, weights_list=None):
    """The sum of ``regularizer`` over ``weights_list`` (default: ``GraphKeys.WEIGHTS``),
    also added to ``REGULARIZATION_LOSSES`` (TF1 ``tf.contrib.layers.apply_regularization``).

    Example:
        >>> penalty = gc.contrib.layers.apply_regularization(l2_regularizer(0.1), [W1, W2])
    """
    weights_list = list(weights_list or graph_of().get_collection(GraphKeys.WEIGHTS))
    if not weights_list:
        raise ValueError("apply_regularization: no weights to regularize")
    graph = graph_of(*weights_list)
    with graph.as_default(), graph.atomic(), \
            graph.name_scope("get_regularization_penalty") as name:
        penalties = [regularizer(w) for w in weights_list]
        penalties = [constant(0.0) if p is None else p for p in penalties]
        for weights, penalty in zip(weights_list, penalties):
            if penalty.shape.rank != 0:
                raise ValueError(f"apply_regularization: the regularizer must return a scalar, "
                                 f"got shape {penalty.shape} for '{weights.name}'")
        total = add_n(penalties, name=name)
    graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, total)
    return total


class Regularizer:
    """Keras-style base class: ``regularizer(x) -> scalar tensor``."""

    def __call__(self, x):
        return constant(0.0)

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1L2(Regularizer):
    """``l1 * sum|x| + l2 * sum(x**2)`` (Keras; no 1/2 on the L2 term, unlike contrib).

    Example:
        >>> W = gc.get_variable("W", [10, 5], regularizer=gc.keras.regularizers.l2(0.01))
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x):
        if not self.l1 and not self.l2:
            return constant(0.0)
        x = convert_to_tensor(x)
        terms = []
        if self.l1:
            terms.append(multiply(self.l1, reduce_sum(abs_(x)), name="mul"))
        if self.l2:
            terms.append(multiply(self.l2, reduce_sum(square(x)), name="mul"))
        return terms[0] if len(terms) == 1 else add(terms[0], terms[1])

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l * sum|x|`` (Keras ``L1``)."""

    def __init__(self, l=0.01):  # noqa: E741 - Keras' argument name
        super().__init__(l1=l)

    def get_config(self) -> dict:
        return {"l": self.l1}


class L2(L1L2):
    """``l * sum(x**2)`` (Keras ``L2``)."""

    def __init__(self, l=0.01):  # noqa: E741 - Keras' argument name
        super().__init__(l2=l)

    def get_config(self) -> dict:
        return {"l": self.l2}


def l1(l=0.01):  # noqa: E741 - Keras' argument name
    """``L1L2(l1=l)`` (Keras ``regularizers.l1``)."""
    return L1L2(l1=l)


def l2(l=0.01):  # noqa: E741 - Keras' argument name
    """``L1L2(l2=l)`` (Keras ``regularizers.l2``)."""
    return L1L2(l2=l)


def l1_l2(l1=0.01, l2=0.01):  # noqa: F811 - Keras' argument names shadow the functions
    """``L1L2(l1, l2)`` (Keras ``regularizers.l1_l2``)."""
    return L1L2(l1=l1, l2=l2)
