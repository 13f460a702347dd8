"""The seed example, define-by-run and define-then-run on one expression tree.

A value that remembers how it was computed can be differentiated: with x = [0.1, 0.2] and
theta = [0.1, -0.1], yhat = x0*theta0 + x1*theta1 is -0.01, and d yhat / d theta0 is x0.

    python tools/examples/seed_example.py [OUTPUT_FOLDER]     # prints, writes two PNGs
    graphc inspect tools/examples/seed_example.py             # the traced function's passes
"""
import sys
from pathlib import Path

import numpy as np

import graphc as gc


def predict(x, theta):
    return x[0] * theta[0] + x[1] * theta[1]


# 2. define-then-run: the same Python traced into a graph and optimized (gc.function)
traced_predict = gc.function(predict)


def build():
    """The traced function for ``graphc inspect`` / ``graphc render``."""
    spec = gc.TensorSpec([2], gc.float64)
    return traced_predict.get_concrete_function(spec, spec)


def main(folder: str = ".") -> int:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    # 1. define-by-run: eager values that record their expression tree
    with gc.eager():
        x = gc.constant([0.1, 0.2], dtype=gc.float64, name="x")
        theta = gc.constant([0.1, -0.1], dtype=gc.float64, name="theta")
        yhat = predict(x, theta)
        slope = yhat.partial(theta[0])
        print(f"eager:   yhat.data = {yhat.data:.4f}, yhat.partial(theta[0]) = "
              f"{slope.numpy():.4f} (x[0] = {x[0].numpy():.4f})")
        tree = gc.render([yhat, slope], str(out / "seed_eager_tree.png"),
                         title="eager: yhat and d yhat / d theta0, with their values")
        with gc.GradientTape() as tape:
            tape.watch(theta)
            loss = predict(x, theta)
        print(f"tape:    d yhat / d theta = {tape.gradient(loss, theta).numpy()}")
        value = traced_predict(np.array([0.1, 0.2]), np.array([0.1, -0.1]))
        print(f"traced:  yhat = {float(value):.4f} from the optimized plan")
    concrete = build()
    print("the traced graph:\n" + str(concrete.graph))
    print(concrete.pass_table())
    traced = gc.render(concrete.outputs, str(out / "seed_traced_graph.png"),
                       title="gc.function: the same tree, traced")
    print(f"wrote {tree} and {traced}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
