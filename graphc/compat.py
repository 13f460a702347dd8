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
           "dimension_value", "as_bytes", "as_text", "as_str", "enable_v2_behavior",
           "resource_variables_enabled", "control_flow_v2_enabled", "enable_control_flow_v2",
           "disable_control_flow_v2", "executing_eagerly_outside_functions",
           "disable_tensor_equality", "enable_tensor_equality"]

# what the switches that only report were last set to (TF1's defaults: all off)
_SWITCHES = {"resource_variables": False, "control_flow_v2": False}


def disable_eager_execution() -> None:
    """Nothing to do: graphc never executes eagerly (TF2's switch to graph mode)."""


def disable_v2_behavior() -> None:
    """Nothing to do: graphc behaves as TF1 throughout (TF2's switch back to TF1)."""


def enable_resource_variables() -> None:
    """Nothing changes: graphc's variables already read consistently within a run, as
    TF's resource variables do; ``resource_variables_enabled()`` reports the switch."""
    _SWITCHES["resource_variables"] = True


def disable_resource_variables() -> None:
    """Nothing changes (see ``enable_resource_variables``); the switch reads False again."""
    _SWITCHES["resource_variables"] = False


def resource_variables_enabled() -> bool:
    """The switch ``enable_resource_variables`` sets: False by default, as in TF1 (and in
    TF2's ``compat.v1`` after ``disable_v2_behavior``)."""
    return _SWITCHES["resource_variables"]


def enable_control_flow_v2() -> None:
    """Nothing changes: graphc has one control flow (``cond``/``while_loop`` as functional
    ops whose branches and bodies are sub-graphs, differentiable, as TF's v2); the switch
    only reports (``control_flow_v2_enabled``)."""
    _SWITCHES["control_flow_v2"] = True


def disable_control_flow_v2() -> None:
    """Nothing changes (see ``enable_control_flow_v2``); the switch reads False again."""
    _SWITCHES["control_flow_v2"] = False


def control_flow_v2_enabled() -> bool:
    """The switch ``enable_control_flow_v2`` sets: False by default, as in TF1."""
    return _SWITCHES["control_flow_v2"]


def enable_v2_behavior() -> None:
    """TF2's behaviour where graphc has it: ops run eagerly from now on
    (``enable_eager_execution``: call it at program startup) and both switches read True.
    graphc's TensorShape, variables and control flow are the same either way.

    Example:
        >>> tf.compat.v1.enable_v2_behavior()   # first thing in the program
    """
    # imported when called: graphc.eager imports the facade, whose __init__ imports this module
    from graphc.eager import enable_eager_execution
    enable_eager_execution()
    enable_resource_variables()
    enable_control_flow_v2()


def executing_eagerly_outside_functions() -> bool:
    """Whether ops built outside a traced function run at once: graphc traces functions in
    graphs of their own, so this is ``executing_eagerly()`` of the default graph."""
    return executing_eagerly()


def disable_tensor_equality() -> None:
    """Nothing to do: ``==`` on tensors compares identity and tensors hash, TF1's rule."""


def enable_tensor_equality() -> None:
    """TF2's elementwise ``==`` on tensors is not provided (graphc keeps TF1's identity
    comparison, which graph code uses as dict keys): raises NotImplementedError."""
    raise NotImplementedError("enable_tensor_equality: graphc's tensors compare by identity, "
                              "as in TF1; use tf.equal(x, y) for an elementwise comparison")


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
