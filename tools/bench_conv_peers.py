"""W7's peers: issue 14's CNN training step in TF1, torch (eager and compiled) and JAX.

Each builder takes graphc's parameters (HWIO filters by layer name, see bench_conv.CONVS) and
returns ``{name: (run, close)}``, where ``run(x, labels)`` does one SGD step on its own copy
of the parameters and returns the loss, and ``close`` is None or frees the peer's session.
Peers are measured only where installed (``bash tools/bench.sh`` installs them in
.bench-venv, never as graphc dependencies).
"""
from __future__ import annotations

import numpy as np

from .bench_peers import _have, _tf1

__all__ = ["w7_peers"]


def w7_peers(params, size, lr, layers):
    """``layers`` is ``(convs, branches)``, the network's tables (bench_conv.CONVS and
    bench_conv.BRANCHES)."""
    peers = {}
    if _have("tensorflow"):
        peers["tensorflow tf.compat.v1"] = _tf1_step(params, size, lr, *layers)
    if _have("torch"):
        peers["torch eager"] = _torch_step(params, lr, *layers, compiled=False)
        peers["torch.compile"] = _torch_step(params, lr, *layers, compiled=True)
    if _have("jax"):
        peers["jax jit"] = _jax_step(params, lr, *layers)
    return peers


def _tf1_step(params, size, lr, convs, branches):
    tf1 = _tf1()
    graph = tf1.Graph()
    with graph.as_default():
        xs = tf1.placeholder(tf1.float32, (None,) + tuple(size[1:]))
        ys = tf1.placeholder(tf1.int32, (None,))
        values = {"x": xs}
        for name, (_, _, src, _) in convs.items():
            if src == "pool3":
                values["pool3"] = tf1.nn.max_pool(values["conv1"], 3, 1, "SAME")
            w, b = (tf1.Variable(p) for p in params[name])
            values[name] = tf1.nn.relu(tf1.nn.bias_add(
                tf1.nn.conv2d(values[src], w, strides=1, padding="SAME"), b))
        block = tf1.concat([values[name] for name in branches], axis=3)
        features = tf1.reduce_mean(tf1.nn.max_pool(block, 2, 2, "VALID"), axis=[1, 2])
        w, b = (tf1.Variable(p) for p in params["dense"])
        loss = tf1.reduce_mean(tf1.nn.sparse_softmax_cross_entropy_with_logits(
            labels=ys, logits=tf1.matmul(features, w) + b))
        train = tf1.train.GradientDescentOptimizer(lr).minimize(loss)
        init = tf1.global_variables_initializer()
    sess = tf1.Session(graph=graph)
    sess.run(init)
    return (lambda x, labels: float(sess.run([loss, train], {xs: x, ys: labels})[0]),
            sess.close)


def _torch_step(params, lr, convs, branches, compiled):
    import torch
    import torch.nn.functional as F
    # HWIO -> OIHW; images go NHWC -> NCHW once per call (outside the timed network)
    weights = {name: (torch.tensor(np.ascontiguousarray(w.transpose(3, 2, 0, 1)),
                                   requires_grad=True), torch.tensor(b, requires_grad=True))
               for name, (w, b) in params.items() if name != "dense"}
    dense = tuple(torch.tensor(p, requires_grad=True) for p in params["dense"])
    tensors = [p for pair in weights.values() for p in pair] + list(dense)

    def loss_of(x, labels):
        values = {"x": x}
        for name, (kh, _, src, _) in convs.items():
            if src == "pool3":
                values["pool3"] = F.max_pool2d(values["conv1"], 3, 1, padding=1)
            w, b = weights[name]
            values[name] = F.relu(F.conv2d(values[src], w, b, padding=kh // 2))
        block = torch.cat([values[name] for name in branches], dim=1)
        features = F.max_pool2d(block, 2, 2).mean(dim=(2, 3))
        return F.cross_entropy(features @ dense[0] + dense[1], labels)
    loss_fn = torch.compile(loss_of) if compiled else loss_of

    def run(x, labels):
        xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        loss = loss_fn(xt, torch.from_numpy(labels.astype(np.int64)))
        loss.backward()
        with torch.no_grad():
            for p in tensors:
                p -= lr * p.grad
                p.grad = None
        return loss.item()
    return run, None


def _jax_step(params, lr, convs, branches):
    import jax
    import jax.numpy as jnp
    from jax import lax

    def max_pool(v, k, s, padding):
        return lax.reduce_window(v, -jnp.inf, lax.max, (1, k, k, 1), (1, s, s, 1), padding)

    def loss_of(ps, x, labels):
        values = {"x": x}
        for name, (_, _, src, _) in convs.items():
            if src == "pool3":
                values["pool3"] = max_pool(values["conv1"], 3, 1, "SAME")
            w, b = ps[name]
            values[name] = jax.nn.relu(lax.conv_general_dilated(
                values[src], w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")) + b)
        block = jnp.concatenate([values[name] for name in branches], axis=3)
        features = max_pool(block, 2, 2, "VALID").mean(axis=(1, 2))
        log_probs = jax.nn.log_softmax(features @ ps["dense"][0] + ps["dense"][1])
        return -jnp.mean(jnp.take_along_axis(log_probs, labels[:, None], axis=1))

    @jax.jit
    def step(ps, x, labels):
        loss, grads = jax.value_and_grad(loss_of)(ps, x, labels)
        return jax.tree_util.tree_map(lambda p, g: p - lr * g, ps, grads), loss
    state = {"ps": {name: tuple(jnp.asarray(p) for p in pair) for name, pair in params.items()}}

    def run(x, labels):
        state["ps"], loss = step(state["ps"], jnp.asarray(x), jnp.asarray(labels))
        return float(loss)
    return run, None
