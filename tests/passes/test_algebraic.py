"""One test per algebraic rule: expected graph, record, numbers, idempotence; and the rules'
preconditions: special values (NaN, Inf, signed zeros), overflow, vague shapes."""
import warnings

import numpy as np
import pytest

import graphc as gc
from graphc.passes import PassOptions, algebraic
from graphc.passes.algebraic import ALGEBRAIC_RULES
from tests.passes.tools import (SHAPE_VARIANTS, assert_same_structure, build,
                                check_pass_on_vague_shapes, evaluate, random_feeds)

F = gc.float64
VEC = {"x": ((3,), F)}
MAT = {"x": ((2, 3), F)}
INTS = {"x": ((3,), gc.int32)}
BOOLS = {"x": ((3,), gc.bool)}


def _vec(value):
    return gc.constant([value] * 3, F)

CASES = {
    # rule: (inputs, graph builder, expected builder)
    "fold_mul_one": (VEC, lambda x: x * 1.0, lambda x: x),
    "fold_add_zero": (VEC, lambda x: gc.constant(-0.0, F) + x, lambda x: x),
    "fold_sub_zero": (VEC, lambda x: x - 0.0, lambda x: x),
    "fold_div_one": (VEC, lambda x: x / 1.0, lambda x: x),
    "fold_neg_neg": (VEC, lambda x: -(-x), lambda x: x),
    "fold_sub_self": (INTS, lambda x: (lambda t: t - t)(gc.sin(gc.cast(x, F))),
                      lambda x: gc.zeros([3], dtype=F)),
    "fold_mul_zero": (INTS, lambda x: x * 0, lambda x: gc.zeros([3], dtype=gc.int32)),
    "double_repeated_sum": (VEC, lambda x: (lambda e: e + e)(gc.exp(x)),
                            lambda x: gc.exp(x) * 2.0),
    "combine_multiply_consts": (VEC, lambda x: (x * 2.0) * 3.0, lambda x: x * 6.0),
    "combine_add_consts": (VEC, lambda x: (x + 1.0) + 2.0, lambda x: x + 3.0),
    "combine_add_n_consts": (VEC, lambda x: gc.add_n([gc.add_n([x, _vec(1.0)]), _vec(2.0)]),
                             lambda x: gc.add_n([x, _vec(3.0)])),
    "combine_maximum_consts": (INTS, lambda x: gc.maximum(gc.maximum(x, 3), -2),
                               lambda x: gc.maximum(x, 3)),
    "combine_minimum_consts": (INTS, lambda x: gc.minimum(gc.minimum(x, 3), -2),
                               lambda x: gc.minimum(x, -2)),
    "combine_logical_and_consts": (BOOLS, lambda x: (x & True) & False, lambda x: x & False),
    "combine_logical_or_consts": (BOOLS, lambda x: (x | True) | False, lambda x: x | True),
    "combine_logical_xor_consts": (BOOLS, lambda x: (x ^ True) ^ True, lambda x: x ^ False),
    "compose_transposes": (MAT, lambda x: gc.transpose(gc.transpose(x)), lambda x: x),
    "merge_reshapes": (MAT, lambda x: gc.reshape(gc.reshape(x, [6]), [3, 2]),
                       lambda x: gc.reshape(x, [3, 2])),
    "drop_same_shape_reshape": (MAT, lambda x: gc.reshape(x, [2, 3]), lambda x: x),
    "drop_same_shape_broadcast": (MAT, lambda x: gc.broadcast_to(x, [2, 3]), lambda x: x),
    "divide_before_broadcast": (VEC, lambda x: gc.broadcast_to(x, [2, 3]) / gc.reduce_sum(x),
                                lambda x: gc.broadcast_to(x / gc.reduce_sum(x), [2, 3])),
    "multiply_before_broadcast": (VEC, lambda x: gc.exp(x[0]) * gc.broadcast_to(x, [4, 3]),
                                  lambda x: gc.broadcast_to(x * gc.exp(x[0]), [4, 3])),
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
    lambda x, y: x * gc.ones([4, 3], dtype=gc.int32),  # 1 broadcasts x up: shape changes
    lambda x, y: y * 0.0,  # y may hold inf or NaN
    lambda x, y: y - y,
    lambda x, y: gc.sin(y) - gc.sin(y),  # sin(inf) is NaN
    lambda x, y: gc.tanh(gc.cast(x, F)) * 0.0,  # finite, but -3 * 0 is -0.0
    lambda x, y: y + 0.0,  # -0.0 + 0.0 is +0.0
    lambda x, y: y - gc.constant(-0.0, F),
    lambda x, y: gc.reshape(y, [-1, 3]),  # unknown dims: not provably the same shape
    lambda x, y: gc.broadcast_to(gc.cast(x, F), [2, 3]) / y[0],  # not a scalar: its row
    lambda x, y: gc.broadcast_to(gc.cast(x, F), [2, 3]) * gc.squeeze(y),  # rank unknown
], ids=["broadcasting-one", "mul-zero-unbounded", "sub-self-unbounded", "sub-self-sin",
        "mul-zero-signed", "add-positive-zero", "sub-negative-zero", "unknown-shape",
        "broadcast-by-row", "broadcast-by-unknown-rank"])
