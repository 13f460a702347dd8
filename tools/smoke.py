"""Smoke test of an installation: ``python -m graphc.tools.smoke [--outside DIR] [--png PATH]``.

It imports graphc, builds, optimizes and runs a small model, checks its loss, gradients and a
training step against NumPy, renders it to PNG, and checks that only the ``graphc`` name was
installed. ``--outside DIR`` also checks that graphc was imported from outside DIR (CI: the
source tree, after installing the wheel into a fresh virtual environment). Any failure
raises, so the exit status is non-zero.
"""
import argparse
import importlib.util
import pathlib
import shutil
import sys
import tempfile

import numpy as np

import graphc as gc


def _require(condition, message: str) -> None:
    """An assert that ``python -O`` keeps."""
    if not condition:
        raise AssertionError(message)


def check_installed_names():
    """passes/, runtime/ and tools/ install inside graphc only (no generic top-level names)."""
    for generic in ("passes", "runtime", "tools"):
        _require(importlib.util.find_spec(generic) is None,
                 f"a top-level {generic!r} is importable")
    for sub in ("graphc.passes", "graphc.runtime", "graphc.tools", "graphc.viz", "graphc.ops"):
        _require(importlib.util.find_spec(sub) is not None, f"{sub} is missing")


def build_model():
    """A one-layer softmax regression with its loss, gradients and one SGD step."""
    graph = gc.Graph()
    with graph.as_default():
        x = gc.placeholder(gc.float64, shape=(None, 3), name="x")
        labels = gc.placeholder(gc.int64, shape=(None,), name="labels")
        w = gc.Variable(np.linspace(-1.0, 1.0, 12).reshape(3, 4), name="W")
        logits = gc.matmul(x, w) + 0.5
        loss = gc.reduce_mean(gc.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=logits))
        (grad,) = gc.gradients(loss, [w])
        step = gc.train.GradientDescentOptimizer(0.1).minimize(loss)
        init = gc.global_variables_initializer()
    return graph, (x, labels, w, loss, grad, step, init)


def numpy_loss_and_grad(x, labels, w):
    logits = x @ w + 0.5
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(len(labels)), labels]))
    onehot = np.eye(w.shape[1])[labels]
    return loss, x.T @ (probs - onehot) / len(labels)


def check_run_gradients_and_training():
    graph, (x, labels, w, loss, grad, step, init) = build_model()
    rng = np.random.default_rng(0)
    feed = {x: rng.normal(size=(8, 3)), labels: rng.integers(0, 4, size=8)}
    w0 = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    want_loss, want_grad = numpy_loss_and_grad(feed[x], feed[labels], w0)
    for optimize in (True, False):
        with gc.Session(graph=graph, optimize=optimize) as sess:
            sess.run(init)
            got_loss, got_grad = sess.run([loss, grad], feed)
            np.testing.assert_allclose(got_loss, want_loss, rtol=1e-12)
            np.testing.assert_allclose(got_grad, want_grad, rtol=1e-10, atol=1e-14)
            sess.run(step, feed)
            np.testing.assert_allclose(sess.run(w), w0 - 0.1 * want_grad, rtol=1e-12)
    optimized, records = gc.optimize(graph, [loss, grad], feeds=[x, labels])
    _require(records and optimized.get_operations(), "gc.optimize returned nothing")
    return graph, loss


def check_render(loss, path: pathlib.Path):
    if shutil.which("dot") is None:
        print("smoke: graphviz 'dot' is missing; PNG rendering not checked",
              file=sys.stderr)
        return
    written = gc.render(loss, str(path))
    _require(pathlib.Path(written).read_bytes().startswith(b"\x89PNG"), f"{written} is no PNG")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outside", help="graphc must be imported from outside this folder")
    parser.add_argument("--png", help="where to render the model (default: a scratch file)")
    args = parser.parse_args(argv)
    location = pathlib.Path(gc.__file__).resolve().parent
    print(f"smoke: graphc {gc.__version__} from {location}")
    if args.outside:
        outside = pathlib.Path(args.outside).resolve()
        _require(outside not in location.parents, f"graphc was imported from {location}")
    check_installed_names()
    _, loss = check_run_gradients_and_training()
    with tempfile.TemporaryDirectory() as scratch:
        check_render(loss, pathlib.Path(args.png or pathlib.Path(scratch) / "loss.png"))
    print("smoke: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
