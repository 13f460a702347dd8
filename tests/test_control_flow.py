"""Control flow semantics: cond/case/switch_case, while_loop (nesting, shape invariants,
maximum_iterations, captured tensors, variables in bodies), TensorArray, map_fn, scan,
foldl/foldr, and bad-input errors."""
import collections

import numpy as np
import pytest

import graphc as tf


def run(fetches, feed=None, init=False):
    with tf.Session() as sess:
        if init:
            sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as graph:
        yield graph


def test_cond_picks_the_branch_at_run_time():
    x = tf.placeholder(tf.float32, [3])
    y = tf.cond(tf.reduce_sum(x) > 0, lambda: x * 2.0, lambda: -x)
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(y, {x: [1, 2, 3]}), [2, 4, 6])
        np.testing.assert_allclose(sess.run(y, {x: [-1, -2, -3]}), [1, 2, 3])


def test_cond_runs_only_the_taken_branch_stateful_op_in_the_other_does_not_run():
    v = tf.Variable(0.0)
    p = tf.placeholder(tf.bool, [])
    y = tf.cond(p, lambda: tf.assign_add(v, 1.0), lambda: tf.assign_add(v, 10.0))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(y, {p: True}) == 1.0
        assert sess.run(y, {p: True}) == 2.0
        assert sess.run(y, {p: False}) == 12.0
        assert sess.run(v) == 12.0


def test_cond_nested_structures_and_nested_conds():
    Pair = collections.namedtuple("Pair", "a b")
    p = tf.placeholder(tf.bool, [])
    q = tf.placeholder(tf.bool, [])
    out = tf.cond(p, lambda: {"k": Pair(tf.constant(1), [tf.constant(2.0)])},
                  lambda: {"k": Pair(tf.constant(3), [tf.cond(q, lambda: tf.constant(4.0),
                                                              lambda: tf.constant(5.0))])})
    assert isinstance(out["k"], Pair) and isinstance(out["k"].b, list)
    got = run(out, {p: False, q: False})
    assert got["k"].a == 3 and got["k"].b[0] == 5.0
    assert run(out, {p: True, q: False})["k"].a == 1


def test_cond_branches_must_agree_with_errors_naming_both():
    p = tf.placeholder(tf.bool, [])
    before = len(tf.get_default_graph().get_operations())
    with pytest.raises(ValueError, match="true_fn.*false_fn|false_fn.*true_fn"):
        tf.cond(p, lambda: (tf.constant(1.0), tf.constant(2.0)), lambda: tf.constant(1.0))
    with pytest.raises(TypeError, match="float32 in false_fn but int32 in true_fn"):
        tf.cond(p, lambda: tf.constant(1), lambda: tf.constant(1.0))
    with pytest.raises(ValueError, match="incompatible"):
        tf.cond(p, lambda: tf.zeros([2]), lambda: tf.zeros([3]))
    assert len(tf.get_default_graph().get_operations()) == before  # a failed build adds nothing


def test_switch_case_and_case():
    k = tf.placeholder(tf.int32, [])
    y = tf.switch_case(k, [lambda: tf.constant(10), lambda: tf.constant(20)],
                       default=lambda: tf.constant(-1))
    with tf.Session() as sess:
        assert [sess.run(y, {k: i}) for i in (0, 1, 2, -3)] == [10, 20, -1, -1]
    x = tf.placeholder(tf.float32, [])
    z = tf.case([(x < 0, lambda: -x), (x > 10, lambda: x / 10)], default=lambda: x)
    ex = tf.case([(x < 5, lambda: x), (x < 3, lambda: -x)], default=lambda: x * 0,
                 exclusive=True)
    with tf.Session() as sess:
        assert [sess.run(z, {x: v}) for v in (-2.0, 20.0, 5.0)] == [2.0, 2.0, 5.0]
        assert sess.run(ex, {x: 4.0}) == 4.0
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(ex, {x: 1.0})


def test_while_loop_basic_and_single_variable():
    i, total = tf.while_loop(lambda i, s: i < 10, lambda i, s: (i + 1, s + i), [0, 0])
    assert run([i, total]) == [10, 45]
    n = tf.while_loop(lambda n: n < 100, lambda n: n * 2, [1])
    assert run(n) == 128


