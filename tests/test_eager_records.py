"""Planned elementwise calls run at once and keep a light producer record; the ordinary
graph op is made from it when asked for: the same tree, names, inputs, attrs and lines."""
import gc as python_gc
import inspect
import weakref

import numpy as np
import pytest

import graphc as gc
from graphc.eager import EagerOperation
from graphc.graph import required_ops


def _live_ops() -> int:
    python_gc.collect()  # what earlier tests left to the collector is gone, not counted
    # type(), not isinstance(): a dead weakref.proxy another test left raises on isinstance
    return sum(issubclass(type(o), EagerOperation) for o in python_gc.get_objects())


def _chain(v, steps=40):
    for i in range(steps):
        v = [lambda a: a * 1.01, lambda a: a + 0.1, gc.tanh, gc.sin][i % 4](v)
    return v


def test_a_planned_chain_builds_no_op_until_one_is_asked_for():
    with gc.eager():
        x = gc.constant(np.linspace(0, 1, 4).astype(np.float32))
        _chain(x)  # plans every kind of call once
        before = _live_ops()
        y = _chain(x)
        assert _live_ops() == before  # values and records only
        expected = x.numpy()
        for i in range(40):
            expected = [lambda a: a * np.float32(1.01), lambda a: a + np.float32(0.1),
                        np.tanh, np.sin][i % 4](expected)
        np.testing.assert_allclose(y.numpy(), expected, rtol=1e-6)
        ops = required_ops([y])  # asked for: the whole tree is made, in creation order
        assert [op.type for op in sorted(ops, key=lambda op: op._id)
                if op.type not in ("const",)][:4] == ["multiply", "add", "tanh", "sin"]
        assert len([op for op in ops if op.type != "const"]) == 40


def test_the_op_made_on_demand_is_the_one_building_it_would_have_made():
    with gc.eager():
        x = gc.constant([1.0, 2.0])
        x * 3.5  # planned
        with gc.name_scope("layer"):
            line = inspect.currentframe().f_lineno + 1
            y = x * 3.5
        op = y.op
        assert y.name == op.name + ":0" and op.name.startswith("layer/")
        assert op.type == "multiply" and op.inputs[0] is x
        constant = op.inputs[1]
        assert constant.op.type == "const" and constant.numpy() == np.float32(3.5)
        assert constant.name.startswith("layer/")  # made under the call's name scope
        assert op.location.endswith(f"test_eager_records.py:{line}")
        assert y.op is op and op.outputs == (y,)
        assert op in x.consumers()


def test_python_numbers_build_no_constant_per_call():
    with gc.eager():
        x = gc.constant([1.0, 2.0])
        x * 7.25, 0.25 - x  # the plans of the calls (their first numbers' constants too)
        before = _live_ops()
        results = [x * 7.25 for _ in range(20)] + [x * -0.0, 0.5 - x]
        assert _live_ops() == before
        np.testing.assert_array_equal(results[0].numpy(), [7.25, 14.5])
        assert np.signbit(results[20].numpy()).all()  # -0.0 is not 0.0
        np.testing.assert_array_equal(results[21].numpy(), [-0.5, -1.5])
        assert results[21].op.inputs[0].op.type == "const"


def test_records_free_their_values_and_tapes_see_every_op():
    with gc.eager():
        x = gc.constant(np.ones(1000, np.float32))
        y = gc.tanh(x * 2.0)
        y = gc.tanh(x * 2.0)
        ref = weakref.ref(y.numpy().base if y.numpy().base is not None else y.numpy())
        del y
        python_gc.collect()
        assert ref() is None
        with gc.GradientTape() as tape:
            tape.watch(x)
            z = gc.reduce_sum(gc.tanh(x * 2.0))
        grad = tape.gradient(z, x).numpy()
        np.testing.assert_allclose(grad, 2.0 / np.cosh(2.0) ** 2, rtol=1e-5)


def test_gradients_reach_through_records_made_before_a_tape():
    with gc.eager():
        x = gc.constant([0.3, -0.2], dtype=gc.float64)
        gc.sin(x * 2.0)
        y = gc.sin(x * 2.0)  # records
        assert np.allclose(y.partial(x).numpy(), 2 * np.cos(2 * x.numpy()))


def test_a_failing_planned_call_raises_the_graph_modes_error_with_the_users_line():
    with gc.eager():
        a, b = gc.constant([1.0, 2.0]), gc.constant([1.0, 2.0, 3.0])
        a + a
        line = inspect.currentframe().f_lineno + 2
        with pytest.raises(ValueError) as info:
            a + b
        assert "add" in str(info.value) and f"test_eager_records.py:{line}" in str(info.value)
