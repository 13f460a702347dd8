"""Eager variables are values (TF2): numpy(), value() now, printing and conversions."""
import numpy as np
import pytest

import graphc as gc


def test_numpy_value_and_read_value_give_the_value_now():
    with gc.eager():
        v = gc.Variable([1.0, 2.0], name="v")
        np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])
        v.assign([3.0, 4.0])
        for now in (v.numpy(), v.value().numpy(), v.read_value().numpy(), np.asarray(v)):
            np.testing.assert_array_equal(now, [3.0, 4.0])
        with pytest.raises(ValueError):
            v.numpy()[0] = 9.0  # read-only: the variable is changed by assign only


def test_assigns_return_the_new_value():
    with gc.eager():
        w = gc.Variable(3, name="w")
        assert int(w.assign_add(2)) == 5 and w.assign_sub(1).numpy() == 4
        assert w.assign(10).numpy() == 10 and int(w) == 10 and float(w) == 10.0
        assert bool(w) and f"{w:d}" == "10"


def test_printing_shows_the_value():
    with gc.eager():
        v = gc.Variable([1.5, 2.5], name="printed")
        assert repr(v) == ("<gc.Variable 'printed:0' shape=(2,) dtype=float32, "
                           "numpy=[1.5, 2.5]>")
        assert "numpy=[1.5, 2.5]" in str(v)


def test_gradients_see_value_reads():
    with gc.eager():
        v = gc.Variable([1.0, 2.0], name="g")
        with gc.GradientTape() as tape:
            loss = gc.reduce_sum(v.value() * v.value())
        np.testing.assert_allclose(tape.gradient(loss, v).numpy(), [2.0, 4.0])


def test_graph_mode_variables_keep_their_behaviour():
    with gc.Graph().as_default():
        u = gc.Variable([1.0], name="u")
        assert repr(u) == "<gc.Variable 'u:0' shape=(1,) dtype=float32>"
        assert u.value().name == "u/read:0" and bool(u)
        with pytest.raises(NotImplementedError, match="eager execution"):
            u.numpy()
