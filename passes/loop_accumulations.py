"""Accumulations moved out of loops: a loop variable that only sums a bilinear (or linear)
term of per-iteration values, ``acc = acc + a_t @ g_t``, becomes one op on the stacked
values after the loop, ``acc + A @ G``.

The typical case is a gradient loop: the backward loop of an RNN adds each iteration's
weight gradient ``concat(x_t, h_t)^T @ dgates_t`` (a [192, 32] @ [32, 512] product for the
LSTM of benchmark W8) to an accumulator. Fifty products with an inner dimension of 32 and
fifty additions of the whole weight gradient become one product with an inner dimension of
1,600 (what cuDNN and TF's fused RNN kernels do): the loop only *saves* ``a_t`` and ``g_t``
(as saved values: their histories are outputs of the loop) and stops carrying the sum.

What may move is decided by ``ACCUMULATION_RULES``, a table of ``Rule``s whose patterns are
an accumulating ``add`` of the loop variable's body input and a term; the rule's rewrite
builds the sum of the term over every iteration from the stacked histories of the term's
operands. A loop variable moves when: the body's result for it matches a rule with the
variable's own input as the accumulator; that input is read by nothing else (in the body
and the condition), its history is not read, the term has the variable's static shape,
and the term's operands vary between iterations (an invariant operand would be saved for
nothing) and have static shapes. The loop must keep histories (``back_prop``). Zero
iterations: the stacks are empty and the sums are zeros, so the result is the initial
value, as before. The order of the additions changes: the rules are ``REASSOCIATING``.
"""
from __future__ import annotations

from graphc import registry
from graphc.graph import Graph, get_default_graph
from graphc.ops.elementwise import add
from graphc.ops.linalg import matmul
from graphc.ops.reduce import reduce_sum
from graphc.ops.shape_ops import reshape, transpose

from .loop_dead_values import is_loop
from .patterns import Pat, Rule, X, Y
from .result import DEFAULT_OPTIONS, REASSOCIATING, Interface, PassOptions, PassResult
from .rewriter import on_copy, rewrite_graph
from .subgraph_edits import any_subgraphs, copied

__all__ = ["run", "edit", "ACCUMULATION_RULES"]


def _flat(stack, contracted: int, other: int):
    """``stack`` ([T, r, c], the matrices of T iterations) as one matrix whose axis
    ``contracted`` runs over the T iterations' contracted axes, iteration-major."""
    if contracted == 0:  # [T, k, m] -> [T*k, m]
        return reshape(stack, [-1, other])
    return reshape(transpose(stack, (1, 0, 2)), [other, -1])  # [T, m, k] -> [m, T*k]


def _sum_of_products(found, stacked):
    transpose_a, transpose_b = (found.term.op.attrs[k] for k in ("transpose_a", "transpose_b"))
    a, b = found.x, found.y
    a_flat = _flat(stacked[a], 0 if transpose_a else 1, a.shape.dims[1 if transpose_a else 0])
    b_flat = _flat(stacked[b], 1 if transpose_b else 0, b.shape.dims[0 if transpose_b else 1])
    return matmul(a_flat, b_flat, transpose_a=transpose_a, transpose_b=transpose_b)


def _sum_of_sums(found, stacked):
    axis = found.term.op.attrs["axis"]
    rank = found.x.shape.rank
    axes = range(rank) if axis is None else [a % rank for a in axis]
    return reduce_sum(stacked[found.x], axis=(0, *[a + 1 for a in axes]))


def _matrices(found) -> bool:
    return found.x.shape.rank == 2 and found.y.shape.rank == 2


ACC = Pat(name="acc")
ACCUMULATION_RULES = (
    Rule("stack_matmul_sum", Pat("add", ACC, Pat("matmul", X, Y, name="term")),
         _sum_of_products, REASSOCIATING,
         "acc + a_t @ b_t (each iteration t) -> acc + A @ B, A and B the a_t and b_t "
         "side by side along their contracted axes", when=_matrices),
    Rule("stack_reduce_sum", Pat("add", ACC, Pat("reduce_sum", X, name="term")),
         _sum_of_sums, REASSOCIATING,
         "acc + sum_axes(x_t) (each iteration t) -> acc + sum_{0, axes + 1}(X), X the "
         "x_t stacked", when=lambda found: not found.term.op.attrs["keepdims"]),
)


