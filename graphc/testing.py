"""``tf.test``: TF1's ``TestCase`` (a ``unittest.TestCase`` that gives each test a fresh
default graph and sessions on it) and its helpers.

Example:
    >>> class SquareTest(gc.test.TestCase):
    ...     def test_square(self):
    ...         with self.session():
    ...             x = gc.square([2.0, 3.0])
    ...             self.assertAllClose(self.evaluate(x), [4.0, 9.0])
    >>> if __name__ == "__main__":
    ...     gc.test.main()
"""
from __future__ import annotations

import atexit
import contextlib
import math
import random
import shutil
import tempfile
import unittest
from unittest import mock  # noqa: F401 - TF1's tf.test.mock

import numpy as np

from graphc.default_session import get_default_session
from graphc.errors import OpError
from graphc.graph import Tensor, get_default_graph, reset_default_graph
from graphc.ops.control import placeholder
from graphc.ops.random import set_random_seed
from graphc.passes.gradients import gradients
from graphc.runtime import Session
from graphc.variables import Variable

__all__ = ["TestCase", "main", "is_gpu_available", "gpu_device_name", "is_built_with_cuda",
           "is_built_with_gpu_support", "is_built_with_rocm", "is_built_with_xla",
           "get_temp_dir", "mock", "compute_gradient", "compute_gradient_error"]

DEFAULT_GRAPH_SEED = 87654321  # TF1's seed of every test's graph


def main(argv=None):
    """Run the tests of ``__main__`` (``unittest.main``; TF1's ``tf.test.main``)."""
    return unittest.main(argv=argv)


def is_gpu_available(cuda_only=False, min_cuda_compute_capability=None) -> bool:
    """False: graphc's kernels run on the CPU (device scopes are annotations)."""
    return False


def gpu_device_name() -> str:
    """The GPU's device name; '' as TF1 returns without one."""
    return ""


def is_built_with_cuda() -> bool:
    return False


is_built_with_gpu_support = is_built_with_rocm = is_built_with_xla = is_built_with_cuda

_TEMP_DIRS: list = []


def get_temp_dir() -> str:
    """A temporary directory for this process's tests (removed at exit)."""
    if not _TEMP_DIRS:
        _TEMP_DIRS.append(tempfile.mkdtemp(prefix="graphc-test-"))
        atexit.register(shutil.rmtree, _TEMP_DIRS[0], ignore_errors=True)
    return _TEMP_DIRS[0]


def _jacobians(x, x_shape, y, y_shape, x_value, delta, feeds) -> tuple:
    """``(theoretical, numerical)`` Jacobians of ``y`` by ``x``, shaped (x size, y size)."""
    sess = get_default_session()
    if sess is None:
        raise ValueError("compute_gradient needs a default session: call it inside "
                         "`with self.session():` or `with sess.as_default():`")
    x_size, y_size = int(np.prod(x_shape)), int(np.prod(y_shape))
    dy = placeholder(y.dtype, y_shape, name="compute_gradient_dy")
    grad = gradients(y, x, grad_ys=dy)[0]
    theoretical = np.zeros((x_size, y_size), x.dtype.np)
    for column in range(y_size):
        one_hot = np.zeros(y_size, y.dtype.np)
        one_hot[column] = 1.0
        if grad is not None:  # y does not depend on x: a zero Jacobian
            theoretical[:, column] = np.asarray(sess.run(grad, {
                **feeds, x: x_value, dy: one_hot.reshape(y_shape)})).ravel()
    numerical = np.zeros((x_size, y_size), x.dtype.np)
    for row in range(x_size):
        shifted = []
        for sign in (1.0, -1.0):
            moved = x_value.copy()
            moved.ravel()[row] += sign * delta
            shifted.append(np.asarray(sess.run(y, {**feeds, x: moved}), np.float64).ravel())
        numerical[row, :] = (shifted[0] - shifted[1]) / (2.0 * delta)
    return theoretical, numerical


