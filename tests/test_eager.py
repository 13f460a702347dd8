"""Eager execution: ops run as they are built, on the graph mode's kernels, and the values
remember how they were computed (an expression tree of ordinary graph ops)."""
import gc as python_gc
import weakref

import numpy as np
import pytest

import graphc as gc
from graphc.eager import EagerTensor, eager_graph
from graphc.graph import required_ops


def test_seed_example_values_and_partial():
    """The idea graphc stands on: yhat = x0*t0 + x1*t1 and d yhat / d t0 = x0."""
    with gc.eager():
        x = gc.constant([0.1, 0.2], dtype=gc.float64)
        theta = gc.constant([0.1, -0.1], dtype=gc.float64)
        yhat = x[0] * theta[0] + x[1] * theta[1]
        assert np.isclose(yhat.data, -0.01)
        assert np.isclose(yhat.partial(theta[0]).numpy(), x[0].numpy())
        assert np.isclose(yhat.partial(theta[1]).numpy(), 0.2)
        assert np.isclose(yhat.partial(x[1]).numpy(), -0.1)
        np.testing.assert_allclose(yhat.partial(theta).numpy(), [0.1, 0.2])


def test_partial_of_something_not_used_says_so():
    with gc.eager():
        x = gc.constant([1.0, 2.0])
        y = gc.reduce_sum(x * x)
        with pytest.raises(ValueError, match="was not computed from"):
            y.partial(gc.constant([3.0]))


def test_results_are_eager_tensors_of_graph_ops_with_values():
    with gc.eager():
        assert gc.executing_eagerly()
        a = gc.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
        b = gc.nn.relu(gc.matmul(a, gc.transpose(a)) - 10.0)
        assert isinstance(b, EagerTensor)
        np.testing.assert_array_equal(b.numpy(), np.maximum(
            np.arange(6.0).reshape(2, 3) @ np.arange(6.0).reshape(2, 3).T - 10, 0))
        assert b.op.type == "relu" and b.shape.as_list() == [2, 2]
        kinds = {op.type for op in required_ops([b])}
        assert {"const", "matmul", "transpose", "subtract", "relu"} <= kinds
        assert "numpy=" in repr(b) and float(gc.reduce_sum(b)) == float(b.numpy().sum())
    assert not gc.executing_eagerly()


def test_values_are_read_only_and_copied_from_user_arrays():
    data = np.ones(3, np.float32)
    with gc.eager():
        t = gc.constant(data)
        data[0] = 5.0  # the user's array changes; the eager value does not
        assert t.numpy()[0] == 1.0
        with pytest.raises(ValueError):
            t.numpy()[0] = 2.0


def test_memory_is_released_when_nobody_holds_the_tensor():
    with gc.eager():
        a = gc.constant(np.ones(1000, np.float32))
        b = gc.exp(a) * 2.0
        op_ref, value_ref = weakref.ref(b.op), weakref.ref(b.op._values[0].base
                                                           if b.op._values[0].base is not None
                                                           else b.op._values[0])
        del b
        assert op_ref() is None and value_ref() is None  # reference counting alone
        c = a + 1.0
        del c
        assert a.consumers() == []  # readers are remembered weakly


def test_a_long_eager_loop_keeps_no_name_table():
    with gc.eager():
        names_before = len(eager_graph()._used_names)
        x = gc.constant(0.0)
        for _ in range(300):
            x = x + 1.0
        assert float(x) == 300.0
        assert len(eager_graph()._used_names) - names_before < 5


def test_variables_read_their_current_value_and_assign_at_once():
    with gc.eager():
        v = gc.Variable([1.0, 2.0], name="eager_v")
        doubled = v * 2.0
        v.assign_add([1.0, 1.0])
        np.testing.assert_array_equal(doubled.numpy(), [2.0, 4.0])
        np.testing.assert_array_equal((v * 2.0).numpy(), [4.0, 6.0])
        w = gc.Variable([0.0], name="eager_v")  # a second variable of that name is another one
        np.testing.assert_array_equal(gc.convert_to_tensor(w).numpy(), [0.0])
        np.testing.assert_array_equal(gc.convert_to_tensor(v).numpy(), [2.0, 3.0])


def test_errors_name_the_op_and_line_and_change_nothing():
    with gc.eager():
        v = gc.Variable([1.0, 2.0], name="guarded")
        with pytest.raises(ValueError, match=r"matmul.*test_eager\.py"):
            gc.matmul(gc.constant([[1.0, 2.0]]), gc.constant([[1.0, 2.0]]))
        with pytest.raises(gc.errors.InvalidArgumentError, match="test_eager.py"):
            gc.check_numerics(gc.constant([np.nan]), "bad value")
        with pytest.raises((ValueError, TypeError)):
            v.assign([1.0, 2.0, 3.0])
        np.testing.assert_array_equal(gc.convert_to_tensor(v).numpy(), [1.0, 2.0])


def test_seeded_random_ops_continue_their_stream():
    with gc.eager():
        first = gc.random_uniform([3], seed=7).numpy()
        second = gc.random_uniform([3], seed=7).numpy()
        assert not np.array_equal(first, second)
        rng = np.random.default_rng([7, 0])  # the stream of (seed 7, op seed 0)
        assert first.dtype == np.float32 and first.shape == (3,)
        del rng


def test_eager_tensors_work_with_python_and_numpy():
    with gc.eager():
        t = gc.constant([3, 1, 2])
        assert len(t) == 3 and int(t[0]) == 3 and [1, 2, 3][t[1]] == 2
        assert np.asarray(t).tolist() == [3, 1, 2]
        assert bool(gc.reduce_any(gc.greater(t, 2)))
        assert f"{gc.constant(0.5):.2f}" == "0.50"


def test_graph_mode_is_untouched_outside_eager_blocks():
    graph = gc.Graph()
    with graph.as_default():
        with gc.eager():
            e = gc.constant(1.0) + 1.0
        s = gc.constant(1.0) + 1.0
    assert isinstance(e, EagerTensor) and not isinstance(s, EagerTensor)
    assert s.graph is graph and len(graph.get_operations()) == 3
    with gc.Session(graph=graph) as sess:
        assert sess.run(s) == 2.0


def test_enable_eager_execution_refuses_a_graph_with_ops():
    from graphc import graph as graph_module
    saved = graph_module._GLOBAL_DEFAULT[0]
    try:
        graph_module._GLOBAL_DEFAULT[0] = gc.Graph()
        gc.constant(1.0)
        with pytest.raises(ValueError, match="startup"):
            gc.enable_eager_execution()
        graph_module._GLOBAL_DEFAULT[0] = gc.Graph()
        gc.enable_eager_execution()
        assert gc.executing_eagerly() and float(gc.constant(2.0) * 2.0) == 4.0
    finally:
        graph_module._GLOBAL_DEFAULT[0] = saved
    assert not gc.executing_eagerly()


def test_render_draws_the_recorded_tree_with_values(tmp_path):
    with gc.eager():
        x = gc.constant([0.1, 0.2], dtype=gc.float64, name="x")
        theta = gc.constant([0.1, -0.1], dtype=gc.float64, name="theta")
        yhat = x[0] * theta[0] + x[1] * theta[1]
        grad = yhat.partial(theta[0])
        path = gc.render([yhat, grad], str(tmp_path / "tree.dot"))
    text = path.read_text()
    assert "= -0.01" in text and "multiply_grad" in text and "= 0.1" in text
    python_gc.collect()
