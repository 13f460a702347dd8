"""``gc.losses``: TF1's ``tf.losses`` namespace.

Here so far: the regularization penalties that ``get_variable`` (or a ``variable_scope``)
with a ``regularizer`` collects in ``GraphKeys.REGULARIZATION_LOSSES``. The loss functions
(``mean_squared_error``, ``softmax_cross_entropy``, ...) are to come with issue 11, §4.

Example:
    >>> W = gc.get_variable("W", [4, 2], regularizer=gc.contrib.layers.l2_regularizer(0.1))
    >>> loss = data_loss + gc.losses.get_regularization_loss()
"""
from __future__ import annotations

from typing import Optional

from graphc.ops.creation import constant
from graphc.ops.elementwise import add_n
from graphc.variables import GraphKeys, get_collection

__all__ = ["get_regularization_losses", "get_regularization_loss"]


def get_regularization_losses(scope: Optional[str] = None) -> list:
    """The tensors of ``REGULARIZATION_LOSSES`` (those whose name the regex ``scope``
    matches from the start, if given).

    Example:
        >>> gc.losses.get_regularization_losses(scope="encoder")
    """
    return get_collection(GraphKeys.REGULARIZATION_LOSSES, scope)


def get_regularization_loss(scope: Optional[str] = None, name: str = "total_regularization_loss"):
    """The sum of ``get_regularization_losses(scope)``, or a constant 0.0 when there are none.

    Example:
        >>> total = gc.losses.get_regularization_loss()
    """
    losses = get_regularization_losses(scope)
    if losses:
        return add_n(losses, name=name)
    return constant(0.0)
