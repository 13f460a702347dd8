"""The demo's digits classifier, built with gc.layers: a stem convolution, two identical
Inception blocks, pooling and a dense classifier (see graphc.tools.demo).

    graphc render tools/examples/inception.py --layers -o docs/layer_tree.png
    graphc render tools/examples/inception.py --layer-boxes --hide-constants \
        -o docs/inception_network.png
"""
import graphc as gc
from graphc.tools.demo import build_digits_model


def build():
    graph = gc.Graph()
    return graph, [build_digits_model(graph)["logits"]]
