"""Writes tf_signal.npz: TensorFlow's tf.signal on the cases of tests/signal_cases.py, in
float32 and float64, with the gradients of sum(output * cotangent) by tf.GradientTape (run
with TensorFlow installed: python tests/data/make_tf_signal.py).
"""
import pathlib
import sys

import numpy as np
import tensorflow as tf

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from tests.signal_cases import DTYPES, call, cases, cotangent  # noqa: E402

results = {}
for key, function, value, kwargs in cases():
    for dtype_name in DTYPES:
        dtype = getattr(tf, dtype_name)
        if value is None:
            results[f"{key}/{dtype_name}"] = call(tf.signal, function, None, kwargs,
                                                  dtype).numpy()
            continue
        x = tf.constant(value, dtype=dtype)
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = call(tf.signal, function, x, kwargs, dtype)
            objective = tf.reduce_sum(out * tf.constant(cotangent(out.shape), dtype=dtype))
        results[f"{key}/{dtype_name}"] = out.numpy()
        grad = tape.gradient(objective, x)
        results[f"{key}/{dtype_name}/grad"] = (np.zeros(value.shape, dtype_name)
                                               if grad is None else grad.numpy())
np.savez_compressed(pathlib.Path(__file__).parent / "tf_signal.npz", **results,
                    tensorflow_version=tf.__version__)
