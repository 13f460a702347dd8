"""tf.test.TestCase run by pytest as TF1 test files are: each test gets a fresh default
graph, sessions on it, ``evaluate``, and assertions that fail where TF1's fail."""
import collections

import numpy as np

import graphc as tf

Pair = collections.namedtuple("Pair", ["left", "right"])
GRAPHS_SEEN = []


class SessionsTest(tf.test.TestCase):

    # two tests that each add an op: whichever runs second finds an empty graph
    def test_each_test_has_a_fresh_default_graph_a(self):
        self.assertEqual(len(tf.get_default_graph().get_operations()), 0)
        tf.constant(1.0, name="mine")
        GRAPHS_SEEN.append(tf.get_default_graph())

    def test_each_test_has_a_fresh_default_graph_b(self):
        self.assertEqual(len(tf.get_default_graph().get_operations()), 0)
        tf.constant(2.0, name="mine")
        GRAPHS_SEEN.append(tf.get_default_graph())
        if len(GRAPHS_SEEN) == 2:
            self.assertIsNot(GRAPHS_SEEN[0], GRAPHS_SEEN[1])

    def test_session_is_the_default_inside_and_closed_after(self):
        x = tf.constant([1.0, 2.0])
        with self.session() as sess:
            self.assertIs(tf.get_default_session(), sess)
            self.assertAllEqual(self.evaluate(x * 2.0), [2.0, 4.0])
            self.assertAllEqual((x + 1.0).eval(), [2.0, 3.0])
        self.assertIsNone(tf.get_default_session())
        with self.assertRaises(RuntimeError):
            sess.run(x)

    def test_cached_session_is_one_session_per_test(self):
        v = tf.Variable(3.0)
        with self.cached_session() as first:
            first.run(v.initializer)
        with self.cached_session() as second:
            self.assertIs(first, second)
            self.assertEqual(self.evaluate(v), 3.0)  # the variable kept its value
        with self.test_session() as third:
            self.assertIs(third, first)
        with self.assertRaisesRegex(ValueError, "different than the one"):
            with self.cached_session(graph=tf.Graph()):
                pass

    def test_evaluate_without_a_session_uses_the_cached_one(self):
        self.assertEqual(self.evaluate({"a": tf.constant(2) * 3}), {"a": 6})

    def test_gpu_queries(self):
        self.assertFalse(tf.test.is_gpu_available())
        self.assertEqual(tf.test.gpu_device_name(), "")
        self.assertTrue(tf.io.gfile.isdir(self.get_temp_dir()))


class AssertionsTest(tf.test.TestCase):

    def test_assert_all_close_on_arrays_and_nestings(self):
        self.assertAllClose([1.0, 2.0], np.array([1.0, 2.0 + 1e-7]))
        self.assertAllClose({"a": [1.0, np.nan], "b": Pair(1, (2.0, 3.0))},
                            {"a": np.array([1.0, np.nan]), "b": Pair(1, (2.0, 3.0))})
        for a, b in (([1.0, 2.0], [1.0, 2.1]), ([1.0, 2.0], [[1.0, 2.0]]),
                     ({"a": 1.0}, {"b": 1.0}), ((1.0, 2.0), (1.0,)),
                     ({"a": [1.0]}, {"a": [2.0]})):
            with self.assertRaises(AssertionError, msg=f"{a} vs {b}"):
                self.assertAllClose(a, b)
        self.assertNotAllClose([1.0], [2.0])
        with self.assertRaises(AssertionError):
            self.assertNotAllClose([1.0], [1.0])

    def test_assert_all_close_according_to_type_widens_for_half_and_float(self):
        a = np.array([1.0], np.float16)
        self.assertAllCloseAccordingToType(a, np.array([1.0005], np.float16))
        with self.assertRaises(AssertionError):
            self.assertAllClose(np.array([1.0], np.float64), np.array([1.0005]))
        with self.assertRaises(AssertionError):
            self.assertAllCloseAccordingToType(np.array([1.0]), np.array([1.0005]))

    def test_assert_all_equal_and_shapes(self):
        self.assertAllEqual([[1, 2]], np.array([[1, 2]]))
        self.assertAllEqual([np.nan, 1.0], [np.nan, 1.0])
        with self.assertRaisesRegex(AssertionError, "Shape mismatch"):
            self.assertAllEqual([1, 2], [[1, 2]])
        with self.assertRaises(AssertionError):
            self.assertAllEqual([1, 2], [1, 3])
        x = tf.placeholder(tf.float32, [2, 3])
        self.assertShapeEqual(np.zeros((2, 3)), x)
        with self.assertRaises(AssertionError):
            self.assertShapeEqual(np.zeros((3, 2)), x)
        with self.assertRaisesRegex(TypeError, "evaluate"):
            self.assertAllEqual(x, [1.0])

    def test_assert_near_and_array_near(self):
        self.assertNear(1.0, 1.05, 0.1)
        self.assertArrayNear([1.0, 2.0], [1.01, 1.99], 0.02)
        with self.assertRaisesRegex(AssertionError, r"1.000000 != 1.200000 \+/- 0.100000"):
            self.assertNear(1.0, 1.2, 0.1)
        with self.assertRaises(AssertionError):
            self.assertArrayNear([1.0, 2.0], [1.0], 0.1)
        with self.assertRaises(AssertionError):
            self.assertArrayNear([1.0, 2.0], [1.0, 2.5], 0.1)
        self.assertAllInRange([0.0, 0.5, 1.0], 0.0, 1.0)
        with self.assertRaises(AssertionError):
            self.assertAllInRange([0.0, 1.0], 0.0, 1.0, open_upper_bound=True)

    def test_assert_raises_op_error(self):
        x = tf.placeholder(tf.float32, [])
        checked = tf.debugging.check_numerics(x, "bad value")
        with self.session() as sess, self.assertRaisesOpError("bad value"):
            sess.run(checked, {x: np.inf})


class GradientCheckTest(tf.test.TestCase):

    def test_compute_gradient_agrees_for_a_right_gradient_and_not_for_a_wrong_one(self):
        x = tf.placeholder(tf.float64, [3])
        y = tf.reduce_sum(tf.square(x)) * x
        with self.session():
            theoretical, numerical = tf.test.compute_gradient(x, [3], y, [3],
                                                              x_init_value=[1.0, 2.0, 3.0])
            self.assertEqual(theoretical.shape, (3, 3))
            expected = 14.0 * np.eye(3) + 2.0 * np.outer([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
            self.assertAllClose(theoretical, expected)
            self.assertAllClose(numerical, expected, atol=1e-4)
            wrong = tf.stop_gradient(x) * x  # the graph's gradient misses a term
            self.assertGreater(tf.test.compute_gradient_error(x, [3], wrong, [3]), 0.1)
        with self.assertRaisesRegex(ValueError, "default session"):
            tf.test.compute_gradient(x, [3], y, [3])

    def test_matching_files_op(self):
        folder = tf.io.gfile.join(self.get_temp_dir(), self.id())
        tf.io.gfile.makedirs(folder)
        for name in ("a.csv", "b.csv", "c.txt"):
            with tf.io.gfile.GFile(tf.io.gfile.join(folder, name), "w") as f:
                f.write("x")
        files = tf.io.matching_files(tf.io.gfile.join(folder, "*.csv"))
        found = [p.decode() for p in self.evaluate(files)]
        self.assertEqual([p.rsplit("/", 1)[1] for p in found], ["a.csv", "b.csv"])
