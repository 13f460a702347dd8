"""Writes tf_string_split.json: TensorFlow's tf.string_split / tf.strings.split results on the
cases of tests/test_string_split.py (run with TensorFlow installed; graphc's tests only read
the file).

    python tests/data/make_tf_string_split.py
"""
import json
import pathlib
import sys

import tensorflow.compat.v1 as tf

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from tests.test_string_split import CASES, parts  # noqa: E402

tf.disable_eager_execution()
with tf.Session() as session:
    results = [parts(session.run(tf.string_split(strings, sep, skip_empty=skip)
                                 if kind == "v1" else
                                 tf.strings.split(strings, sep=sep, maxsplit=maxsplit)))
               for kind, strings, sep, skip, maxsplit in CASES]
(pathlib.Path(__file__).parent / "tf_string_split.json").write_text(json.dumps(results))
