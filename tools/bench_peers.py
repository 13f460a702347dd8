"""Peer frameworks for the benchmark suite, each measured only where it is installed.

Every builder takes the workload's NumPy inputs and returns ``(name, run)`` pairs; ``run()``
returns a NumPy-comparable result, which the suite checks against the NumPy reference before
timing. Install the peers in a separate environment (never as graphc dependencies):
``bash tools/bench.sh``.
"""
from __future__ import annotations

import os

# TF 2.16+ ships Keras 3, which dropped tf.compat.v1.nn.rnn_cell; tf_keras (installed with
# the peers) brings TF1's cells back when this is set before tensorflow is imported
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
import importlib

import numpy as np

__all__ = ["w1_peers", "w2_peers", "w3_peers", "w4_peers", "w5_peers"]


ENABLED = [True]  # False (bench --no-peers): every peer counts as absent


def _have(module: str) -> bool:
    if not ENABLED[0]:
        return False
    try:
        importlib.import_module(module)
        return True
    except Exception:  # noqa: BLE001 - a broken install counts as absent
        return False


def _tf1():
    import tensorflow as tf
    tf1 = tf.compat.v1
    tf1.disable_eager_execution()
    return tf1


class OnnxBuilder:
    """A small ONNX graph built node by node (float tensors, one input named "x")."""

    def __init__(self, dtype=np.float32):
        import onnx
        self.onnx, self.nodes, self.inits, self.count = onnx, [], [], 0
        self.dtype = dtype
        self.elem = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))

    def const(self, value) -> str:
        name = self._name()
        self.inits.append(self.onnx.numpy_helper.from_array(np.asarray(value, self.dtype), name))
        return name

    def op(self, op_type: str, *inputs: str) -> str:
        name = self._name()
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), [name]))
        return name

    def _name(self) -> str:
        self.count += 1
        return f"v{self.count}"

    def session(self, shape, output: str):
        """An onnxruntime session computing ``output`` from input "x" of ``shape``."""
        import onnxruntime
        helper = self.onnx.helper
        graph = helper.make_graph(self.nodes, "bench",
                                  [helper.make_tensor_value_info("x", self.elem, list(shape))],
                                  [helper.make_tensor_value_info(output, self.elem, None)],
                                  initializer=self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        return onnxruntime.InferenceSession(model.SerializeToString(),
                                            providers=["CPUExecutionProvider"])


def _numpy_chain_reusing_buffers(x, a, b):
    """W2 by hand with two scratch buffers and out= everywhere (no allocation but the result)."""
    out = np.empty_like(x)
    np.multiply(x, np.float32(0.5), out=a)
    a += 1
    np.tanh(a, out=a)
    np.multiply(x, x, out=b)
    np.negative(b, out=out)
    np.exp(out, out=out)
    a *= out
    b += 1
    np.sin(x, out=out)
    out /= b
    out += a
    np.multiply(x, np.float32(0.1), out=b)
    out -= b
    return out


# -- W2: y = tanh(0.5x+1) exp(-x^2) + sin(x)/(1+x^2) - 0.1x ------------------------------------
def w2_peers(x):
    peers = []
    scratch = (np.empty_like(x), np.empty_like(x))
    peers.append(("numpy (out= buffers)", lambda: _numpy_chain_reusing_buffers(x, *scratch)))
    if _have("numba"):
        import numba

        @numba.njit(parallel=True, fastmath=False)
        def loops(v):
            out = np.empty_like(v)
            for i in numba.prange(v.size):
                e = v[i]
                out[i] = (np.tanh(np.float32(0.5) * e + np.float32(1)) * np.exp(-e * e)
                          + np.sin(e) / (np.float32(1) + e * e) - np.float32(0.1) * e)
            return out
        peers.append(("numba loops (parallel)", lambda: loops(x)))
    if _have("onnx") and _have("onnxruntime"):
        g = OnnxBuilder()
        square = g.op("Mul", "x", "x")
        left = g.op("Mul", g.op("Tanh", g.op("Add", g.op("Mul", "x", g.const(0.5)),
                                              g.const(1.0))), g.op("Exp", g.op("Neg", square)))
        right = g.op("Div", g.op("Sin", "x"), g.op("Add", g.const(1.0), square))
        y = g.op("Sub", g.op("Add", left, right), g.op("Mul", g.const(0.1), "x"))
        ort = g.session(x.shape, y)
        peers.append(("onnxruntime", lambda: ort.run(None, {"x": x})[0]))
    if _have("numexpr"):
        import numexpr
        peers.append(("numexpr", lambda: numexpr.evaluate(
            "tanh(0.5 * x + 1) * exp(-x * x) + sin(x) / (1 + x * x) - 0.1 * x", {"x": x})))
    if _have("jax"):
        import jax
        import jax.numpy as jnp
        chain = jax.jit(lambda v: jnp.tanh(0.5 * v + 1) * jnp.exp(-v * v)
                        + jnp.sin(v) / (1 + v * v) - 0.1 * v)
        xj = jnp.asarray(x)
        peers.append(("jax jit", lambda: np.asarray(chain(xj).block_until_ready())))
    if _have("torch"):
        import torch
        xt = torch.from_numpy(x)

        def eager(v):
            return torch.tanh(0.5 * v + 1) * torch.exp(-v * v) + torch.sin(v) / (1 + v * v) - 0.1 * v
        compiled = torch.compile(eager)
        peers.append(("torch eager", lambda: eager(xt).numpy()))
        peers.append(("torch.compile", lambda: compiled(xt).numpy()))
    if _have("tensorflow"):
        tf1 = _tf1()
        graph = tf1.Graph()
        with graph.as_default():
            tf_x = tf1.placeholder(tf1.float32, x.shape)
            tf_y = (tf1.tanh(0.5 * tf_x + 1) * tf1.exp(-tf_x * tf_x)
                    + tf1.sin(tf_x) / (1 + tf_x * tf_x) - 0.1 * tf_x)
        tf_session = tf1.Session(graph=graph)
        peers.append(("tensorflow tf.compat.v1", lambda: tf_session.run(tf_y, {tf_x: x})))
    if _have("pytensor"):
        import pytensor
        import pytensor.tensor as pt
        pt_x = pt.vector("x", dtype="float32")
        pt_fn = pytensor.function([pt_x], pt.tanh(0.5 * pt_x + 1) * pt.exp(-pt_x * pt_x)
                                  + pt.sin(pt_x) / (1 + pt_x * pt_x) - np.float32(0.1) * pt_x)
        peers.append(("pytensor", lambda: pt_fn(x)))
    return peers


# -- W3: 100 small elementwise ops -------------------------------------------------------------
def _cycle(ops, v):
    for i in range(100):
        v = ops[i % 4](v)
    return v


def w3_peers(x):
    peers = []
    if _have("jax"):
        import jax
        import jax.numpy as jnp
        chain = jax.jit(lambda v: _cycle([lambda a: a * 1.01, lambda a: a + 0.1, jnp.tanh,
                                          jnp.sin], v))
        xj = jnp.asarray(x)
        peers.append(("jax jit", lambda: np.asarray(chain(xj).block_until_ready())))
    if _have("torch"):
        import torch
        xt = torch.from_numpy(x)
        steps = [lambda a: a * 1.01, lambda a: a + 0.1, torch.tanh, torch.sin]
        peers.append(("torch eager", lambda: _cycle(steps, xt).numpy()))
    if _have("tensorflow"):
        tf1 = _tf1()
        graph = tf1.Graph()
        with graph.as_default():
            tf_x = tf1.placeholder(tf1.float32, x.shape)
            tf_y = _cycle([lambda a: a * 1.01, lambda a: a + 0.1, tf1.tanh, tf1.sin], tf_x)
        tf_session = tf1.Session(graph=graph)
        peers.append(("tensorflow tf.compat.v1", lambda: tf_session.run(tf_y, {tf_x: x})))
    if _have("pytensor"):
        import pytensor
        import pytensor.tensor as pt
        pt_x = pt.vector("x", dtype="float32")
        pt_fn = pytensor.function([pt_x], _cycle([lambda a: a * np.float32(1.01),
                                                  lambda a: a + np.float32(0.1), pt.tanh,
                                                  pt.sin], pt_x))
        peers.append(("pytensor", lambda: pt_fn(x)))
    return peers


# -- W4: random elementwise DAGs, build + compile + first result ------------------------------
W4_PEERS = ("onnxruntime", "tensorflow tf.compat.v1")


def w4_peers(recipe, x, only=None, sessions=None):
    """``(name, build_and_run)`` for the DAG ``recipe`` (see bench.random_dag): each call
    builds the peer's graph from scratch, compiles it and returns the first result. Only the
    peers that handle 20k nodes in reasonable time are included (JAX needs ~30 s, PyTensor
    minutes). ``only`` names the one peer to import and build; sessions that need closing
    are added to ``sessions`` (closed after the timing)."""
    peers = []
    sessions = [] if sessions is None else sessions
    if only in (None, "onnxruntime") and _have("onnx") and _have("onnxruntime"):
        def onnx_run():
            g = OnnxBuilder(np.float64)
            names = ["x"]
            for kind, a, b in recipe:
                op = {"tanh": "Tanh", "sin": "Sin", "mul": "Mul", "add": "Add"}[kind]
                names.append(g.op(op, names[a]) if b is None else g.op(op, names[a], names[b]))
            total = names[-10]
            for name in names[-9:]:
                total = g.op("Add", total, name)
            return g.session(x.shape, total).run(None, {"x": x})[0]
        peers.append(("onnxruntime", onnx_run))
    if only in (None, "tensorflow tf.compat.v1") and _have("tensorflow"):
        def tf_run():
            tf1 = _tf1()
            graph = tf1.Graph()
            with graph.as_default():
                values = [tf1.placeholder(tf1.float64, x.shape)]
                for kind, a, b in recipe:
                    if kind in ("tanh", "sin"):
                        values.append(getattr(tf1, kind)(values[a]))
                    else:
                        values.append(values[a] * values[b] if kind == "mul"
                                      else values[a] + values[b])
                out = tf1.add_n(values[-10:])
            sessions.append(tf1.Session(graph=graph))
            return sessions[-1].run(out, {values[0]: x})
        peers.append(("tensorflow tf.compat.v1", tf_run))
    return peers


# -- W1: one SGD step of the 784-256-256-10 MLP ------------------------------------------------
def w1_peers(params, x, labels, lr=0.01):
    """Each peer keeps its own copy of the parameters; ``run()`` returns the step's loss."""
    peers = []
    if _have("jax"):
        import jax
        import jax.numpy as jnp

        def loss_fn(ps, xb, yb):
            h = xb
            for i, (w, b) in enumerate(ps):
                h = h @ w + b
                h = jax.nn.relu(h) if i < 2 else h
            log_probs = jax.nn.log_softmax(h)
            return -jnp.mean(jnp.take_along_axis(log_probs, yb[:, None], axis=1))

        @jax.jit
        def step(ps, xb, yb):
            loss, grads = jax.value_and_grad(loss_fn)(ps, xb, yb)
            return [(w - lr * gw, b - lr * gb) for (w, b), (gw, gb) in zip(ps, grads)], loss
        state = {"ps": [(jnp.asarray(w), jnp.asarray(b)) for w, b in params]}
        xj, yj = jnp.asarray(x), jnp.asarray(labels)

        def run():
            state["ps"], loss = step(state["ps"], xj, yj)
            return float(loss)
        peers.append(("jax jit", run))
    if _have("torch"):
        import torch
        tensors = [(torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True))
                   for w, b in params]
        xt, yt = torch.from_numpy(x), torch.from_numpy(labels.astype(np.int64))

        def torch_loss(xb):
            h = xb
            for i, (w, b) in enumerate(tensors):
                h = h @ w + b
                h = torch.relu(h) if i < 2 else h
            return torch.nn.functional.cross_entropy(h, yt)

        def eager():
            loss = torch_loss(xt)
            loss.backward()
            with torch.no_grad():
                for w, b in tensors:
                    w -= lr * w.grad
                    b -= lr * b.grad
                    w.grad = None
                    b.grad = None
            return float(loss)
        peers.append(("torch eager", eager))
    if _have("tensorflow"):
        tf1 = _tf1()
        graph = tf1.Graph()
        with graph.as_default():
            xs = tf1.placeholder(tf1.float32, x.shape)
            ys = tf1.placeholder(tf1.int32, labels.shape)
            h = xs
            for i, (w, b) in enumerate(params):
                h = tf1.matmul(h, tf1.Variable(w)) + tf1.Variable(b)
                h = tf1.nn.relu(h) if i < 2 else h
            loss = tf1.reduce_mean(tf1.nn.sparse_softmax_cross_entropy_with_logits(
                labels=ys, logits=h))
            train = tf1.train.GradientDescentOptimizer(lr).minimize(loss)
            init = tf1.global_variables_initializer()
        sess = tf1.Session(graph=graph)
        sess.run(init)
        peers.append(("tensorflow tf.compat.v1",
                      lambda: float(sess.run([loss, train], {xs: x, ys: labels})[0])))
    return peers


