"""``gc.keras.layers``: the layer classes of ``gc.layers`` under ``tf.keras.layers``.

Example:
    >>> h = gc.keras.layers.Dense(64, activation="relu")(x)
"""
from graphc.layers import *  # noqa: F401,F403
from graphc.layers import (Activation, Add, AveragePooling2D, AvgPool2D,  # noqa: F401
                           BatchNormalization, Concatenate, Conv2D, Conv2DTranspose,
                           Convolution2D, Dense,
                           Dropout, Embedding, Flatten, GlobalAveragePooling2D,
                           GlobalAvgPool2D, InceptionBlock, Layer, MaxPool2D, MaxPooling2D,
                           SeparableConv2D, Sequential)
