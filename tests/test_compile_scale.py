"""What keeps compiling big graphs cheap, checked by behaviour (no timings): long elementwise
chains fuse into bounded groups, long plans run the step loop until they are hot, and the
elementwise inference cache never hides an error."""
import numpy as np
import pytest

import graphc as gc
from graphc.passes import fusion
from graphc.runtime import plan as plan_module

F = gc.float64


def _chain(length):
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(F, (4,), name="x")
        y = x
        for i in range(length):
            y = gc.sin(y) if i % 2 else y * 1.0001
    return g, x, y


def test_a_long_chain_fuses_into_groups_of_bounded_size():
    """Every engine compiles a group as one function, so a 600-op chain becomes three fused
    nodes, not one 600-step program; results stay those of the unfused graph."""
    g, x, y = _chain(400)  # 200 multiplies, 200 sines and the constants
    optimized, records = gc.optimize(g, [y], feeds=[x])
    fused = [op for op in optimized.get_operations() if op.type == "fused_elementwise"]
    assert [len(op.attrs["program"]) for op in fused] == [144, 256]
    assert all(len(op.attrs["program"]) <= fusion.MAX_GROUP_OPS for op in fused)
    value = np.linspace(-0.5, 0.9, 4)
    with gc.Session(graph=g) as sess, gc.Session(graph=g, optimize=False) as plain:
        np.testing.assert_allclose(sess.run(y, {x: value}), plain.run(y, {x: value}))


def test_a_long_plan_runs_the_step_loop_until_it_is_hot(monkeypatch):
    monkeypatch.setattr(plan_module, "LONG_PLAN_STEPS", 10)
    g, x, y = _chain(30)
    value = np.linspace(-0.5, 0.9, 4)
    with gc.Session(graph=g, optimize=False) as sess:
        first = sess.run(y, {x: value})
        [plan] = sess._plans.values()
        assert len(plan.steps) > 10 and plan._compiled is None
        for _ in range(plan_module.LOOP_RUNS):
            np.testing.assert_array_equal(sess.run(y, {x: value}), first)
        assert plan._compiled is not None  # compiled on the run after the looped ones
        np.testing.assert_array_equal(sess.run(y, {x: value}), first)
    with g.as_default():
        z = gc.placeholder(F, (None,), name="z")
        out = y + z
    with gc.Session(graph=g, optimize=False) as sess:  # looped runs report errors alike
        with pytest.raises(gc.errors.InvalidArgumentError,
                           match=r"op 'add' \(add, defined at .*test_compile_scale.py"):
            sess.run(out, {x: value, z: np.ones(5)})


def test_the_elementwise_inference_cache_never_hides_an_error():
    g = gc.Graph()
    with g.as_default():
        a = gc.placeholder(F, (3,), name="a")
        b = gc.placeholder(F, (4,), name="b")
        for _ in range(2):
            with pytest.raises(ValueError, match="Incompatible shapes"):
                a + b
        c = gc.placeholder(F, (None,), name="c")
        assert (a + c).shape == (3,) and (c + c).shape == (None,)
        with pytest.raises(TypeError, match="one dtype"):
            a + gc.placeholder(gc.float32, (3,))
