"""One test per algebraic rule: expected graph, record, numbers, idempotence."""
import numpy as np
import pytest

import graphc as gc
from graphc.passes import algebraic
from graphc.passes.algebraic import ALGEBRAIC_RULES
from tests.passes.tools import assert_same_structure, build, evaluate, random_feeds

F = gc.float64
VEC = {"x": ((3,), F)}
MAT = {"x": ((2, 3), F)}

CASES = {
    # rule: (inputs, graph builder, expected builder)
    "fold_mul_one": (VEC, lambda x: x * 1.0, lambda x: x),
    "fold_add_zero": (VEC, lambda x: 0.0 + x, lambda x: x),
    "fold_sub_zero": (VEC, lambda x: x - 0.0, lambda x: x),
    "fold_div_one": (VEC, lambda x: x / 1.0, lambda x: x),
    "fold_neg_neg": (VEC, lambda x: -(-x), lambda x: x),
    "fold_sub_self": (VEC, lambda x: (lambda t: t - t)(gc.tanh(x)),
                      lambda x: gc.zeros([3], dtype=F)),
    "fold_mul_zero": (VEC, lambda x: gc.sigmoid(x) * 0.0, lambda x: gc.zeros([3], dtype=F)),
    "double_repeated_sum": (VEC, lambda x: (lambda e: e + e)(gc.exp(x)),
                            lambda x: gc.exp(x) * 2.0),
    "combine_mul_consts": (VEC, lambda x: (x * 2.0) * 3.0, lambda x: x * 6.0),
    "combine_add_consts": (VEC, lambda x: (x + 1.0) + 2.0, lambda x: x + 3.0),
    "compose_transposes": (MAT, lambda x: gc.transpose(gc.transpose(x)), lambda x: x),
    "merge_reshapes": (MAT, lambda x: gc.reshape(gc.reshape(x, [6]), [3, 2]),
                       lambda x: gc.reshape(x, [3, 2])),
    "drop_same_shape_reshape": (MAT, lambda x: gc.reshape(x, [2, 3]), lambda x: x),
    "drop_same_shape_broadcast": (MAT, lambda x: gc.broadcast_to(x, [2, 3]), lambda x: x),
    "drop_same_shape_sum_to": (MAT, lambda x: gc.sum_to_shape(x, [2, 3]), lambda x: x),
    "remove_identity": (VEC, lambda x: gc.identity(gc.exp(x)), lambda x: gc.exp(x)),
    "drop_same_dtype_cast": (VEC, lambda x: gc.cast(x, F), lambda x: x),
    "scalar_zero_in_where": (VEC, lambda x: (lambda e: gc.where(x > 0.0, e, gc.zeros_like(e)))(
        gc.exp(x)), lambda x: gc.where(x > 0.0, gc.exp(x), gc.constant(0.0, F))),
}


def test_every_rule_has_a_case():
    assert sorted(CASES) == sorted(rule.name for rule in ALGEBRAIC_RULES)


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule(rule):
    inputs, make, make_expected = CASES[rule]
    graph, interface = build(make, inputs)
    result = algebraic.run(graph, interface)
    assert result.changed and rule in [r.rule for r in result.rewrites]
    assert result.nodes_before == len(graph) and result.nodes_after == len(result.graph)
    assert result.graph is not graph and len(graph) == result.nodes_before  # input untouched
    expected_graph, expected = build(make_expected, inputs)
    assert_same_structure(result.interface.fetches[0], expected.fetches[0], rule)
    values = random_feeds(interface)
    np.testing.assert_allclose(evaluate(result.graph, result.interface, values)[0],
                               evaluate(graph, interface, values)[0], rtol=1e-12)
    again = algebraic.run(result.graph, result.interface)
    assert not [r for r in again.rewrites if r.rule == rule], "not idempotent"


@pytest.mark.parametrize("make", [
    lambda x, y: x * gc.ones([4, 3], dtype=F),  # 1 broadcasts x up: shape would change
    lambda x, y: y * 0.0,  # y may hold inf or NaN
    lambda x, y: y - y,
    lambda x, y: gc.reshape(y, [-1, 3]),  # unknown dims: not provably the same shape
], ids=["broadcasting-one", "mul-zero-unbounded", "sub-self-unbounded", "unknown-shape"])
def test_rules_decline_when_unsafe(make):
    graph, interface = build(make, {"x": ((3,), F), "y": ((None, 3), F)})
    assert not algebraic.run(graph, interface).changed


def test_exact_only_config_excludes_other_classes():
    graph, interface = build(lambda x: (x * 2.0) * 3.0 + gc.sigmoid(x) * 0.0, VEC)
    result = algebraic.run(graph, interface, allowed_safety=("exact",))
    assert not result.changed
    assert algebraic.run(graph, interface).changed