def test_while_loop_nested_structures():
    State = collections.namedtuple("State", "count values")
    start = {"s": State(tf.constant(0), (tf.constant([1.0, 1.0]),)), "t": tf.constant(1.0)}
    out = tf.while_loop(lambda d: d["s"].count < 3,
                        lambda d: {"s": State(d["s"].count + 1, (d["s"].values[0] * 2,)),
                                   "t": d["t"] + 1}, start)
    got = run(out)
    assert got["s"].count == 3 and got["t"] == 4.0
    np.testing.assert_allclose(got["s"].values[0], [8, 8])


def test_while_loop_maximum_iterations_and_captured_tensors():
    x = tf.placeholder(tf.float32, [2])
    limit = tf.placeholder(tf.int32, [])
    i, s = tf.while_loop(lambda i, s: i < 100, lambda i, s: (i + 1, s + x), [0, tf.zeros([2])],
                         maximum_iterations=limit)
    got = run([i, s], {x: [1.0, 2.0], limit: 4})
    assert got[0] == 4
    np.testing.assert_allclose(got[1], [4, 8])


def test_while_loop_shape_invariants_and_shape_change_error():
    start = tf.zeros([1, 2])
    with pytest.raises(ValueError, match="shape_invariants"):
        tf.while_loop(lambda i, m: i < 3, lambda i, m: (i + 1, tf.concat([m, m], 0)),
                      [0, start])
    i, m = tf.while_loop(lambda i, m: i < 3, lambda i, m: (i + 1, tf.concat([m, m], 0)),
                         [0, start], shape_invariants=[tf.TensorShape([]),
                                                       tf.TensorShape([None, 2])])
    assert m.shape.as_list() == [None, 2]
    assert run(m).shape == (8, 2)


def test_while_loop_body_errors_name_structure_and_dtype():
    with pytest.raises(ValueError, match="body returned"):
        tf.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1,), [0, 1])
    with pytest.raises(TypeError, match="enters as int32 but the body returns float32"):
        tf.while_loop(lambda i: i < 3, lambda i: tf.cast(i, tf.float32), [0])


def test_nested_loops_and_a_loop_inside_a_cond():
    def outer(i, t):
        _, u = tf.while_loop(lambda j, u: j < i, lambda j, u: (j + 1, u + 1.0), [0, t])
        return i + 1, u
    _, total = tf.while_loop(lambda i, t: i < 4, outer, [0, tf.constant(0.0)])
    p = tf.placeholder(tf.bool, [])
    y = tf.cond(p, lambda: tf.while_loop(lambda n: n < 50, lambda n: n + 7, [0]),
                lambda: tf.constant(-1))
    assert run(total) == 6.0
    assert run(y, {p: True}) == 56 and run(y, {p: False}) == -1


