"""The two functional control-flow ops, without their public API or gradients:

- ``cond``: inputs ``(branch index or bool predicate, *operands)``; ``branches`` holds one
  ``Subgraph`` per branch (``operands -> results``), ``labels`` names them. Only the
  chosen branch runs; an index out of range runs the last branch (``switch_case``'s
  default); a bool picks branch 1 when True, 0 when False.
- ``while_loop``: inputs ``(*loop_vars, *captured)``; loop variable 0 is the iteration
  counter. ``cond`` (``vars, captured -> [bool]``) and ``body`` (``vars, captured ->
  vars``) are subgraphs. The body's outputs past the loop variables are *saved values*:
  tensors of the body its gradient reads (``save_for_gradient`` adds them). Outputs: the
  final loop variables, then (with ``back_prop``) the *history* of every loop variable but
  the counter (its values at the start of each iteration, stacked), then the history of
  every saved value (its value in each iteration): what the gradient's backward loop
  reads. A history is recorded only when some op of the running graph reads it (only a
  gradient does), so a loop nobody differentiates keeps nothing: memory O(iterations x
  the values the gradient needs).

Both run their subgraphs through plans compiled once (the "compile" service of
``graphc.runtime``): per iteration, two plan runs and no graph walking.
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc.errors import OpError, describe_op
from graphc.graph import get_default_graph
from graphc.shapes import TensorShape

from .history import StackedRows, only_read_by_rows
from .subgraph import service

__all__ = ["build_cond", "build_while", "merged_shape", "save_for_gradient", "COND_FIELDS",
           "WHILE_FIELDS"]


def merged_shape(shapes) -> TensorShape:
    """The most specific shape all of ``shapes`` (compatible) have: a dim they disagree on
    is None."""
    shapes = list(shapes)
    first = shapes[0]
    if any(s.rank is None or s.rank != first.rank for s in shapes):
        return TensorShape(None)
    dims = [d if all(s.dims[k] == d for s in shapes) else None for k, d in enumerate(first.dims)]
    return TensorShape(dims)


# -- cond -----------------------------------------------------------------------------------
def _cond_dtypes(in_dtypes, attrs):
    branches = attrs["branches"]
    if not branches:
        raise ValueError("cond needs at least one branch")
    index = in_dtypes[0]
    if index is not gdt.bool and not index.is_integer:
        raise TypeError(f"cond: the predicate must be bool or an integer branch index, got "
                        f"{index.name}")
    return [t.dtype for t in branches[0].outputs]


def _cond_shapes(inputs, attrs):
    if inputs[0].shape.rank not in (0, None):
        raise ValueError(f"cond: the predicate must be a scalar, got shape {inputs[0].shape}")
    branches = attrs["branches"]
    return [merged_shape(t.shape for t in outs) for outs in zip(*[b.outputs for b in branches])]


def _rethrown(err: OpError, op, where: str) -> OpError:
    """``err`` of an op inside a subgraph, re-raised for the control-flow op ``op``: it
    names the loop or cond, the inner op and its line (inside ``err``'s message)."""
    inner = err.op
    detail = f" at {describe_op(inner)}" if inner is not None else ""
    raised = type(err)(None, op, f"in {where} of {describe_op(op)}{detail}: {err.message}")
    raised.inner_op = inner
    return raised


def bind_cond(op):
    """The plan-time kernel of a cond: every branch compiled once, the chosen one run."""
    runs = [service("compile")(branch)[0] for branch in op.attrs["branches"]]
    labels = op.attrs["labels"]
    last = len(runs) - 1

    def kernel(ctx, index, *operands):
        chosen = int(index)
        if chosen < 0 or chosen > last:
            chosen = last
        try:
            results = runs[chosen](list(operands), ctx)
        except OpError as err:
            raise _rethrown(err, op, f"branch {labels[chosen]!r}") from err
        finally:
            ctx.op = op
        return results[0] if single else tuple(results)
    single = len(op.outputs) == 1
    return kernel


def _cond_kernel(ctx, *args, **attrs):
    return bind_cond(ctx.op)(ctx, *args)


COND_FIELDS = dict(name="cond", dtypes=_cond_dtypes, shapes=_cond_shapes, kernel=_cond_kernel,
                   attrs={"branches": (), "labels": ()}, bind=bind_cond, needs_context=True,
                   stateful=True, foldable=False, unknown_rank_ok=True,
                   subgraphs=("branches",))


def build_cond(index, operands, branches, labels, name=None):
    """The outputs of a new ``cond`` op choosing among ``branches`` by ``index``."""
    graph = get_default_graph()
    op = graph.create_op("cond", [index, *operands],
                         {"branches": tuple(branches), "labels": tuple(labels)},
                         name=name or "cond")
    return list(op.outputs)


# -- while_loop ---------------------------------------------------------------------------
def _while_dtypes(in_dtypes, attrs):
    count = attrs["num_vars"]
    loop = list(in_dtypes[:count])
    outputs = [t.dtype for t in attrs["body"].outputs]
    body, saved = outputs[:count], outputs[count:]
    if body != loop:
        raise TypeError(f"while_loop: the body returns dtypes {[d.name for d in body]} for "
                        f"loop variables of dtypes {[d.name for d in loop]}")
    return loop + (loop[1:] + saved if attrs["back_prop"] else [])


def _history_shape(shape: TensorShape) -> TensorShape:
    return TensorShape(None) if shape.rank is None else TensorShape([None, *shape.dims])


def _while_shapes(inputs, attrs):
    invariants = list(attrs["shape_invariants"])
    for tensor, invariant in zip(inputs, invariants):
        if not invariant.is_compatible_with(tensor.shape):
            raise ValueError(f"while_loop: loop variable {tensor.name!r} of shape "
                             f"{tensor.shape} does not fit its shape invariant {invariant}")
    saved = attrs["body"].outputs[attrs["num_vars"]:]
    history = [_history_shape(s) for s in invariants[1:]] + [
        _history_shape(t.shape) for t in saved] if attrs["back_prop"] else []
    return invariants + history


def save_for_gradient(op, tensors) -> list:
    """The history outputs of ``while_loop`` op ``op`` holding each of ``tensors`` (body
    tensors) per iteration: existing ones, or new outputs of ``op`` (its body then outputs
    the new ones too, as saved values). A gradient calls this while it builds its backward
    loop, as TF2's while_v2 adds the intermediates its gradient needs to the forward op:
    outputs nobody reads are never recorded, so a gradient given up costs nothing.

    Example:
        >>> [gates] = save_for_gradient(loop_op, [body_sigmoid])   # shape [None, 32, 128]
    """
    count = op.attrs["num_vars"]
    body = op.attrs["body"]
    saved = list(body.outputs[count:])
    new = [t for t in dict.fromkeys(tensors) if t not in saved]
    if new:
        op.attrs = {**op.attrs, "body": body.replaced(body.graph, body.inputs,
                                                      body.outputs + tuple(new))}
        make = op.graph._tensor_class
        op.outputs += tuple(make(op, len(op.outputs) + k, _history_shape(t.shape), t.dtype)
                            for k, t in enumerate(new))
        saved += new
    first = 2 * count - 1
    return [op.outputs[first + saved.index(t)] for t in tensors]


def bind_while(op):
    """The plan-time kernel of a while_loop: condition and body compiled once into plans,
    run per iteration on the previous iteration's values (their memory is recycled by the
    plans' arenas); histories kept only for the ones this graph reads."""
    count = op.attrs["num_vars"]
    histories = op.outputs[count:]
    # history j is of loop variable j + 1 (at the start of an iteration), or of the body's
    # output j + 1 past the loop variables (a saved value, at the end of one)
    recorded = [j + 1 for j, tensor in enumerate(histories) if tensor.consumers()]
    at_start = [k for k in recorded if k < count]
    saved = [k for k in recorded if k >= count]
    body = op.attrs["body"]
    body = body.replaced(body.graph, body.inputs,
                         body.outputs[:count] + tuple(body.outputs[k] for k in saved))
    run_cond, _ = service("compile")(op.attrs["cond"])
    run_body, donated, fresh = _body_plan(body, count, at_start)
    # histories only read row by row are handed over as the lists of kept arrays
    listed = {k for k in recorded if only_read_by_rows(histories[k - 1])}
    # a saved value that may be a view (of a loop variable a later iteration updates in
    # place, say) is copied; the body's own new arrays are kept as they are
    owned = [fresh[position] for position in range(count, count + len(saved))]
    template = [None] * len(histories)
    # histories read whole are written row by row into one array (StackedRows) sized by
    # the previous run's iteration count
    capacity = {k: 4 for k in recorded if k not in listed}

    def kernel(ctx, *args):
        values, captured = list(args[:count]), list(args[count:])
        for k in donated:  # the loop's own copy, which the body may then update in place
            values[k] = np.array(values[k], copy=True)
        kept = {k: [] if k in listed else StackedRows(capacity[k]) for k in recorded}
        iteration = 0
        where = "condition"
        try:
            while True:
                where = "condition"
                [go] = run_cond(values + captured, ctx)
                if not go:
                    break
                for k in at_start:
                    kept[k].append(values[k])
                where = "body"
                values = run_body(values + captured, ctx)
                if saved:
                    for position, k in enumerate(saved, count):
                        value = values[position]
                        kept[k].append(value if owned[position - count] or k in capacity
                                       else np.array(value, copy=True))
                    del values[count:]
                iteration += 1
        except OpError as err:
            raise _rethrown(err, op, f"the {where} (iteration {iteration})") from err
        finally:
            ctx.op = op
        history = list(template)
        for k, items in kept.items():
            if k in listed:
                history[k - 1] = items
            else:
                capacity[k] = max(4, len(items))
                history[k - 1] = _stacked(items.values(), histories[k - 1], op)
        return tuple(values) + tuple(history)
    kernel.recorded = tuple(recorded)  # the histories kept (see above)
    kernel.listed = tuple(sorted(listed))  # those handed over as lists, not stacked
    kernel.donated = donated  # the loop variables the body updates in place
    kernel.run_body = run_body
    return kernel


def _body_plan(body, count, recorded):
    """``(run, donated, fresh)``: the body's plan, the loop variables it may update in
    place (those whose body result is always a new array of the body's, distinct from the
    others, saved values included, and whose history is not kept: one iteration's value
    then belongs to the loop alone), and per body output whether it is a new array."""
    candidates = tuple(k for k in range(1, count) if k not in recorded)
    while True:
        run, fresh = service("compile")(body, candidates)
        outputs = body.outputs
        safe = tuple(k for k in candidates if fresh[k]
                     and sum(t is outputs[k] for t in outputs) == 1)
        if safe == candidates:
            return run, safe, fresh
        candidates = safe


def _stacked(items, tensor, op):
    """The history array of ``items`` (a ``StackedRows``' values: an array, a list when
    shapes changed, None when no iteration ran)."""
    if isinstance(items, np.ndarray):
        return items
    if not items:
        dims = tensor.shape.dims
        tail = [0 if d is None else d for d in dims[1:]] if dims is not None else []
        return np.zeros([0, *tail], dtype=tensor.dtype.np)
    try:
        return np.stack(items)
    except ValueError:
        shapes = {np.shape(v) for v in items}
        if len(shapes) == 1:
            raise
    raise ValueError(f"{describe_op(op)}: the gradient needs the values of a loop "
                     f"variable of every iteration, and its shape changed across "
                     f"iterations ({sorted(shapes)}); differentiating such loops is not "
                     "supported")


def _while_kernel(ctx, *args, **attrs):
    return bind_while(ctx.op)(ctx, *args)


WHILE_FIELDS = dict(name="while_loop", dtypes=_while_dtypes, shapes=_while_shapes,
                    kernel=_while_kernel,
                    attrs={"cond": None, "body": None, "num_vars": 0, "shape_invariants": (),
                           "back_prop": True, "parallel_iterations": 10},
                    bind=bind_while, needs_context=True, stateful=True, foldable=False,
                    unknown_rank_ok=True, subgraphs=("cond", "body"))


def build_while(loop_vars, captured, cond, body, invariants, back_prop=True,
                parallel_iterations=10, name=None):
    """A new ``while_loop`` op; returns its final loop variables (counter first)."""
    graph = get_default_graph()
    op = graph.create_op("while_loop", [*loop_vars, *captured],
                         {"cond": cond, "body": body, "num_vars": len(loop_vars),
                          "shape_invariants": tuple(invariants), "back_prop": bool(back_prop),
                          "parallel_iterations": int(parallel_iterations)},
                         name=name or "while")
    return list(op.outputs[:len(loop_vars)])
