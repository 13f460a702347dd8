"""Common-subexpression elimination merges pure duplicates only."""
import numpy as np

import graphc as gc
from graphc.passes import cse, dce
from tests.passes.tools import build, evaluate, random_feeds

F = gc.float64


def test_duplicate_computation_is_merged():
    """f(x) computed twice is computed once; commutative operands in either order merge."""
    graph, interface = build(lambda x, y: gc.exp(x) * (x + y) + gc.exp(x) * (y + x),
                             {"x": ((3,), F), "y": ((3,), F)})
    result = cse.run(graph, interface)
    assert [r.rule for r in result.rewrites].count("merge_duplicates") == 3
    histogram = result.histogram_after
    live = dce.run(result.graph, result.interface).histogram_after
    assert live["exp"] == 1 and live["add"] == 2 and histogram["exp"] == 1
    values = random_feeds(interface)
    np.testing.assert_allclose(evaluate(result.graph, result.interface, values)[0],
                               evaluate(graph, interface, values)[0])
    assert not cse.run(result.graph, result.interface).changed


def test_different_attributes_do_not_merge():
    graph, interface = build(lambda x: gc.reduce_sum(x, axis=0) + gc.reduce_sum(x, axis=1),
                             {"x": ((3, 3), F)})
    assert not cse.run(graph, interface).changed


def test_random_and_stateful_ops_never_merge():
    def make(x):
        v = gc.Variable(0.0, dtype=F, name="v")
        first, second = v.assign_add(1.0), v.assign_add(1.0)
        draws = gc.random_uniform([2], dtype=F, seed=3) + gc.random_uniform([2], dtype=F, seed=3)
        return draws + first + second + x
    graph, interface = build(make, {"x": ((2,), F)})
    result = cse.run(graph, interface)
    counts = result.histogram_after
    assert counts["assign_add"] == 2 and counts["random_uniform"] == 2


def test_equal_constants_merge():
    graph, interface = build(lambda x: x * gc.constant([1.0, 2.0], F) + gc.constant([1.0, 2.0], F),
                             {"x": ((2,), F)})
    assert [r.rule for r in cse.run(graph, interface).rewrites] == ["merge_duplicates"]
