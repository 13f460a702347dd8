"""Run-time failures name the op, its inputs' shapes and dtypes, and the user's line."""
import sys

import numpy as np
import pytest

import graphc as gc


def test_kernel_failure_is_reported_with_context():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float32, (None, 3), name="x")
        line = sys._getframe().f_lineno + 1
        flat = gc.reshape(x, [4, -1], name="flat")
    with gc.Session(graph=g) as sess:
        with pytest.raises(gc.errors.InvalidArgumentError) as info:
            sess.run(flat, {x: np.ones((3, 3))})
    message = str(info.value)
    assert "op 'flat' (reshape" in message and f"{__file__}:{line}" in message
    assert "'x:0' float32 (?, 3) got value of shape (3, 3)" in message
    assert info.value.op is flat.op


def test_nan_is_a_value_but_check_numerics_fails():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float64, (2,), name="x")
        y = gc.log(x)
        checked = gc.check_numerics(y, "log went bad")
    with gc.Session(graph=g) as sess:
        out = sess.run(y, {x: [-1.0, 0.0]})
        assert np.isnan(out[0]) and np.isneginf(out[1])
        with pytest.raises(gc.errors.InvalidArgumentError, match="log went bad : Tensor had NaN"):
            sess.run(checked, {x: [-1.0, 1.0]})


def test_sparse_labels_out_of_range_fail_at_run_time():
    g = gc.Graph()
    with g.as_default():
        labels = gc.placeholder(gc.int32, (None,), name="labels")
        logits = gc.placeholder(gc.float32, (None, 3), name="logits")
        loss = gc.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    with gc.Session(graph=g) as sess:
        with pytest.raises(gc.errors.InvalidArgumentError, match="label value of 3"):
            sess.run(loss, {labels: [0, 3], logits: np.zeros((2, 3))})


def test_broadcast_mismatch_with_unknown_dims_fails_at_run_time():
    g = gc.Graph()
    with g.as_default():
        a = gc.placeholder(gc.float32, (None,), name="a")
        b = gc.placeholder(gc.float32, (None,), name="b")
        total = gc.add(a, b, name="total")
    with gc.Session(graph=g) as sess:
        with pytest.raises(gc.errors.InvalidArgumentError, match="op 'total' \\(add"):
            sess.run(total, {a: np.ones(2), b: np.ones(3)})