def test_rules_decline_when_unsafe(make):
    graph, interface = build(make, {"x": ((3,), gc.int32), "y": ((None, 3), F)})
    assert not algebraic.run(graph, interface).changed


def test_exact_only_config_excludes_other_classes():
    graph, interface = build(lambda x: (x * 2.0) * 3.0, VEC)
    result = algebraic.run(graph, interface, PassOptions(safety=("exact",)))
    assert not result.changed
    assert algebraic.run(graph, interface).changed


@pytest.mark.parametrize("variant", sorted(SHAPE_VARIANTS))
@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_on_vague_shapes(rule, variant):
    """Unknown ranks and dims prove nothing: each rule declines or stays right (no crash)."""
    inputs, make, _ = CASES[rule]
    check_pass_on_vague_shapes(algebraic.run, make, inputs, variant, rtol=1e-12)


def test_transposes_of_unknown_rank_compose_without_hiding_errors():
    """transpose(transpose(x)) of an unknown rank runs optimized; two explicit perms that
    cancel stay, since the inner one rejects x of another rank at run time."""
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(F, None, name="x")
        twice = gc.transpose(gc.transpose(x))
        cancelling = gc.transpose(gc.transpose(x, [1, 0, 2]), [1, 0, 2])
    value = np.arange(6.0).reshape(2, 3)
    with gc.Session(graph=g) as sess:
        np.testing.assert_array_equal(sess.run(twice, {x: value}), value)
        with pytest.raises(gc.errors.InvalidArgumentError, match="transpose"):
            sess.run(cancelling, {x: value})


def test_merged_reshapes_keep_the_inner_error():
    """reshape(reshape(x, [2, -1]), [-1]) fails for 5 elements, optimized or not."""
    graph, interface = build(lambda x: gc.reshape(gc.reshape(x, [2, -1]), [-1]),
                             {"x": ((None,), F)})
    assert not algebraic.run(graph, interface).changed
    flat, iface = build(lambda x: gc.reshape(gc.reshape(x, [-1, 3]), [3, -1]),
                        {"x": ((None, 6), F)})
    assert "merge_reshapes" in [r.rule for r in algebraic.run(flat, iface).rewrites]


SPECIAL = np.array([np.inf, -np.inf, np.nan, 1.0, -0.0, 0.0, -3.0, 5e-324, 1e308])


