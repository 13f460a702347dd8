"""The eager fast path (graphc/eager/dispatch.py): a call like one seen before runs from its
plan, and must give what building it the graph mode's way gives: values, shapes, errors
naming the op and the user's line, the recorded tree, memory released by reference counting."""
import gc as python_gc
import warnings
import weakref

import numpy as np
import pytest

import graphc as gc
from graphc.eager import dispatch
from graphc.graph import required_ops


def _twice(build):
    """``build()`` run twice: the first call is planned, the second runs from the plan."""
    first = build()
    second = build()
    return first, second


def test_values_that_decide_shapes_are_part_of_the_plan():
    with gc.eager():
        x = gc.constant(np.arange(12.0, dtype=np.float32))
        assert gc.reshape(x, [3, 4]).shape.as_list() == [3, 4]
        assert gc.reshape(x, [2, 6]).numpy().shape == (2, 6)  # same input shapes and dtypes
        assert gc.reshape(x, [2, 6]).shape.as_list() == [2, 6]
        np.testing.assert_array_equal(gc.slice(x, [2], [3]).numpy(), [2.0, 3.0, 4.0])
        np.testing.assert_array_equal(gc.slice(x, [5], [2]).numpy(), [5.0, 6.0])
        assert gc.one_hot(gc.constant([0, 1]), 3).shape.as_list() == [2, 3]
        assert gc.one_hot(gc.constant([0, 1]), 5).numpy().shape == (2, 5)


def test_a_shape_the_plan_did_not_foresee_is_built_again():
    """Float bounds of range are not in the key: the result's shape is checked."""
    with gc.eager():
        for limit in (3.0, 5.0, 3.0):
            r = gc.range(gc.constant(0.0), gc.constant(limit), gc.constant(1.0))
            assert r.shape.as_list() == [int(limit)] and r.numpy().shape == (int(limit),)


def test_attrs_key_plans_by_type_and_sign_of_zero():
    """1, 1.0 and True are equal in Python, 0.0 and -0.0 too: a plan binds its kernel to the
    attrs of its first call, so they must be told apart."""
    with gc.eager():
        x = gc.constant([1.0])
        graph = x.graph

        def key(value):
            return dispatch.plan_key(graph, type(x), "reduce_sum", [x], {"axis": value})
        keys = [key(1), key(1.0), key(True), key(0.0), key(-0.0), key((0.0,)), key((-0.0,))]
        assert len(set(keys)) == len(keys)
        assert key([0]) is not None and dispatch.plan_for(key([0])) is dispatch.UNPLANNED


def test_a_planned_call_that_fails_raises_the_graph_modes_error():
    with gc.eager():
        x = gc.constant(np.arange(12.0, dtype=np.float32))
        gc.reshape(x, [3, 4])
        gc.reshape(x, [3, 4])
        for _ in range(2):
            with pytest.raises(ValueError, match=r"reshape.*test_eager_dispatch\.py"):
                gc.reshape(x, [5])
        m = gc.constant(np.ones((2, 3), np.float32))
        gc.matmul(m, gc.transpose(m))
        with pytest.raises(ValueError, match=r"matmul.*test_eager_dispatch\.py"):
            gc.matmul(m, m)
        with pytest.raises(gc.errors.InvalidArgumentError, match="test_eager_dispatch.py"):
            gc.check_numerics(gc.constant([np.nan]), "bad value")


def test_planned_ops_name_the_users_line():
    with gc.eager():
        x = gc.constant([1.0, 2.0])
        first, second = _twice(lambda: gc.tanh(x) * 2.0)
    for tensor in (first, second):
        for op in (tensor.op, tensor.op.inputs[0].op):
            assert op.location.rsplit(":", 1)[0].endswith("test_eager_dispatch.py")
    assert first.op.location == second.op.location


def test_planned_ops_are_ordinary_recorded_graph_ops():
    with gc.eager():
        x = gc.constant([0.5, 1.5])
        with gc.GradientTape(persistent=True) as tape:
            tape.watch(x)
            first, second = _twice(lambda: gc.reduce_sum(gc.sin(x) * x))
        for y in (first, second):
            assert {"sin", "multiply", "reduce_sum"} <= {op.type for op in required_ops([y])}
            grad = tape.gradient(y, x).numpy()
            np.testing.assert_allclose(grad, np.cos([0.5, 1.5]) * [0.5, 1.5] +
                                       np.sin([0.5, 1.5]), rtol=1e-6)
        assert second.consumers() == [] and x.consumers()


def test_planned_ops_are_released_by_reference_counting():
    with gc.eager():
        a = gc.constant(np.ones(1000, np.float32))
        gc.exp(a) * 2.0
        b = gc.exp(a) * 2.0
        refs = [weakref.ref(op) for op in required_ops([b]) if op.type != "const"]  # the
        # constants stay: a's, and 2.0's (shared by the uses of 2.0)
        assert len(refs) == 2
        values = [weakref.ref(b.op._values[0])]
        python_gc.disable()
        try:
            del b
            assert all(ref() is None for ref in refs + values)
        finally:
            python_gc.enable()


def test_a_leaf_read_many_times_keeps_few_reader_references():
    with gc.eager():
        x = gc.constant([1.0])
        for _ in range(1000):
            x + 1.0
        assert len(x._consumers) < 64 and x.consumers() == []


def test_numpy_warnings_are_silenced_and_the_users_error_state_is_kept():
    before = np.geterr()
    with gc.eager(), warnings.catch_warnings():
        warnings.simplefilter("error")
        x = gc.constant([1.0, -1.0])
        for _ in range(2):
            assert np.isinf((x / 0.0).numpy()).all() and np.isnan(gc.log(x).numpy()[1])
    assert np.geterr() == before
    with pytest.warns(RuntimeWarning):
        np.log(np.array([-1.0]))


def test_the_plan_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(dispatch, "_PLAN_LIMIT", 4)
    with gc.eager():
        for size in range(1, 12):
            gc.tanh(gc.constant(np.ones(size, np.float32)))
        assert len(dispatch._PLANS) <= 4
