"""W8: an LSTM training step, and the fixed cost of one while_loop iteration.

The step: sequence length 50, batch 32, input 64, hidden 128 (BasicLSTMCell layout, forget
bias 1), loss = mean((h_last - y)^2), SGD 0.1. graphc runs ``dynamic_rnn`` (one
``while_loop`` whose body plan is compiled once); the peers get the same weights: TF1's
``dynamic_rnn`` (by variable name), PyTorch's ``nn.LSTM`` (gates reordered i, f, g, o; the
forget bias folded into its bias) and a hand-written cell loop, and JAX's ``lax.scan``
(jitted). Every implementation's first loss must agree before anything is timed. The steps
are timed in interleaved rounds, next to one-thread GEMMs pinned to each core (how fast
each core was meanwhile: on a shared host that changes, see ``bench_env.interleaved``).

The loop overhead: ``while_loop(i < 10000, i + 1)`` per iteration, next to TF1 and JAX.
"""
from __future__ import annotations

import os

import numpy as np

import graphc as gc

from . import bench_peers as peers
from .bench_env import SETTLE_SECONDS, interleaved
from .bench_table import row

TIME, BATCH, DEPTH, HIDDEN = 50, 32, 64, 128
LOOP_ITERATIONS = 10_000
STEP_WINDOWS = 15  # interleaved rounds (see bench_env.interleaved)


def _data(quick: bool):
    rng = np.random.default_rng(8)
    time = 5 if quick else TIME
    x = rng.standard_normal((BATCH, time, DEPTH)).astype(np.float32)
    y = rng.standard_normal((BATCH, HIDDEN)).astype(np.float32) * 0.5
    kernel = (rng.standard_normal((DEPTH + HIDDEN, 4 * HIDDEN)) * 0.05).astype(np.float32)
    bias = np.zeros(4 * HIDDEN, np.float32)
    return x, y, kernel, bias


def _graphc_step(x, y, kernel, bias):
    graph = gc.Graph()
    with graph.as_default():
        xs = gc.placeholder(gc.float32, x.shape)
        ys = gc.placeholder(gc.float32, y.shape)
        cell = gc.nn.rnn_cell.BasicLSTMCell(HIDDEN)
        outputs, _ = gc.nn.dynamic_rnn(cell, xs, dtype=gc.float32)
        loss = gc.reduce_mean(gc.square(outputs[:, -1] - ys))
        train = gc.train.GradientDescentOptimizer(0.1).minimize(loss)
        init = gc.global_variables_initializer()
    sess = gc.Session(graph=graph)
    sess.run(init)
    kernel_var, bias_var = cell.variables
    kernel_var.load(kernel, sess)
    bias_var.load(bias, sess)
    feeds = {xs: x, ys: y}
    first = float(sess.run(loss, feeds))
    return first, lambda: sess.run([train, loss], feeds)[1], sess


def _np_first_loss(x, y, kernel, bias):
    h = c = np.zeros((BATCH, HIDDEN), np.float64)
    for t in range(x.shape[1]):
        gates = np.concatenate([x[:, t], h], 1) @ kernel + bias
        i, j, f, o = np.split(gates, 4, axis=1)
        c = c / (1 + np.exp(-(f + 1.0))) + np.tanh(j) / (1 + np.exp(-i))
        h = np.tanh(c) / (1 + np.exp(-o))
    return float(np.mean((h - y) ** 2))


