"""Session.run: fetch structures, pruning, stateful ops once per run, lifecycle."""
import collections
import threading

import numpy as np
import pytest

import graphc as gc


@pytest.fixture
def model():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float32, (None, 2), name="x")
        w = gc.Variable(np.array([[1.0], [2.0]], np.float32), name="w")
        y = gc.matmul(x, w, name="y")
        z = gc.reduce_sum(y, name="z")
        init = gc.global_variables_initializer()
    return g, x, w, y, z, init


def test_fetch_structures_keep_their_shape(model):
    g, x, w, y, z, init = model
    Pair = collections.namedtuple("Pair", "first second")
    feed = {x: [[1.0, 1.0], [2.0, 0.5]]}
    with gc.Session(graph=g) as sess:
        assert sess.run(init) is None
        assert sess.run(z, feed) == pytest.approx(6.0)
        out = sess.run({"a": [y, (z,)], "b": Pair(z, init), "c": w}, feed)
    assert isinstance(out, dict) and isinstance(out["a"][1], tuple)
    assert isinstance(out["b"], Pair) and out["b"].second is None
    np.testing.assert_allclose(out["a"][0], [[3.0], [3.0]])
    np.testing.assert_allclose(out["c"], [[1.0], [2.0]])


def test_fetch_by_name_and_duplicates(model):
    g, x, w, y, z, init = model
    with gc.Session(graph=g) as sess:
        sess.run("init")
        a, b, c = sess.run(["z:0", z, z], {x: np.ones((1, 2))})
    assert a == b == c == pytest.approx(3.0)


def test_only_the_needed_subgraph_runs():
    """An unfed placeholder on a branch nobody fetches does not matter."""
    g = gc.Graph()
    with g.as_default():
        a = gc.placeholder(gc.float32, (), name="a")
        unused = gc.placeholder(gc.float32, (), name="unused")
        gc.log(unused)
        out = a * 2.0
    with gc.Session(graph=g) as sess:
        assert sess.run(out, {a: 3.0}) == 6.0


def test_any_tensor_can_be_fed_and_cuts_the_graph():
    g = gc.Graph()
    with g.as_default():
        p = gc.placeholder(gc.float32, (), name="p")
        mid = gc.exp(p, name="mid")
        out = mid + 1.0
    with gc.Session(graph=g) as sess:
        assert sess.run(out, {mid: 10.0}) == 11.0  # p needs no feed: mid replaced it
        assert sess.run(mid, {mid: 4.0}) == 4.0


def test_each_stateful_op_runs_once_per_run():
    g = gc.Graph()
    with g.as_default():
        counter = gc.Variable(0, name="counter")
        bump = counter.assign_add(1)
        twice = bump + bump
        init = gc.global_variables_initializer()
    with gc.Session(graph=g) as sess:
        sess.run(init)
        assert sess.run([bump, twice, bump]) == [1, 2, 1]
        assert sess.run(counter) == 1


def test_closed_session_refuses_to_run(model):
    g, x, w, y, z, init = model
    sess = gc.Session(graph=g)
    sess.close()
    with pytest.raises(RuntimeError, match="closed Session"):
        sess.run(init)
    with gc.Session(graph=g) as sess:  # leaving the with block closes the session
        sess.run(init)
    with pytest.raises(RuntimeError, match="closed Session"):
        sess.run(init)


def test_default_session_eval_and_run(model):
    g, x, w, y, z, init = model
    with gc.Session(graph=g) as sess:
        assert gc.get_default_session() is sess
        init.run()
        assert z.eval({x: np.ones((1, 2))}) == pytest.approx(3.0)
        np.testing.assert_allclose(w.eval(), [[1.0], [2.0]])
    assert gc.get_default_session() is None
    with pytest.raises(ValueError, match="No default session"):
        z.eval()


def test_interactive_session_is_default(model):
    g, x, w, y, z, init = model
    sess = gc.InteractiveSession(graph=g)
    try:
        init.run()
        assert w.eval().shape == (2, 1)
    finally:
        sess.close()
    assert gc.get_default_session() is None


def test_session_uses_default_graph_when_none_given():
    g = gc.Graph()
    with g.as_default():
        c = gc.constant(5)
        with gc.Session() as sess:
            assert sess.graph is g and sess.run(c) == 5


def test_concurrent_runs_give_correct_results(model):
    g, x, w, y, z, init = model
    results, errors = [], []
    with gc.Session(graph=g) as sess:
        sess.run(init)

        def worker(k):
            try:
                for _ in range(50):
                    results.append((k, sess.run(z, {x: np.full((1, 2), k, np.float32)})))
            except Exception as err:  # noqa: BLE001
                errors.append(err)
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    assert all(value == pytest.approx(3.0 * k) for k, value in results) and len(results) == 200


def test_fetch_errors_name_the_problem(model):
    g, x, w, y, z, init = model
    other = gc.Graph()
    with other.as_default():
        stranger = gc.constant(1.0)
    with gc.Session(graph=g) as sess:
        with pytest.raises(TypeError, match="invalid type"):
            sess.run(None)
        with pytest.raises(ValueError, match="not an element of this graph"):
            sess.run(stranger)
        with pytest.raises(KeyError, match="does not exist"):
            sess.run("nothing:0")


def test_compiled_plan_matches_the_interpreted_loop_and_reads_like_code():
    from graphc.runtime.state import RunContext
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float64, (3,), name="x")
        parts = gc.split(gc.exp(x) * 2.0, [1, 2])
        out = gc.concat([parts[1], parts[0]], axis=0) + gc.reduce_sum(x)
    with gc.Session(graph=g, optimize=False) as sess:
        sess.run(out, {x: np.ones(3)})
        plan = next(iter(sess._plans.values()))
        ctx = RunContext(sess._state)
        values = [np.array([0.1, 0.2, 0.3])]
        np.testing.assert_array_equal(plan.run(values, ctx)[0],
                                      plan.run_interpreted(values, ctx)[0])
    assert plan.source.count("\n    s") >= len(plan.steps) and "del " in plan.source


def test_scalar_results_are_numpy_scalars_as_in_tf1():
    graph = gc.Graph()
    with graph.as_default():
        x = gc.placeholder(gc.float32, [None])
        total = gc.reduce_sum(x)                     # NumPy's reduction gives a scalar
        mean = gc.reduce_mean(gc.sigmoid(x))         # a kernel giving a 0-d array
        flag = gc.reduce_any(gc.greater(x, 0.0))
        word = gc.constant("graphc")
    with gc.Session(graph=graph) as sess:
        got = sess.run([total, mean, flag, word, x], {x: [1.0, 2.0]})
        single = sess.run(mean, {x: [1.0, 2.0]})
    assert [type(v) for v in got[:4]] == [np.float32, np.float32, np.bool_, bytes]
    assert type(single) is np.float32
    assert isinstance(got[4], np.ndarray) and got[4].shape == (2,)
