"""Passes on control flow: loop-invariant code motion, optimization inside bodies and
branches (the whole pipeline per subgraph), constant-predicate conds replaced by their
branch. Each case checks the rewritten graph, the PassResult, idempotence and the same
results as the unoptimized graph on random inputs (differential)."""
import numpy as np
import pytest

import graphc as tf
from graphc.control_flow import subgraphs_of
from graphc.passes import Interface, OptimizerConfig, branch_folding, loop_invariant_motion


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as graph:
        yield graph


def ops_of(graph, kind):
    return [op for op in graph.get_operations() if op.type == kind]


def agree(fetches, feeds_fn, runs=5, seed=0, rtol=1e-5, config=None):
    """The optimized and unoptimized graphs give the same results on random feeds."""
    rng = np.random.default_rng(seed)
    with tf.Session(optimize=config if config is not None else True) as fast, \
            tf.Session(optimize=False) as plain:
        for _ in range(runs):
            feeds = feeds_fn(rng)
            for a, b in zip(fast.run(fetches, feeds), plain.run(fetches, feeds)):
                np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-6)


def invariant_loop():
    x = tf.placeholder(tf.float32, [3], name="x")
    w = tf.placeholder(tf.float32, [3, 3], name="w")
    n = tf.placeholder(tf.int32, [], name="n")

    def body(i, s):
        m = tf.matmul(w, w) * 0.5
        return i + 1, tf.tanh(tf.matmul(s[None], m)[0] + x)
    _, s = tf.while_loop(lambda i, s: i < n, body, [0, x])
    return (x, w, n), s


def test_loop_invariant_motion_hoists_work_that_ignores_the_loop_variables():
    (x, w, n), s = invariant_loop()
    graph = tf.get_default_graph()
    interface = Interface((s,), (), (x, w, n))
    result = loop_invariant_motion.run(graph, interface)
    assert result.changed and [r.rule for r in result.rewrites] == ["hoist_invariant"]
    [loop] = ops_of(result.graph, "while_loop")
    body = loop.attrs["body"]
    assert "matmul" in [op.type for op in result.graph.get_operations()]  # outside now
    body_types = [op.type for op in body.ops()]
    assert body_types.count("matmul") == 1  # only s @ m stays in the body
    again = loop_invariant_motion.run(result.graph, result.interface)
    assert not again.changed  # idempotent
    assert len(ops_of(graph, "while_loop")) == 1 and graph.get_operations()[-1].type != "matmul"
    with tf.Session(graph=result.graph, optimize=False) as moved, \
            tf.Session(optimize=False) as plain:
        rng = np.random.default_rng(1)
        for count in (0, 1, 4):
            feeds = {x: rng.normal(size=3), w: rng.normal(size=(3, 3)), n: count}
            moved_feeds = {result.graph.get_tensor_by_name(t.name): v for t, v in feeds.items()}
            np.testing.assert_allclose(moved.run(result.interface.fetches[0], moved_feeds),
                                       plain.run(s, feeds), rtol=1e-6)


def test_loop_invariant_motion_leaves_stateful_and_varying_work_in_the_body():
    v = tf.Variable(1.0)
    w = tf.placeholder(tf.float32, [])

    def body(i, s):
        return i + 1, s * tf.sin(tf.cast(i, tf.float32)) + v.read_value() * 2.0 \
            + tf.random_uniform([], seed=1) * 0.0 + w
    _, s = tf.while_loop(lambda i, s: i < 3, body, [0, tf.constant(1.0)])
    result = loop_invariant_motion.run(tf.get_default_graph(), Interface((s,), (), (w,)))
    assert not result.changed


