"""A small Inception-style network: a stem, three identical blocks of parallel convolution
and pooling branches joined by concat, and a classifier; every layer is a name scope.

    graphc render tools/examples/network.py -o docs/network.png --collapse-depth 2
    graphc inspect tools/examples/network.py --html report.html
"""
import numpy as np

import graphc as gc

RNG = np.random.default_rng(0)


def conv(x, out_channels, size, name):
    with gc.name_scope(name):
        kernel = gc.Variable(RNG.normal(0, 0.1, (size, size, x.shape[-1], out_channels))
                             .astype(np.float32), name="kernel")
        bias = gc.Variable(np.zeros(out_channels, np.float32), name="bias")
        return gc.nn.relu(gc.nn.bias_add(gc.nn.conv2d(x, kernel, 1, "SAME"), bias))


def block(x, name):
    with gc.name_scope(name):
        with gc.name_scope("branch_1x1"):
            a = conv(x, 8, 1, "conv")
        with gc.name_scope("branch_3x3"):
            b = conv(conv(x, 8, 1, "reduce"), 8, 3, "conv")
        with gc.name_scope("branch_pool"):
            c = conv(gc.nn.max_pool(x, 3, 1, "SAME"), 8, 1, "conv")
        return gc.concat([a, b, c], axis=3, name="concat")


images = gc.placeholder(gc.float32, (None, 16, 16, 3), name="images")
labels = gc.placeholder(gc.int32, (None,), name="labels")
h = conv(images, 24, 3, "stem")
for i in range(1, 4):
    h = block(h, f"block{i}")
with gc.name_scope("classifier"):
    pooled = gc.reduce_mean(h, axis=[1, 2])
    weights = gc.Variable(RNG.normal(0, 0.1, (24, 10)).astype(np.float32), name="weights")
    logits = gc.matmul(pooled, weights)
loss = gc.reduce_mean(gc.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                     logits=logits), name="loss")
fetches = [loss]
