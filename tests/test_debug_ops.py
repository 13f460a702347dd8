"""tf.Print, tf.print, tf.Assert and the tf.debugging.assert_* family: run-time output and
checks with TF1's messages, never folded, merged or pruned away, and atomic runs."""
import logging
import sys

import numpy as np
import pytest

import graphc as tf
from graphc import registry


@pytest.fixture
def graph():
    g = tf.Graph()
    with g.as_default():
        yield g


def run(fetches, feed_dict=None, optimize=True):
    with tf.Session(optimize=optimize) as sess:
        return sess.run(fetches, feed_dict)


# -- Print ---------------------------------------------------------------------------------------
def test_print_passes_its_input_and_prints_tf1s_summary(graph, capsys):
    x = tf.placeholder(tf.float32, [None], name="x")
    y = tf.Print(x, [x, tf.constant([[1, 2], [3, 4]]), tf.constant(7.5)], "x: ") * 2.0
    np.testing.assert_array_equal(run(y, {x: np.array([1, 2.5, 3, 4], np.float32)}),
                                  [2, 5, 6, 8])
    assert capsys.readouterr().err == "x: [1 2.5 3...][[1 2][3...]][7.5]\n"
    z = tf.Print(x, [x], summarize=-1)
    run(z, {x: np.arange(5, dtype=np.float32)})
    assert capsys.readouterr().err == "[0 1 2 3 4]\n"


def test_print_first_n_counts_per_session(graph, capsys):
    x = tf.placeholder(tf.int32, [], name="x")
    y = tf.Print(x, [x], "seen ", first_n=2)
    with tf.Session() as sess:
        for step in range(4):
            assert sess.run(y, {x: step}) == step
    with tf.Session() as sess:
        sess.run(y, {x: 9})
    assert capsys.readouterr().err == "seen [0]\nseen [1]\nseen [9]\n"


def test_print_is_never_folded_or_merged_and_passes_gradients(graph, capsys):
    c = tf.constant([1.0, 2.0])
    a, b = tf.Print(c, [c], "a"), tf.Print(c, [c], "a")  # equal ops on constants
    x = tf.placeholder(tf.float32, [2])
    loss = tf.reduce_sum(tf.Print(x, [x], "x") * x)
    (grad,) = tf.gradients(loss, [x])
    out = run([a + b, grad], {x: np.array([3.0, 4.0], np.float32)})
    np.testing.assert_array_equal(out[1], [6.0, 8.0])
    assert capsys.readouterr().err.count("a[1 2]\n") == 2
    assert registry.get("Print").stateful and not registry.get("Print").foldable


# -- tf.print ------------------------------------------------------------------------------------
def test_tf_print_prints_in_run_order_to_the_stream_asked_for(graph, capsys, tmp_path):
    x = tf.placeholder(tf.float32, [None], name="x")
    first = tf.print("first", x, output_stream=sys.stdout)
    with tf.control_dependencies([first]):
        second = tf.print("second:", tf.reduce_sum(x), 3, sep="|", end="!\n",
                          output_stream=sys.stdout)
    with tf.control_dependencies([second]):
        y = tf.identity(x)
    to_err = tf.print(tf.range(10), summarize=2)
    log_file = tmp_path / "log.txt"
    to_file = tf.print("in a file", output_stream=f"file://{log_file}")
    assert isinstance(first, tf.Operation) and first.outputs == ()
    run([y, to_err, to_file], {x: np.array([1.0, 2.5], np.float32)})
    out, err = capsys.readouterr()
    assert out == "first [1 2.5]\nsecond:|3.5|3!\n"
    assert err == "[0 1 ... 8 9]\n"
    assert log_file.read_text() == "in a file\n"


def test_tf_print_to_a_logging_function(graph, caplog):
    op = tf.print("loss", tf.constant(0.25), output_stream=tf.logging.warning)
    with caplog.at_level(logging.WARNING, logger="graphc"):
        run(op)
    assert [r.getMessage() for r in caplog.records] == ["loss 0.25"]
    with pytest.raises(ValueError, match="output_stream must be"):
        tf.print("x", output_stream="stdoutt")


