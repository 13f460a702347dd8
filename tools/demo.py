"""The main demo: build a small classifier graph, run it, and show what graphc reports.

Run it with ``bash tools/dev.sh demo`` (or ``python -m graphc.tools.demo``).
"""
from __future__ import annotations

import pathlib

import numpy as np

import graphc as gc
from graphc.viz import DotNotFoundError
from graphc.viz.report import pass_table


def build_model(graph: gc.Graph, seed: int = 0):
    """A two-layer MLP on 4 features with 3 classes; returns the tensors the demo uses."""
    rng = np.random.default_rng(seed)
    with graph.as_default():
        x = gc.placeholder(gc.float32, shape=(None, 4), name="x")
        labels = gc.placeholder(gc.int32, shape=(None,), name="labels")
        with gc.name_scope("hidden"):
            W1 = gc.Variable(rng.normal(0, 0.5, (4, 8)).astype(np.float32), name="W")
            b1 = gc.Variable(gc.zeros([8]), name="b")
            h = gc.nn.relu(gc.matmul(x, W1) + b1)
        with gc.name_scope("output"):
            W2 = gc.Variable(rng.normal(0, 0.5, (8, 3)).astype(np.float32), name="W")
            b2 = gc.Variable(gc.zeros([3]), name="b")
            logits = gc.nn.bias_add(gc.matmul(h, W2), b2)
        probs = gc.nn.softmax(logits, name="probs")
        loss = gc.reduce_mean(gc.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=logits), name="loss")
        accuracy = gc.reduce_mean(gc.cast(gc.equal(gc.argmax(logits, axis=1, output_type=gc.int32),
                                                   labels), gc.float32), name="accuracy")
        forward_ops = graph.get_operations()
        grads = gc.gradients(loss, [W1, b1, W2, b2])
        train_op = gc.train.AdamOptimizer(0.05).minimize(loss)
        init = gc.global_variables_initializer()
    return dict(x=x, labels=labels, probs=probs, loss=loss, accuracy=accuracy, init=init,
                b2=b2, grads=grads, train_op=train_op, forward_ops=forward_ops)


def _draw(tensor) -> None:
    """Render the loss's expression tree to out/demo_model.png when graphviz is installed."""
    path = pathlib.Path("out") / "demo_model.png"
    try:
        gc.render(tensor, path, hide_constants=True, title="demo model: the loss")
    except DotNotFoundError as err:
        print(f"\n(no picture: {err})")
    else:
        print(f"\nthe loss's expression tree: {path}")


def main() -> int:
    """Build, run and print the demo model; returns a process exit code."""
    graph = gc.Graph()
    model = build_model(graph)
    rng = np.random.default_rng(1)
    centers = rng.normal(scale=2.0, size=(3, 4))
    targets = rng.integers(0, 3, size=96).astype(np.int32)
    batch = (centers[targets] + rng.normal(size=(96, 4))).astype(np.float32)

    print(f"graphc {gc.__version__}: {len(gc.registry.all_ops())} op types registered")
    forward = model["forward_ops"]
    print(f"\nThe forward graph ({len(forward)} of {len(graph.get_operations())} ops; the rest "
          "are gradients and Adam updates), as text:\n")
    print(graph.as_text(forward))

    with gc.Session(graph=graph) as sess:
        sess.run(model["init"])
        feed = {model["x"]: batch, model["labels"]: targets}
        result = sess.run({"probs": model["probs"], "metrics": (model["loss"], model["accuracy"])},
                          feed_dict=feed)
        print("\nclass probabilities of the first rows:\n", np.round(result["probs"][:4], 3))
        print("before training: loss %.4f, accuracy %.2f" % result["metrics"])
        norms = [float(np.linalg.norm(g)) for g in sess.run(model["grads"], feed_dict=feed)]
        print("gradient norms of W1, b1, W2, b2:", np.round(norms, 4))
        for _ in range(100):
            sess.run(model["train_op"], feed_dict=feed)
        print("after 100 Adam steps: loss %.4f, accuracy %.2f"
              % tuple(sess.run([model["loss"], model["accuracy"]], feed_dict=feed)))
        print("\nWhat the optimizer did to the training step (graphc.viz.report.pass_table):\n")
        print(pass_table(sess.optimization_records(model["train_op"], feed_dict=feed)))
        _draw(model["loss"])

        print("\nA bad feed is refused with a clear error before anything runs:")
        try:
            sess.run(model["loss"], feed_dict={model["x"]: batch[:, :3],
                                               model["labels"]: targets})
        except ValueError as err:
            print("  ValueError:", err)

        print("\nA run that fails midway leaves every variable as it was:")
        bump = model["b2"].assign_add([1.0, 1.0, 1.0])
        with graph.as_default(), gc.control_dependencies([bump]):
            guarded = gc.check_numerics(gc.log(model["probs"] - 0.5), "probs below 0.5")
        before = sess.run(model["b2"])
        try:
            sess.run(guarded, feed_dict=feed)
        except gc.errors.InvalidArgumentError as err:
            print("  InvalidArgumentError:", str(err).split(" [inputs")[0])
        after = sess.run(model["b2"])
        print(f"  output/b before {np.round(before, 4)}, after {np.round(after, 4)}: the "
              f"assign_add ran, then was discarded (unchanged: {np.array_equal(before, after)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
