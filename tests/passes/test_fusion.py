"""Elementwise fusion: maximal convex groups become visible fused nodes with equal results."""
import networkx as nx
import numpy as np

import graphc as gc
from graphc.passes import fusion
from tests.passes.tools import build, evaluate, random_feeds

F = gc.float64


def test_elementwise_chain_becomes_one_fused_node():
    graph, interface = build(lambda x, b: gc.tanh(0.5 * x + 1.0) * gc.exp(-x * x)
                             + gc.sin(x) / (1.0 + x * x) - 0.1 * x + b,
                             {"x": ((4, 5), F), "b": ((5,), F)})
    result = fusion.run(graph, interface)
    fused = [op for op in result.graph.get_operations() if op.type == "fused_elementwise"]
    assert len(fused) == 1 and result.rewrites[0].rule == "fuse_elementwise"
    assert {"tanh", "exp", "sin", "divide"} <= {step[0] for step in fused[0].attrs["program"]}
    assert set(fused[0].attrs["ops"]) >= {"tanh", "exp", "sin"}
    assert fused[0].provenance[0] == "fusion/fuse_elementwise"
    assert result.histogram_after.get("tanh", 0) == 0
    values = random_feeds(interface)
    np.testing.assert_allclose(evaluate(result.graph, result.interface, values)[0],
                               evaluate(graph, interface, values)[0], rtol=1e-12)
    assert not fusion.run(result.graph, result.interface).changed


def test_values_used_outside_the_group_and_fetched_values_stay_visible():
    graph, interface = build(lambda x: [gc.exp(x) * 2.0, gc.reduce_sum(gc.exp(x) * 2.0),
                                        gc.sin(x) + 1.0], {"x": ((3,), F)})
    result = fusion.run(graph, interface)
    fetched = set(result.interface.fetches)
    for op in result.graph.get_operations():
        if op.type == "fused_elementwise":
            assert op.outputs[0] in fetched or op.outputs[0].consumers()
    values = random_feeds(interface)
    for got, want in zip(evaluate(result.graph, result.interface, values),
                         evaluate(graph, interface, values)):
        np.testing.assert_allclose(got, want)


def test_groups_are_convex():
    """Contracting each group must leave the graph acyclic (networkx checks it)."""
    graph, interface = build(lambda x, y: gc.exp(x + y) * gc.reduce_sum(x * y) + gc.sin(x * y),
                             {"x": ((3,), F), "y": ((3,), F)})
    view = graph.to_networkx()
    for group in fusion.find_groups(graph, interface):
        members = {op.name for op in group}
        contracted = nx.DiGraph()
        for a, b in view.edges:
            a2, b2 = ("GROUP" if a in members else a), ("GROUP" if b in members else b)
            if a2 != b2:
                contracted.add_edge(a2, b2)
        assert nx.is_directed_acyclic_graph(contracted)


def test_stateful_and_random_ops_are_not_fused():
    def make(x):
        v = gc.Variable([1.0, 1.0], dtype=F, name="v")
        return gc.exp(v.value() + gc.random_uniform([2], dtype=F, seed=1)) * x
    graph, interface = build(make, {"x": ((2,), F)})
    result = fusion.run(graph, interface)
    for op in result.graph.get_operations():
        if op.type == "fused_elementwise":
            assert all(step[0] not in ("read_variable", "random_uniform")
                       for step in op.attrs["program"])
