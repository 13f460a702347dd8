"""One test per stabilization rule, and graphs that overflow unoptimized but not optimized."""
import numpy as np
import pytest

import graphc as gc
from graphc.passes import stabilize
from graphc.passes.stabilize import STABILIZE_RULES
from tests.passes.tools import (SHAPE_VARIANTS, assert_same_structure, build,
                                check_pass_on_vague_shapes, evaluate, random_feeds)

F = gc.float64
ROWS = {"x": ((2, 4), F), "labels": ((2, 4), F)}

CASES = {
    "log_softmax": (lambda x, labels: gc.log(gc.nn.softmax(x)),
                    lambda x, labels: gc.nn.log_softmax(x)),
    "log1p": (lambda x, labels: gc.log(1.0 + gc.sigmoid(x)),
              lambda x, labels: gc.log1p(gc.sigmoid(x))),
    "expm1": (lambda x, labels: gc.exp(x) - 1.0, lambda x, labels: gc.expm1(x)),
    "logsumexp": (lambda x, labels: gc.log(gc.reduce_sum(gc.exp(x), axis=1)),
                  lambda x, labels: gc.reduce_logsumexp(x, axis=1)),
    "softmax_cross_entropy": (
        lambda x, labels: -gc.reduce_sum(labels * gc.nn.log_softmax(x), axis=1),
        lambda x, labels: gc.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=x,
                                                                     axis=1)),
    "log_sigmoid": (lambda x, labels: gc.log(gc.sigmoid(x)),
                    lambda x, labels: -gc.nn.softplus(-x)),
    "log_one_minus_sigmoid": (lambda x, labels: gc.log(1.0 - gc.sigmoid(x)),
                              lambda x, labels: -gc.nn.softplus(x)),
}


def test_every_rule_has_a_case():
    assert sorted(CASES) == sorted(rule.name for rule in STABILIZE_RULES)


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule(rule):
    make, make_expected = CASES[rule]
    graph, interface = build(make, ROWS)
    result = stabilize.run(graph, interface)
    assert [r.rule for r in result.rewrites] == [rule]
    _, expected = build(make_expected, ROWS)
    assert_same_structure(result.interface.fetches[0], expected.fetches[0], rule)
    values = random_feeds(interface, positive=True)
    np.testing.assert_allclose(evaluate(result.graph, result.interface, values)[0],
                               evaluate(graph, interface, values)[0], rtol=1e-9)
    assert not stabilize.run(result.graph, result.interface).changed


@pytest.mark.parametrize("variant", sorted(SHAPE_VARIANTS))
@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_on_vague_shapes(rule, variant):
    """Unknown ranks and dims prove nothing: each rule declines or stays right (no crash)."""
    check_pass_on_vague_shapes(stabilize.run, CASES[rule][0], ROWS, variant, rtol=1e-9,
                               positive=True)


@pytest.mark.parametrize("make", [
    lambda x, one: gc.log(one - gc.sigmoid(x)), lambda x, one: gc.log(one + x),
    lambda x, one: gc.exp(x) - one,
], ids=["log-one-minus-sigmoid", "log1p", "expm1"])
def test_rules_keep_a_shape_that_one_broadcasts(make):
    """With a 1 of shape (3, 1, 4) the result of x of shape (2, 4) has shape (3, 2, 4), the
    stable form of x alone (2, 4): the rule must decline when x's rank is unknown."""
    def build_with_ones(x):
        return make(x, gc.constant(np.ones((3, 1, 4)), dtype=F))
    graph, interface = build(build_with_ones, {"x": (None, F)})
    result = stabilize.run(graph, interface)
    assert not result.changed
    value = [np.full((2, 4), 0.5)]
    assert evaluate(result.graph, result.interface, value)[0].shape == (3, 2, 4)


def test_unstable_graph_becomes_finite_and_correct():
    """Cross-entropy written by hand overflows for large logits; optimized it does not."""
    g = gc.Graph()
    with g.as_default():
        logits = gc.placeholder(F, (None, 3), name="logits")
        labels = gc.placeholder(F, (None, 3), name="labels")
        loss = gc.reduce_mean(-gc.reduce_sum(labels * gc.log(gc.nn.softmax(logits)), axis=1))
        z = gc.placeholder(F, (None,), name="z")
        target = gc.placeholder(F, (None,), name="target")
        logistic = gc.reduce_mean(-(target * gc.log(gc.sigmoid(z))
                                    + (1.0 - target) * gc.log(1.0 - gc.sigmoid(z))))
    feeds = {logits: [[1000.0, 0.0, -1000.0], [0.0, 1.0, 2.0]],
             labels: [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]], z: [800.0, -800.0, 0.5],
             target: [0.0, 1.0, 1.0]}
    with gc.Session(graph=g, optimize=False) as raw, gc.Session(graph=g) as optimized:
        bad = raw.run([loss, logistic], feeds)
        good = optimized.run([loss, logistic], feeds)
    assert not np.isfinite(bad[0]) and not np.isfinite(bad[1])
    row2 = np.log(np.exp([0.0, 1.0, 2.0]).sum())  # -log softmax of the right class
    assert good[0] == pytest.approx((2000.0 + row2) / 2)
    assert good[1] == pytest.approx((800.0 + 800.0 + np.log1p(np.exp(-0.5))) / 3)


def test_gradients_differentiate_the_stable_form():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(F, (3,), name="x")
        y = gc.reduce_sum(gc.log(gc.nn.softmax(x)) * gc.constant([1.0, 0.0, 0.0], dtype=F))
        [dx] = gc.gradients(y, x)
    with gc.Session(graph=g, optimize=False) as sess:
        np.testing.assert_allclose(sess.run(dx, {x: [-1000.0, 0.0, 1000.0]}), [1.0, 0.0, -1.0])
