"""Write the TFRecord and tf.train.Example fixtures of tests/test_tfrecord*.py with TensorFlow,
so that the tests check graphc against TF's own files without TensorFlow installed.

Run where TensorFlow is installed (not a graphc dependency), from the repository root:
    python tests/data/make_tf_records.py
"""
import os

import tensorflow as tf

HERE = os.path.dirname(os.path.abspath(__file__))
RECORDS = [b"", b"hello", bytes(range(256)) * 20, b"tail"]  # 5 KB: the CRC's vector path

for kind, suffix in (("", "plain"), ("GZIP", "gzip"), ("ZLIB", "zlib")):
    with tf.io.TFRecordWriter(os.path.join(HERE, f"tf_written_{suffix}.tfrecord"),
                              tf.io.TFRecordOptions(compression_type=kind)) as writer:
        for record in RECORDS:
            writer.write(record)

import sys  # noqa: E402

sys.path.insert(0, HERE)
import example_cases  # noqa: E402

# deterministic: protobuf writes a map's entries in its hash table's order, which changes
# from one process to the next (TF's own bytes do); deterministic=True sorts them by key
with tf.io.TFRecordWriter(os.path.join(HERE, "tf_examples.tfrecord")) as writer:
    for case in example_cases.CASES:
        writer.write(example_cases.build(tf.train, case).SerializeToString(deterministic=True))

# what TF's parse_example and parse_single_example make of them
import numpy as np  # noqa: E402

tf1 = tf.compat.v1
tf1.disable_eager_execution()
serialized = [example_cases.build(tf.train, case).SerializeToString()
              for case in example_cases.CASES[:4]]
batch = tf1.io.parse_example(serialized, example_cases.feature_specs(
    tf, example_cases.BATCH_FEATURES))
single = tf1.io.parse_single_example(serialized[3], example_cases.feature_specs(
    tf, example_cases.SINGLE_FEATURES))
context, steps = tf1.io.parse_single_sequence_example(
    example_cases.build(tf.train, example_cases.CASES[6]).SerializeToString(),
    example_cases.feature_specs(tf, example_cases.SEQUENCE_CONTEXT),
    example_cases.feature_specs(tf, example_cases.SEQUENCE_FEATURES))
with tf1.Session() as sess:
    results = example_cases.flat_results(sess.run(batch), "batch")
    results.update(example_cases.flat_results(sess.run(single), "single"))
    results.update(example_cases.flat_results(sess.run(context), "context"))
    results.update(example_cases.flat_results(sess.run(steps), "steps"))
np.savez(os.path.join(HERE, "tf_parsed_examples.npz"), tensorflow_version=tf.__version__,
         **example_cases.storable(results))