def compute_gradient(x, x_shape, y, y_shape, x_init_value=None, delta=1e-3,
                     init_targets=None, extra_feed_dict=None):
    """The Jacobian of ``y`` by ``x`` from the graph's gradients and from central
    differences (TF1's ``tf.test.compute_gradient``; in the default session).

    Returns:
        ``(theoretical, numerical)``, each of shape ``(x size, y size)`` (a list of such
        pairs when ``x`` is a list).

    Example:
        >>> with self.session():
        ...     theoretical, numerical = gc.test.compute_gradient(x, [3], y, [3])
    """
    sess = get_default_session()
    if init_targets is not None and sess is not None:
        sess.run(init_targets)
    feeds = dict(extra_feed_dict or {})
    if isinstance(x, (list, tuple)):
        values = x_init_value or [None] * len(x)
        return [_jacobians(xi, shape, y, y_shape, _initial(xi, shape, value), delta, feeds)
                for xi, shape, value in zip(x, x_shape, values)]
    return _jacobians(x, x_shape, y, y_shape, _initial(x, x_shape, x_init_value), delta, feeds)


def _initial(x, x_shape, value):
    if value is not None:
        return np.array(value, dtype=x.dtype.np).reshape(x_shape)
    return np.random.random_sample(x_shape).astype(x.dtype.np)


def compute_gradient_error(x, x_shape, y, y_shape, x_init_value=None, delta=1e-3,
                           init_targets=None, extra_feed_dict=None) -> float:
    """The largest difference between the two Jacobians of ``compute_gradient``.

    Example:
        >>> assert gc.test.compute_gradient_error(x, [3], y, [3]) < 1e-3
    """
    result = compute_gradient(x, x_shape, y, y_shape, x_init_value, delta, init_targets,
                              extra_feed_dict)
    pairs = result if isinstance(result, list) else [result]
    return max(float(np.max(np.abs(t - n))) if t.size else 0.0 for t, n in pairs)


def _as_array(value):
    if isinstance(value, (Tensor, Variable)):
        raise TypeError(f"assert helpers compare values: evaluate {value!r} first "
                        "(self.evaluate(tensor))")
    return np.asarray(value)