def w8(quick: bool, measure):
    """Rows for the LSTM step (ms) and the empty loop (us per iteration)."""
    x, y, kernel, bias = _data(quick)
    reference = _np_first_loss(x, y, kernel, bias)
    first, step, sess = _graphc_step(x, y, kernel, bias)
    implementations = [("graphc dynamic_rnn", first, step)]
    implementations += _peer_steps(x, y, kernel, bias)
    for name, first_loss, _ in implementations:
        np.testing.assert_allclose(first_loss, reference, rtol=1e-3, err_msg=name)
    runs = {name: run for name, _, run in implementations}
    runs.update({f"pinned to core {cpu}: GEMM 32x192x512": run
                 for cpu, run in _core_checks()})
    medians = interleaved(runs, measure, windows=5 if quick else STEP_WINDOWS,
                          settle=0.0 if quick else SETTLE_SECONDS)
    firsts = {name: first_loss for name, first_loss, _ in implementations}
    rows = [row("W8", name, "ms per train step" if name in firsts else "ms per 10 GEMMs",
                seconds * 1000, **({"first_loss": round(firsts[name], 5)} if name in firsts
                                   else {}))
            for name, seconds in medians.items()]
    sess.close()
    iterations = 1000 if quick else LOOP_ITERATIONS
    for name, run in _empty_loops(iterations):
        assert int(run()) == iterations, name
        rows.append(row("W8", name, "us per loop iteration",
                        measure(run, windows=3) * 1e6 / iterations))
    return rows


def _core_checks():
    """Per core this process may use: ``(core, run)``, run timing 10 GEMMs of
    the LSTM's size on that core only (the thread's affinity is restored after), so the
    table shows how fast each core was while the steps were timed."""
    if not hasattr(os, "sched_getaffinity"):
        return []
    rng = np.random.default_rng(0)
    left = rng.standard_normal((BATCH, DEPTH + HIDDEN)).astype(np.float32)
    right = rng.standard_normal((DEPTH + HIDDEN, 4 * HIDDEN)).astype(np.float32)
    out = np.empty((BATCH, 4 * HIDDEN), np.float32)

    def on(cpu):
        def run():
            allowed = os.sched_getaffinity(0)
            os.sched_setaffinity(0, {cpu})
            try:
                for _ in range(10):  # BLAS threads as the threading policy set them (1)
                    np.matmul(left, right, out=out)
            finally:
                os.sched_setaffinity(0, allowed)
        return run
    return [(cpu, on(cpu)) for cpu in sorted(os.sched_getaffinity(0))]


def _empty_loops(iterations):
    graph = gc.Graph()
    with graph.as_default():
        counted = gc.while_loop(lambda i: i < iterations, lambda i: i + 1, [gc.constant(0)])
    sess = gc.Session(graph=graph)
    found = [("graphc while_loop (empty body)", lambda: sess.run(counted))]
    if peers._have("tensorflow"):
        tf1 = peers._tf1()
        tf_graph = tf1.Graph()
        with tf_graph.as_default():
            tf_counted = tf1.while_loop(lambda i: i < iterations, lambda i: i + 1,
                                        [tf1.constant(0)])
        tf_sess = tf1.Session(graph=tf_graph)
        found.append(("tensorflow tf.compat.v1 while_loop", lambda: tf_sess.run(tf_counted)))
    if peers._have("jax"):
        import jax
        loop = jax.jit(lambda: jax.lax.while_loop(lambda i: i < iterations, lambda i: i + 1, 0))
        found.append(("jax lax.while_loop (jit)", lambda: int(loop())))
    return found


def _peer_steps(x, y, kernel, bias):
    found = []
    if peers._have("tensorflow"):
        found.append(_tf1_step(x, y, kernel, bias))
    if peers._have("torch"):
        found += _torch_steps(x, y, kernel, bias)
    if peers._have("jax"):
        found.append(_jax_step(x, y, kernel, bias))
    return found


def _tf1_step(x, y, kernel, bias):
    tf1 = peers._tf1()
    graph = tf1.Graph()
    with graph.as_default():
        xs, ys = tf1.placeholder(tf1.float32, x.shape), tf1.placeholder(tf1.float32, y.shape)
        cell = tf1.nn.rnn_cell.BasicLSTMCell(HIDDEN)
        outputs, _ = tf1.nn.dynamic_rnn(cell, xs, dtype=tf1.float32)
        loss = tf1.reduce_mean(tf1.square(outputs[:, -1] - ys))
        train = tf1.train.GradientDescentOptimizer(0.1).minimize(loss)
        init = tf1.global_variables_initializer()
        by_name = {v.op.name: v for v in tf1.global_variables()}
    sess = tf1.Session(graph=graph)
    sess.run(init)
    by_name["rnn/basic_lstm_cell/kernel"].load(kernel, sess)
    by_name["rnn/basic_lstm_cell/bias"].load(bias, sess)
    feeds = {xs: x, ys: y}
    return ("tensorflow tf.compat.v1 dynamic_rnn", float(sess.run(loss, feeds)),
            lambda: sess.run([train, loss], feeds)[1])


