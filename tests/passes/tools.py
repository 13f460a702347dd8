"""Helpers for pass tests: build a tiny graph, run one pass alone, compare structures."""
from __future__ import annotations

import numpy as np
import pytest

import graphc as gc
from graphc.passes import prune
from graphc.passes.result import Interface
from graphc.printing import format_attr

RNG = np.random.default_rng(11)


def build(fn, inputs: dict):
    """A fresh graph with placeholders ``inputs = {name: (shape, dtype)}`` and ``fn``'s
    output(s); returns (graph, interface of the pruned graph, feeds by user placeholder)."""
    graph = gc.Graph()
    with graph.as_default():
        holders = {name: gc.placeholder(dtype, shape, name=name)
                   for name, (shape, dtype) in inputs.items()}
        out = fn(**holders)
    outs = tuple(out) if isinstance(out, (list, tuple)) else (out,)
    fetches = tuple(o for o in outs if isinstance(o, gc.Tensor))
    targets = tuple(o for o in outs if isinstance(o, gc.Operation))
    pruned = prune.run(graph, Interface(fetches, targets, tuple(holders.values())))
    return pruned.graph, pruned.interface


def random_feeds(interface: Interface, positive=False) -> list:
    return [random_value([d if d is not None else 3 for d in tensor.shape.dims], tensor.dtype,
                         positive) for tensor in interface.feeds]


def random_value(shape, dtype, positive=False) -> np.ndarray:
    if dtype.is_floating:
        data = RNG.uniform(0.1 if positive else -2, 2, size=shape)
    elif dtype.is_bool:
        data = RNG.random(size=shape) < 0.5
    else:
        data = RNG.integers(-4, 5, size=shape)
    return np.asarray(data).astype(dtype.np)


def evaluate(graph, interface, values):
    with gc.Session(graph=graph, optimize=False) as sess:
        return sess.run(list(interface.fetches) + list(interface.targets),
                        dict(zip(interface.feeds, values)))


def structure(tensor) -> str:
    """A name-free canonical form of the expression computing ``tensor`` (placeholders by
    name, constants by value, shared subexpressions written once and referenced)."""
    memo: dict = {}
    lines = []
    stack = [(tensor, False)]
    while stack:
        current, expanded = stack.pop()
        if current in memo:
            continue
        op = current.op
        if op.type == "placeholder":
            memo[current] = op.name
            continue
        if op.type == "const":
            memo[current] = format_attr(op.attrs["value"])
            continue
        if not expanded:
            stack.append((current, True))
            stack.extend((t, False) for t in reversed(op.inputs) if t not in memo)
            continue
        attrs = {k: v for k, v in op.attrs.items() if k not in ("ops",)}
        shown = ", ".join(f"{k}={format_attr(v)}" for k, v in sorted(attrs.items()))
        text = f"{op.type}({', '.join(memo[t] for t in op.inputs)})" + (f"{{{shown}}}"
                                                                         if shown else "")
        if current.value_index:
            text += f"[{current.value_index}]"
        memo[current] = f"${len(lines)}"
        lines.append(text)
    return "\n".join(f"${i} = {line}" for i, line in enumerate(lines)) + f"\n-> {memo[tensor]}"


def assert_same_structure(got_tensor, want_tensor, context=""):
    got, want = structure(got_tensor), structure(want_tensor)
    assert got == want, f"{context}\n--- rewritten:\n{got}\n--- expected:\n{want}"


# Less known shapes for the same fed values: every rule must decline or stay right on them.
SHAPE_VARIANTS = {
    "unknown-rank": lambda shape: None,
    "unknown-first-dim": lambda shape: (None,) + tuple(shape[1:]) if shape else shape,
    "unknown-dims": lambda shape: tuple(None for _ in shape),
}


def check_pass_on_vague_shapes(run_pass, make, inputs: dict, variant: str, rtol: float,
                               positive=False):
    """Run one pass alone on ``make`` built with placeholders of the ``variant``'s less known
    shapes, fed values of the original ones: it must not fail, and the rewritten graph must
    compute what the graph as built does."""
    vague = {name: (SHAPE_VARIANTS[variant](shape), dtype)
             for name, (shape, dtype) in inputs.items()}
    graph, interface = build(make, vague)
    result = run_pass(graph, interface)
    values = [random_value(shape, dtype, positive) for shape, dtype in inputs.values()]
    for got, want in zip(evaluate(result.graph, result.interface, values),
                         evaluate(graph, interface, values)):
        assert np.shape(got) == np.shape(want), variant
        np.testing.assert_allclose(got, want, rtol=rtol, err_msg=variant)
    return result


def op_types(graph) -> list:
    """The op types of ``graph``, in its order."""
    return [op.type for op in graph.get_operations()]


@pytest.fixture()
def fresh_graph():
    """A new default graph for the test (use with ``pytest.mark.usefixtures`` or autouse)."""
    with gc.Graph().as_default() as graph:
        yield graph