def test_optimization_inside_bodies_and_branches_with_nested_records():
    x = tf.placeholder(tf.float32, [4], name="x")
    scale = tf.constant(3.0)

    def body(i, s):
        unused = tf.exp(s) * 7.0  # dead
        del unused
        folded = tf.constant(2.0) * 3.0 - 6.0  # folds inside
        return i + 1, tf.sin(s) * scale + folded + tf.log(tf.nn.softmax(s))
    _, s = tf.while_loop(lambda i, s: i < 3, body, [0, x])
    y = tf.cond(tf.reduce_sum(x) > 0, lambda: s * 1.0, lambda: tf.tanh(s) + 0.0 * s)
    optimized, records = tf.optimize(tf.get_default_graph(), [y], feeds=[x])
    record = next(r for r in records if r.name == "subgraphs" and r.changed)
    inside = record.extra["inside"]
    assert set(inside) >= {"while/body", "while/cond"} or any("body" in k for k in inside)
    body_records = next(v for k, v in inside.items() if k.endswith("/body"))
    changed = {r.name for r in body_records if r.changed}
    assert {"constant_folding", "dce", "stabilize"} <= changed
    [loop] = ops_of(optimized, "while_loop")
    body_types = {op.type for op in loop.attrs["body"].ops()}
    assert "exp" not in body_types and "log_softmax" in body_types
    [cond] = ops_of(optimized, "cond")
    assert all(len(b.ops()) <= 3 for b in cond.attrs["branches"])  # x * 1 -> x inside
    # the captured constant was copied in: the loop takes no constant 3 as an input
    assert not [t for t in loop.inputs if t.op.type == "const" and t.op.attrs["value"] == 3]
    agree([y], lambda rng: {x: rng.normal(size=4).astype("f")})


def test_a_cond_on_a_constant_predicate_is_replaced_by_its_branch():
    x = tf.placeholder(tf.float32, [2])
    y = tf.cond(tf.constant(False), lambda: tf.exp(x), lambda: tf.sin(x) * 2.0)
    z = tf.switch_case(tf.constant(7), [lambda: x, lambda: x + 1.0])  # out of range: last
    graph = tf.get_default_graph()
    result = branch_folding.run(graph, Interface((y, z), (), (x,)))
    assert [r.rule for r in result.rewrites] == ["fold_constant_branch"] * 2
    assert not ops_of(result.graph, "cond")
    assert {"sin", "multiply", "add"} <= {op.type for op in result.graph.get_operations()}
    assert not branch_folding.run(result.graph, result.interface).changed
    agree([y, z], lambda rng: {x: rng.normal(size=2).astype("f")})


def test_loops_in_loops_and_conds_agree_optimized_and_unoptimized():
    x = tf.placeholder(tf.float32, [None, 3])
    w = tf.placeholder(tf.float32, [3, 3])
    p = tf.placeholder(tf.bool, [])

    def inner(j, h):
        return j + 1, tf.tanh(tf.matmul(h, w * 1.0 + 0.0) + tf.reduce_mean(w))

    def outer(i, h):
        _, h = tf.while_loop(lambda j, h: j < 2, inner, [0, h])
        h = tf.cond(p, lambda: h * 2.0 + tf.matmul(w, w)[0], lambda: h - 1.0)
        return i + 1, h
    _, h = tf.while_loop(lambda i, h: i < 3, outer, [0, x])
    loss = tf.reduce_sum(h * h)
    grads = tf.gradients(loss, [x, w])
    agree([h, loss] + grads, lambda rng: {x: rng.normal(size=(2, 3)).astype("f"),
                                          w: rng.normal(size=(3, 3)).astype("f") * 0.5,
                                          p: bool(rng.integers(2))}, rtol=1e-4)
    for config in (OptimizerConfig(disabled=("loop_invariant_motion",)),
                   OptimizerConfig(disabled=("subgraphs",)),
                   OptimizerConfig(passes=("loop_invariant_motion",))):
        agree([h] + grads, lambda rng: {x: rng.normal(size=(2, 3)).astype("f"),
                                        w: rng.normal(size=(3, 3)).astype("f") * 0.5,
                                        p: True}, runs=2, config=config, rtol=1e-4)


