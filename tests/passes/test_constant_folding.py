"""Constant folding: constant subgraphs and static shapes fold; state, randomness and huge
results do not; kernels that raise stay for run time."""
import warnings

import numpy as np
import pytest

import graphc as gc
from graphc.passes import PassOptions, constant_folding
from tests.passes.tools import assert_same_structure, build, evaluate, random_feeds

F = gc.float64


def test_constant_subgraph_folds_into_one_constant():
    """(2 + 3) * exp(0) becomes 5 before run time; x stays symbolic."""
    graph, interface = build(lambda x: x * ((gc.constant(2.0, F) + 3.0) * gc.exp(
        gc.constant(0.0, F))), {"x": ((3,), F)})
    result = constant_folding.run(graph, interface)
    assert {r.rule for r in result.rewrites} == {"fold_constants"}
    _, expected = build(lambda x: x * gc.constant(5.0, F), {"x": ((3,), F)})
    dead_free = constant_folding.run(result.graph, result.interface)
    assert_same_structure(dead_free.interface.fetches[0], expected.fetches[0])
    values = random_feeds(interface)
    np.testing.assert_allclose(evaluate(result.graph, result.interface, values)[0],
                               evaluate(graph, interface, values)[0])


def test_static_shapes_fold_even_from_placeholders():
    graph, interface = build(lambda x: gc.cast(gc.size(x), F) * gc.cast(gc.shape(x)[1], F),
                             {"x": ((4, 5), F)})
    result = constant_folding.run(graph, interface)
    assert "fold_static_shape" in [r.rule for r in result.rewrites]
    for _ in range(3):
        result = constant_folding.run(result.graph, result.interface)
    assert evaluate(result.graph, result.interface, [np.zeros((4, 5))])[0] == 100.0
    unknown, iface = build(lambda x: gc.shape(x), {"x": ((None, 5), F)})
    assert not constant_folding.run(unknown, iface).changed


def test_state_randomness_and_feeds_never_fold():
    def make(x):
        v = gc.Variable(1.0, dtype=F, name="v")
        noise = gc.random_normal([2], dtype=F, seed=1)
        default = gc.placeholder_with_default(gc.constant(3.0, F), shape=[])
        return v.value() * 2.0 + noise + default + x
    graph, interface = build(make, {"x": ((2,), F)})
    result = constant_folding.run(graph, interface)
    kept = {op.type for op in result.graph.get_operations()}
    assert {"variable", "read_variable", "random_standard_normal",
            "placeholder_with_default"} <= kept


def test_fold_limit_bounds_memory():
    graph, interface = build(lambda x: x + gc.zeros([1000, 1000], dtype=F) * 2.0,
                             {"x": ((1000, 1000), F)})
    small = constant_folding.run(graph, interface, PassOptions(fold_limit=1000))
    assert not any(op.type == "const" and op.attrs["value"].size > 1000
                   for op in small.graph.get_operations())
    assert constant_folding.run(graph, interface).changed


def test_failing_kernel_is_left_for_run_time():
    """An out-of-range gather of constants fails when run, with its error, not at compile."""
    graph, interface = build(lambda x: x + gc.gather(gc.constant([1.0, 2.0], F),
                                                    gc.constant([5])), {"x": ((1,), F)})
    result = constant_folding.run(graph, interface)
    assert "gather" in {op.type for op in result.graph.get_operations()}


def test_integer_division_by_zero_is_left_for_run_time():
    """7 // 0 and 7 % 0 of constants raise when run (TF1), not fold into a silent 0."""
    graph, interface = build(lambda x: x + gc.constant([7, 8], gc.int32) // gc.constant(
        [0, 2], gc.int32) + gc.constant(7, gc.int32) % gc.constant(0, gc.int32),
        {"x": ((2,), gc.int32)})
    result = constant_folding.run(graph, interface)
    assert {"floordiv", "mod"} <= {op.type for op in result.graph.get_operations()}
    with pytest.raises(gc.errors.InvalidArgumentError, match="Integer division by zero"):
        evaluate(result.graph, result.interface, [np.zeros(2, np.int32)])
    floats, iface = build(lambda x: x + gc.constant(1.0, F) // gc.constant(0.0, F),
                          {"x": ((1,), F)})
    assert "floordiv" not in {op.type for op in constant_folding.run(
        floats, iface).graph.get_operations()}  # IEEE: inf, folded


def test_no_runtime_warning_leaks_from_the_pipeline():
    """Overflow, NaN casts and division by zero among constants fold (or stay) silently."""
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float32, (3,), name="x")
        big = gc.constant(1e30, gc.float32)
        nan_as_int = gc.cast(gc.cast(gc.constant(np.nan, gc.float32), gc.int32), gc.float32)
        fetches = [x + big * big, x + nan_as_int, x + gc.exp(gc.constant(1e3, gc.float32)),
                   x + gc.constant(1.0, gc.float32) / gc.constant(0.0, gc.float32),
                   x + gc.cast(gc.constant(2 ** 30, gc.int32) * 4, gc.float32),
                   (x * 1e30) * 1e30, (x + 1e38) + 3e38]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gc.optimize(g, fetches, feeds=[x])
