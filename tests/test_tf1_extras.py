"""The TF1 top-level names of graphc/tf1_extras.py."""
import numpy as np
import pytest

import graphc as gc


def test_enums_have_tfs_values():
    assert gc.UnconnectedGradients.ZERO == "zero" and gc.UnconnectedGradients("none").name == "NONE"
    assert gc.AggregationMethod.DEFAULT == gc.AggregationMethod.ADD_N == 0
    assert gc.VariableAggregation.MEAN.value == 2 and gc.VariableSynchronization.ON_READ.value == 3
    assert gc.OpError is gc.errors.OpError


def test_unconnected_gradients_enum_gives_zeros():
    with gc.Graph().as_default():
        x, z = gc.placeholder(gc.float32, [2]), gc.placeholder(gc.float32, [2])
        zero, none = (gc.gradients(gc.reduce_sum(x), [z], unconnected_gradients=kind)[0]
                      for kind in (gc.UnconnectedGradients.ZERO, gc.UnconnectedGradients.NONE))
        assert none is None
        with gc.Session() as sess:
            assert sess.run(zero, {z: [1.0, 2.0]}).tolist() == [0.0, 0.0]


def test_grad_pass_through_is_exact_forward_and_identity_backward():
    x_value = np.array([0.4, 1.6, -2.7, 0.1 + 1e-7], np.float32)
    with gc.Graph().as_default():
        x = gc.placeholder(gc.float32, [4])
        w = gc.Variable(np.float32(3.0))
        y = gc.grad_pass_through(gc.round)(x)
        scaled = gc.grad_pass_through(lambda t: gc.round(t * w))(x)
        g, gw = gc.gradients(gc.reduce_sum(y * 2.0) + gc.reduce_sum(scaled), [x, w])
        with gc.Session() as sess:
            sess.run(w.initializer)
            y_value, g_value = sess.run([y, g], {x: x_value})
    assert np.array_equal(y_value, np.round(x_value)) and g_value.tolist() == [3.0] * 4
    assert gw is None


def test_assert_variables_initialized_fails_until_they_are():
    with gc.Graph().as_default():
        assert gc.assert_variables_initialized() is None
        v, w = gc.Variable([1.0, 2.0]), gc.Variable(np.ones((2, 2)))
        check, only_v = gc.assert_variables_initialized(), gc.assert_variables_initialized([v])
        with gc.Session() as sess:
            with pytest.raises(gc.errors.FailedPreconditionError, match="uninitialized"):
                sess.run(check)
            sess.run(v.initializer)
            assert sess.run(only_v) == 1
            sess.run(w.initializer)
            assert sess.run(check).tolist() == [1, 2]


def test_same_float_dtype_and_symbolic_tensors():
    with gc.Graph().as_default():
        a, b = gc.constant(1.0), gc.constant(2.0)
        assert gc.assert_same_float_dtype([a, b]) is gc.float32
        assert gc.assert_same_float_dtype() is gc.float32
        assert gc.assert_same_float_dtype(None, gc.float64) is gc.float64
        with pytest.raises(ValueError, match="expected float32"):
            gc.assert_same_float_dtype([a, gc.constant(1.0, gc.float64)])
        with pytest.raises(ValueError, match="expected a float dtype"):
            gc.assert_same_float_dtype([gc.constant(1)])
        assert gc.is_symbolic_tensor(a) and not gc.is_symbolic_tensor(np.ones(2))
    with gc.eager():
        assert not gc.is_symbolic_tensor(gc.constant(1.0))


def test_scopes_recompute_and_vectorized_map():
    with gc.Graph().as_default():
        x = gc.constant(np.arange(6.0).reshape(2, 3))
        with gc.op_scope([x], None, "my_op"):
            y = gc.identity(x)
        with gc.variable_op_scope([x], None, "layer"):
            w = gc.get_variable("w", [3], initializer=gc.ones_initializer())
        assert y.op.name.startswith("my_op/") and w.op.name == "layer/w"
        doubled = gc.recompute_grad(lambda t: t * 2.0)(x)
        (dx,) = gc.gradients(gc.reduce_sum(doubled), [x])
        mapped = gc.vectorized_map(lambda row: gc.reduce_sum(row * row), x)
        with gc.Session() as sess:
            assert sess.run(dx).tolist() == [[2.0] * 3] * 2
            assert sess.run(mapped).tolist() == [5.0, 50.0]


def test_timestamp_runs_each_time():
    with gc.Graph().as_default():
        t = gc.timestamp()
        with gc.Session() as sess:
            first, second = sess.run(t), sess.run(t)
    assert t.dtype == gc.float64 and 1.7e9 < first <= second


def test_conv2d_backprop_v2_take_the_tensors_themselves():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 5, 5, 2)), rng.standard_normal((3, 3, 2, 4))
    with gc.Graph().as_default():
        dy = gc.constant(rng.standard_normal((1, 5, 5, 4)))
        pairs = [(gc.conv2d_backprop_filter_v2(x, w, dy, [1, 1, 1, 1], "SAME"),
                  gc.nn.conv2d_backprop_filter(x, [3, 3, 2, 4], dy, [1, 1, 1, 1], "SAME")),
                 (gc.conv2d_backprop_input_v2(x, w, dy, [1, 1, 1, 1], "SAME"),
                  gc.nn.conv2d_backprop_input([1, 5, 5, 2], w, dy, [1, 1, 1, 1], "SAME"))]
        with gc.Session() as sess:
            for got, want in sess.run(pairs):
                assert np.array_equal(got, want)


def test_module_finds_variables_and_submodules():
    class Dense(gc.Module):
        def __init__(self, n_in, n_out, name=None):
            super().__init__(name=name)
            with self.name_scope:
                self.w = gc.Variable(np.ones((n_in, n_out)), name="w")
                self.b = gc.Variable(np.zeros(n_out), name="b", trainable=False)

    class MLP(gc.Module):
        def __init__(self):
            super().__init__()
            self.layers = [Dense(3, 4), Dense(4, 2, name="out")]

    with gc.Graph().as_default():
        mlp = MLP()
        assert mlp.name == "mlp" and [m.name for m in mlp.submodules] == ["dense", "out"]
        assert len(mlp.variables) == 4 and len(mlp.trainable_variables) == 2
        assert mlp.layers[1].w.op.name == "out/w"
        class HTTPServer(gc.Module):
            pass
        assert HTTPServer().name == "http_server"
        with pytest.raises(ValueError, match="not a valid module name"):
            gc.Module(name="bad name")
