"""TF1's deprecated names that TF1 programs still use, on top of the current functions.

``tf.div`` keeps Python 2's division (integers divide to their floor, floats truly);
``tf.arg_max``/``tf.arg_min`` take ``dimension``; the others are plain renames.

Example:
    >>> q = gc.div(gc.constant([7, -7]), 2)          # [3, -4], like Python 2's 7 / 2
    >>> i = gc.arg_max(logits, 1)
"""
from graphc.convert import convert_to_tensor, graph_of, numpy_value
from graphc.dtypes import as_dtype, float64, int64
from graphc.graph import Tensor
from graphc.ops.elementwise import divide, floordiv
from graphc.ops.reduce import argmax, argmin
from graphc.ops.select import cast
from graphc.variables import global_variables, variables_initializer

__all__ = ["div", "arg_max", "arg_min", "to_double", "initialize_variables"]


def div(x, y, name=None):
    """``x / y`` with Python 2 semantics (TF1 ``tf.div``): floor division when both are
    integers, true division otherwise."""
    tensors = [v for v in (x, y) if isinstance(v, Tensor) or hasattr(v, "_as_graph_element")]
    graph = graph_of(x, y)
    with graph.as_default():
        dtype = convert_to_tensor(tensors[0]).dtype if tensors else \
            as_dtype(numpy_value(x).dtype)
    return (floordiv if dtype.is_integer else divide)(x, y, name=name or "div")


def arg_max(input, dimension, output_type=int64, name=None):  # noqa: A002 - TF1 names
    """The index of the largest value along ``dimension`` (TF1 ``tf.arg_max``)."""
    return argmax(input, axis=dimension, output_type=output_type, name=name)


def arg_min(input, dimension, output_type=int64, name=None):  # noqa: A002
    """The index of the smallest value along ``dimension`` (TF1 ``tf.arg_min``)."""
    return argmin(input, axis=dimension, output_type=output_type, name=name)


def to_double(x, name="ToDouble"):
    """``cast(x, float64)`` (TF1 ``tf.to_double``)."""
    return cast(x, float64, name=name)


def initialize_variables(var_list, name="init"):
    """``variables_initializer(var_list)`` (TF1's older name)."""
    return variables_initializer(var_list, name=name)
