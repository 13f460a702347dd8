"""Gradients of the control-flow ops, built from the ops themselves.

- ``cond``: a new ``cond`` on the same predicate whose branch ``k`` is the vector-Jacobian
  product of branch ``k`` (the branch re-traced and differentiated inside the new branch):
  only the taken branch's gradient runs, and differentiating again goes through the same
  rule (second order).
- ``while_loop``: a backward ``while_loop`` runs as many iterations as the forward one did
  (known at run time), from the last to the first: iteration ``k`` applies the VJP of the
  body to the cotangents, summing the gradients of the captured tensors (and adding what
  reaches the forward loop's history outputs themselves: second-order gradients). As
  TF1's stacks and TF2's accumulators do, the forward loop *saves* what that VJP reads and
  the backward loop reads it back, instead of running the body again: every body value
  that differs between iterations (computed from the loop variables, or random) and that
  the VJP reads is a saved value of the forward loop (``save_for_gradient``), read back as
  row ``k`` of its history; values equal in every iteration (of captured tensors alone:
  weights, a variable read) are recomputed, and loop-invariant code motion moves them out
  of the backward loop. Memory: O(iterations x the saved values).
"""
from __future__ import annotations

from graphc import dtypes as gdt
from graphc import registry
from graphc.convert import convert_to_tensor
from graphc.graph import get_default_graph, required_ops
from graphc.ops.creation import zeros_like
from graphc.ops.elementwise import add, greater, subtract
from graphc.ops.indexing import gather

from .build import traced_cond, traced_while
from .history import read_history
from .ops import save_for_gradient
from .subgraph import inline, service, variables_updated_inside

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
    """Input gradients of a ``while_loop`` op: a backward loop over what the forward loop
    saved (see the module doc)."""
    count = op.attrs["num_vars"]
    if not op.attrs["back_prop"]:
        return [None] * len(op.inputs)
    body = op.attrs["body"]
    finals, histories = op.outputs[:count], op.outputs[count:2 * count - 1]
    saved_values = body.outputs[count:]
    captured = list(op.inputs[count:])
    var_ks = [k for k in range(1, count) if _float(finals[k])]
    cap_ks = [j for j, t in enumerate(captured) if _float(t)]
    if not var_ks:
        return [None] * len(op.inputs)
    seeds = [dys[k] if dys[k] is not None else zeros_like(finals[k]) for k in var_ks]
    cap_zeros = [zeros_like(captured[j]) for j in cap_ks]
    # gradients reaching the history outputs (a second-order gradient differentiates a
    # backward loop, which reads them): row j adds to loop variable k at iteration j, or
    # is a cotangent of saved value s at iteration j
    history_dys = {k: dys[count + k - 1] for k in var_ks
                   if len(dys) > count + k - 1 and dys[count + k - 1] is not None}
    saved_dys = [(value, dy) for value, dy in zip(saved_values, dys[2 * count - 1:])
                 if dy is not None and _float(value)]
    varying = _varying(op)

    def more(step, *grads):
        return greater(step, convert_to_tensor(0, dtype=gdt.int32))

    def backward(step, *grads):
        graph = get_default_graph()
        index = subtract(step, convert_to_tensor(1, dtype=gdt.int32))
        values = [index] + [read_history(histories[k - 1], index) for k in range(1, count)]
        inner_caps = [graph.capture(t) for t in captured]
        copies: dict = {}
        results = inline(body, values + inner_caps, copies)
        var_grads, cap_grads = grads[:len(var_ks)], grads[len(var_ks):]
        xs = [values[k] for k in var_ks] + [inner_caps[j] for j in cap_ks]
        new = _vjp([results[k] for k in var_ks] + [copies[v] for v, _ in saved_dys],
                   list(var_grads) + [gather(dy, index) for _, dy in saved_dys], xs)
        for position, k in enumerate(var_ks):
            if k in history_dys:
                new[position] = add(new[position], gather(history_dys[k], index))
        summed = [add(a, b) for a, b in zip(cap_grads, new[len(var_ks):])]
        return _reading_saved(op, body, copies, varying, index,
                              [index, *new[:len(var_ks)], *summed])

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


def _varying(op) -> set:
    """The tensors of ``op``'s body that may differ between iterations: the loop variables
    and what is computed from them, random draws, and, when the loop assigns variables,
    every stateful op's results (a read may see an earlier iteration's assignment)."""
    body = op.attrs["body"]
    count = op.attrs["num_vars"]
    assigns = bool(variables_updated_inside(op))
    varying = set(body.inputs[:count])
    for inner in body.ops():
        opdef = registry.get(inner.type)
        if (opdef.random or opdef.updates_variable or (assigns and opdef.stateful)
                or any(t in varying for t in inner.inputs)):
            varying.update(inner.outputs)
    return varying


def _recorded_on_demand(tensor) -> bool:
    """A history output of a loop nested in the body: its loop records it only for ops
    that read it, so it is computed again (with that loop) rather than saved."""
    producer = tensor.op
    return producer.opdef is registry.get("while_loop") and \
        tensor.value_index >= producer.attrs["num_vars"]


def _reading_saved(op, body, copies, varying, index, outputs) -> list:
    """``outputs`` of a backward body with each re-computed forward value that differs
    between iterations replaced by row ``index`` of its history in the forward loop: the
    body's copy of the forward body is then left only for what is the same every time."""
    graph = get_default_graph()
    inputs = set(body.inputs)
    forward_ops = {copy.op for t, copy in copies.items() if t not in inputs}
    needed = required_ops(outputs)
    reused = [t for t, copy in copies.items()
              if t not in inputs and t in varying and not _recorded_on_demand(t)
              and (copy in outputs or any(reader in needed and reader not in forward_ops
                                          for reader in copy.consumers()))]
    replaced = {}
    for tensor, history in zip(reused, save_for_gradient(op, reused)):
        row = read_history(graph.capture(history), index)
        row.set_shape(tensor.shape)
        graph.replace_uses(copies[tensor], row)
        replaced[copies[tensor]] = row
    return [replaced.get(t, t) for t in outputs]
