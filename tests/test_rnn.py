"""Recurrent cells and loops against TF1's math written out in NumPy, against each other
(dynamic_rnn vs the unrolled static_rnn) and against finite differences; TF1's names."""
import numpy as np
import pytest

import graphc as tf

rnn_cell = tf.nn.rnn_cell
RNG = np.random.default_rng(0)
BATCH, TIME, DEPTH, UNITS = 3, 5, 4, 6


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# -- TF1's cell math in NumPy (weights read back from the session) ----------------------------
def np_basic_lstm(w, x, state, forget_bias=1.0):
    c, h = state
    i, j, f, o = np.split(np.concatenate([x, h], 1) @ w["kernel"] + w["bias"], 4, axis=1)
    c = c * sigmoid(f + forget_bias) + sigmoid(i) * np.tanh(j)
    h = np.tanh(c) * sigmoid(o)
    return h, (c, h)


def np_lstm(w, x, state, num_proj=None, peepholes=False):
    c, m = state
    i, j, f, o = np.split(np.concatenate([x, m], 1) @ w["kernel"] + w["bias"], 4, axis=1)
    if peepholes:
        c = sigmoid(f + 1.0 + w["w_f_diag"] * c) * c + sigmoid(i + w["w_i_diag"] * c) * np.tanh(j)
        o = o + w["w_o_diag"] * c
    else:
        c = sigmoid(f + 1.0) * c + sigmoid(i) * np.tanh(j)
    m = sigmoid(o) * np.tanh(c)
    if num_proj:
        m = m @ w["projection/kernel"]
    return m, (c, m)


def np_gru(w, x, h):
    gates = sigmoid(np.concatenate([x, h], 1) @ w["gates/kernel"] + w["gates/bias"])
    r, u = np.split(gates, 2, axis=1)
    candidate = np.tanh(np.concatenate([x, r * h], 1) @ w["candidate/kernel"]
                        + w["candidate/bias"])
    h = u * h + (1 - u) * candidate
    return h, h


def np_basic_rnn(w, x, h):
    h = np.tanh(np.concatenate([x, h], 1) @ w["kernel"] + w["bias"])
    return h, h


def np_run(step, xs, state, lengths=None):
    """TF1's dynamic_rnn semantics: zeros and a carried state past each length."""
    outputs = []
    for t in range(xs.shape[1]):
        out, new_state = step(xs[:, t], state)
        if lengths is not None:
            alive = (t < lengths)[:, None]
            out = np.where(alive, out, 0.0)
            new_state = _np_map2(lambda n, o: np.where(alive, n, o), new_state, state)
        outputs.append(out)
        state = new_state
    return np.stack(outputs, 1), state


def _np_map2(fn, a, b):
    if isinstance(a, tuple):
        return tuple(_np_map2(fn, x, y) for x, y in zip(a, b))
    return fn(a, b)


CELLS = {
    "basic_rnn": (lambda: rnn_cell.BasicRNNCell(UNITS), np_basic_rnn, "basic_rnn_cell"),
    "basic_lstm": (lambda: rnn_cell.BasicLSTMCell(UNITS), np_basic_lstm, "basic_lstm_cell"),
    "lstm_peep_proj": (lambda: rnn_cell.LSTMCell(UNITS, use_peepholes=True, num_proj=3),
                       lambda w, x, s: np_lstm(w, x, s, num_proj=3, peepholes=True),
                       "lstm_cell"),
    "gru": (lambda: rnn_cell.GRUCell(UNITS), np_gru, "gru_cell"),
}


def _build(make_cell, lengths=True, dtype=tf.float64):
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(dtype, [None, TIME, DEPTH], name="x")
        seq = tf.placeholder(tf.int32, [None], name="lengths") if lengths else None
        cell = make_cell()
        outputs, state = tf.nn.dynamic_rnn(cell, x, sequence_length=seq, dtype=dtype)
    return graph, x, seq, cell, outputs, state


def _weights(sess, cell, scope):
    return {v.name[len(scope) + 1:-2]: value
            for v, value in zip(cell.variables, sess.run(cell.variables))}


def _np_zero_state(cell):
    size = cell.state_size
    if isinstance(size, tuple):
        return tuple(np.zeros((BATCH, s)) for s in size)
    return np.zeros((BATCH, size))


