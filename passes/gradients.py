"""Symbolic reverse-mode differentiation: ``gradients(ys, xs)`` appends gradient ops to the graph.

This is a graph transformation, not a tape: it walks the ops between ``xs`` and ``ys`` in
reverse topological order, asks each op's registry ``grad`` rule for its input gradients
(ordinary graph ops), sums contributions from several paths with ``add_n``, and undoes
forward broadcasting in one place (``reduce_to_input``). Where a stabilization rule matches
(``log(softmax(x))`` ...), the stable form is differentiated instead, since rewriting the
gradient graph afterwards cannot recover what the unstable formula lost. The results are
ordinary tensors:
fetchable, differentiable again (Hessians), optimizable and renderable. Every walk is
iterative, so a chain of any depth differentiates.
"""
from __future__ import annotations

from typing import Optional

from graphc import control_flow, registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.errors import describe_op
from graphc.graph import Tensor, required_ops
from graphc.ops import fused
from graphc.ops.array import stack
from graphc.ops.creation import ones_like, zeros, zeros_like
from graphc.ops.elementwise import add_n
from graphc.ops.reduce import reduce_sum
from graphc.ops.shape_ops import reshape, shape, sum_to_shape

from .stabilize import INDEX

__all__ = ["gradients", "hessians", "reduce_to_input"]


def _as_list(values) -> list:
    return list(values) if isinstance(values, (list, tuple)) else [values]


def _as_x(value, graph) -> Tensor:
    """A Variable is differentiated through its handle, so every read of it counts (in a
    function being traced, through the handle that graph captured for it)."""
    handle = getattr(value, "_handle", None)
    if not isinstance(handle, Tensor):
        return convert_to_tensor(value)
    if handle.graph is not graph and hasattr(graph, "captured_handle"):
        handle = graph.captured_handle(handle)
    return handle


def _data_descendants(tensors) -> set:
    seen, stack = set(), [c for t in tensors for c in t.consumers()]
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        stack.extend(c for t in op.outputs for c in t.consumers())
    return seen


def _broadcast_axes(op, index: int):
    """``(axes, dynamic)``: output axes input ``index`` was broadcast along, statically.

    ``dynamic`` is True when a None dim of the input might be 1 at run time while the output
    is larger there; only then is the reduction left to the run-time ``sum_to_shape``.
    """
    x, out = op.inputs[index].shape, op.outputs[0].shape
    if x.rank is None or out.rank is None:
        return [], True
    leading = out.rank - x.rank
    axes, dynamic = list(range(leading)), False
    for k, dim in enumerate(x.dims):
        position = leading + k
        out_dim = out.dims[position]
        if dim == 1 and out_dim != 1:
            axes.append(position)
        elif dim is None and out_dim != 1:
            for j, other in enumerate(op.inputs):
                offset = position - (out.rank - (other.shape.rank or 0))
                if j != index and other.shape.rank is not None and offset >= 0:
                    other_dim = other.shape.dims[offset]
                    dynamic = dynamic or other_dim is None or other_dim > 1
    return axes, dynamic


def reduce_to_input(grad: Optional[Tensor], op, index: int) -> Optional[Tensor]:
    """Sum ``grad`` (shaped like the op's output) back to the shape of input ``index``.

    Example:
        >>> # z = x + b with x: (None, 10), b: (10,) -> reduce_sum(dz, axis=[0]) for b
    """
    if grad is None:
        return None
    x = op.inputs[index]
    axes, dynamic = _broadcast_axes(op, index)
    if dynamic:
        return sum_to_shape(grad, shape(x))
    leading = (op.outputs[0].shape.rank or 0) - (x.shape.rank or 0)
    if leading:
        grad = reduce_sum(grad, axis=list(range(leading)))
    kept = [a - leading for a in axes if a >= leading]
    return reduce_sum(grad, axis=kept, keepdims=True) if kept else grad


def _aggregate(contributions: list) -> Optional[Tensor]:
    if not contributions:
        return None
    return contributions[0] if len(contributions) == 1 else add_n(contributions)


def _differentiable(tensor: Tensor) -> bool:
    return tensor.dtype.is_floating


def gradients(ys, xs, grad_ys=None, name: str = "gradients", colocate_gradients_with_ops=False,
              gate_gradients=False, aggregation_method=None, stop_gradients=None,
              unconnected_gradients: str = "none", _stabilize: bool = True) -> list:
    """Symbolic gradients of ``sum(ys)`` with respect to each of ``xs`` (TF1 semantics).

    Args:
        ys: a tensor or list of tensors to differentiate.
        xs: tensors or Variables to differentiate with respect to.
        grad_ys: initial gradients for ``ys`` (default: ones).
        name: name scope of the gradient ops.
        stop_gradients: tensors treated as constants.
        unconnected_gradients: "none" (None for an x that ys do not depend on) or "zero".

    Returns:
        A list with one gradient tensor (or None) per x.

    Raises:
        LookupError: a path from xs to ys crosses an op with no gradient rule.

    Example:
        >>> gW, gb = gc.gradients(loss, [W, b])
    """
    if unconnected_gradients not in ("none", "zero"):
        raise ValueError(f"unconnected_gradients must be 'none' or 'zero', got "
                         f"{unconnected_gradients!r}")
    ys, xs = _as_list(ys), _as_list(xs)
    graph = graph_of(ys, xs)
    with graph.as_default(), graph.atomic():
        ys = [convert_to_tensor(y) for y in ys]
        xs = [_as_x(x, graph) for x in xs]
        grad_ys = _as_list(grad_ys) if grad_ys is not None else [None] * len(ys)
        if len(grad_ys) != len(ys):
            raise ValueError(f"gradients: {len(grad_ys)} grad_ys for {len(ys)} ys")
        # a tensor stays itself (a variable handle too: it stops every read of the variable)
        stop = {t if isinstance(t, Tensor) else convert_to_tensor(t)
                for t in _as_list(stop_gradients or [])}
        with graph.name_scope(name):
            return _differentiate(graph, ys, xs, grad_ys, stop, unconnected_gradients,
                                  _stabilize)


