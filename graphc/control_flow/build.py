"""Building control-flow ops from Python functions over flat lists of tensors: tracing the
branches (or condition and body) into subgraphs, collecting what they capture into the
op's explicit inputs. The public API (cond.py, while_loop.py) adds nesting and TF1's
checks on top; gradients (grads.py) build their backward ops with these too."""
from __future__ import annotations

from typing import Callable, Optional, Sequence

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor
from graphc.graph import Tensor, get_default_graph
from graphc.nodes import _user_location
from graphc.shapes import TensorShape

from .ops import build_cond, build_while
from .subgraph import finish, placed, trace, with_inputs

__all__ = ["trace_flat", "traced_cond", "traced_while", "union"]


def _as_body_tensor(graph, value, label: str) -> Tensor:
    if isinstance(value, Tensor):
        return graph.capture(value) if value.graph is not graph else value
    try:
        return convert_to_tensor(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{label} returned {value!r}, which is not a tensor: {err}") from None


def trace_flat(fn: Callable, specs: Sequence, label: str) -> tuple:
    """Trace ``fn`` (flat tensors -> flat list of values); returns
    ``(subgraph, captured outer tensors, raw result)``."""
    graph, inputs, result = trace(fn, specs, label)
    with graph.as_default():
        outputs = [_as_body_tensor(graph, v, label) for v in result]
    sub, captured = finish(graph, inputs, outputs, label)
    return sub, captured, result


def union(captures: Sequence[list]) -> list:
    """Every tensor of the lists, once, in first-seen order."""
    return list(dict.fromkeys(t for group in captures for t in group))


def traced_cond(index: Tensor, fns: Sequence[Callable], labels: Sequence[str],
                check: Optional[Callable] = None, operands: Sequence[Tensor] = (),
                name: Optional[str] = None) -> list:
    """A ``cond`` op running ``fns[index]`` on ``operands``; ``check(subgraphs)`` may
    refuse the branches (mismatched results) before anything is added."""
    specs = [(t.shape, t.dtype) for t in operands]
    traced = [trace_flat(fn, specs, label) for fn, label in zip(fns, labels)]
    if check is not None:
        check([sub for sub, _, _ in traced])
    captured = union([c for _, c, _ in traced])
    branches = [placed(with_inputs(sub, own, captured), 1, 0, False) for sub, own, _ in traced]
    return build_cond(index, [*operands, *captured], branches, labels, name)


def traced_while(cond_fn: Callable, body_fn: Callable, loop_vars: Sequence[Tensor],
                 invariants: Sequence[TensorShape], maximum_iterations=None,
                 back_prop: bool = True, parallel_iterations: int = 10,
                 check: Optional[Callable] = None, name: Optional[str] = None) -> tuple:
    """A ``while_loop`` op over flat ``loop_vars``; returns ``(iterations, final values)``.

    ``cond_fn(*vars)`` gives a scalar bool, ``body_fn(*vars)`` the new values;
    ``check(body subgraph)`` may refuse the body's results before anything is added.
    """
    limit = None
    if maximum_iterations is not None:
        limit = convert_to_tensor(maximum_iterations, dtype=gdt.int32,
                                  name="maximum_iterations")
    specs = [(TensorShape([]), gdt.int32)] + [(s, t.dtype) for s, t in
                                               zip(invariants, loop_vars)]

    def condition(counter, *values):
        go = convert_to_tensor(cond_fn(*values))
        if go.dtype is not gdt.bool or go.shape.rank not in (0, None):
            raise TypeError(f"while_loop: cond must return a scalar bool tensor, got "
                            f"{go.dtype.name}{list(go.shape.dims or [])} ({_user_location()})")
        if limit is not None:
            go = graph_op("logical_and", [graph_op("less", [counter, limit]), go])
        return [go]

    def body(counter, *values):
        results = body_fn(*values)
        step = graph_op("add", [counter, convert_to_tensor(1, dtype=gdt.int32)])
        return [step, *results]

    cond_sub, cond_captured, _ = trace_flat(condition, specs, "cond")
    body_sub, body_captured, _ = trace_flat(body, specs, "body")
    if check is not None:
        check(body_sub)
    captured = union([cond_captured, body_captured])
    start = convert_to_tensor(0, dtype=gdt.int32, name="iteration_counter")
    first_captured = len(loop_vars) + 1
    outputs = build_while([start, *loop_vars], captured,
                          placed(with_inputs(cond_sub, cond_captured, captured), 0,
                                 first_captured, True),
                          placed(with_inputs(body_sub, body_captured, captured), 0,
                                 first_captured, True),
                          [TensorShape([])] + list(invariants), back_prop,
                          parallel_iterations, name)
    return outputs[0], outputs[1:]


def graph_op(op_type: str, inputs) -> Tensor:
    """One op of the default graph (the body being traced)."""
    return get_default_graph().create_op(op_type, list(inputs)).outputs[0]
