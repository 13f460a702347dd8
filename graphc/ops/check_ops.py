"""TF1's ``tf.debugging.assert_*`` family (also ``tf.assert_*``): run-time checks built from
ordinary ops and one ``Assert``.

As in TF1, a condition known when the graph is built is checked then: comparisons of two
constant tensors raise InvalidArgumentError listing the data, a rank or dtype that is
statically wrong raises ValueError or TypeError, and a check that statically holds for its
rank or dtype returns a ``no_op``. Otherwise the returned ``Assert`` op fails the run that
executes it (run it, or put it in ``control_dependencies``) with a message listing ``message``
and the data, and the failed run changes no variable.

Example:
    >>> check = gc.debugging.assert_non_negative(counts, message="counts must be >= 0")
    >>> with gc.control_dependencies([check]):
    ...     total = gc.reduce_sum(counts)
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor, graph_of
from graphc.errors import InvalidArgumentError
from graphc.graph import Tensor
from graphc.ops.control import check_numerics, no_op
from graphc.ops.debug import Assert, static_message
from graphc.ops.elementwise import (abs, add, equal, greater, greater_equal, less, less_equal,
                                    logical_or, multiply, not_equal, subtract)
from graphc.ops.reduce import reduce_all
from graphc.ops.indexing import strided_slice
from graphc.ops.shape_ops import rank as rank_of
from graphc.ops.shape_ops import reshape, shape
from graphc.static_values import constant_value

__all__ = ["assert_equal", "assert_none_equal", "assert_less", "assert_less_equal",
           "assert_greater", "assert_greater_equal", "assert_positive", "assert_negative",
           "assert_non_negative", "assert_non_positive", "assert_near", "assert_rank",
           "assert_rank_at_least", "assert_rank_in", "assert_type", "assert_integer",
           "assert_scalar", "assert_proper_iterable", "assert_all_finite",
           "verify_tensor_all_finite", "is_numeric_tensor", "is_non_decreasing",
           "is_strictly_increasing"]


def _pair(x, y):
    """Both operands as tensors; a Python operand takes the other's dtype (TF1)."""
    if isinstance(y, Tensor) or hasattr(y, "_as_graph_element"):
        y = convert_to_tensor(y, name="y")
        return convert_to_tensor(x, name="x", dtype_hint=y.dtype), y
    x = convert_to_tensor(x, name="x")
    return x, convert_to_tensor(y, name="y", dtype_hint=x.dtype)


def _binary_assert(sym, default_name, build, static, x, y, data, summarize, message, name):
    graph = graph_of(x, y, data or [])
    with graph.as_default(), graph.atomic(), graph.name_scope(name or default_name):
        x, y = _pair(x, y)
        if data is None:
            data = [f"Condition x {sym} y did not hold element-wise:", f"x ({x.name}) = ", x,
                    f"y ({y.name}) = ", y]
        return _compare(build, static, x, y, data, summarize, message)


def _compare(build, static, x, y, data, summarize, message):
    """The Assert that ``build(x, y)`` holds everywhere, or an InvalidArgumentError now
    when both sides are constants for which it does not (TF1)."""
    if message is not None:
        data = [message] + list(data)
    condition = reduce_all(build(x, y))
    x_static, y_static = constant_value(x), constant_value(y)
    if x_static is not None and y_static is not None and not np.all(static(x_static, y_static)):
        raise InvalidArgumentError(None, None, static_message(data))
    return Assert(condition, data, summarize=summarize)


def _binary(sym, default_name, build, static, doc):
    def check(x, y, data=None, summarize=None, message=None, name=None):
        return _binary_assert(sym, default_name, build, static, x, y, data, summarize,
                              message, name)
    check.__name__ = check.__qualname__ = default_name
    check.__doc__ = (f"An Assert op that fails the run unless ``x {sym} y`` holds for every "
                     f"element ({doc}; TF1 ``tf.debugging.{default_name}``).\n\n"
                     f"    Example:\n        >>> check = gc.debugging.{default_name}(x, y)\n")
    return check


assert_equal = _binary("==", "assert_equal", equal, np.equal, "broadcasting")
assert_none_equal = _binary("!=", "assert_none_equal", not_equal, np.not_equal, "broadcasting")
assert_less = _binary("<", "assert_less", less, np.less, "broadcasting")
assert_less_equal = _binary("<=", "assert_less_equal", less_equal, np.less_equal,
                            "broadcasting")
assert_greater = _binary(">", "assert_greater", greater, np.greater, "broadcasting")
assert_greater_equal = _binary(">=", "assert_greater_equal", greater_equal, np.greater_equal,
                               "broadcasting")