def _stable_gradient(graph, op, dy, pending, stop, between, wanted) -> bool:
    """If a stabilization rule matches at ``op`` (log(softmax(x)), log(1 + x), ...),
    differentiate its stable replacement instead, straight into the captured leaves; the
    unstable intermediate then gets no contribution along this path."""
    for rule in INDEX.get(op.type, ()):
        found = rule.find(op, list(op.inputs), op.outputs[0])
        if found is None:
            continue
        leaves = [t for t in dict.fromkeys(found.captures.values())
                  if t.op.type != "const" and _differentiable(t) and t not in stop
                  and (t.op in between or t in wanted)]
        with graph.name_scope(op.name + "_stable_grad"):
            stable = rule.rewrite(found)
            grads = gradients(stable, leaves, grad_ys=dy, name="stable",
                              stop_gradients=list(stop), _stabilize=False) if leaves else []
        for tensor, grad in zip(leaves, grads):
            if grad is not None:
                pending.setdefault(tensor, []).append(grad)
        return True
    return False


def _differentiate(graph, ys, xs, grad_ys, stop, unconnected, stabilize=True) -> list:
    for y in ys:
        if not _differentiable(y):
            raise TypeError(f"gradients: ys must be floating, got {y.name!r} of dtype "
                            f"{y.dtype.name}")
    between = required_ops(ys, fed=frozenset(stop), control=False) & _data_descendants(xs)
    wanted = set(xs)
    pending: dict = {}
    for y, grad_y in zip(ys, grad_ys):
        start = ones_like(y, name="grad_ys") if grad_y is None else convert_to_tensor(
            grad_y, dtype=y.dtype)
        pending.setdefault(y, []).append(start)
    finished: dict = {}
    for op in reversed(graph.topological_order(between)):
        dys = [_aggregate(pending.pop(t, [])) for t in op.outputs]
        for tensor, dy in zip(op.outputs, dys):
            if tensor in wanted:
                finished[tensor] = dy
        if all(dy is None for dy in dys):
            continue
        if (stabilize and len(dys) == 1 and op.gradient_override is None
                and _stable_gradient(graph, op, dys[0], pending, stop, between, wanted)):
            continue
        opdef = registry.get(op.type)
        rule = op.gradient_override or opdef.grad  # a gradient_override_map scope's first
        if rule is registry.NOT_DIFFERENTIABLE:
            continue
        if rule is None:
            raise LookupError(f"No gradient defined for {describe_op(op)}; it lies on a path "
                              f"from xs to ys")
        with graph.name_scope(op.name + "_grad"):
            input_grads = list(rule(op, *dys))
            if op.gradient_override is not None and len(input_grads) != len(op.inputs):
                raise ValueError(f"the gradient_override_map function of {describe_op(op)} "
                                 f"returned {len(input_grads)} gradients for its "
                                 f"{len(op.inputs)} inputs")
            if opdef.elementwise and len(op.inputs) > 1:
                input_grads = [reduce_to_input(g, op, i) for i, g in enumerate(input_grads)]
        for tensor, grad in zip(op.inputs, input_grads):
            if grad is None or tensor in stop or not _differentiable(tensor):
                continue
            if tensor.op not in between and tensor not in wanted:
                continue
            if grad.dtype is not tensor.dtype:
                raise TypeError(f"gradient rule of {describe_op(op)} returned dtype "
                                f"{grad.dtype.name} for input {tensor.name!r} of dtype "
                                f"{tensor.dtype.name}")
            pending.setdefault(tensor, []).append(grad)
    results = []
    for x in xs:
        grad = finished.get(x) if x in finished else _aggregate(pending.get(x, []))
        if grad is None and unconnected == "zero":
            grad = zeros(x.shape.dims, dtype=x.dtype) if x.shape.is_fully_defined() \
                else zeros_like(convert_to_tensor(x))
        results.append(grad)
    return results


def hessians(ys, xs, name: str = "hessians", gate_gradients=False,
             aggregation_method=None) -> list:
    """The Hessian of ``sum(ys)`` with respect to each x, shaped ``x.shape + x.shape``.

    Each x needs a fully defined static shape (one gradient row is built per element).

    Example:
        >>> [H] = gc.hessians(f, [x])
    """
    xs = _as_list(xs)
    graph = graph_of(ys, xs)
    results = []
    with graph.as_default(), graph.atomic(), graph.name_scope(name):
        for x in xs:
            x_tensor = _as_x(x, graph)
            if not x_tensor.shape.is_fully_defined():
                raise ValueError(f"hessians: {x_tensor.name!r} needs a fully defined shape, "
                                 f"got {x_tensor.shape}")
            [grad] = gradients(ys, [x_tensor], unconnected_gradients="zero")
            flat = reshape(grad, [-1])
            size = x_tensor.shape.num_elements()
            rows = [reshape(gradients(flat[i], [x_tensor], unconnected_gradients="zero")[0],
                            [-1]) for i in range(size)]
            dims = list(x_tensor.shape.dims)
            results.append(reshape(stack(rows), dims + dims))
    return results


fused.register_service("gradients", gradients)  # a fused node differentiates its program
control_flow.register_service("gradients", gradients)  # bodies and branches differentiate
