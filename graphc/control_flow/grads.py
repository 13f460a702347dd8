"""Gradients of the control-flow ops, built from the ops themselves.

- ``cond``: a new ``cond`` on the same predicate whose branch ``k`` is the vector-Jacobian
  product of branch ``k`` (the branch re-traced and differentiated inside the new branch):
  only the taken branch's gradient runs, and differentiating again goes through the same
  rule (second order).
- ``while_loop``: the forward loop's *history* outputs (each loop variable at the start of
  every iteration, recorded only because this gradient reads them) feed a backward
  ``while_loop`` that runs as many iterations as the forward one did (known at run time),
  from the last to the first: iteration ``k`` re-runs the body on the values of forward
  iteration ``k`` and applies its VJP, summing the gradients of the captured tensors (and
  adding what reaches the history outputs themselves: second-order gradients).
  Memory: O(iterations x loop state); the body's intermediates are recomputed, not kept.
"""
from __future__ import annotations

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor
from graphc.graph import get_default_graph
from graphc.ops.creation import zeros_like
from graphc.ops.elementwise import add, greater, subtract
from graphc.ops.indexing import gather

from .build import traced_cond, traced_while
from .subgraph import inline, service

__all__ = ["cond_grad", "while_grad"]


def _float(tensor) -> bool:
    return tensor.dtype.is_floating


def _vjp(outputs, dys, xs) -> list:
    """Gradients of ``outputs`` (weighted by ``dys``) for each of ``xs``, zeros where none."""
    pairs = [(y, dy) for y, dy in zip(outputs, dys) if _float(y)]
    if not pairs or not xs:
        return [zeros_like(x) for x in xs]
    grads = service("gradients")([y for y, _ in pairs], list(xs),
                                 grad_ys=[dy for _, dy in pairs], name="vjp",
                                 unconnected_gradients="zero")
    return [g if g is not None else zeros_like(x) for g, x in zip(grads, xs)]


def cond_grad(op, *dys):
    """Input gradients of a ``cond`` op: a cond of the branches' VJPs (see module doc)."""
    operands = list(op.inputs[1:])
    wanted = [k for k, t in enumerate(operands) if _float(t)]
    outs = [k for k, t in enumerate(op.outputs) if _float(t)]
    if not wanted or not outs:
        return [None] * len(op.inputs)
    seeds = [dys[k] if dys[k] is not None else zeros_like(op.outputs[k]) for k in outs]

    def branch_vjp(branch):
        def vjp(*values):
            inputs, cotangents = values[:len(operands)], values[len(operands):]
            results = inline(branch, inputs)
            return _vjp([results[k] for k in outs], cotangents, [inputs[k] for k in wanted])
        return vjp
    grads = traced_cond(op.inputs[0], [branch_vjp(b) for b in op.attrs["branches"]],
                        [f"{label}_grad" for label in op.attrs["labels"]],
                        operands=operands + seeds, name=op.name.split("/")[-1] + "_grad")
    result = [None] * len(op.inputs)
    for k, grad in zip(wanted, grads):
        result[1 + k] = grad
    return result


def while_grad(op, *dys):
    """Input gradients of a ``while_loop`` op: a backward loop over the forward history."""
    count = op.attrs["num_vars"]
    if not op.attrs["back_prop"]:
        return [None] * len(op.inputs)
    body = op.attrs["body"]
    finals, histories = op.outputs[:count], op.outputs[count:]
    captured = list(op.inputs[count:])
    var_ks = [k for k in range(1, count) if _float(finals[k])]
    cap_ks = [j for j, t in enumerate(captured) if _float(t)]
    if not var_ks:
        return [None] * len(op.inputs)
    seeds = [dys[k] if dys[k] is not None else zeros_like(finals[k]) for k in var_ks]
    cap_zeros = [zeros_like(captured[j]) for j in cap_ks]
    # gradients reaching the history outputs (a second-order gradient differentiates a
    # backward loop, which reads them): row j adds to loop variable k at iteration j
    history_dys = {k: dys[count + k - 1] for k in var_ks
                   if len(dys) > count + k - 1 and dys[count + k - 1] is not None}

    def more(step, *grads):
        return greater(step, convert_to_tensor(0, dtype=gdt.int32))

    def backward(step, *grads):
        graph = get_default_graph()
        index = subtract(step, convert_to_tensor(1, dtype=gdt.int32))
        values = [index] + [gather(histories[k - 1], index) for k in range(1, count)]
        inner_caps = [graph.capture(t) for t in captured]
        results = inline(body, values + inner_caps)
        var_grads, cap_grads = grads[:len(var_ks)], grads[len(var_ks):]
        xs = [values[k] for k in var_ks] + [inner_caps[j] for j in cap_ks]
        new = _vjp([results[k] for k in var_ks], var_grads, xs)
        for position, k in enumerate(var_ks):
            if k in history_dys:
                new[position] = add(new[position], gather(history_dys[k], index))
        summed = [add(a, b) for a, b in zip(cap_grads, new[len(var_ks):])]
        return [index, *new[:len(var_ks)], *summed]

    shapes = op.attrs["shape_invariants"]
    invariants = [shapes[0]] + [shapes[k] for k in var_ks] + [t.shape for t in
                                                               (captured[j] for j in cap_ks)]
    _, results = traced_while(more, backward,
                              [finals[0], *seeds, *cap_zeros], invariants,
                              name=op.name.split("/")[-1] + "_grad")
    grads = results[1:]
    out = [None] * len(op.inputs)
    for k, grad in zip(var_ks, grads[:len(var_ks)]):
        out[k] = grad
    for j, grad in zip(cap_ks, grads[len(var_ks):]):
        out[count + j] = grad
    return out
