"""custom_gradient, make_template, identity_n, ensure_shape, shape_n, the broadcast shape
helpers, init_scope, is_tensor and NotDifferentiable (TF1 graph-mode semantics)."""
import numpy as np
import pytest

import graphc as gc


def _run(fetches, feeds=None):
    with gc.Session() as sess:
        sess.run(gc.global_variables_initializer())
        return sess.run(fetches, feeds)


def test_custom_gradient_replaces_the_gradient_of_the_ops_inside():
    @gc.custom_gradient
    def log1pexp(x):
        e = gc.exp(x)
        return gc.log(1 + e), lambda dy: dy * (1 - 1 / (1 + e))  # stable at x = 100
    with gc.Graph().as_default():
        x = gc.constant([0.0, 100.0])
        y = log1pexp(x)
        grad, = gc.gradients(gc.reduce_sum(y), [x])
        naive, = gc.gradients(gc.reduce_sum(gc.log(1 + gc.exp(x))), [x])
        got = _run([grad, naive])
    np.testing.assert_allclose(got[0], [0.5, 1.0])
    assert np.isnan(got[1][1])  # inf / inf: why the custom gradient exists


def test_custom_gradient_with_several_inputs_outputs_and_variables():
    with gc.Graph().as_default():
        w = gc.Variable(3.0, name="w")

        @gc.custom_gradient
        def pair(a, b):
            def grad(da, db, variables=None):
                assert [v.op.name for v in variables] == ["w"]
                return [da * 10.0, db * 20.0], [gc.reduce_sum(da) + 1000.0]
            return [a * w, b + 1.0], grad
        a, b = gc.constant([1.0, 2.0]), gc.constant(5.0)
        out_a, out_b = pair(a, b)
        grads = gc.gradients(gc.reduce_sum(out_a) + out_b, [a, b, w])
        got = _run([out_a, out_b] + grads)
    np.testing.assert_allclose(got[0], [3.0, 6.0])
    assert got[1] == 6.0
    np.testing.assert_allclose(got[2], [10.0, 10.0])
    assert got[3] == 20.0 and got[4] == 1002.0


def test_custom_gradient_that_reads_variables_needs_a_variables_argument():
    with gc.Graph().as_default():
        w = gc.Variable(2.0)

        @gc.custom_gradient
        def scaled(x):
            return x * w, lambda dy: dy
        with pytest.raises(TypeError, match="must take a 'variables' keyword"):
            scaled(gc.constant(1.0))


def test_make_template_shares_variables_and_refuses_new_ones_later():
    with gc.Graph().as_default():
        dense = gc.make_template("encoder", lambda x: gc.layers.dense(x, 3, name="proj"))
        first, second = dense(gc.zeros([2, 4])), dense(gc.ones([2, 4]))
        assert sorted(v.op.name for v in gc.trainable_variables()) == \
            ["encoder/proj/bias", "encoder/proj/kernel"]
        assert len(dense.trainable_variables) == 2 and dense.variable_scope_name == "encoder"
        got = _run([first, second])
        assert got[0].shape == got[1].shape == (2, 3)

        calls = []

        def grows(x):
            calls.append(1)
            return x * gc.Variable(1.0, name=f"v{len(calls)}")
        bad = gc.make_template("grows", grows)
        bad(gc.constant(1.0))
        with pytest.raises(ValueError, match="Trainable variable created when calling a "
                                             "template after the first time"):
            bad(gc.constant(2.0))


def test_identity_n_ensure_shape_and_shape_helpers():
    with gc.Graph().as_default():
        x = gc.placeholder(gc.float32, [None, None])
        checked = gc.ensure_shape(x, [None, 3])
        assert checked.shape.as_list() == [None, 3]
        a, b = gc.identity_n([x, gc.constant([1, 2])])
        sa, sb = gc.shape_n([x, b])
        both = gc.broadcast_dynamic_shape(gc.constant([2, 1, 3]), gc.constant([4, 1]))
        got = _run([checked, a, sa, sb, both], {x: np.ones((2, 3), np.float32)})
        assert got[0].shape == (2, 3) and got[1].shape == (2, 3)
        np.testing.assert_array_equal(got[2], [2, 3])
        np.testing.assert_array_equal(got[4], [2, 4, 3])
        with pytest.raises(gc.errors.InvalidArgumentError, match=r"EnsureShape.*not compatible"):
            _run(checked, {x: np.ones((2, 4), np.float32)})
        with pytest.raises(ValueError, match="not compatible"):
            gc.ensure_shape(gc.zeros([2, 2]), [3, 2])
    assert gc.broadcast_static_shape(gc.TensorShape([2, 1]), gc.TensorShape([None, 3])) \
        .as_list() == [2, 3]
    with pytest.raises(ValueError, match="Incompatible shapes for broadcasting"):
        gc.broadcast_static_shape(gc.TensorShape([2]), gc.TensorShape([3]))


def test_init_scope_is_tensor_and_not_differentiable():
    with gc.Graph().as_default():
        marker = gc.no_op()
        with gc.control_dependencies([marker]):
            inside = gc.constant(1.0)
            with gc.init_scope():
                outside = gc.constant(2.0)
        assert marker in inside.op.control_inputs and not outside.op.control_inputs
        assert gc.is_tensor(inside) and gc.is_tensor(gc.Variable(1.0)) and not gc.is_tensor(1)
    gc.NotDifferentiable("Shape")  # shape has no gradient already: nothing to change
    with pytest.raises(ValueError, match="has a gradient rule"):
        gc.NotDifferentiable("MatMul")
