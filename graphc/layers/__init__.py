"""``gc.layers`` (also ``gc.keras.layers``): networks as trees of layers, with TF1's names.

Layer classes own their variables and child layers; calling one builds its part of the graph
in its own scope, so the graph's name scopes mirror the layer tree, and calling it again
shares its variables. TF1's functional forms (``gc.layers.dense(x, 10)``) make a layer and
call it once.

Example:
    >>> model = gc.layers.Sequential([
    ...     gc.layers.Conv2D(16, 3, padding="same", activation="relu"),
    ...     gc.layers.InceptionBlock(8, (8, 16), (4, 8), 8),
    ...     gc.layers.GlobalAveragePooling2D(), gc.layers.Dense(10)])
    >>> logits = model(images)
    >>> model.summary()
"""
from graphc.layers.base import LAYER_TREE, Layer, learning_phase, layer_records  # noqa: F401
from graphc.layers.convolutional import (AveragePooling2D, Conv2D, Conv2DTranspose,  # noqa
                                         GlobalAveragePooling2D, MaxPooling2D,
                                         SeparableConv2D)
from graphc.layers.core import (Activation, Add, Concatenate, Dense, Dropout,  # noqa: F401
                                Embedding, Flatten, Sequential)
from graphc.layers.functional import (average_pooling2d, batch_normalization,  # noqa: F401
                                      conv2d, conv2d_transpose, dense, dropout, flatten,
                                      max_pooling2d, separable_conv2d)
from graphc.layers.inception import InceptionBlock  # noqa: F401
from graphc.layers.introspection import summary_table  # noqa: F401
from graphc.layers.normalization import BatchNormalization  # noqa: F401

# Keras' other names for the same classes
Convolution2D, Convolution2DTranspose, Deconvolution2D = Conv2D, Conv2DTranspose, Conv2DTranspose
SeparableConvolution2D = SeparableConv2D
MaxPool2D, AvgPool2D, GlobalAvgPool2D = MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D
from graphc.layers.convolutional3d import (AveragePooling3D, Conv3D, Conv3DTranspose,  # noqa
                                           MaxPooling3D, average_pooling3d, conv3d,
                                           conv3d_transpose, max_pooling3d)
Convolution3D, MaxPool3D, AvgPool3D = Conv3D, MaxPooling3D, AveragePooling3D
Convolution3DTranspose = Conv3DTranspose