def test_variables_read_and_assigned_in_a_body_see_earlier_iterations():
    v = tf.Variable(1.0)

    def body(i, acc):
        with tf.control_dependencies([v.assign_add(1.0)]):
            return i + 1, acc + v.read_value()
    _, acc = tf.while_loop(lambda i, a: i < 3, body, [0, tf.constant(0.0)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(acc) == 2 + 3 + 4
        assert sess.run(v) == 4.0


def test_a_failing_body_names_the_loop_and_op_and_changes_no_variable():
    v = tf.Variable(0.0)
    x = tf.placeholder(tf.float32, [None])

    def body(i, acc):
        with tf.control_dependencies([v.assign_add(1.0)]):
            checked = tf.check_numerics(tf.log(acc), "bad log")  # user line named
        return i + 1, checked
    _, out = tf.while_loop(lambda i, a: i < 3, body, [0, x], name="my_loop")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(out, {x: [-1.0]})
        message = str(info.value)
        assert "my_loop" in message and "CheckNumerics" in message
        assert "test_control_flow.py" in message
        assert sess.run(v) == 0.0


def test_tensor_array_write_read_stack_unstack_gather_scatter_size():
    x = tf.placeholder(tf.float32, [2])
    ta = tf.TensorArray(tf.float32, size=3)
    ta = ta.write(0, x).write(2, x * 3)
    assert ta.stack().shape.as_list() == [3, 2]
    other = tf.TensorArray(tf.float32, size=0, dynamic_size=True).unstack(tf.reshape(
        tf.range(6.0), [3, 2]))
    scattered = tf.TensorArray(tf.float32, size=4).scatter([1, 3], tf.ones([2, 2]))
    got = run([ta.stack(), ta.read(2), other.gather([2, 0]), other.size(), scattered.stack()],
              {x: [1.0, 2.0]})
    np.testing.assert_allclose(got[0], [[1, 2], [0, 0], [3, 6]])
    np.testing.assert_allclose(got[1], [3, 6])
    np.testing.assert_allclose(got[2], [[4, 5], [0, 1]])
    assert got[3] == 3
    np.testing.assert_allclose(got[4], [[0, 0], [1, 1], [0, 0], [1, 1]])


def test_tensor_array_in_a_while_loop_dynamic_size_and_element_shape_from_first_write():
    x = tf.placeholder(tf.float32, [2])
    grown = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
    fixed = tf.TensorArray(tf.float32, size=4)

    def body(t, a, b):
        value = tf.cast(t, tf.float32) * x
        return t + 1, a.write(t, value), b.write(t, value)
    _, grown, fixed = tf.while_loop(lambda t, a, b: t < 4, body, [0, grown, fixed])
    assert fixed.stack().shape.as_list() == [4, 2]
    got = run([grown.stack(), fixed.stack()], {x: [1.0, 2.0]})
    expected = np.arange(4)[:, None] * np.array([1.0, 2.0])
    np.testing.assert_allclose(got[0], expected)
    np.testing.assert_allclose(got[1], expected)


def test_tensor_array_write_past_the_end_fails_unless_dynamic():
    ta = tf.TensorArray(tf.float32, size=2).write(tf.constant(5), tf.constant(1.0))
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of range"):
        run(ta.stack())


def test_map_fn_scan_foldl_foldr():
    xs = tf.constant([1.0, 2.0, 3.0, 4.0])
    squares = tf.map_fn(lambda e: e * e, xs)
    pairs = tf.map_fn(lambda e: (e[0], e[1] * 2), (xs, xs), dtype=(tf.float32, tf.float32))
    sums = tf.scan(lambda a, e: a + e, xs)
    rev = tf.scan(lambda a, e: a * 10 + e, xs, initializer=tf.constant(0.0), reverse=True)
    left = tf.foldl(lambda a, e: a * 2 + e, xs)
    right = tf.foldr(lambda a, e: a * 2 + e, xs, initializer=tf.constant(0.0))
    got = run([squares, pairs, sums, rev, left, right])
    np.testing.assert_allclose(got[0], [1, 4, 9, 16])
    np.testing.assert_allclose(got[1][1], [2, 4, 6, 8])
    np.testing.assert_allclose(got[2], [1, 3, 6, 10])
    np.testing.assert_allclose(got[3], [4321, 432, 43, 4])
    assert got[4] == ((1 * 2 + 2) * 2 + 3) * 2 + 4
    assert got[5] == ((4 * 2 + 3) * 2 + 2) * 2 + 1


def test_variables_created_inside_a_body_live_outside_it():
    def body(i, acc):
        with tf.variable_scope("cell", reuse=tf.AUTO_REUSE):
            w = tf.get_variable("w", [2], initializer=tf.ones_initializer())
        return i + 1, acc + w
    _, acc = tf.while_loop(lambda i, a: i < 3, body, [0, tf.zeros([2])])
    names = [v.name for v in tf.global_variables()]
    assert names == ["cell/w:0"]
    assert tf.global_variables()[0].graph is tf.get_default_graph()
    np.testing.assert_allclose(run(acc, init=True), [3, 3])


def test_runs_assigning_variables_inside_a_loop_lock_them():
    v = tf.Variable(0.0, name="counter")

    def body(i):
        with tf.control_dependencies([tf.assign_add(v, 1.0)]):
            return tf.identity(i + 1)
    loop = tf.while_loop(lambda i: i < 5, body, [0])
    outer = tf.cond(tf.constant(True), lambda: tf.while_loop(lambda i: i < 2, body, [0]),
                    lambda: tf.constant(0))
    import threading
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run([loop, outer])
        plan = [p for p in sess._plans.values() if p.steps and any(
            s.op.type in ("while_loop", "cond") for s in p.steps)]
        assert all(p.updated_variables == ("counter",) for p in plan)
        threads = [threading.Thread(target=lambda: [sess.run(loop) for _ in range(20)])
                   for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sess.run(v) == 7.0 + 4 * 20 * 5  # no update lost between concurrent runs


def test_ops_of_a_body_and_of_the_graph_around_it_never_share_a_name():
    _, s = tf.while_loop(lambda i, s: i < 2,
                         lambda i, s: (i + 1, s + tf.random_uniform([], name="noise")),
                         [0, 0.0])
    graph = tf.get_default_graph()
    [loop] = [op for op in graph.get_operations() if op.type == "while_loop"]
    inside = [op.name for op in loop.attrs["body"].ops()]
    assert "while/noise" in inside
    assert all(graph.unique_name(name, mark_used=False) != name for name in inside)


def test_a_failing_branch_names_the_cond_and_the_op():
    x = tf.placeholder(tf.float32, [])
    y = tf.cond(x > 0, lambda: tf.check_numerics(tf.log(-x), "neg"), lambda: x, name="pick")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="branch 'true_fn' of op 'pick.*CheckNumerics"):
            sess.run(y, {x: 1.0})
        assert sess.run(y, {x: -1.0}) == -1.0


def _loop_kernels(session):
    return [step.fn for plan in session._plans.values() for step in plan.steps
            if step.op.type == "while_loop"]


def test_tensor_array_writes_in_a_loop_update_the_loops_own_array_in_place():
    """A write whose array nobody else sees updates it (no O(T^2) copying); where the old
    array is still read afterwards, it is copied."""
    x = tf.placeholder(tf.float32, [6, 2])
    steps = tf.TensorArray(tf.float32, size=6).unstack(x)

    def body(t, outs, probe, old_reads):
        value = steps.read(t) * 2.0
        written = probe.write(t, value)
        seen = probe.read(t)  # the array before the write: it must not change under us
        return t + 1, outs.write(t, value), written, old_reads + seen
    start = [0, tf.TensorArray(tf.float32, size=6),
             tf.TensorArray(tf.float32, size=6, element_shape=[2]), tf.zeros([2])]
    _, outs, probe, old_reads = tf.while_loop(lambda t, *_: t < 6, body, start)
    values = np.arange(12, dtype=np.float32).reshape(6, 2)
    with tf.Session() as sess:
        got = sess.run([outs.stack(), probe.stack(), old_reads], {x: values})
        [kernel] = _loop_kernels(sess)
        in_place = [s.op.inputs[0].name for s in kernel.run_body.__self__.steps
                    if s.in_place is not None and s.op.type == "tensor_array_write"]
    assert in_place == ["body_input_2:0"]  # outs; not probe, read after its write
    np.testing.assert_allclose(got[0], values * 2)
    np.testing.assert_allclose(got[1], values * 2)
    np.testing.assert_allclose(got[2], [0, 0])  # every read saw the row not yet written
    with tf.Session(optimize=False) as sess:
        again = sess.run([outs.stack(), probe.stack(), old_reads], {x: values})
    for a, b in zip(got, again):
        np.testing.assert_allclose(a, b)


def test_a_loop_variable_passed_through_or_kept_for_the_gradient_is_not_updated_in_place():
    x = tf.placeholder(tf.float64, [2])
    ta = tf.TensorArray(tf.float64, size=3)

    def body(t, same, outs, h):
        return t + 1, same, outs.write(t, h), tf.sin(h)
    _, same, outs, h = tf.while_loop(lambda t, *_: t < 3, body, [0, ta, ta, x])
    [dx] = tf.gradients(tf.reduce_sum(outs.stack()) + tf.reduce_sum(h), [x])
    with tf.Session() as sess:
        got = sess.run([same.stack(), outs.stack(), dx], {x: [1.0, 2.0]})
        kernel = _loop_kernels(sess)[0]  # the forward loop (the backward one follows)
    # counter, t, same, outs, h: `same` is passed through; t and h feed the gradient
    assert kernel.recorded == (1, 4) and kernel.donated == (3,)  # t: the write index
    rows, h, grad, slope = [], np.array([1.0, 2.0]), 0.0, 1.0
    for _ in range(3):
        rows.append(h)
        grad, slope, h = grad + slope, slope * np.cos(h), np.sin(h)
    np.testing.assert_allclose(got[0], 0)
    np.testing.assert_allclose(got[1], rows)
    np.testing.assert_allclose(got[2], grad + slope)


def test_cond_unpacks_a_one_element_list_unless_strict():
    p = tf.placeholder(tf.bool, [])
    loose = tf.cond(p, lambda: [tf.constant(1)], lambda: [tf.constant(2)])
    strict = tf.cond(p, lambda: [tf.constant(1)], lambda: [tf.constant(2)], strict=True)
    assert isinstance(loose, tf.Tensor) and isinstance(strict, list)
    assert run(loose, {p: False}) == 2
