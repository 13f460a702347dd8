"""Graph inputs and control: placeholder, identity, stop_gradient, check_numerics, no_op, group."""
from __future__ import annotations

import builtins
from typing import Optional

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.convert import as_tensor_or_op, convert_to_tensor, graph_of
from graphc.graph import Tensor
from graphc.ops.common import apply_op, rand, same_shape_rule
from graphc.registry import ErrorSample, OpDef, Sample
from graphc.shapes import as_shape

__all__ = ["placeholder", "placeholder_with_default", "identity", "stop_gradient",
           "check_numerics", "no_op", "group", "tuple"]


def _placeholder_kernel(dtype, shape):
    # The plan refuses to run without a feed, so reaching this kernel is a bug in the plan.
    raise AssertionError("placeholder evaluated without a feed")


PLACEHOLDER = registry.register(OpDef(
    name="placeholder", dtypes=lambda d, attrs: [attrs["dtype"]],
    shapes=lambda ins, attrs: [attrs["shape"]], kernel=_placeholder_kernel,
    grad=registry.NOT_DIFFERENTIABLE, attrs={"dtype": None, "shape": None}, stateful=True, foldable=False,
    tested_elsewhere="tests/test_session_feeds.py",
    doc="A value supplied through feed_dict at run time. Stateful: two placeholders with the "
        "same attributes are different inputs and are never merged."))


def placeholder(dtype, shape=None, name=None) -> Tensor:
    """A graph input fed through ``feed_dict`` (TF1 ``tf.placeholder``).

    Args:
        dtype: element type.
        shape: static shape; None dims are known only at run time; ``shape=None`` accepts
            any rank.

    Example:
        >>> x = gc.placeholder(gc.float32, shape=(None, 784), name="x")
    """
    attrs = {"dtype": gdt.as_dtype(dtype), "shape": as_shape(shape)}
    tensor = apply_op("placeholder", [], attrs, name=name or "Placeholder")
    gdt.remember_string(tensor.op, dtype)
    return tensor


def _with_default_shapes(inputs, attrs):
    declared = as_shape(attrs["shape"])
    if not declared.is_compatible_with(inputs[0].shape):
        raise ValueError(f"placeholder_with_default: shape {declared} is incompatible with "
                         f"the default's shape {inputs[0].shape}")
    return [declared]


PLACEHOLDER_WITH_DEFAULT = registry.register(OpDef(
    name="placeholder_with_default", dtypes=lambda d, a: [d[0]], shapes=_with_default_shapes,
    kernel=lambda x, shape: x, grad=lambda op, dy: [dy], attrs={"shape": None},
    foldable=False, unknown_rank_ok=True,
    reference=lambda x, shape: x,
    samples=lambda: [Sample((rand(2, 3), [None, 3]))],
    error_samples=lambda: [ErrorSample((rand(2, 3), [None, 4]), match="incompatible")],
    doc="Its input, unless a value is fed; never folded, since a feed may replace it."))


@registry.public(PLACEHOLDER_WITH_DEFAULT)
def placeholder_with_default(input, shape, name=None) -> Tensor:  # noqa: A002 - TF1 name
    """``input`` unless fed (TF1 ``tf.placeholder_with_default``).

    Example:
        >>> rate = gc.placeholder_with_default(0.0, shape=[])
    """
    return apply_op("placeholder_with_default", [input], {"shape": as_shape(shape)},
                    name=name or "PlaceholderWithDefault")


def _pass_through(name: str, doc: str, grad) -> OpDef:
    return registry.register(OpDef(
        name=name, dtypes=lambda d, a: [d[0]], shapes=same_shape_rule,
        kernel=lambda x: x, grad=grad, elementwise=True, unknown_rank_ok=True, reference=lambda x: x,
        finite_outputs=registry.finite_if_inputs_finite,
        samples=lambda: [Sample((rand(2, 3),)), Sample((np.int32(4),))], doc=doc))


IDENTITY = _pass_through("identity", "Its input, unchanged.", lambda op, dy: [dy])
STOP_GRADIENT = _pass_through("stop_gradient", "Its input; gradients do not flow through it.",
                              registry.NOT_DIFFERENTIABLE)