@pytest.mark.parametrize("rule", sorted(CASES))
def test_exact_rules_are_bit_exact_on_special_values(rule):
    """NaN, +-Inf, +-0.0, denormals and huge values give the very bits of the graph as built."""
    inputs, make, _ = CASES[rule]
    graph, interface = build(make, inputs)
    result = algebraic.run(graph, interface)
    safety = {r.rule: r.safety for r in result.rewrites}[rule]
    rng = np.random.default_rng(3)
    for _ in range(20):
        values = [rng.choice(SPECIAL, size=shape) if dtype.is_floating else
                  rng.integers(-2 ** 31, 2 ** 31, size=shape) for shape, dtype in inputs.values()]
        values = [v.astype(dtype.np) for v, (_, dtype) in zip(values, inputs.values())]
        got = evaluate(result.graph, result.interface, values)[0]
        want = evaluate(graph, interface, values)[0]
        if safety == "exact":
            np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
        else:
            np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("make", [
    lambda x: gc.sin(x) * 0.0, lambda x: gc.erf(x) - gc.erf(x),
    lambda x: gc.nn.softmax(x) * 0.0, lambda x: gc.tanh(x) - gc.tanh(x),
    lambda x: x + 0.0, lambda x: 0.0 + x, lambda x: x - gc.constant(-0.0, F),
    lambda x: gc.cast(gc.cast(x, gc.int32), F) * 0.0, lambda x: (x * 1e300) * 1e10,
    lambda x: (x + 1e300) + -1e300, lambda x: x * 1.0 + x * 1.0,
], ids=["sin-times-0", "erf-minus-erf", "softmax-times-0", "tanh-minus-tanh", "plus-0",
        "0-plus", "minus-negative-0", "cast-times-0", "product-overflows", "sum-absorbs",
        "double"])
def test_optimized_keeps_nan_inf_and_signed_zeros(make):
    """The default pipeline gives bit for bit the results of the graph as built."""
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(F, (len(SPECIAL),), name="x")
        y = make(x)
    with gc.Session(graph=g, optimize=False) as raw, gc.Session(graph=g) as optimized:
        want, got = raw.run(y, {x: SPECIAL}), optimized.run(y, {x: SPECIAL})
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


@pytest.mark.parametrize("make, value, fires", [
    (lambda x: (x * 1e30) * 1e30, 1e-30, False),  # 1e60 overflows float32
    (lambda x: (x * 1e-30) * 1e-30, 1e30, False),  # 1e-60 underflows
    (lambda x: (x * 1e20) * 1e-20, 1e20, False),  # x * 1e20 overflows first
    (lambda x: (x * 3.0) * 0.5, 2e38, False),
    (lambda x: (x * 2.0) * 4.0, 3.0, True),
    (lambda x: (x + 1e8) + -1e8, 0.3, False),  # x is absorbed by 1e8 first
    (lambda x: (x + 1.0) + 2.0 ** -30, 1.0, False),  # 1 + 2^-30 is inexact
    (lambda x: (x + 2e38) + -1e38, 3e38, False),  # x + 2e38 overflows first
    (lambda x: (x + 2.0) + -1.0, 0.3, True),
    (lambda x: (x + 1e30) + 1e30, 1.0, True),
], ids=["mul-overflow", "mul-underflow", "mul-up-down", "mul-up-down-small", "mul-ok",
        "add-absorbs", "add-inexact", "add-overflow", "add-ok", "add-same-sign"])
def test_constant_combination_declines_beyond_rounding(make, value, fires):
    """Combining c1 and c2 must not change a float32 result by more than rounding."""
    graph, interface = build(make, {"x": ((), gc.float32)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning may leak from a pass
        result = algebraic.run(graph, interface)
    assert result.changed is fires
    feed = [np.float32(value)]
    np.testing.assert_allclose(evaluate(result.graph, result.interface, feed)[0],
                               evaluate(graph, interface, feed)[0], rtol=1e-6)


def test_integer_constants_combine_with_wrap_around():
    """Integer arithmetic wraps, and wrapping is associative: combining is exact."""
    graph, interface = build(lambda x: (x * 65536) * 65536 + ((x + 2 ** 30) + 2 ** 30), INTS)
    result = algebraic.run(graph, interface)
    assert {"combine_multiply_consts", "combine_add_consts"} <= {r.rule for r in result.rewrites}
    feed = [np.array([1, -3, 2 ** 31 - 1], np.int32)]
    np.testing.assert_array_equal(evaluate(result.graph, result.interface, feed)[0],
                                  evaluate(graph, interface, feed)[0])
