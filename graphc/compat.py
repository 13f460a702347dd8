"""``gc.compat``: ``gc.compat.v1`` is graphc itself, so TF2-era v1 scripts read unchanged,
plus the behaviour switches those scripts call first and TF's ``tf.compat`` helpers.

graphc always has TF1's behaviour (graphs, sessions, variables read through snapshots), so
the switches have nothing to switch: they exist so that ``tf.disable_v2_behavior()`` and its
kind run. Eager execution is opt-in (``gc.eager()``, ``gc.enable_eager_execution()``).

Example:
    >>> import graphc as tf
    >>> tf.compat.v1.disable_eager_execution()
    >>> x = tf.compat.v1.placeholder(tf.float32, [None, 3])
"""
import graphc as v1  # noqa: F401
from graphc.graph import get_default_graph

__all__ = ["v1", "disable_eager_execution", "disable_v2_behavior", "enable_resource_variables",
           "disable_resource_variables", "disable_v2_tensorshape", "executing_eagerly",
           "dimension_value", "as_bytes", "as_text", "as_str"]


def disable_eager_execution() -> None:
    """Nothing to do: graphc never executes eagerly (TF2's switch to graph mode)."""


def disable_v2_behavior() -> None:
    """Nothing to do: graphc behaves as TF1 throughout (TF2's switch back to TF1)."""


def enable_resource_variables() -> None:
    """Nothing to do: graphc's variables already read consistently within a run."""


def disable_resource_variables() -> None:
    """Nothing to do (see ``enable_resource_variables``)."""


def disable_v2_tensorshape() -> None:
    """Nothing to do: ``TensorShape`` dims are ints or None, as in TF2 (TF1's ``Dimension``
    objects, ``shape[i].value``, are not provided)."""


def executing_eagerly() -> bool:
    """Whether ops built now run at once (inside ``gc.eager()`` or after
    ``gc.enable_eager_execution()``); False in graph mode, TF1's default."""
    return bool(getattr(get_default_graph(), "executes_eagerly", False))


def dimension_value(dimension):
    """The int (or None) of a shape dim, whatever TF version's type it has."""
    return getattr(dimension, "value", dimension)


def as_bytes(text, encoding: str = "utf-8") -> bytes:
    """``text`` as bytes (TF's ``tf.compat.as_bytes``)."""
    if isinstance(text, (bytes, bytearray)):
        return bytes(text)
    if isinstance(text, str):
        return text.encode(encoding)
    raise TypeError(f"Expected binary or unicode string, got {text!r}")


def as_text(text, encoding: str = "utf-8") -> str:
    """``text`` as str (TF's ``tf.compat.as_text``)."""
    if isinstance(text, str):
        return text
    if isinstance(text, (bytes, bytearray)):
        return bytes(text).decode(encoding)
    raise TypeError(f"Expected binary or unicode string, got {text!r}")


as_str = as_text