def test_the_pipeline_leaves_the_users_subgraphs_alone():
    (x, w, n), s = invariant_loop()
    [loop] = ops_of(tf.get_default_graph(), "while_loop")
    before = {key: sub.graph.as_text() for key, sub in subgraphs_of(loop)}
    tf.optimize(tf.get_default_graph(), [s], feeds=[x, w, n])
    assert {key: sub.graph.as_text() for key, sub in subgraphs_of(loop)} == before


TERMS = [  # building blocks of random loop bodies: (s, a, b, w, i) -> tensor of s's shape
    lambda s, a, b, w, i: tf.sin(s) * a,
    lambda s, a, b, w, i: tf.tanh(a * b + 1.0),  # invariant
    lambda s, a, b, w, i: tf.matmul(w, w)[0] * 0.1,  # invariant, through a matmul
    lambda s, a, b, w, i: s * 1.0 + tf.exp(tf.constant(0.0)) - 1.0,  # rules and folding
    lambda s, a, b, w, i: tf.cast(i, tf.float32) * 0.1 * b,
    lambda s, a, b, w, i: tf.log(tf.nn.softmax(s)) * 0.1,  # stabilized inside
    lambda s, a, b, w, i: tf.cond(tf.equal(i % 2, 0), lambda: s * a, lambda: s - b),
    lambda s, a, b, w, i: tf.while_loop(lambda j, u: j < 2, lambda j, u: (j + 1, u * 0.5 + a),
                                        [0, s])[1],
]


@pytest.mark.parametrize("seed", range(12))
def test_random_loop_programs_agree_optimized_and_unoptimized(seed):
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(TERMS), size=int(rng.integers(2, 5)), replace=False)
    a, b = tf.placeholder(tf.float32, [4]), tf.placeholder(tf.float32, [4])
    w = tf.placeholder(tf.float32, [4, 4])
    x = tf.placeholder(tf.float32, [4])
    n = tf.placeholder(tf.int32, [])

    def body(i, s):
        total = s
        for k in picks:
            total = total + TERMS[k](s, a, b, w, i)
        return i + 1, tf.tanh(total)
    _, s = tf.while_loop(lambda i, s: i < n, body, [0, x])
    loss = tf.reduce_sum(s * s)
    fetches = [s] + tf.gradients(loss, [x, a, b], unconnected_gradients="zero")
    agree(fetches, lambda rng: {x: rng.normal(size=4).astype("f"),
                                a: rng.normal(size=4).astype("f"),
                                b: rng.normal(size=4).astype("f"),
                                w: rng.normal(size=(4, 4)).astype("f"),
                                n: int(rng.integers(0, 5))}, runs=3, seed=seed, rtol=1e-4)


def test_invariant_work_of_a_nested_loop_moves_out_of_both_loops():
    x = tf.placeholder(tf.float32, [3])
    w = tf.placeholder(tf.float32, [3, 3])

    def inner(j, h):
        return j + 1, tf.tanh(tf.matmul(h[None], tf.matmul(w, w))[0])

    def outer(i, h):
        return i + 1, tf.while_loop(lambda j, h: j < 2, inner, [0, h])[1]
    _, h = tf.while_loop(lambda i, h: i < 3, outer, [0, x])
    optimized, _ = tf.optimize(tf.get_default_graph(), [h], feeds=[x, w])
    outside = [op.type for op in optimized.get_operations()]
    assert "matmul" in outside  # w @ w, computed once per run
    [loop] = ops_of(optimized, "while_loop")
    [nested] = [op for op in loop.attrs["body"].ops() if op.type == "while_loop"]
    assert "matmul" not in [op.type for op in loop.attrs["body"].ops()]
    assert [op.type for op in nested.attrs["body"].ops()].count("matmul") == 1
    agree([h], lambda rng: {x: rng.normal(size=3).astype("f"),
                            w: rng.normal(size=(3, 3)).astype("f")})