# -- Assert ----------------------------------------------------------------------------------------
def test_a_failing_assert_fails_the_run_and_changes_no_variable(graph):
    x = tf.placeholder(tf.float32, [None], name="x")
    total = tf.Variable(0.0, name="total")
    check = tf.Assert(tf.reduce_all(x > 0), ["x must be positive:", x, "sum", tf.reduce_sum(x)])
    with tf.control_dependencies([check]):
        update = total.assign_add(tf.reduce_sum(x))
    with tf.Session() as sess:
        sess.run(total.initializer)
        sess.run(update, {x: np.array([1.0, 2.0], np.float32)})
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(update, {x: np.array([1.0, -2.0, 3.0, 4.0], np.float32)})
        assert sess.run(total) == 3.0
    message = str(info.value)
    assert message.startswith("assertion failed: [x must be positive:] [1 -2 3...] [sum] [6] "
                              "(op 'Assert' (Assert, defined at ")
    assert "test_debug_ops.py" in message and info.value.op is check


@pytest.mark.parametrize("optimize", [True, False])
def test_asserts_on_constants_are_neither_folded_nor_merged(graph, optimize):
    """Constant folding, CSE and DCE keep both (identical) asserts: both fail the run."""
    checks = [tf.Assert(tf.constant(False), [f"check {i}"]) for i in range(2)]
    with tf.control_dependencies(checks):
        y = tf.constant(1.0) + 1.0
    with tf.Session(optimize=optimize) as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[check 0\]"):
            sess.run(y)
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[check 1\]"):
            sess.run(checks[1])
    assert registry.get("Assert").stateful


def test_assert_checks_its_condition_when_built(graph):
    with pytest.raises(TypeError, match="Assert requires a bool condition, got float32"):
        tf.Assert(tf.constant([1.0]), ["x"])
    with pytest.raises(ValueError, match=r"requires a scalar condition, got shape \(2,\)"):
        tf.Assert(tf.constant([True, False]), ["x"])
    with pytest.raises(TypeError, match="data must be a list"):
        tf.Assert(tf.constant(True), "x")
    unknown = tf.placeholder(tf.bool)  # unknown rank: checked when it runs
    check = tf.Assert(unknown, ["x"])
    with pytest.raises(tf.errors.InvalidArgumentError, match="must be a scalar"):
        run(check, {unknown: np.array([True, True])})


# -- the assert_* family -------------------------------------------------------------------------
CASES = [  # (function, passing args, failing args, the condition's text)
    (tf.debugging.assert_equal, ([1, 2], [1, 2]), ([1, 2], [1, 3]), "x == y"),
    (tf.debugging.assert_none_equal, ([1, 2], [2, 1]), ([1, 2], [1, 3]), "x != y"),
    (tf.debugging.assert_less, ([1, 2], [2, 3]), ([1, 2], [2, 2]), "x < y"),
    (tf.debugging.assert_less_equal, ([1, 2], [1, 3]), ([1, 3], [1, 2]), "x <= y"),
    (tf.debugging.assert_greater, ([2, 3], [1, 2]), ([2, 2], [1, 2]), "x > y"),
    (tf.debugging.assert_greater_equal, ([1, 3], [1, 2]), ([1, 2], [1, 3]), "x >= y"),
    (tf.debugging.assert_positive, ([1, 2],), ([1, 0],), "x > 0"),
    (tf.debugging.assert_negative, ([-1, -2],), ([-1, 0],), "x < 0"),
    (tf.debugging.assert_non_negative, ([0, 2],), ([0, -1],), "x >= 0"),
    (tf.debugging.assert_non_positive, ([0, -2],), ([0, 1],), "x <= 0"),
]


@pytest.mark.parametrize("check,good,bad,condition", CASES, ids=[c[0].__name__ for c in CASES])
def test_each_assert_checks_at_run_time(graph, check, good, bad, condition):
    inputs = [tf.placeholder(tf.int32, [None]) for _ in good]
    op = check(*inputs, message="custom")
    with tf.control_dependencies([op]):
        y = tf.identity(inputs[0])
    np.testing.assert_array_equal(run(y, dict(zip(inputs, map(np.array, good)))), good[0])
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        run(y, dict(zip(inputs, map(np.array, bad))))
    message = str(info.value)
    assert message.startswith(f"assertion failed: [custom] [Condition {condition} did not hold "
                              f"element-wise:] [x ({inputs[0].name}) = ] "
                              f"[{' '.join(map(str, bad[0]))}]"), message
    assert getattr(tf, check.__name__) is check  # also tf.assert_* as in TF1