def _torch_steps(x, y, kernel, bias):
    import torch
    i, j, f, o = np.split(kernel, 4, axis=1)
    bi, bj, bf, bo = np.split(bias, 4)
    reordered = np.concatenate([i, f, j, o], axis=1)  # torch's gate order: i, f, g, o
    weight_ih = torch.tensor(reordered[:DEPTH].T.copy())
    weight_hh = torch.tensor(reordered[DEPTH:].T.copy())
    torch_bias = torch.tensor(np.concatenate([bi, bf + 1.0, bj, bo]))  # forget bias folded
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    lstm = torch.nn.LSTM(DEPTH, HIDDEN, batch_first=True)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(weight_ih)
        lstm.weight_hh_l0.copy_(weight_hh)
        lstm.bias_ih_l0.copy_(torch_bias)
        lstm.bias_hh_l0.zero_()
    module_sgd = torch.optim.SGD(lstm.parameters(), lr=0.1)

    def module_step():
        module_sgd.zero_grad()
        out, _ = lstm(xt)
        loss = torch.mean((out[:, -1] - yt) ** 2)
        loss.backward()
        module_sgd.step()
        return float(loss)

    w_ih = weight_ih.clone().requires_grad_()
    w_hh = weight_hh.clone().requires_grad_()
    b = torch_bias.clone().requires_grad_()
    cell_sgd = torch.optim.SGD([w_ih, w_hh, b], lr=0.1)

    def cell_loss():
        h = c = torch.zeros(BATCH, HIDDEN)
        for t in range(xt.shape[1]):
            gates = xt[:, t] @ w_ih.T + h @ w_hh.T + b
            gi, gf, gg, go = gates.chunk(4, 1)
            c = torch.sigmoid(gf) * c + torch.sigmoid(gi) * torch.tanh(gg)
            h = torch.sigmoid(go) * torch.tanh(c)
        return torch.mean((h - yt) ** 2)

    def cell_step():
        cell_sgd.zero_grad()
        loss = cell_loss()
        loss.backward()
        cell_sgd.step()
        return float(loss)

    with torch.no_grad():
        first_module = float(torch.mean((lstm(xt)[0][:, -1] - yt) ** 2))
        first_cell = float(cell_loss())
    return [("torch eager nn.LSTM", first_module, module_step),
            ("torch eager hand-written cell loop", first_cell, cell_step)]


def _jax_step(x, y, kernel, bias):
    import jax
    import jax.numpy as jnp

    def loss_fn(params, xs, ys):
        w, b = params

        def step(carry, x_t):
            c, h = carry
            gates = jnp.concatenate([x_t, h], 1) @ w + b
            gi, gj, gf, go = jnp.split(gates, 4, axis=1)
            c = c * jax.nn.sigmoid(gf + 1.0) + jax.nn.sigmoid(gi) * jnp.tanh(gj)
            h = jnp.tanh(c) * jax.nn.sigmoid(go)
            return (c, h), None

        zeros = jnp.zeros((BATCH, HIDDEN), jnp.float32)
        (_, h), _ = jax.lax.scan(step, (zeros, zeros), jnp.swapaxes(xs, 0, 1))
        return jnp.mean((h - ys) ** 2)

    @jax.jit
    def train(params, xs, ys):
        loss, grads = jax.value_and_grad(loss_fn)(params, xs, ys)
        return [p - 0.1 * g for p, g in zip(params, grads)], loss

    state = {"params": [jnp.asarray(kernel), jnp.asarray(bias)]}
    xj, yj = jnp.asarray(x), jnp.asarray(y)
    first = float(loss_fn(state["params"], xj, yj))

    def run():
        state["params"], loss = train(state["params"], xj, yj)
        return float(loss)
    return "jax jit lax.scan", first, run