def _sign(sym, default_name, build, static, flip):
    def check(x, data=None, summarize=None, message=None, name=None):
        graph = graph_of(x, data or [])
        with graph.as_default(), graph.atomic(), graph.name_scope(name or default_name):
            x = convert_to_tensor(x, name="x")
            if data is None:
                data = [f"Condition x {sym} 0 did not hold element-wise:",
                        f"x ({x.name}) = ", x]
            zero = convert_to_tensor(0, dtype=x.dtype, name="zero")
            a, b = (zero, x) if flip else (x, zero)
            return _compare(build, static, a, b, data, summarize, message)
    check.__name__ = check.__qualname__ = default_name
    check.__doc__ = (f"An Assert op that fails the run unless ``x {sym} 0`` holds for every "
                     f"element (TF1 ``tf.debugging.{default_name}``).\n\n    Example:\n"
                     f"        >>> check = gc.debugging.{default_name}(x)\n")
    return check


assert_positive = _sign(">", "assert_positive", less, np.less, flip=True)
assert_negative = _sign("<", "assert_negative", less, np.less, flip=False)
assert_non_negative = _sign(">=", "assert_non_negative", less_equal, np.less_equal, flip=True)
assert_non_positive = _sign("<=", "assert_non_positive", less_equal, np.less_equal, flip=False)


def assert_near(x, y, rtol=None, atol=None, data=None, summarize=None, message=None,
                name=None):
    """An Assert op that fails the run unless ``|x - y| <= atol + rtol * |y|`` everywhere
    (defaults: 10 machine epsilons of the dtype; TF1 ``tf.debugging.assert_near``).

    Example:
        >>> check = gc.debugging.assert_near(probs_sum, 1.0, atol=1e-5)
    """
    graph = graph_of(x, y, data or [])
    with graph.as_default(), graph.atomic(), graph.name_scope(name or "assert_near"):
        x, y = _pair(x, y)
        if not x.dtype.is_floating:
            raise TypeError(f"assert_near requires floating tensors, got {x.dtype.name} "
                            f"({x.name})")
        eps = float(np.finfo(x.dtype.np).eps)
        rtol = 10 * eps if rtol is None else rtol
        atol = 10 * eps if atol is None else atol
        if data is None:
            data = [f"x and y not equal to tolerance rtol = {rtol}, atol = {atol}",
                    f"x ({x.name}) = ", x, f"y ({y.name}) = ", y]
        if message is not None:
            data = [message] + list(data)
        bound = add(convert_to_tensor(atol, dtype=x.dtype),
                    multiply(convert_to_tensor(rtol, dtype=x.dtype), abs(y)))
        return Assert(reduce_all(less_equal(abs(subtract(x, y)), bound)), data, summarize=summarize)


def _rank_assert(x, ranks, static_ok, build, words, data, summarize, message, name,
                 default_name):
    """Static when both ranks are known (ValueError, or a no_op when it holds), else an
    Assert on ``rank(x)``."""
    graph = graph_of(x)
    with graph.as_default(), graph.atomic(), graph.name_scope(name or default_name):
        x = convert_to_tensor(x, name="x")
        wanted = [constant_value(convert_to_tensor(r, dtype_hint=gdt.int32)) for r in ranks]
        if any(w is not None and np.ndim(w) != 0 for w in wanted):
            raise ValueError(f"{default_name}: the rank must be a scalar, got {ranks!r}")
        if all(w is not None for w in wanted) and x.shape.rank is not None:
            values = [int(w) for w in wanted]
            if not static_ok(x.shape.rank, values):
                prefix = f"{message}.  " if message else ""
                raise ValueError(f"{prefix}Tensor {x.name} must have rank {words}"
                                 f"{values[0] if len(values) == 1 else values}.  Received "
                                 f"rank {x.shape.rank}, shape {x.shape}")
            return no_op(name="static_checks_determined_all_ok")
        actual = rank_of(x)
        if data is None:
            data = [f"Tensor {x.name} must have rank {words}".rstrip(), *ranks,
                    "Received shape: ",
                    shape(x)]
        if message is not None:
            data = [message] + list(data)
        condition = build(actual, [convert_to_tensor(r, dtype=gdt.int32) for r in ranks])
        return Assert(condition, data, summarize=summarize)


def assert_rank(x, rank, data=None, summarize=None, message=None, name=None):
    """Checks that ``x`` has rank ``rank``: at build time when both are known (ValueError,
    as TF1), else when the returned Assert runs.

    Example:
        >>> gc.debugging.assert_rank(images, 4)
    """
    return _rank_assert(x, [rank], lambda r, w: r == w[0], lambda a, w: equal(a, w[0]), "",
                        data, summarize, message, name, "assert_rank")