class TestCase(unittest.TestCase):
    """TF1's ``tf.test.TestCase``: ``setUp`` installs a fresh default graph (with TF1's
    test seed); ``session()`` opens a session on it, ``cached_session()`` reuses one per
    test; ``evaluate`` runs tensors in the default session; ``assertAllClose`` and the other
    assertions compare arrays and nested structures.

    Example:
        >>> class MatmulTest(gc.test.TestCase):
        ...     def test_identity(self):
        ...         with self.cached_session():
        ...             self.assertAllEqual(self.evaluate(gc.eye(2)), [[1, 0], [0, 1]])
    """

    def setUp(self):
        super().setUp()
        self._cached_session = None
        random.seed(DEFAULT_GRAPH_SEED)
        np.random.seed(DEFAULT_GRAPH_SEED)
        reset_default_graph()
        set_random_seed(DEFAULT_GRAPH_SEED)

    def tearDown(self):
        if getattr(self, "_cached_session", None) is not None:
            self._cached_session.close()
            self._cached_session = None
        super().tearDown()

    def get_temp_dir(self) -> str:
        return get_temp_dir()

    # -- sessions -------------------------------------------------------------------------
    @contextlib.contextmanager
    def session(self, graph=None, config=None, use_gpu=False, force_gpu=False):
        """A new Session on ``graph`` (default: the test's graph), the default session
        inside the block and closed after it."""
        with Session(graph=graph, config=config) as sess:
            yield sess

    @contextlib.contextmanager
    def cached_session(self, graph=None, config=None, use_gpu=False, force_gpu=False):
        """The test's one Session (made on first use, closed at ``tearDown``), the default
        session inside the block.

        Raises:
            ValueError: ``graph`` is not the graph the cached session was made for.
        """
        graph = graph if graph is not None else get_default_graph()
        if self._cached_session is None:
            self._cached_session = Session(graph=graph, config=config)
        elif self._cached_session.graph is not graph:
            raise ValueError("The graph used to get the cached session is different than "
                             "the one that was used to create the session. Maybe create a "
                             "new session with self.session()")
        with self._cached_session.as_default():
            yield self._cached_session

    def test_session(self, graph=None, config=None, use_gpu=False, force_gpu=False):
        """TF1's older name: the cached session for the test's graph, else a new one."""
        if self.id().endswith(".test_session"):
            self.skipTest("Not a test.")
        if graph is None:
            return self.cached_session(config=config)
        return self.session(graph=graph, config=config)

    def evaluate(self, tensors):
        """The values of ``tensors`` (any nesting) in the default session, or in the cached
        session when there is none."""
        sess = get_default_session()
        if sess is not None:
            return sess.run(tensors)
        with self.cached_session() as sess:
            return sess.run(tensors)

    # -- assertions -----------------------------------------------------------------------
    def assertAllClose(self, a, b, rtol=1e-6, atol=1e-6, msg=None):  # noqa: N802
        """``a`` and ``b`` (arrays, numbers, or equal nestings of dicts, lists and tuples)
        have equal shapes and ``|a - b| <= atol + rtol * |b|`` elementwise (NaNs equal)."""
        self._assert_nested(a, b, rtol, atol, msg, path=[])

    def _assert_nested(self, a, b, rtol, atol, msg, path) -> None:
        where = "".join(f"[{p!r}]" for p in path)
        if isinstance(a, dict) or isinstance(b, dict):
            self.assertIsInstance(a, dict, f"{where}: {a!r} is not a dict like {b!r}")
            self.assertIsInstance(b, dict, f"{where}: {b!r} is not a dict like {a!r}")
            self.assertEqual(set(a), set(b), f"{where}: mismatched keys {msg or ''}")
            for key in a:
                self._assert_nested(a[key], b[key], rtol, atol, msg, path + [key])
            return
        if _is_sequence(a) and _is_sequence(b) and not _is_array_like(a, b):
            self.assertEqual(len(a), len(b), f"{where}: length {len(a)} != {len(b)} "
                                             f"{msg or ''}")
            for index, (x, y) in enumerate(zip(a, b)):
                self._assert_nested(x, y, rtol, atol, msg, path + [index])
            return
        x, y = _as_array(a), _as_array(b)
        self.assertEqual(x.shape, y.shape, f"{where}: Shape mismatch: expected {x.shape}, "
                                           f"got {y.shape}. {msg or ''}")
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, equal_nan=True,
                                   err_msg=f"{where} {msg or ''}")

    def assertAllCloseAccordingToType(self, a, b, rtol=1e-6, atol=1e-6,  # noqa: N802
                                      float_rtol=1e-6, float_atol=1e-6, half_rtol=1e-3,
                                      half_atol=1e-3, bfloat16_rtol=1e-2, bfloat16_atol=1e-2,
                                      msg=None):
        """``assertAllClose`` with tolerances widened for float32/complex64 and float16."""
        x, y = _as_array(a), _as_array(b)
        dtypes = {x.dtype, y.dtype}
        if dtypes & {np.dtype(np.float32), np.dtype(np.complex64)}:
            rtol, atol = max(rtol, float_rtol), max(atol, float_atol)
        if np.dtype(np.float16) in dtypes:
            rtol, atol = max(rtol, half_rtol), max(atol, half_atol)
        self.assertAllClose(x, y, rtol=rtol, atol=atol, msg=msg)

    def assertNotAllClose(self, a, b, rtol=1e-6, atol=1e-6, msg=None):  # noqa: N802
        try:
            self.assertAllClose(a, b, rtol=rtol, atol=atol)
        except AssertionError:
            return
        raise AssertionError(msg or "The two values are close at all elements")

    def assertAllEqual(self, a, b, msg=None):  # noqa: N802
        """Equal shapes and equal elements (NaNs equal)."""
        x, y = _as_array(a), _as_array(b)
        self.assertEqual(x.shape, y.shape, f"Shape mismatch: expected {x.shape}, got "
                                           f"{y.shape}. {msg or ''}")
        same = x == y
        if x.dtype.kind == "f" and y.dtype.kind == "f":
            same = np.logical_or(same, np.logical_and(np.isnan(x), np.isnan(y)))
        if not np.all(same):
            np.testing.assert_array_equal(x, y, err_msg=msg or "")

    def assertNear(self, f1, f2, err, msg=None):  # noqa: N802
        """``|f1 - f2| <= err``."""
        self.assertTrue(f1 == f2 or math.fabs(f1 - f2) <= err,
                        f"{f1:f} != {f2:f} +/- {err:f}" + (f" ({msg})" if msg else ""))

    def assertArrayNear(self, farray1, farray2, err, msg=None):  # noqa: N802
        """Equal lengths and ``assertNear`` element by element."""
        self.assertEqual(len(farray1), len(farray2), msg=msg)
        for f1, f2 in zip(farray1, farray2):
            self.assertNear(float(f1), float(f2), err, msg=msg)

    def assertNDArrayNear(self, ndarray1, ndarray2, err, msg=None):  # noqa: N802
        self.assertTrue(np.linalg.norm(np.asarray(ndarray1) - np.asarray(ndarray2)) <= err,
                        msg=msg)

    def assertShapeEqual(self, np_array, tf_tensor, msg=None):  # noqa: N802
        """The static shape of ``tf_tensor`` is the shape of ``np_array``."""
        self.assertIsInstance(np_array, np.ndarray)
        self.assertIsInstance(tf_tensor, (Tensor, Variable))
        self.assertAllEqual(np_array.shape, tf_tensor.get_shape().as_list(), msg=msg)

    def assertDTypeEqual(self, target, expected_dtype):  # noqa: N802
        self.assertEqual(np.asarray(target).dtype, np.dtype(expected_dtype))

    def assertAllGreater(self, a, comparison_target):  # noqa: N802
        self.assertTrue(np.all(_as_array(a) > comparison_target))

    def assertAllLess(self, a, comparison_target):  # noqa: N802
        self.assertTrue(np.all(_as_array(a) < comparison_target))

    def assertAllGreaterEqual(self, a, comparison_target):  # noqa: N802
        self.assertTrue(np.all(_as_array(a) >= comparison_target))

    def assertAllLessEqual(self, a, comparison_target):  # noqa: N802
        self.assertTrue(np.all(_as_array(a) <= comparison_target))

    def assertAllInRange(self, target, lower_bound, upper_bound,  # noqa: N802
                         open_lower_bound=False, open_upper_bound=False):
        x = _as_array(target)
        low = x > lower_bound if open_lower_bound else x >= lower_bound
        high = x < upper_bound if open_upper_bound else x <= upper_bound
        self.assertTrue(np.all(low & high), f"{x} is not in range [{lower_bound}, "
                                            f"{upper_bound}]")

    def assertRaisesOpError(self, expected_err_re_or_predicate):  # noqa: N802
        """The block raises a graphc OpError whose message matches the regex."""
        return self.assertRaisesRegex(OpError, expected_err_re_or_predicate)


def _is_sequence(value) -> bool:
    return isinstance(value, (list, tuple))


def _is_array_like(a, b) -> bool:
    """Whether nested lists are better compared as one array (numbers all the way down)."""
    try:
        return np.asarray(a).dtype != object and np.asarray(b).dtype != object
    except ValueError:  # ragged
        return False
