"""``tf.python_io``: TF1's TFRecord files from Python (writer, reader and options).

Example:
    >>> with gc.python_io.TFRecordWriter("train.tfrecord") as writer:
    ...     writer.write(b"a record")
    >>> list(gc.python_io.tf_record_iterator("train.tfrecord"))
    [b'a record']
"""
from graphc.records.tfrecord import (TFRecordCompressionType, TFRecordOptions,  # noqa: F401
                                     TFRecordWriter, tf_record_iterator)

__all__ = ["TFRecordWriter", "TFRecordOptions", "TFRecordCompressionType",
           "tf_record_iterator"]
