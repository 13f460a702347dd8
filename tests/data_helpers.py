"""Helpers of the tf.data tests: run a dataset to its end and compare elements."""
import numpy as np

import graphc as gc


def plain(value):
    """Arrays, NumPy scalars, tuples and dicts of them as plain Python values."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(plain(item) for item in value)
    return np.asarray(value).tolist()


def run_to_end(sess, fetch, limit=10_000) -> list:
    """Run ``fetch`` until OutOfRangeError; the values, as plain Python values."""
    values = []
    for _ in range(limit):
        try:
            values.append(plain(sess.run(fetch)))
        except gc.errors.OutOfRangeError:
            return values
    raise AssertionError(f"no OutOfRangeError after {limit} runs")


def elements(dataset, feed_dict=None) -> list:
    """Every element of ``dataset`` in a new Session (an initializable iterator)."""
    iterator = dataset.make_initializable_iterator()
    next_element = iterator.get_next()
    with gc.Session() as sess:
        sess.run(iterator.initializer, feed_dict)
        return run_to_end(sess, next_element)


def arrays(dataset, feed_dict=None) -> list:
    """Every element of ``dataset`` as ``sess.run`` gives it (arrays, SparseTensorValues),
    in a new Session (an initializable iterator)."""
    iterator = dataset.make_initializable_iterator()
    next_element = iterator.get_next()
    values = []
    with gc.Session() as sess:
        sess.run(iterator.initializer, feed_dict)
        while True:
            try:
                values.append(sess.run(next_element))
            except gc.errors.OutOfRangeError:
                return values
