"""graphc.ops.update_loops: the SGD update ``current - scale * delta`` as one compiled pass,
bitwise NumPy's two calls (infinities, signed zeros, subnormals, both operand orders, float32
and float64), with any NaN result sent back to NumPy, and a training step's variables
bitwise the unoptimized graph's."""
import numpy as np
import pytest

import graphc as gc
from graphc.ops import scaled_update
from graphc.ops.update_loops import HAVE_NUMBA, update_loop

needs_numba = pytest.mark.skipif(not HAVE_NUMBA, reason="the compiled loop needs numba")


def _values(size, seed, dtype):
    rng = np.random.default_rng(seed)
    values = (rng.standard_normal(size) * 10.0 ** rng.integers(-30, 30, size)).astype(dtype)
    tiny = np.finfo(dtype).smallest_subnormal
    values[:6] = [0.0, -0.0, np.inf, -np.inf, tiny, -tiny]
    return values


def _numpy(current, scale, delta, scale_first):
    product = np.multiply(scale, delta) if scale_first else np.multiply(delta, scale)
    return np.subtract(current, product)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale_first", [True, False])
@pytest.mark.parametrize("scale", [0.01, -3.0, 0.0, 1e-30])
def test_the_loop_is_bitwise_the_two_numpy_calls(dtype, scale_first, scale):
    current, delta = _values(10_000, 0, dtype), _values(10_000, 1, dtype)
    delta[6:12] = [np.inf, -np.inf, 0.0, -0.0, 1e30, -1e30]  # inf - inf: NaN where it meets
    current[6:12] = [1.0, 1.0, -0.0, 0.0, np.inf, -np.inf]
    scale = dtype(scale)
    with np.errstate(all="ignore"):
        want = _numpy(current, scale, delta, scale_first)
        out = np.full_like(current, 7.0)
        nans = update_loop()(current, delta, scale, scale_first, out)
    assert nans == np.isnan(want).sum()
    finite = ~np.isnan(want)
    assert out[finite].tobytes() == want[finite].tobytes()


@needs_numba
def test_a_nan_result_takes_numpy_and_every_update_ends_bitwise(monkeypatch):
    """Through the op: a NaN in the gradient makes the loop report it and the NumPy calls
    write the update (their payloads), so the variable ends where the two ops leave it."""
    calls = []
    real = update_loop()

    def counting(*args):
        calls.append(real(*args))
        return calls[-1]
    monkeypatch.setattr(scaled_update, "update_loop", lambda: counting)
    delta = np.random.default_rng(2).standard_normal(scaled_update.LOOP_MIN_SIZE)
    delta = delta.astype(np.float32)
    for planted in (None, 17):
        if planted is not None:
            delta[planted] = np.float32(np.nan)
        results = []
        for optimize in (True, False):
            graph = gc.Graph()
            with graph.as_default():
                v = gc.Variable(_values(delta.size, 3, np.float32))
                d = gc.placeholder(gc.float32, [delta.size])
                step = gc.assign_sub(v, gc.constant(np.float32(0.5)) * d)
                with gc.Session(graph=graph, optimize=optimize) as sess:
                    sess.run(v.initializer)
                    for _ in range(2):
                        sess.run(step.op, {d: delta})
                    results.append(sess.run(v))
        assert results[0].tobytes() == results[1].tobytes()
    assert calls and calls[0] == 0 and calls[-1] > 0  # clean first, then the planted NaN


@needs_numba
def test_small_strided_and_mixed_dtype_updates_stay_on_numpy(monkeypatch):
    monkeypatch.setattr(scaled_update, "update_loop", lambda: pytest.fail("not for these"))
    take = scaled_update._compiled_update
    big = np.ones(scaled_update.LOOP_MIN_SIZE * 2, np.float32)
    assert not take(big[:10], np.float32(1), big[:10], True, np.empty(10, np.float32))
    strided = big[::2]
    assert not take(strided, np.float32(1), strided.copy(), True, np.empty_like(strided))
    assert not take(big, np.float64(1), big, True, np.empty_like(big))  # a float64 scale
    ints = np.ones(big.size, np.int32)
    assert not take(ints, np.int32(1), ints, True, np.empty_like(ints))