@pytest.mark.parametrize("name", sorted(CELLS))
def test_dynamic_rnn_matches_tf1_math_with_sequence_lengths(name):
    make_cell, np_step, base = CELLS[name]
    graph, x, seq, cell, outputs, state = _build(make_cell)
    xs = RNG.standard_normal((BATCH, TIME, DEPTH))
    lengths = np.array([5, 2, 0], np.int32)
    with tf.Session(graph=graph) as sess:
        sess.run(tf.variables_initializer(cell.variables))
        got_out, got_state = sess.run([outputs, state], {x: xs, seq: lengths})
        weights = _weights(sess, cell, "rnn/" + base)
    want_out, want_state = np_run(lambda inp, st: np_step(weights, inp, st), xs,
                                  _np_zero_state(cell), lengths)
    np.testing.assert_allclose(got_out, want_out, rtol=1e-12, atol=1e-14)
    as_list = lambda state: list(state) if isinstance(state, tuple) else [state]  # noqa
    for got, want in zip(as_list(got_state), as_list(want_state)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert outputs.shape.as_list() == [None, TIME, cell.output_size]


def test_tf1_variable_names():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [2, TIME, DEPTH])
        tf.nn.dynamic_rnn(rnn_cell.BasicLSTMCell(8), x, dtype=tf.float32)
        tf.nn.dynamic_rnn(rnn_cell.LSTMCell(8, use_peepholes=True, num_proj=4), x,
                          dtype=tf.float32, scope="peep")
        tf.nn.dynamic_rnn(rnn_cell.GRUCell(8), x, dtype=tf.float32, scope="gru")
        stacked = rnn_cell.MultiRNNCell([rnn_cell.BasicLSTMCell(8) for _ in range(2)])
        tf.nn.dynamic_rnn(stacked, x, dtype=tf.float32, scope="deep")
        tf.nn.bidirectional_dynamic_rnn(rnn_cell.BasicRNNCell(8), rnn_cell.BasicRNNCell(8), x,
                                        dtype=tf.float32)
        names = {v.op.name for v in tf.global_variables()}
    assert {"rnn/basic_lstm_cell/kernel", "rnn/basic_lstm_cell/bias",
            "peep/lstm_cell/kernel", "peep/lstm_cell/w_f_diag", "peep/lstm_cell/w_i_diag",
            "peep/lstm_cell/w_o_diag", "peep/lstm_cell/projection/kernel",
            "gru/gru_cell/gates/kernel", "gru/gru_cell/gates/bias",
            "gru/gru_cell/candidate/kernel", "gru/gru_cell/candidate/bias",
            "deep/multi_rnn_cell/cell_0/basic_lstm_cell/kernel",
            "deep/multi_rnn_cell/cell_1/basic_lstm_cell/kernel",
            "bidirectional_rnn/fw/basic_rnn_cell/kernel",
            "bidirectional_rnn/bw/basic_rnn_cell/kernel"} <= names
    shapes = {v.op.name: v.shape.as_list() for v in graph.get_collection("variables")}
    assert shapes["rnn/basic_lstm_cell/kernel"] == [DEPTH + 8, 32]
    assert shapes["peep/lstm_cell/kernel"] == [DEPTH + 4, 32]


@pytest.mark.parametrize("name", sorted(CELLS))
def test_dynamic_rnn_equals_unrolled_static_rnn_and_its_gradients(name):
    make_cell, _, _ = CELLS[name]
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float64, [BATCH, TIME, DEPTH])
        seq = tf.placeholder(tf.int32, [BATCH])
        cell = make_cell()
        dyn_out, _ = tf.nn.dynamic_rnn(cell, x, sequence_length=seq, dtype=tf.float64)
        static_out, _ = tf.nn.static_rnn(cell, tf.unstack(x, axis=1), sequence_length=seq,
                                         dtype=tf.float64)
        weights = tf.constant(RNG.standard_normal((BATCH, TIME, cell.output_size)))
        dyn_loss = tf.reduce_sum(dyn_out * weights)
        static_loss = tf.reduce_sum(tf.stack(static_out, 1) * weights)
        variables = cell.variables
        dyn_grads = tf.gradients(dyn_loss, variables + [x])
        static_grads = tf.gradients(static_loss, variables + [x])
    feeds = {x: RNG.standard_normal((BATCH, TIME, DEPTH)), seq: np.array([5, 3, 1])}
    with tf.Session(graph=graph) as sess:
        sess.run(tf.variables_initializer(variables))
        got_dynamic, got_static = sess.run([dyn_out, static_out], feeds)
        np.testing.assert_allclose(np.stack(got_static, 1), got_dynamic, rtol=1e-12,
                                   atol=1e-14)
        for dyn, static in zip(sess.run(dyn_grads, feeds), sess.run(static_grads, feeds)):
            np.testing.assert_allclose(dyn, static, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["basic_lstm", "gru"])
def test_dynamic_rnn_gradients_match_finite_differences(name):
    make_cell, _, _ = CELLS[name]
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float64, [2, 4, DEPTH])
        cell = make_cell()
        out, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float64)
        loss = tf.reduce_sum(tf.sin(out)) + tf.reduce_sum(
            tf.square(state.h if isinstance(state, tuple) else state))
        [gx] = tf.gradients(loss, [x])
    xs = RNG.standard_normal((2, 4, DEPTH))
    with tf.Session(graph=graph) as sess:
        sess.run(tf.variables_initializer(cell.variables))
        analytic = sess.run(gx, {x: xs})
        direction = RNG.standard_normal(xs.shape)
        eps = 1e-6
        numeric = (sess.run(loss, {x: xs + eps * direction})
                   - sess.run(loss, {x: xs - eps * direction})) / (2 * eps)
    np.testing.assert_allclose(np.sum(analytic * direction), numeric, rtol=1e-6)


