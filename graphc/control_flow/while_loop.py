"""TF1's ``tf.while_loop`` over the functional ``while_loop`` op.

``cond`` and ``body`` are traced once into subgraphs; the loop runs at run time until
``cond`` is False (or ``maximum_iterations`` is reached). Loop variables are any nest of
tensors and TensorArrays; a loop variable keeps its shape unless ``shape_invariants`` gives
a less specific one (None dims).
"""
from __future__ import annotations

from typing import Optional

from graphc import registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.nodes import _user_location
from graphc.registry import OpDef
from graphc.shapes import TensorShape, as_shape

from . import nest
from .build import traced_while
from .grads import while_grad
from .ops import WHILE_FIELDS

__all__ = ["while_loop"]

WHILE = registry.register(OpDef(
    **WHILE_FIELDS, grad=while_grad, tested_elsewhere="tests/test_control_flow.py",
    doc="Runs its body subgraph while its cond subgraph is True; outputs the final loop "
        "variables (and, for gradients, their history)."))


def _call(fn, packed):
    """TF1's calling convention: a list or tuple of loop variables is spread."""
    return fn(*packed) if isinstance(packed, (list, tuple)) else fn(packed)


def _invariants(loop_vars, flat, shape_invariants, name):
    if shape_invariants is None:
        return [_own_invariant(leaf, t) for leaf, t in zip(nest.leaves(loop_vars), flat)]
    if not nest.same_structure(loop_vars, shape_invariants) and len(flat) > 1:
        raise ValueError(f"while_loop '{name}': shape_invariants {nest.describe(shape_invariants)}"
                         f" must have the structure of loop_vars {nest.describe(loop_vars)}")
    given = nest.leaves(shape_invariants) if len(flat) > 1 or isinstance(
        shape_invariants, (list, tuple)) else [shape_invariants]
    shapes = [_own_invariant(leaf, None) if hasattr(leaf, "_invariant") else as_shape(s)
              for leaf, s in zip(nest.leaves(loop_vars), given)]
    for tensor, shape in zip(flat, shapes):
        if not shape.is_compatible_with(tensor.shape):
            raise ValueError(f"while_loop '{name}': shape invariant {shape} is incompatible "
                             f"with loop variable {tensor.name!r} of shape {tensor.shape} "
                             f"({_user_location()})")
    return shapes


def _own_invariant(leaf, tensor) -> TensorShape:
    """A TensorArray's own loop shape (any length when it grows), else the entry shape."""
    own = getattr(leaf, "_invariant", None)
    return own if own is not None else tensor.shape


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations: int = 10,
               back_prop: bool = True, swap_memory: bool = False, name: Optional[str] = None,
               maximum_iterations=None, return_same_structure: bool = False):
    """Repeat ``body`` while ``cond`` is True (TF1 ``tf.while_loop``).

    Args:
        cond: loop variables -> scalar bool tensor.
        body: loop variables -> new loop variables (same structure, dtypes and shapes, or
            shapes fitting ``shape_invariants``).
        loop_vars: a tensor, or a nest (lists, tuples, namedtuples, dicts) of tensors and
            TensorArrays; a list or tuple is spread into the calls of ``cond`` and ``body``.
        shape_invariants: shapes (None dims allowed) in the structure of ``loop_vars``.
        maximum_iterations: stop after this many iterations at most.
        back_prop: whether gradients may flow through the loop.
        parallel_iterations, swap_memory: accepted for TF1 compatibility.
        name: name scope of the loop.

    Returns:
        The final loop variables, in the structure of ``loop_vars`` (a one-element list
        gives the tensor itself unless ``return_same_structure``).

    Raises:
        ValueError / TypeError: the body changes the structure, a dtype, or a shape that
            has no shape invariant (naming the loop variable and the user's line).

    Example:
        >>> i, total = gc.while_loop(lambda i, s: i < 10, lambda i, s: (i + 1, s + i),
        ...                          [0, 0])
    """
    if not callable(cond) or not callable(body):
        raise TypeError("while_loop: cond and body must be callable")
    single = not isinstance(loop_vars, (list, tuple, dict))
    structure = [loop_vars] if single else loop_vars
    flat_values = nest.flatten(structure)
    graph = graph_of(*[v for v in flat_values if not isinstance(v, (int, float))])
    with graph.as_default(), graph.atomic(), graph.name_scope(name or "while") as scope:
        flat = [convert_to_tensor(v) for v in flat_values]
        invariants = _invariants(structure, flat, None if shape_invariants is None else (
            [shape_invariants] if single else shape_invariants), scope)
        body_structure: dict = {}

        def flat_cond(*values):
            return _call(cond, _repacked(structure, values, single))

        def flat_body(*values):
            result = _call(body, _repacked(structure, values, single))
            if not isinstance(result, (list, tuple, dict)) or (
                    single and not nest.same_structure(structure, result)):
                result = [result]
            body_structure["result"] = result
            return nest.flatten(result)

        def check(sub):
            result = body_structure["result"]
            if not nest.same_structure(structure, result):
                raise ValueError(f"while_loop '{scope}': body returned "
                                 f"{nest.describe(result)} for loop_vars "
                                 f"{nest.describe(structure)} ({_user_location()})")
            for k, (tensor, out, shape) in enumerate(zip(flat, sub.outputs[1:], invariants)):
                if out.dtype is not tensor.dtype:
                    raise TypeError(f"while_loop '{scope}': loop variable {k} "
                                    f"({tensor.name!r}) enters as {tensor.dtype.name} but the "
                                    f"body returns {out.dtype.name} ({_user_location()})")
                if not _fits(out.shape, shape):
                    raise ValueError(
                        f"while_loop '{scope}': loop variable {k} ({tensor.name!r}) has shape "
                        f"{shape} at entry but the body returns shape {out.shape}; give it a "
                        f"less specific shape in shape_invariants (None dims) "
                        f"({_user_location()})")

        _, finals = traced_while(flat_cond, flat_body, flat, invariants, maximum_iterations,
                                 back_prop, parallel_iterations, check, name=scope)
        packed = nest.pack_as(_rebuilt_structure(structure, body_structure), finals)
    if single or (not return_same_structure and isinstance(packed, list) and len(packed) == 1
                  and not isinstance(loop_vars, tuple)):
        return packed[0]
    return packed


def _fits(shape: TensorShape, invariant: TensorShape) -> bool:
    """Whether ``shape`` is at least as specific as ``invariant`` allows."""
    if invariant.rank is None:
        return True
    if shape.rank != invariant.rank:
        return False
    return all(i is None or (s is not None and s == i) for s, i in zip(shape.dims,
                                                                     invariant.dims))


def _repacked(structure, values, single):
    packed = nest.pack_as(structure, values)
    return packed[0] if single else packed


def _rebuilt_structure(structure, body_structure):
    """The loop's result structure: ``loop_vars``'s, with TensorArrays as the body left
    them (their element shape known after the first write)."""
    result = body_structure.get("result")
    if result is None:
        return structure
    leaves = nest.leaves(result)
    originals = nest.leaves(structure)
    merged = [new if callable(getattr(new, "_rebuilt", None)) else old
              for old, new in zip(originals, leaves)]
    return nest.pack_as(structure, merged, rebuild=False)