# -- W5: loss and all gradients of the 200-layer tanh chain -------------------------------------
def w5_peers(weights, biases, x):
    """``run()`` returns ``[loss] + weight gradients + bias gradients``."""
    peers = []
    if _have("jax"):
        import jax
        import jax.numpy as jnp

        def chain(ws, bs):
            h = jnp.asarray(x)
            for w, b in zip(ws, bs):
                h = jnp.tanh(w @ h + b)
            return jnp.sum(h)
        both = jax.jit(jax.value_and_grad(chain, argnums=(0, 1)))
        jax_ws, jax_bs = [jnp.asarray(w) for w in weights], [jnp.asarray(b) for b in biases]

        def run():
            loss, (gw, gb) = both(jax_ws, jax_bs)
            return [np.asarray(loss)] + [np.asarray(g) for g in gw] + [np.asarray(g) for g in gb]
        peers.append(("jax jit", run))
    if _have("torch"):
        import torch
        torch_ws = [torch.tensor(w, requires_grad=True) for w in weights]
        torch_bs = [torch.tensor(b, requires_grad=True) for b in biases]
        xt = torch.from_numpy(x)

        def eager():
            h = xt
            for w, b in zip(torch_ws, torch_bs):
                h = torch.tanh(w @ h + b)
            loss = h.sum()
            grads = torch.autograd.grad(loss, torch_ws + torch_bs)
            return [loss.detach().numpy()] + [g.numpy() for g in grads]
        peers.append(("torch eager", eager))
    if _have("tensorflow"):
        tf1 = _tf1()
        graph = tf1.Graph()
        with graph.as_default():
            tf_x = tf1.placeholder(tf1.float32, x.shape)
            tf_ws = [tf1.constant(w) for w in weights]
            tf_bs = [tf1.constant(b) for b in biases]
            h = tf_x
            for w, b in zip(tf_ws, tf_bs):
                h = tf1.tanh(tf1.matmul(w, h) + b)
            tf_loss = tf1.reduce_sum(h)
            tf_grads = tf1.gradients(tf_loss, tf_ws + tf_bs)
        tf_session = tf1.Session(graph=graph)
        peers.append(("tensorflow tf.compat.v1",
                      lambda: tf_session.run([tf_loss] + tf_grads, {tf_x: x})))
    return peers
