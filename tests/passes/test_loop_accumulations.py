"""loop_accumulations: a loop variable that sums a product (or a sum) of per-iteration
values becomes one op on the stacked values after the loop. Each case checks where the
rule fires (and where it must not), the PassResult, idempotence and the same results as
the unoptimized graph on random inputs, zero iterations and sequence_length masks included."""
import numpy as np
import pytest

import graphc as tf
from graphc.passes import Interface, loop_accumulations


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as graph:
        yield graph


def loops_of(graph):
    return [op for op in graph.get_operations() if op.type == "while_loop"]


def same_results(fetches, feeds_list, rtol=1e-9):
    """The optimized and unoptimized sessions agree on every feed dict of ``feeds_list``."""
    with tf.Session() as fast, tf.Session(optimize=False) as plain:
        for feeds in feeds_list:
            for a, b in zip(fast.run(fetches, feeds), plain.run(fetches, feeds)):
                np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12)


def accumulating_loop(transpose_a, transpose_b):
    """sum_i op(a_i) @ op(b_i) and sum_i rowsum(b_i) over n iterations, as loop variables."""
    a = tf.placeholder(tf.float64, [6, 4, 3] if transpose_a else [6, 3, 4], name="a")
    b = tf.placeholder(tf.float64, [6, 5, 4] if transpose_b else [6, 4, 5], name="b")
    n = tf.placeholder(tf.int32, [], name="n")

    def body(i, product, total):
        a_i, b_i = tf.gather(a, i), tf.gather(b, i)
        return (i + 1,
                product + tf.matmul(tf.sin(a_i), b_i, transpose_a=transpose_a,
                                    transpose_b=transpose_b),
                total + tf.reduce_sum(b_i, axis=0))
    _, product, total = tf.while_loop(lambda i, p, t: i < n, body,
                                      [0, tf.ones([3, 5], tf.float64),
                                       tf.zeros([4] if transpose_b else [5], tf.float64)])
    return (a, b, n), (product, total)


@pytest.mark.parametrize("transpose_a", [False, True])
@pytest.mark.parametrize("transpose_b", [False, True])
def test_a_summed_product_of_per_iteration_values_becomes_one_product_after_the_loop(
        transpose_a, transpose_b):
    (a, b, n), fetches = accumulating_loop(transpose_a, transpose_b)
    graph = tf.get_default_graph()
    result = loop_accumulations.run(graph, Interface(fetches, (), (a, b, n)))
    assert [r.rule for r in result.rewrites] == ["stack_matmul_sum+stack_reduce_sum"]
    assert result.rewrites[0].safety == "reassociating"
    [loop] = loops_of(result.graph)
    inside = [op.type for op in loop.attrs["body"].ops()]
    assert "matmul" not in inside and "reduce_sum" not in inside
    outside = [op.type for op in result.graph.get_operations()]
    assert "matmul" in outside and "reduce_sum" in outside
    assert not loop_accumulations.run(result.graph, result.interface).changed  # idempotent
    rng = np.random.default_rng(0)
    feeds = [{a: rng.normal(size=a.shape.as_list()), b: rng.normal(size=b.shape.as_list()),
              n: count} for count in (0, 1, 6)]  # zero iterations: the initial values
    same_results(list(fetches), feeds)
    with tf.Session(graph=result.graph, optimize=False) as moved, \
            tf.Session(optimize=False) as plain:
        for feed in feeds:
            moved_feeds = {result.graph.get_tensor_by_name(t.name): v for t, v in feed.items()}
            for got, want in zip(moved.run(list(result.interface.fetches), moved_feeds),
                                 plain.run(list(fetches), feed)):
                np.testing.assert_allclose(got, want, rtol=1e-12)


