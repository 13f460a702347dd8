"""Memory planning: in-place reuse of dead intermediates, never of anything a user can see."""
import numpy as np

import graphc as gc
from graphc.runtime.state import RunContext

F = gc.float64


def _plan(sess, fetches, feeds):
    sess.run(fetches, feeds)
    return next(plan for key, plan in sess._plans.items())


def test_dead_intermediates_are_overwritten_in_place():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(F, (1000,), name="x")
        out = gc.sin(gc.exp(x) * 2.0 + 1.0)
    with gc.Session(graph=g, optimize=False) as sess:
        plan = _plan(sess, out, {x: np.ones(1000)})
        assert plan.source.count("out=") == 3  # multiply, add and sin reuse exp's buffer
        values = [np.linspace(0, 1, 1000)]
        np.testing.assert_array_equal(plan.run(values, RunContext(sess._state))[0],
                                      plan.run_interpreted(values, RunContext(sess._state))[0])
        assert plan.estimated_peak_bytes == 8000  # one buffer, recycled along the chain


def test_feeds_variables_constants_and_fetches_are_never_overwritten():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(F, (4,), name="x")
        v = gc.Variable(np.arange(4.0), name="v")
        c = gc.constant(np.full(4, 3.0))
        first = gc.exp(x)
        fetched_mid = first * 2.0
        out = gc.tanh(fetched_mid) + v.value() * c + gc.sqrt(c)
        init = gc.global_variables_initializer()
    data = np.array([0.1, 0.2, 0.3, 0.4])
    with gc.Session(graph=g, optimize=False) as sess:
        sess.run(init)
        for _ in range(3):
            mid, result = sess.run([fetched_mid, out], {x: data})
        np.testing.assert_array_equal(data, [0.1, 0.2, 0.3, 0.4])
        np.testing.assert_array_equal(sess.run(v), np.arange(4.0))
        np.testing.assert_array_equal(c.op.attrs["value"], np.full(4, 3.0))
        np.testing.assert_allclose(mid, np.exp(data) * 2.0)
        expected = np.tanh(np.exp(data) * 2.0) + np.arange(4.0) * 3.0 + np.sqrt(3.0)
        np.testing.assert_allclose(result, expected)