def assert_rank_at_least(x, rank, data=None, summarize=None, message=None, name=None):
    """Checks that ``x`` has rank ``rank`` or more (statically when known, as TF1)."""
    return _rank_assert(x, [rank], lambda r, w: r >= w[0],
                        lambda a, w: greater_equal(a, w[0]), "at least ", data, summarize,
                        message, name, "assert_rank_at_least")


def assert_rank_in(x, ranks, data=None, summarize=None, message=None, name=None):
    """Checks that the rank of ``x`` is one of ``ranks`` (statically when known, as TF1)."""
    def any_equal(actual, wanted):
        result = equal(actual, wanted[0])
        for other in wanted[1:]:
            result = logical_or(result, equal(actual, other))
        return result
    return _rank_assert(x, list(ranks), lambda r, w: r in w, any_equal, "in ", data,
                        summarize, message, name, "assert_rank_in")


def _static_dtype_check(tensor, holds: bool, problem: str, message, name):
    """TF1's dtype checks are decided when the graph is built: TypeError, or a no_op."""
    if not holds:
        raise TypeError(f"{message + ' ' if message else ''}{problem}")
    with graph_of(tensor).as_default():
        return no_op(name=name)


def assert_type(tensor, tf_type, message=None, name=None):
    """Raises TypeError now unless ``tensor`` has dtype ``tf_type``; returns a no_op."""
    tensor = convert_to_tensor(tensor)
    wanted = gdt.as_dtype(tf_type)
    return _static_dtype_check(
        tensor, tensor.dtype is wanted, f"{tensor.name} must be of type {wanted.name}, not "
        f"{tensor.dtype.name}{gdt.string_note(tf_type, wanted)}", message,
        name or "statically_determined_correct_type")


def assert_integer(x, message=None, name=None):
    """Raises TypeError now unless ``x`` has an integer dtype; returns a no_op."""
    x = convert_to_tensor(x)
    return _static_dtype_check(
        x, x.dtype.is_integer, f'Expected "x" to be integer type.  Found: {x.name} of dtype '
        f"{x.dtype.name}", message, name or "statically_determined_was_integer")


def assert_scalar(tensor, name=None, message=None):
    """``tensor`` if its static shape is a scalar's; raises ValueError otherwise (TF1)."""
    tensor = convert_to_tensor(tensor)
    if tensor.shape.rank != 0:
        raise ValueError(f"{message or ''}Expected scalar shape for {tensor.name}, saw shape: "
                         f"{tensor.shape}.")
    return tensor


def assert_proper_iterable(values):
    """Raises TypeError when ``values`` is a tensor, an array or a string, which iterate
    differently from a list of values (TF1)."""
    if isinstance(values, (Tensor, np.ndarray, str, bytes)) or \
            hasattr(values, "_as_graph_element"):
        raise TypeError(f"Expected argument 'values' to be a \"proper\" iterable.  Found: "
                        f"{type(values).__name__}")
    if not hasattr(values, "__iter__"):
        raise TypeError(f"Expected argument 'values' to be iterable.  Found: "
                        f"{type(values).__name__}")


def assert_all_finite(t, msg, name=None):
    """``t``, failing the run if it holds NaN or Inf (``check_numerics``)."""
    return check_numerics(t, msg, name=name)


verify_tensor_all_finite = assert_all_finite


def is_numeric_tensor(tensor) -> bool:
    """Whether ``tensor`` is a Tensor of a numeric dtype (a Python bool, as TF1)."""
    return isinstance(tensor, Tensor) and tensor.dtype.is_numeric


def _monotone(x, build, name, default_name):
    graph = graph_of(x)
    with graph.as_default(), graph.atomic(), graph.name_scope(name or default_name):
        flat = reshape(convert_to_tensor(x, name="x"), [-1])
        if not flat.dtype.is_numeric:
            raise TypeError(f"{default_name}: expected a numeric tensor, got "
                            f"{flat.dtype.name}")
        return reduce_all(build(strided_slice(flat, [0], [-1]), strided_slice(flat, [1], [0],
                                                                            end_mask=1)))


def is_non_decreasing(x, name=None):
    """A bool tensor: True when the elements of ``x`` (row-major) never decrease."""
    return _monotone(x, less_equal, name, "is_non_decreasing")


def is_strictly_increasing(x, name=None):
    """A bool tensor: True when the elements of ``x`` (row-major) always increase."""
    return _monotone(x, less, name, "is_strictly_increasing")
