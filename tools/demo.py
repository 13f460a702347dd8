"""The main demo: a small CNN with Inception blocks learns scikit-learn's handwritten digits.

It trains on ``sklearn.datasets.load_digits`` (1,797 8x8 images, shipped with scikit-learn:
no download), prints the model summary, the training progress (a tqdm bar on a terminal),
test accuracy and steps/s, and what the optimizer did to the training step; it draws the
network (layer clusters, the inception branches side by side), the layer tree and the
classic expression tree with its gradient nodes, and saves a checkpoint (``tf.train.Saver``).

    bash tools/dev.sh demo                 # or: graphc demo / python -m graphc.tools.demo
    graphc demo --quick --out /tmp/demo    # the reduced mode the tests run (GRAPHC_DEMO_QUICK=1)

scikit-learn and tqdm come with the ``demo`` extra (``pip install -e ".[demo]"``).
"""
from __future__ import annotations

import argparse
import os
import pathlib
import time

import numpy as np

import graphc as gc
from graphc.viz import DotNotFoundError, render_layer_tree
from graphc.viz.report import pass_table

TARGET_ACCURACY = 0.95
L = gc.layers


def load_digits_split(seed=0, quick=False):
    """``(train, validation, test)`` pairs of images ``[n, 8, 8, 1]`` in [0, 1] and labels:
    a stratified 20% test split, 10% of the rest for validation; quick mode keeps 480
    training images."""
    try:
        from sklearn.datasets import load_digits  # noqa: optional (the demo extra)
        from sklearn.model_selection import train_test_split  # noqa: optional, as above
    except ImportError:
        raise SystemExit('the demo needs scikit-learn: pip install -e ".[demo]" (or run '
                         "bash tools/dev.sh demo, which installs it)") from None
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[..., None]
    labels = digits.target.astype(np.int32)
    x_rest, x_test, y_rest, y_test = train_test_split(images, labels, test_size=0.2,
                                                      random_state=seed, stratify=labels)
    x_train, x_val, y_train, y_val = train_test_split(x_rest, y_rest, test_size=0.1,
                                                      random_state=seed, stratify=y_rest)
    if quick:
        x_train, y_train = x_train[:480], y_train[:480]
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)


def build_digits_model(graph, seed=0, learning_rate=0.005):
    """A stem convolution, two identical Inception blocks, pooling and a classifier."""
    with graph.as_default():
        gc.set_random_seed(seed)
        images = gc.placeholder(gc.float32, [None, 8, 8, 1], name="images")
        labels = gc.placeholder(gc.int32, [None], name="labels")
        model = L.Sequential([
            L.Conv2D(24, 3, padding="same", activation="relu", kernel_initializer="he_normal"),
            L.BatchNormalization(momentum=0.9),  # few steps: averages that keep up
            L.InceptionBlock(8, (8, 8), (4, 4), 4),
            L.InceptionBlock(8, (8, 8), (4, 4), 4),
            L.MaxPooling2D(2),
            L.Flatten(),
            L.Dropout(0.2),
            L.Dense(10),
        ], name="digits_cnn")
        logits = model(images)
        loss = gc.training.sparse_softmax_loss(labels, logits)
        accuracy = gc.training.accuracy(labels, logits)
        train_op = gc.training.train_op(loss, gc.train.AdamOptimizer(learning_rate))
        init = gc.global_variables_initializer()
    return dict(images=images, labels=labels, model=model, logits=logits, loss=loss,
                accuracy=accuracy, train_op=train_op, init=init)


def expression_with_gradients():
    """The classic picture: ``y = x0*θ0 + x1*θ1`` and ``∂y/∂θ``; returns ``(graph, fetches,
    feed)``. At x = [0.1, 0.2], θ = [0.1, -0.1]: ŷ = -0.01 and ∂ŷ/∂θ0 = x0 = 0.1."""
    graph = gc.Graph()
    with graph.as_default():
        x0 = gc.placeholder(gc.float32, [], name="x0")
        x1 = gc.placeholder(gc.float32, [], name="x1")
        theta0 = gc.Variable(0.1, name="theta0")
        theta1 = gc.Variable(-0.1, name="theta1")
        y = gc.add(gc.multiply(x0, theta0, name="x0_theta0"),
                   gc.multiply(x1, theta1, name="x1_theta1"), name="y")
        grads = gc.gradients(y, [theta0, theta1])
        init = gc.global_variables_initializer()
    return graph, [y] + grads, {x0: 0.1, x1: 0.2}, init


def _picture(what, draw, path):
    try:
        draw(path)
    except DotNotFoundError as err:
        print(f"  {what}: not drawn ({err})")
        return None
    print(f"  {what}: {path}")
    return path


