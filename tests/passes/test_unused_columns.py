"""unused_columns: the columns of a split matrix product nobody reads are not computed.
Each case checks the rewritten graph, the PassResult, idempotence and the same results as
the unoptimized graph on random inputs; a split whose read pieces span every column (or a
product someone else reads) stays."""
import numpy as np
import pytest

import graphc as tf
from graphc.passes import Interface, unused_columns


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as graph:
        yield graph


def types(graph):
    return [op.type for op in graph.get_operations()]


def same_results(result, fetches, feeds, rtol=1e-12):
    with tf.Session(graph=result.graph, optimize=False) as narrow, \
            tf.Session(optimize=False) as plain:
        moved = {result.graph.get_tensor_by_name(t.name): v for t, v in feeds.items()}
        for got, want in zip(narrow.run(list(result.interface.fetches), moved),
                             plain.run(list(fetches), feeds)):
            np.testing.assert_allclose(got, want, rtol=rtol)


@pytest.mark.parametrize("transpose_b", [False, True])
@pytest.mark.parametrize("read", [(1,), (0,), (1, 2), (0, 1)])
def test_the_columns_of_the_pieces_nobody_reads_are_not_computed(transpose_b, read):
    g = tf.placeholder(tf.float64, [None, 6], name="g")  # rows unknown until run time
    w = tf.placeholder(tf.float64, [7, 6] if transpose_b else [6, 7], name="w")
    pieces = tf.split(tf.matmul(g, w, transpose_b=transpose_b), [2, 3, 2], axis=1)
    fetches = tuple(tf.tanh(pieces[j]) for j in read)
    result = unused_columns.run(tf.get_default_graph(), Interface(fetches, (), (g, w)))
    assert [r.rule for r in result.rewrites] == ["drop_unused_columns"]
    [narrow] = [op for op in result.graph.get_operations() if op.type == "matmul"]
    width = sum([2, 3, 2][j] for j in range(min(read), max(read) + 1))
    assert narrow.outputs[0].shape.as_list() == [None, width]
    assert not unused_columns.run(result.graph, result.interface).changed  # idempotent
    rng = np.random.default_rng(0)
    same_results(result, fetches, {g: rng.normal(size=(4, 6)),
                                   w: rng.normal(size=w.shape.as_list())})


def test_a_split_whose_pieces_span_every_column_or_whose_product_is_read_stays():
    g = tf.placeholder(tf.float64, [4, 6], name="g")
    w = tf.placeholder(tf.float64, [6, 7], name="w")
    outer = tf.split(tf.matmul(g, w), [2, 3, 2], axis=1)  # only the middle one unread
    product = tf.matmul(g, w * 2.0)
    shared = tf.split(product, [2, 5], axis=1)  # the product itself is read too
    rows = tf.split(tf.matmul(g, w * 3.0), [1, 3], axis=0)  # rows, not columns
    fetches = (outer[0], outer[2], shared[0], product, rows[0])
    result = unused_columns.run(tf.get_default_graph(), Interface(fetches, (), (g, w)))
    assert not result.changed


def test_an_lstm_backward_loop_computes_no_gradient_for_its_unread_inputs():
    """Nobody asks for the gradient of the inputs: the backward loop's product with the
    kernel covers the hidden state's rows only."""
    x = tf.placeholder(tf.float32, [2, 3, 5], name="x")
    cell = tf.nn.rnn_cell.BasicLSTMCell(4)
    outputs, _ = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    grads = tf.gradients(tf.reduce_sum(outputs[:, -1] ** 2), cell.variables)
    optimized, _ = tf.optimize(tf.get_default_graph(), grads, feeds=[x])
    backward = [op for op in optimized.get_operations()
                if op.type == "while_loop" and "grad" in op.name]
    products = [inner.outputs[0].shape.as_list() for op in backward
                for inner in op.attrs["body"].ops() if inner.type == "matmul"]
    assert products == [[2, 4]]  # not [2, 9]: the 5 input columns are not computed
