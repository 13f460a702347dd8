"""gc.signal against TensorFlow 2.21's tf.signal (tests/data/tf_signal.npz, made by
tests/data/make_tf_signal.py from the cases of tests/signal_cases.py): values and gradients
in float32 and float64, shapes known and unknown at build time."""
import pathlib

import numpy as np
import pytest

import graphc as gc
from tests.signal_cases import DTYPES, call, cases, cotangent

TF = np.load(pathlib.Path(__file__).parent / "data" / "tf_signal.npz")
CASES = cases()
# float32: TF computes DCTs by complex FFTs and graphc by scipy's real transforms; both are
# within a few float32 ulps of the exact values, scaled by the transform's size
TOLERANCE = {"float32": dict(rtol=2e-5, atol=2e-5), "float64": dict(rtol=1e-11, atol=1e-11)}


def _run(function, value, kwargs, dtype_name, unknown_dims):
    with gc.Graph().as_default():
        dtype = gc.as_dtype(dtype_name)
        feeds, x = {}, None
        if value is not None:
            declared = [None] * value.ndim if unknown_dims else list(value.shape)
            x = gc.placeholder(dtype, declared)
            feeds[x] = value.astype(dtype_name)
        out = call(gc.signal, function, x, kwargs, dtype)
        fetches = [out]
        if x is not None:
            with gc.Session() as sess:
                shape = sess.run(gc.shape(out), feeds)
            objective = gc.reduce_sum(out * gc.constant(cotangent(tuple(shape)), dtype=dtype))
            fetches.append(gc.gradients(objective, x)[0])
        with gc.Session() as sess:
            return out, sess.run(fetches, feeds)


@pytest.mark.parametrize("dtype_name", DTYPES)
@pytest.mark.parametrize("key,function,value,kwargs", CASES, ids=[c[0] for c in CASES])
def test_values_and_gradients_are_tfs(key, function, value, kwargs, dtype_name):
    out, got = _run(function, value, kwargs, dtype_name, unknown_dims=False)
    want = TF[f"{key}/{dtype_name}"]
    assert got[0].dtype == want.dtype and got[0].shape == want.shape, (got[0].shape, want.shape)
    assert out.shape.is_compatible_with(want.shape)
    assert out.shape.is_fully_defined() or value is None, out.shape  # static shapes inferred
    np.testing.assert_allclose(got[0], want, **TOLERANCE[dtype_name])
    if value is not None:
        grad = got[1] if got[1] is not None else np.zeros(value.shape)
        np.testing.assert_allclose(grad, TF[f"{key}/{dtype_name}/grad"],
                                   **TOLERANCE[dtype_name])


UNKNOWN_OK = [c for c in CASES if c[2] is not None and c[1] not in ("inverse_mdct", "fftshift",
                                                                     "ifftshift")]


@pytest.mark.parametrize("key,function,value,kwargs", UNKNOWN_OK, ids=[c[0] for c in UNKNOWN_OK])
def test_unknown_dims_give_the_same_values(key, function, value, kwargs):
    """Every dim unknown at build time (frame counts and DCT lengths found at run time)."""
    _, got = _run(function, value, kwargs, "float64", unknown_dims=True)
    np.testing.assert_allclose(got[0], TF[f"{key}/float64"], **TOLERANCE["float64"])
    np.testing.assert_allclose(got[1], TF[f"{key}/float64/grad"], **TOLERANCE["float64"])