def test_accumulations_that_are_not_sums_of_products_of_varying_values_stay():
    """Not bilinear (tanh), not a sum (a product), the accumulator read by its own term,
    an invariant operand (nothing to stack): no rule fires."""
    x = tf.placeholder(tf.float64, [5, 3, 3], name="x")
    w = tf.placeholder(tf.float64, [3, 3], name="w")

    def body(i, squashed, product, feedback, invariant):
        x_i = tf.gather(x, i)
        return (i + 1, squashed + tf.tanh(x_i), product * tf.matmul(x_i, x_i),
                feedback + tf.matmul(feedback, x_i), invariant + tf.matmul(w, w))
    start = tf.ones([3, 3], tf.float64)
    outputs = tf.while_loop(lambda i, *_: i < 5, body, [0, start, start, start, start])
    fetches = tuple(outputs[1:])
    result = loop_accumulations.run(tf.get_default_graph(), Interface(fetches, (), (x, w)))
    assert not result.changed
    rng = np.random.default_rng(1)
    same_results(list(fetches), [{x: rng.normal(size=(5, 3, 3)) * 0.3,
                                  w: rng.normal(size=(3, 3))}])


def lstm_gradients(dtype=tf.float64):
    x = tf.placeholder(dtype, [3, 5, 2], name="x")
    seq = tf.placeholder(tf.int32, [3], name="seq")
    target = tf.placeholder(dtype, [3, 4], name="target")
    cell = tf.nn.rnn_cell.BasicLSTMCell(4)
    outputs, state = tf.nn.dynamic_rnn(cell, x, sequence_length=seq, dtype=dtype)
    loss = tf.reduce_sum(tf.square(state.h - target)) + tf.reduce_sum(outputs * 0.5)
    grads = tf.gradients(loss, cell.variables + [x])
    return (x, seq, target), [loss] + grads


def test_the_weight_gradient_of_an_lstm_is_one_product_after_the_backward_loop():
    (x, seq, target), fetches = lstm_gradients()
    optimized, records = tf.optimize(tf.get_default_graph(), fetches, feeds=[x, seq, target])
    moved = [r for r in records if r.name == "loop_accumulations" and r.changed]
    assert moved and moved[0].rewrites[0].rule == "stack_matmul_sum+stack_reduce_sum"
    backward = [op for op in loops_of(optimized) if "grad" in op.name]
    assert backward and not any(inner.type == "matmul" and inner.attrs["transpose_a"]
                                for op in backward for inner in op.attrs["body"].ops())
    rng = np.random.default_rng(2)
    feeds = [{x: rng.normal(size=(3, 5, 2)), seq: lengths, target: rng.normal(size=(3, 4))}
             for lengths in ([5, 5, 5], [0, 3, 5], [0, 0, 0])]  # masked; nothing runs
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with tf.Session(optimize=False) as plain:
            for variable in tf.global_variables():
                variable.load(sess.run(variable), plain)
            for feed in feeds:
                for got, want in zip(sess.run(fetches, feed), plain.run(fetches, feed)):
                    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_a_longer_run_than_the_last_grows_the_stacked_history():
    """The stacked rows are sized by the previous run: a run with more iterations grows
    them, one with fewer gives only its own rows."""
    (a, b, n), fetches = accumulating_loop(False, False)
    rng = np.random.default_rng(3)
    feeds = [{a: rng.normal(size=(6, 3, 4)), b: rng.normal(size=(6, 4, 5)), n: count}
             for count in (2, 6, 1, 6)]
    same_results(list(fetches), feeds)


def test_stacked_rows_grow_and_keep_rows_of_a_changing_shape_apart():
    """Rows past the capacity double the array; a row of another shape turns the rows into
    a list (the loop then reports the changing shape)."""
    from graphc.control_flow.history import StackedRows
    rows = StackedRows(4)
    assert rows.values() is None
    for k in range(6):
        rows.append(np.full(2, k))
    np.testing.assert_array_equal(rows.values(), np.repeat(np.arange(6), 2).reshape(6, 2))
    assert len(rows.buffer) == 8 and len(rows) == 6
    rows.append(np.zeros(3))
    assert [np.shape(v) for v in rows.values()] == [(2,)] * 6 + [(3,)] and len(rows) == 7
