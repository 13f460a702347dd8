"""An expression tree: y = tanh(0.5 x + 1) * exp(-x^2) + sin(x) / (1 + x^2) - 0.1 x.

    graphc render tools/examples/expression.py -o docs/expression_tree.png
"""
import graphc as gc

x = gc.placeholder(gc.float32, shape=(None,), name="x")
y = gc.add(gc.tanh(0.5 * x + 1.0) * gc.exp(-gc.square(x)),
           gc.sin(x) / (1.0 + gc.square(x)) - 0.1 * x, name="y")
fetches = [y]
