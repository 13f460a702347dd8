"""TF1's ``tf.cond``, ``tf.case`` and ``tf.switch_case`` over the functional ``cond`` op.

Each branch function is traced once into a subgraph; only the branch chosen at run time
runs (a stateful op in another branch does not). Branch results are any nest of tensors
and must agree in structure, dtype and (compatible) shape.
"""
from __future__ import annotations

from typing import Optional

from graphc import dtypes as gdt
from graphc import registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.nodes import _user_location
from graphc.ops.array import concat, stack
from graphc.ops.control import identity
from graphc.ops.debug import Assert
from graphc.ops.elementwise import less_equal
from graphc.ops.reduce import argmax, reduce_sum
from graphc.ops.select import cast
from graphc.registry import OpDef

from . import nest
from .build import traced_cond
from .grads import cond_grad
from .ops import COND_FIELDS

__all__ = ["cond", "case", "switch_case"]

COND = registry.register(OpDef(
    **COND_FIELDS, grad=cond_grad, tested_elsewhere="tests/test_control_flow.py",
    doc="Runs one of its branch subgraphs, chosen by a bool or an integer index."))


def _traced_results(fns, labels):
    """Call each branch once to learn its result structure; the flat results are traced
    again by ``traced_cond`` (each call builds its own subgraph)."""
    structures = {}

    def flat_fn(fn, label):
        def run():
            result = fn()
            if result is None:
                raise ValueError(f"cond: {label} returned None; branches must return "
                                 f"tensors ({_user_location()})")
            structures[label] = result
            return nest.flatten(result)
        return run
    return [flat_fn(fn, label) for fn, label in zip(fns, labels)], structures


def _checker(labels, structures, op_name):
    def check(subgraphs):
        first, first_label = structures[labels[0]], labels[0]
        for label, sub in zip(labels[1:], subgraphs[1:]):
            other = structures[label]
            if not nest.same_structure(first, other):
                raise ValueError(
                    f"{op_name}: {first_label} and {label} must return the same structure; "
                    f"{first_label} returned {nest.describe(first)} but {label} returned "
                    f"{nest.describe(other)} ({_user_location()})")
            for k, (a, b) in enumerate(zip(subgraphs[0].outputs, sub.outputs)):
                if a.dtype is not b.dtype:
                    raise TypeError(
                        f"{op_name}: output {k} is {a.dtype.name} in {first_label} but "
                        f"{b.dtype.name} in {label} ({_user_location()})")
                if not a.shape.is_compatible_with(b.shape):
                    raise ValueError(
                        f"{op_name}: output {k} has shape {a.shape} in {first_label} but "
                        f"{b.shape} in {label}, which are incompatible ({_user_location()})")
    return check


def _branches(index, fns, labels, name, op_name):
    graph = graph_of(index)
    with graph.as_default(), graph.atomic(), graph.name_scope(name or op_name) as scope:
        flat_fns, structures = _traced_results(fns, labels)
        outputs = traced_cond(index, flat_fns, labels,
                              _checker(labels, structures, op_name), name=scope)
        return nest.pack_as(structures[labels[0]], outputs)


def cond(pred, true_fn=None, false_fn=None, strict=False, name: Optional[str] = None,
         fn1=None, fn2=None):
    """``true_fn()`` if ``pred`` else ``false_fn()``, decided at run time (TF1 ``tf.cond``).

    Args:
        pred: a scalar bool tensor (or Python bool).
        true_fn, false_fn: functions of no arguments returning tensors (any nest of them,
            the same structure and dtypes in both).
        strict: keep a one-element list or tuple result as it is (TF1 unpacks it).
        name: name scope of the op.

    Returns:
        The chosen branch's results, in the structure the branches return.

    Raises:
        ValueError / TypeError: the branches' results differ in structure, dtype or shape
            (naming both branches and the user's line).

    Example:
        >>> y = gc.cond(x > 0, lambda: x * 2.0, lambda: -x)
    """
    true_fn = true_fn if true_fn is not None else fn1
    false_fn = false_fn if false_fn is not None else fn2
    if not callable(true_fn) or not callable(false_fn):
        raise TypeError("cond: true_fn and false_fn must be callable")
    pred = convert_to_tensor(pred, dtype_hint=gdt.bool)
    if pred.dtype is not gdt.bool:
        raise TypeError(f"cond: pred must be a bool tensor, got {pred.dtype.name} "
                        f"({_user_location()})")
    result = _branches(pred, [false_fn, true_fn], ["false_fn", "true_fn"], name, "cond")
    if not strict and isinstance(result, (list, tuple)) and len(result) == 1 \
            and not hasattr(result, "_fields"):
        return result[0]  # TF1: a one-element list or tuple is unpacked unless strict
    return result


def switch_case(branch_index, branch_fns, default=None, name: Optional[str] = None):
    """Run ``branch_fns[branch_index]`` (TF ``tf.switch_case``); an index out of range
    runs ``default`` (else the last branch).

    Example:
        >>> y = gc.switch_case(k, [lambda: a, lambda: b, lambda: c])
    """
    if isinstance(branch_fns, dict):
        keys = sorted(branch_fns)
        if keys != list(range(len(keys))):
            raise ValueError(f"switch_case: dict keys must be 0..n-1, got {keys}")
        branch_fns = [branch_fns[k] for k in keys]
    fns = [fn for _, fn in branch_fns] if branch_fns and isinstance(
        branch_fns[0], tuple) else list(branch_fns)
    if not fns:
        raise ValueError("switch_case: branch_fns must not be empty")
    if default is not None:
        fns.append(default)
    labels = [f"branch_{k}" for k in range(len(fns))]
    if default is not None:
        labels[-1] = "default"
    index = convert_to_tensor(branch_index, dtype_hint=gdt.int32)
    if not index.dtype.is_integer:
        raise TypeError(f"switch_case: branch_index must be an integer, got "
                        f"{index.dtype.name} ({_user_location()})")
    return _branches(index, fns, labels, name, "switch_case")


def case(pred_fn_pairs, default=None, exclusive: bool = False, strict=False,
         name: str = "case"):
    """The function of the first true predicate of ``pred_fn_pairs`` (TF1 ``tf.case``);
    ``default`` when none is true. With ``exclusive``, more than one true predicate fails
    the run.

    Example:
        >>> y = gc.case([(x < 0, lambda: -x), (x > 10, lambda: x / 10)], default=lambda: x)
    """
    if isinstance(pred_fn_pairs, dict):
        pred_fn_pairs = list(pred_fn_pairs.items())
    pairs = list(pred_fn_pairs)
    if not pairs:
        if default is None:
            raise ValueError("case: needs pred_fn_pairs or a default")
        return default()
    preds = [convert_to_tensor(p, dtype_hint=gdt.bool) for p, _ in pairs]
    fns = [fn for _, fn in pairs]
    if default is None:  # TF1: the last pair's function is the default
        default = fns[-1]
    graph = graph_of(*preds)
    with graph.as_default(), graph.atomic(), graph.name_scope(name) as scope:
        as_int = cast(stack(preds), gdt.int32)
        if exclusive:
            ok = less_equal(reduce_sum(as_int), 1)
            with graph.control_dependencies([Assert(ok, [f"case '{scope}': more than one "
                                                         "predicate is True with "
                                                         "exclusive=True"])]):
                as_int = identity(as_int)
        # the first true predicate's position; len(preds) (the default) when none is
        index = argmax(concat([as_int, [1]], axis=0), axis=0, output_type=gdt.int32)
        return switch_case(index, fns + [default], name="switch")