@registry.public(IDENTITY)
def identity(input, name=None) -> Tensor:  # noqa: A002
    """A tensor with the same value as ``input``.

    Example:
        >>> y = gc.identity(x, name="output")
    """
    return apply_op("identity", [input], name=name or "Identity")


@registry.public(STOP_GRADIENT)
def stop_gradient(input, name=None) -> Tensor:  # noqa: A002
    """``input`` as a constant for differentiation (gradients stop here).

    Example:
        >>> target = gc.stop_gradient(q_next)
    """
    return apply_op("stop_gradient", [input], name=name or "StopGradient")


def _check_numerics_kernel(tensor, message):
    if tensor.dtype.kind == "f" and not np.all(np.isfinite(tensor)):
        kind = "NaN" if np.isnan(tensor).any() else "Inf"
        raise FloatingPointError(f"{message} : Tensor had {kind} values")
    return tensor


def _float_only(in_dtypes, attrs):
    if not in_dtypes[0].is_floating:
        raise TypeError(f"check_numerics requires a floating input, got {in_dtypes[0].name}")
    return [in_dtypes[0]]


CHECK_NUMERICS = registry.register(OpDef(
    raises_on_values=True,  # NaN or Inf found
    name="check_numerics", dtypes=_float_only, shapes=same_shape_rule,
    kernel=_check_numerics_kernel, grad=lambda op, dy: [dy], attrs={"message": ""}, foldable=False, unknown_rank_ok=True,
    finite_outputs=registry.always_finite,  # it raises on NaN and Inf
    reference=lambda x, message: x, samples=lambda: [Sample((rand(2, 3), "ok"))],
    error_samples=lambda: [ErrorSample((np.arange(3), "m"), error=TypeError,
                                       match="requires a floating")],
    doc="Its input; the run fails with InvalidArgumentError if it holds NaN or Inf."))


@registry.public(CHECK_NUMERICS)
def check_numerics(tensor, message, name=None) -> Tensor:
    """``tensor``, failing the run if it contains NaN or Inf (NaNs are otherwise not errors).

    Example:
        >>> loss = gc.check_numerics(loss, "loss diverged")
    """
    return apply_op("check_numerics", [tensor], {"message": str(message)},
                    name=name or "CheckNumerics")


NO_OP = registry.register(OpDef(
    name="no_op", dtypes=lambda d, a: [], shapes=lambda ins, a: [], kernel=lambda: (),
    grad=registry.NOT_DIFFERENTIABLE,
    stateful=True, foldable=False, tested_elsewhere="tests/test_session_run.py",
    doc="Does nothing; exists for its control inputs (group, initializers)."))


def no_op(name: Optional[str] = None):
    """An op that does nothing (TF1 ``tf.no_op``)."""
    return graph_of().create_op("no_op", [], {}, name=name or "NoOp")


def group(*inputs, name: Optional[str] = None):
    """One op that runs after all of ``inputs`` (TF1 ``tf.group``).

    Example:
        >>> step = gc.group(update_w, update_b, name="train")
    """
    flat = []
    for item in inputs:
        flat.extend(item if isinstance(item, (list, builtins.tuple)) else [item])
    graph = graph_of(*flat)
    deps = [as_tensor_or_op(v) for v in flat]
    with graph.as_default(), graph.atomic(), graph.control_dependencies(deps):
        return no_op(name=name or "group_deps")


def tuple(tensors, name: Optional[str] = None, control_inputs=None):  # noqa: A001 - TF1 name
    """The ``tensors``, each available only once all of them are computed (TF1 ``tf.tuple``)."""
    tensors = [convert_to_tensor(t) if t is not None else None for t in tensors]
    present = [t for t in tensors if t is not None]
    graph = graph_of(*present)
    with graph.as_default(), graph.atomic(), graph.name_scope(name or "tuple"):
        gate = group(*present, *(control_inputs or []))
        with graph.control_dependencies([gate]):
            return [identity(t) if t is not None else None for t in tensors]
