"""``gc.data``: TF1's input pipelines (``tf.data`` and ``tf.compat.v1.data``).

Example:
    >>> ds = gc.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(1000).batch(32)
    >>> iterator = ds.make_initializable_iterator()
    >>> x, y = iterator.get_next()
    >>> sess.run(iterator.initializer)
    >>> while True:
    ...     try:
    ...         sess.run(train_op)
    ...     except gc.errors.OutOfRangeError:
    ...         break
"""
from graphc.data import experimental  # noqa: F401
from graphc.data.dataset import AUTOTUNE, Dataset  # noqa: F401
from graphc.data.files import (FixedLengthRecordDataset, TextLineDataset,  # noqa: F401
                               TFRecordDataset)
from graphc.data.iterator import (Iterator, get_output_classes, get_output_shapes,  # noqa
                                  get_output_types, make_initializable_iterator,
                                  make_one_shot_iterator)

__all__ = ["Dataset", "Iterator", "experimental", "make_one_shot_iterator",
           "make_initializable_iterator", "get_output_types", "get_output_shapes",
           "get_output_classes", "AUTOTUNE", "TextLineDataset", "FixedLengthRecordDataset",
           "TFRecordDataset"]
