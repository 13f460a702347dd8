"""A trained LSTM model's checkpoint with its .meta: imported into a fresh graph and
restored it predicts the same, trains on through the train op of its collection exactly as
the original graph goes on training, differentiates through its imported loops as the
original does, and ``graphc inspect`` on the .meta lists the loop with its body."""
import warnings

import numpy as np
import pytest

import graphc as tf
from graphc.tools.cli import main

F64 = tf.float64
BATCH, TIME, DEPTH, UNITS = 3, 5, 2, 4


def _model():
    x = tf.placeholder(F64, [BATCH, TIME, DEPTH], name="x")
    target = tf.placeholder(F64, [BATCH, 1], name="target")
    lengths = tf.placeholder(tf.int32, [BATCH], name="lengths")
    cell = tf.nn.rnn_cell.BasicLSTMCell(UNITS)
    outputs, state = tf.nn.dynamic_rnn(cell, x, sequence_length=lengths, dtype=F64)
    head = tf.get_variable("head", [UNITS, 1], F64)
    prediction = tf.matmul(state.h + outputs[:, -1], head)
    loss = tf.reduce_mean(tf.square(prediction - target), name="loss")
    train = tf.train.GradientDescentOptimizer(0.3).minimize(loss, name="train")
    tf.add_to_collection("train_op", train)
    return train, loss


def _batches(count, seed=0):
    rng = np.random.default_rng(seed)
    return [{"x:0": rng.normal(size=(BATCH, TIME, DEPTH)),
             "target:0": rng.normal(size=(BATCH, 1)),
             "lengths:0": rng.integers(1, TIME + 1, size=BATCH).astype(np.int32)}
            for _ in range(count)]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The checkpoint path after 4 training steps, and the original graph's losses for 3
    more steps, its predictions and gradients at the checkpoint."""
    path = str(tmp_path_factory.mktemp("lstm") / "model.ckpt")
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(1)
        train, loss = _model()
        saver = tf.train.Saver()
        grads = tf.gradients(loss, [graph.get_tensor_by_name("x:0")] +
                             tf.trainable_variables())
        init = tf.global_variables_initializer()
    batches = _batches(7)
    with tf.Session(graph=graph) as sess, warnings.catch_warnings():
        warnings.simplefilter("error")  # a meta graph that cannot be written warns
        sess.run(init)
        for feed in batches[:4]:
            sess.run(train, feed)
        saver.save(sess, path, global_step=4)
        tf.train.write_graph(graph, str(tmp_path_factory.getbasetemp()), "lstm.pbtxt")
        at_checkpoint = sess.run([loss] + grads, batches[4])
        later = [sess.run([loss, train], feed)[0] for feed in batches[4:]]
    names = [v.op.name for v in graph.get_collection("trainable_variables")]
    return f"{path}-4", batches, at_checkpoint, later, names


def test_a_restored_lstm_predicts_and_trains_on_as_the_original(saved):
    checkpoint, batches, at_checkpoint, later, _ = saved
    graph = tf.Graph()
    with graph.as_default():
        saver = tf.train.import_meta_graph(checkpoint + ".meta")
        [train] = tf.get_collection("train_op")
        loss = graph.get_tensor_by_name("loss:0")
    with tf.Session(graph=graph) as sess:
        saver.restore(sess, checkpoint)
        assert sess.run(loss, batches[4]) == at_checkpoint[0]
        np.testing.assert_allclose([sess.run([loss, train], feed)[0] for feed in batches[4:]],
                                   later, rtol=1e-12)


def test_gradients_built_after_import_through_the_imported_loops_agree(saved):
    checkpoint, batches, at_checkpoint, _, names = saved
    graph = tf.Graph()
    with graph.as_default():
        saver = tf.train.import_meta_graph(checkpoint + ".meta", import_scope="again")
        variables = {v.op.name: v for v in tf.trainable_variables()}
        loss = graph.get_tensor_by_name("again/loss:0")
        grads = tf.gradients(loss, [graph.get_tensor_by_name("again/x:0")] +
                             [variables["again/" + name] for name in names])
    loops = [op for op in graph.get_operations() if op.type == "while_loop"]
    # the forward loop, the two saved gradients' backward loops and this gradient's
    assert [op.name for op in loops][0] == "again/rnn/while" and len(loops) == 4
    with tf.Session(graph=graph) as sess:
        saver.restore(sess, checkpoint)
        feed = {"again/" + name: value for name, value in batches[4].items()}
        for new, old in zip(sess.run(grads, feed), at_checkpoint[1:]):
            np.testing.assert_allclose(new, old, rtol=1e-10, atol=1e-13)


def _inspect(path, capsys):
    """``graphc inspect PATH`` (in this process: tests/test_cli.py runs the command itself):
    ``(exit code, stdout, stderr)``."""
    code = main(["inspect", path])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("kind", ["meta graph", "graph"])
def test_graphc_inspect_lists_the_loop_of_a_saved_graph_with_its_body(
        saved, tmp_path_factory, kind, capsys):
    path = saved[0] + ".meta" if kind == "meta graph" else \
        str(tmp_path_factory.getbasetemp() / "lstm.pbtxt")
    code, out, err = _inspect(path, capsys)
    assert code == 0, err
    outline = out.split("\n\n")[0].splitlines()
    assert outline[0] == "control flow:"
    at = outline.index("rnn/while (while_loop)")
    assert outline[at + 1].startswith("  cond: ") and outline[at + 2].startswith("  body: ")
    assert any(line.startswith("gradients/rnn/while_grad") for line in outline)
    assert "in rnn/while/body" in out  # the pass table: what ran inside the body


def test_graphc_inspect_of_a_damaged_graph_file_says_what_is_wrong(tmp_path, capsys):
    damaged = tmp_path / "bad.pb"
    damaged.write_bytes(b"GRAPHC\x00\n\x02\x00\x00\x00")
    code, _, err = _inspect(str(damaged), capsys)
    assert code == 4 and "truncated" in err
