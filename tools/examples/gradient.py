"""The classic expression tree with its gradient nodes: y = x0*θ0 + x1*θ1 and ∂y/∂θ
(at x = [0.1, 0.2], θ = [0.1, -0.1]: ŷ = -0.01, ∂ŷ/∂θ0 = x0).

    graphc render tools/examples/gradient.py -o docs/gradient_tree.png
"""
from graphc.tools.demo import expression_with_gradients


def build():
    graph, fetches, _, _ = expression_with_gradients()
    return graph, fetches
