"""TFRecord files: the record framing TF's input pipelines read (``tf.io.TFRecordWriter``,
``tf.python_io.tf_record_iterator``, ``tf.data.TFRecordDataset``), with CRC-32C checks.

Example:
    >>> with gc.io.TFRecordWriter("train.tfrecord") as writer:
    ...     writer.write(example.SerializeToString())
    >>> records = list(gc.python_io.tf_record_iterator("train.tfrecord"))
"""
from graphc.records.checksum import crc32c, masked_crc32c  # noqa: F401
from graphc.records.tfrecord import (TFRecordCompressionType, TFRecordOptions,  # noqa: F401
                                     TFRecordWriter, read_records, tf_record_iterator)

__all__ = ["TFRecordWriter", "TFRecordOptions", "TFRecordCompressionType",
           "tf_record_iterator", "read_records", "crc32c", "masked_crc32c"]