def test_bidirectional_with_lengths_reverses_within_each_sequence():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float64, [BATCH, TIME, DEPTH])
        seq = tf.placeholder(tf.int32, [BATCH])
        fw, bw = rnn_cell.BasicRNNCell(UNITS), rnn_cell.BasicRNNCell(UNITS)
        (out_fw, out_bw), (state_fw, state_bw) = tf.nn.bidirectional_dynamic_rnn(
            fw, bw, x, sequence_length=seq, dtype=tf.float64)
        init = tf.global_variables_initializer()
    xs = RNG.standard_normal((BATCH, TIME, DEPTH))
    lengths = np.array([5, 3, 1])
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        got_bw, got_state_bw = sess.run([out_bw, state_bw], {x: xs, seq: lengths})
        w = _weights(sess, bw, "bidirectional_rnn/bw/basic_rnn_cell")
    flipped = xs.copy()
    for b, n in enumerate(lengths):
        flipped[b, :n] = xs[b, :n][::-1]
    want, want_state = np_run(lambda inp, st: np_basic_rnn(w, inp, st), flipped,
                              np.zeros((BATCH, UNITS)), lengths)
    for b, n in enumerate(lengths):
        want[b, :n] = want[b, :n][::-1]
    np.testing.assert_allclose(got_bw, want, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got_state_bw, want_state, rtol=1e-12, atol=1e-14)


def test_time_major_initial_state_and_wrappers():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float64, [TIME, BATCH, UNITS])
        base = rnn_cell.BasicLSTMCell(UNITS)
        cell = rnn_cell.ResidualWrapper(rnn_cell.DropoutWrapper(base, output_keep_prob=1.0))
        initial = rnn_cell.LSTMStateTuple(tf.ones([BATCH, UNITS], tf.float64),
                                          tf.zeros([BATCH, UNITS], tf.float64))
        out, state = tf.nn.dynamic_rnn(cell, x, initial_state=initial, time_major=True)
        plain, _ = tf.nn.dynamic_rnn(base, x, initial_state=initial, time_major=True)
        dropped_cell = rnn_cell.DropoutWrapper(rnn_cell.GRUCell(UNITS), output_keep_prob=0.5,
                                               seed=3)
        dropped, _ = tf.nn.dynamic_rnn(dropped_cell, x, dtype=tf.float64, scope="drop")
        init = tf.global_variables_initializer()
    xs = RNG.standard_normal((TIME, BATCH, UNITS))
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        got, base_out = sess.run([out, plain], {x: xs})
        np.testing.assert_allclose(got, base_out + xs, rtol=1e-12)  # residual of identity drop
        first, second = sess.run(dropped, {x: xs}), sess.run(dropped, {x: xs})
        assert np.mean(first == 0) > 0.2 and not np.array_equal(first, second)
    assert out.shape.as_list() == [TIME, BATCH, UNITS]


def test_bad_inputs_are_named():
    graph = tf.Graph()
    with graph.as_default():
        with pytest.raises(ValueError, match="dtype"):
            tf.nn.dynamic_rnn(rnn_cell.GRUCell(3), tf.zeros([2, 4, 3]))
        with pytest.raises(ValueError, match=r"\[batch, time, depth\]"):
            tf.nn.dynamic_rnn(rnn_cell.GRUCell(3), tf.zeros([2, 4]), dtype=tf.float32)
        with pytest.raises(ValueError, match="at least one cell"):
            rnn_cell.MultiRNNCell([])
        with pytest.raises(ValueError, match="keep_prob"):
            rnn_cell.DropoutWrapper(rnn_cell.GRUCell(3), output_keep_prob=0.0)


def test_lstm_example_trains_and_its_picture_shows_the_loop(tmp_path, capsys):
    import pathlib
    import runpy
    root = pathlib.Path(__file__).resolve().parent.parent
    example = runpy.run_path(str(root / "tools" / "examples" / "lstm_sequences.py"))
    accuracy = example["main"](80, str(tmp_path / "lstm.dot"))
    assert accuracy > 0.8
    dot = (tmp_path / "lstm.dot").read_text()
    assert "while_loop 'rnn/while'" in dot
    losses = [float(line.split("test loss ")[1].split(",")[0])
              for line in capsys.readouterr().out.splitlines() if "test loss" in line]
    assert losses[-1] < losses[0]


def test_the_gradient_loop_of_a_static_dynamic_rnn_reads_no_shapes():
    """The outputs' TensorArray has a static element shape, so its gradient, a loop
    variable of the backward loop, has one too: no shape is read per iteration."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [2, 3, 5])
        cell = rnn_cell.BasicLSTMCell(4)
        outputs, _ = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
        grads = tf.gradients(tf.reduce_sum(outputs[:, -1] ** 2), cell.variables)
        optimized, _ = tf.optimize(graph, grads, feeds=[x])
    backward = [op for op in optimized.get_operations()
                if op.type == "while_loop" and "grad" in op.name]
    assert backward
    inside = {inner.type for op in backward for inner in op.attrs["body"].ops()}
    assert "shape" not in inside and "tensor_array_unwritten" in inside