def _operands(found) -> list:
    return [t for name, t in found.captures.items() if name not in ("acc", "term")]


def _varying(body, count) -> set:
    """The tensors of ``body`` computed from its loop variables (or drawn at random, or
    read from state: they may change between iterations)."""
    varying = set(body.inputs[:count])
    inputs = set(body.inputs)
    for op in body.ops():
        opdef = registry.get(op.type)
        if inputs.intersection(op.outputs):
            continue  # an input's placeholder: varying when it is a loop variable
        if opdef.random or opdef.stateful or any(t in varying for t in op.inputs):
            varying.update(op.outputs)
    return varying


def _movable(op, k, varying):
    """The rule match that moves loop variable ``k`` out of loop ``op``, or None."""
    count = op.attrs["num_vars"]
    body, cond = op.attrs["body"], op.attrs["cond"]
    acc, result = body.inputs[k], body.outputs[k]
    invariant = op.attrs["shape_invariants"][k]
    if (acc.consumers() != [result.op] or cond.inputs[k].consumers()
            or list(body.outputs).count(result) != 1 or result.op.control_inputs
            or op.outputs[count + k - 1].consumers() or not invariant.is_fully_defined()):
        return None
    for rule in ACCUMULATION_RULES:
        found = rule.find(result.op, list(result.op.inputs), result)
        if (found is not None and found.acc is acc and found.term.shape == invariant
                and all(t in varying and t.shape.is_fully_defined()
                        for t in _operands(found))):
            return rule, found
    return None


def _move_accumulations(rw, op) -> bool:
    if not is_loop(op) or not op.attrs["back_prop"] or not rw.may_rewrite(op, REASSOCIATING):
        return False
    count = op.attrs["num_vars"]
    body = op.attrs["body"]
    varying = _varying(body, count)
    moving = {k: found for k in range(1, count)
              if (found := _movable(op, k, varying)) is not None}
    if not moving:
        return False

    def build():
        graph, inputs, outputs, effects, op_map = copied(body, with_map=True)

        def copy(t):
            return op_map[t.op].outputs[t.value_index]
        saved = list(body.outputs[count:])
        for _, found in moving.values():
            saved += [t for t in _operands(found) if t not in saved]
        for k in moving:
            outputs[k] = inputs[k]  # carried unchanged: loop_dead_values drops it
        new_body = body.replaced(graph, inputs, outputs[:count] + [copy(t) for t in saved],
                                 effects)
        new = get_default_graph().create_op(op.type, list(op.inputs),
                                            {**op.attrs, "body": new_body},
                                            name=op.name.rsplit("/", 1)[-1]).outputs
        first_saved = 2 * count - 1
        stacked = {t: new[first_saved + j] for j, t in enumerate(saved)}
        stands_for = list(new[:len(op.outputs)])
        for k, (rule, found) in moving.items():
            stands_for[k] = add(op.inputs[k], rule.rewrite(found, stacked))
        return stands_for
    names = dict.fromkeys(rule.name for rule, _ in moving.values())
    matched = [o for _, found in moving.values() for o in found.matched]
    return rw.replace(op, build, "+".join(names), REASSOCIATING, matched)


def edit(graph: Graph, interface: Interface,
         options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Move the accumulations ``ACCUMULATION_RULES`` knows out of every loop, in place."""
    ops = None if any_subgraphs(graph) else ()  # nothing to do without control flow
    return rewrite_graph(graph, interface, "loop_accumulations", _move_accumulations,
                         options, ops)


def run(graph: Graph, interface: Interface,
        options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """``edit`` on a copy (``graph`` is not changed).

    Example:
        >>> loop_accumulations.run(g, interface).rewrites[0].rule
        'stack_matmul_sum+stack_reduce_sum'
    """
    return on_copy(edit, graph, interface, options)