def save_checkpoint(sess, directory: pathlib.Path):
    """Save the trained variables with ``tf.train.Saver`` (and the graph beside them)."""
    with sess.graph.as_default():
        saver = gc.train.Saver()
    directory.mkdir(parents=True, exist_ok=True)  # TF1's Saver wants the folder to exist
    path = saver.save(sess, str(directory / "digits_cnn"))
    print(f"  checkpoint: {path} (restore with gc.train.Saver().restore(sess, path))")
    return path


def _classic_expression():
    graph, fetches, feed, init = expression_with_gradients()
    with gc.Session(graph=graph) as sess:
        sess.run(init)
        y, d0, d1 = sess.run(fetches, feed)
    print(f"\nThe classic expression y = x0*θ0 + x1*θ1 at x = [0.1, 0.2], θ = [0.1, -0.1]: "
          f"ŷ = {y:.4f}, ∂ŷ/∂θ0 = {d0:.4f} (= x0), ∂ŷ/∂θ1 = {d1:.4f} (= x1)")
    return lambda path: gc.render(fetches, path, title="y = x0*θ0 + x1*θ1 and its gradients")


def add_arguments(parser) -> None:
    """The demo's options (shared by ``python -m graphc.tools.demo`` and ``graphc demo``)."""
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("GRAPHC_DEMO_QUICK", "") not in ("", "0"),
                        help="reduced mode: 480 images, 1 epoch (also GRAPHC_DEMO_QUICK=1)")
    parser.add_argument("--epochs", type=int, help="training epochs (default 12, quick 1)")
    parser.add_argument("--out", default="out/demo", help="folder for pictures and checkpoint")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--seed", type=int, default=0, help="data split, weights and order")


def main(argv=None) -> int:
    """``python -m graphc.tools.demo [options]``; returns a process exit code."""
    parser = argparse.ArgumentParser(prog="graphc demo", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


def run(args) -> int:
    """Train, report and draw; returns a process exit code (1: full mode below target)."""
    out = pathlib.Path(args.out)
    epochs = args.epochs or (1 if args.quick else 12)
    (x_train, y_train), validation, (x_test, y_test) = load_digits_split(args.seed, args.quick)
    print(f"graphc {gc.__version__}: {len(gc.registry.all_ops())} op types registered")
    print(f"digits: {len(x_train)} training, {len(validation[0])} validation, {len(x_test)} "
          f"test images of 8x8{' (quick mode)' if args.quick else ''}\n")
    graph = gc.Graph()
    net = build_digits_model(graph, args.seed)
    net["model"].summary()
    inputs, metrics = [net["images"], net["labels"]], {"loss": net["loss"],
                                                       "accuracy": net["accuracy"]}
    with gc.Session(graph=graph) as sess:
        sess.run(net["init"])
        print(f"\ntraining {epochs} epochs of batches of 32 (Adam, lr 0.005):")
        started = time.perf_counter()
        history = gc.training.fit(sess, net["train_op"], inputs, [x_train, y_train],
                                  epochs=epochs, batch_size=32, metrics=metrics,
                                  validation_data=list(validation), seed=args.seed,
                                  progress=False if args.no_progress else None)
        seconds = time.perf_counter() - started
        test = gc.training.evaluate(sess, metrics, inputs, [x_test, y_test])
        rate = float(np.median(history["steps_per_second"]))
        print(f"\ntest accuracy {test['accuracy']:.4f} (loss {test['loss']:.4f}) after "
              f"{seconds:.1f} s of training, median {rate:.1f} steps/s")
        feed = {net["images"]: x_train[:32], net["labels"]: y_train[:32]}
        print("\nWhat the optimizer did to the training step (graphc.viz.report.pass_table):\n")
        print(pass_table(sess.optimization_records(net["train_op"], feed_dict=feed)))
        draw_expression = _classic_expression()
        print("\nfiles:")
        _picture("network (forward graph, one cluster per layer)", lambda p: gc.render(
            net["logits"], p, hide_constants=True, layer_boxes=True,
            title="digits_cnn: the forward graph, layers as clusters"), out / "network.png")
        _picture("layer tree", lambda p: render_layer_tree(
            graph, p, title="digits_cnn: the layer tree"), out / "layers.png")
        _picture("expression tree with gradient nodes", draw_expression, out / "expression.png")
        save_checkpoint(sess, out / "checkpoint")
    if not args.quick and test["accuracy"] < TARGET_ACCURACY:
        print(f"\ntest accuracy {test['accuracy']:.4f} is below the target {TARGET_ACCURACY}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
