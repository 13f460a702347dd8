"""``InceptionBlock``: GoogLeNet's block, built from the other layers as the worked example
of a layer made of layers.

Four branches see the same input and their outputs are concatenated on the channel axis:

    branch_1x1   1x1 conv
    branch_3x3   1x1 conv (reduce) -> 3x3 conv
    branch_5x5   1x1 conv (reduce) -> 5x5 conv
    branch_pool  3x3 max-pool (stride 1) -> 1x1 conv (projection)

Every convolution keeps height and width (``same`` padding), so the block maps
``[b, h, w, c]`` to ``[b, h, w, f1 + f3 + f5 + fp]``. Each branch is a ``Sequential`` child,
so its scope (``inception_block/branch_3x3/conv2d_1``) is a cluster of the graph picture
and any branch, or the whole block, runs alone on a new placeholder.

Example:
    >>> block = gc.layers.InceptionBlock(16, (8, 16), (4, 8), 8)
    >>> y = block(x)                                   # 16 + 16 + 8 + 8 = 48 channels
    >>> xb, yb = block.layers[1].as_model([None, 8, 8, 32])    # the 3x3 branch alone
"""
from __future__ import annotations

from graphc.layers.base import Layer
from graphc.layers.convolutional import Conv2D, MaxPooling2D
from graphc.layers.core import Activation, Concatenate, Sequential, takes_training
from graphc.layers.normalization import BatchNormalization

__all__ = ["InceptionBlock"]


class InceptionBlock(Layer):
    """Parallel 1x1, 3x3, 5x5 and pooling branches joined on channels.

    Args:
        filters_1x1: channels of the 1x1 branch.
        filters_3x3: ``(reduce, out)`` channels of the 3x3 branch's two convolutions.
        filters_5x5: ``(reduce, out)`` channels of the 5x5 branch.
        filters_pool: channels of the projection after the pooling.
        activation: of every convolution (default relu).
        batch_norm: put a BatchNormalization after every convolution (before activating).

    Example:
        >>> y = gc.layers.InceptionBlock(8, (8, 16), (4, 8), 8, batch_norm=True)(x)
    """

    def __init__(self, filters_1x1, filters_3x3, filters_5x5, filters_pool, activation="relu",
                 batch_norm=False, kernel_initializer="he_normal", name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.out_channels = filters_1x1 + filters_3x3[1] + filters_5x5[1] + filters_pool

        def conv(filters, size):
            if not batch_norm:
                return [Conv2D(filters, size, padding="same", activation=activation,
                               kernel_initializer=kernel_initializer)]
            return [Conv2D(filters, size, padding="same", use_bias=False,
                           kernel_initializer=kernel_initializer), BatchNormalization(),
                    Activation(activation)]

        self.branches = [
            Sequential(conv(filters_1x1, 1), name="branch_1x1"),
            Sequential(conv(filters_3x3[0], 1) + conv(filters_3x3[1], 3), name="branch_3x3"),
            Sequential(conv(filters_5x5[0], 1) + conv(filters_5x5[1], 5), name="branch_5x5"),
            Sequential([MaxPooling2D(3, strides=1, padding="same")] + conv(filters_pool, 1),
                       name="branch_pool"),
        ]
        self.concat = Concatenate(axis=-1, name="concat")

    def call(self, inputs, training=None):
        outputs = [branch(inputs, training=training) if takes_training(branch) else
                   branch(inputs) for branch in self.branches]
        return self.concat(outputs)