@pytest.mark.parametrize("check,good,bad,condition", CASES, ids=[c[0].__name__ for c in CASES])
def test_each_assert_on_constants_fails_when_built(graph, check, good, bad, condition):
    check(*[tf.constant(v) for v in good])
    before = len(graph.get_operations())
    with pytest.raises(tf.errors.InvalidArgumentError, match=f"Condition {condition}"):
        check(*[tf.constant(v) for v in bad])
    assert len(graph.get_operations()) == before + len(bad)  # only the constants remain


def test_assert_near_uses_tolerances(graph):
    x = tf.placeholder(tf.float64, [2])
    op = tf.debugging.assert_near(x, [1.0, 2.0], atol=1e-3, rtol=0.0)
    run(op, {x: np.array([1.0005, 2.0])})
    with pytest.raises(tf.errors.InvalidArgumentError, match="not equal to tolerance"):
        run(op, {x: np.array([1.01, 2.0])})
    with pytest.raises(TypeError, match="floating"):
        tf.assert_near(tf.constant([1]), [1])


def test_rank_checks_are_static_when_ranks_are_known(graph):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    assert tf.assert_rank(x, 2).type == "no_op"
    assert tf.assert_rank_at_least(x, 1).type == "no_op"
    assert tf.debugging.assert_rank_in(x, [1, 2]).type == "no_op"
    with pytest.raises(ValueError, match=r"wrong\.  Tensor x:0 must have rank 3\.  Received "
                                         r"rank 2, shape \(\?, 3\)"):
        tf.assert_rank(x, 3, message="wrong")
    with pytest.raises(ValueError, match="must have rank at least 3"):
        tf.assert_rank_at_least(x, 3)
    with pytest.raises(ValueError, match=r"must have rank in \[1, 3\]"):
        tf.assert_rank_in(x, [1, 3])
    with pytest.raises(ValueError, match="must be a scalar"):
        tf.assert_rank(x, [2])


def test_rank_checks_run_when_the_rank_is_unknown(graph):
    x = tf.placeholder(tf.float32, name="x")  # unknown rank
    checks = [tf.assert_rank(x, 2), tf.assert_rank_at_least(x, 2), tf.assert_rank_in(x, [0, 2])]
    run(checks, {x: np.zeros((2, 2), np.float32)})
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Tensor x:0 must have rank\] "
                                                             r"\[2\] \[Received shape: \] \[3\]"):
        run(checks[0], {x: np.zeros(3, np.float32)})
    run(checks[1], {x: np.zeros((1, 1, 1), np.float32)})
    with pytest.raises(tf.errors.InvalidArgumentError, match="must have rank in"):
        run(checks[2], {x: np.zeros(3, np.float32)})


def test_dtype_and_shape_checks_are_static(graph):
    ints, floats = tf.constant([1, 2]), tf.constant(1.5)
    assert tf.assert_type(ints, tf.int32).type == "no_op"
    assert tf.assert_integer(ints).type == "no_op"
    assert tf.assert_scalar(floats) is floats
    with pytest.raises(TypeError, match="must be of type float32, not int32 .dtype 'float' "
                                        "given as a string means float32"):
        tf.assert_type(ints, "float")
    with pytest.raises(TypeError, match='Expected "x" to be integer type'):
        tf.assert_integer(floats)
    with pytest.raises(ValueError, match=r"Expected scalar shape for Const:0, saw shape: "):
        tf.assert_scalar(ints)
    tf.assert_proper_iterable([1, 2])
    for improper in (ints, np.zeros(2), "ab"):
        with pytest.raises(TypeError, match="proper"):
            tf.assert_proper_iterable(improper)


def test_finite_checks_and_monotonicity(graph):
    x = tf.placeholder(tf.float32, [None])
    finite = tf.debugging.assert_all_finite(x, "x blew up")
    assert tf.verify_tensor_all_finite is tf.debugging.assert_all_finite
    with pytest.raises(tf.errors.InvalidArgumentError, match="x blew up"):
        run(finite, {x: np.array([1.0, np.inf], np.float32)})
    flags = [tf.is_non_decreasing(x), tf.is_strictly_increasing(x)]
    assert run(flags, {x: np.array([1, 2, 2], np.float32)}) == [True, False]
    assert run(flags, {x: np.array([1, 2, 3], np.float32)}) == [True, True]
    assert run(flags, {x: np.array([2, 1], np.float32)}) == [False, False]
    assert tf.is_numeric_tensor(x) and not tf.is_numeric_tensor(x > 0)
