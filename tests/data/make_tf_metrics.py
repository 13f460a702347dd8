"""Write tests/data/tf_metrics.npz: TF1's results of tests/metrics_scenario.py.

Run where TensorFlow is installed (not a graphc dependency), from the repository root:
    python tests/data/make_tf_metrics.py
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
import tensorflow.compat.v1 as tf  # noqa: E402

from tests import metrics_scenario  # noqa: E402

tf.disable_eager_execution()
with tf.Session() as sess:
    results, names = metrics_scenario.run(tf, sess)
np.savez(os.path.join(os.path.dirname(__file__), "tf_metrics.npz"),
         variable_names=np.array(names), tensorflow_version=tf.__version__, **results)
