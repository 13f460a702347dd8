"""The compiled LSTM gate loops (graphc/rnn/gate_loops.py) against the NumPy kernels of
graphc/rnn/gates.py: the gradient bitwise, the float32 forward within its stated bound, and
NumPy's values exactly wherever an argument falls outside the polynomials' range."""
import numpy as np
import pytest

from graphc.rnn import gate_loops, gates

pytestmark = pytest.mark.skipif(gate_loops.forward_loop() is None, reason="needs numba")
RNG = np.random.default_rng(3)
EPS32 = np.finfo(np.float32).eps


def inputs(batch, units, dtype=np.float32, scale=4.0):
    z = (RNG.standard_normal((batch, 4 * units)) * scale).astype(dtype)
    c = (RNG.standard_normal((batch, units)) * 2).astype(dtype)
    return z, c


def ulps(a, b):
    return np.abs(a.view(np.int32).astype(np.int64) - b.view(np.int32).astype(np.int64))


@pytest.mark.parametrize("batch, units", [(32, 128), (5, 7), (1, 1), (3, 33)])
@pytest.mark.parametrize("forget_bias", [1.0, 0.0, -0.5])
def test_forward_is_within_its_bound_of_numpy(batch, units, forget_bias):
    z, c = inputs(batch, units)
    got = gates._gates_kernel(z, c, forget_bias)
    want = gates._numpy_gates(z, c, forget_bias)
    new_c, new_h, act, tanh_c = got
    assert [a.dtype for a in got] == [np.float32] * 4 and all(a.flags.c_contiguous for a in got)
    assert ulps(act, want[2]).max() <= 4  # each activation: its op's LoopExpr.ulp
    # c' = c f + i j: each product's inputs within 4 ulp, so within a few eps of the
    # magnitudes summed (a cancellation may make that many ulp of c' itself)
    i, f, j = want[2][gates.I], want[2][gates.F], want[2][gates.J]
    scale = np.abs(c * f) + np.abs(i * j)
    bound = 8 * EPS32 * (scale + 1)  # tanh and h' = tanh(c') o add their own few ulp
    for g, w in zip((new_c, tanh_c, new_h), (want[0], want[3], want[1])):
        assert np.all(np.abs(g.astype(np.float64) - w) <= bound)
    assert not np.array_equal(got[0], want[0]) or batch * units < 16  # the loop really ran


# arguments the polynomials do not cover: exp's beyond +-87 (z at [1, 2] is an input gate's
# pre-activation), NaN and infinities anywhere
OUT_OF_RANGE = [("z", v) for v in (np.nan, np.inf, -np.inf, 200.0, -200.0, 88.0, -87.0)] + \
    [("c", v) for v in (np.nan, np.inf, -np.inf)]


@pytest.mark.parametrize("where, special", OUT_OF_RANGE)
def test_out_of_range_arguments_give_numpys_values_exactly(where, special):
    z, c = inputs(4, 6)
    (z if where == "z" else c)[1, 2] = special
    got = gates._gates_kernel(z, c, 1.0)
    want = gates._numpy_gates(z, c, 1.0)
    for g, w in zip(got, want):
        assert np.array_equal(g, w, equal_nan=True)


def test_signed_zeros_keep_their_sign():
    z, c = inputs(2, 3)
    c[:] = -0.0
    z[:, 3:6] = -0.0  # tanh(j) = -0.0, so c' = -0.0 * f + i * -0.0 = -0.0
    new_c, new_h, _, tanh_c = gates._gates_kernel(z, c, 1.0)
    want = gates._numpy_gates(z, c, 1.0)
    assert np.array_equal(np.signbit(new_c), np.signbit(want[0]))
    assert np.array_equal(np.signbit(tanh_c), np.signbit(want[3]))


@pytest.mark.parametrize("shape", [(0, 4), (3, 0), (0, 0)])
def test_empty_blocks(shape):
    z, c = inputs(*shape)
    for g, w in zip(gates._gates_kernel(z, c, 1.0), gates._numpy_gates(z, c, 1.0)):
        assert g.shape == w.shape and g.dtype == w.dtype
    grads = gates._grad_kernel(c, c, c, np.zeros((4, *shape), np.float32), c)
    assert [g.shape for g in grads] == [(shape[0], 4 * shape[1]), shape]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_is_bitwise_numpys(dtype):
    z, c = inputs(9, 13, dtype)
    _, _, act, tanh_c = gates._numpy_gates(z, c, 1.0)
    d_c, d_h = (RNG.standard_normal(c.shape).astype(dtype) for _ in range(2))
    d_c[0, :4] = [np.nan, np.inf, -np.inf, -0.0]
    d_h[1, :3] = [np.nan, -np.inf, 0.0]
    got = gates._grad_kernel(d_c, d_h, c, act, tanh_c)
    want = gates._numpy_grad(d_c, d_h, c, act, tanh_c)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and np.array_equal(g, w, equal_nan=True)
        assert np.array_equal(np.signbit(g), np.signbit(w))


def test_operands_the_loop_cannot_index_take_the_numpy_kernel():
    z, c = inputs(4, 5)
    _, _, act, tanh_c = gates._numpy_gates(z, c, 1.0)
    row = RNG.standard_normal((1, 5)).astype(np.float32)  # broadcast over the batch
    got = gates._grad_kernel(row, row, c, act, tanh_c)
    for g, w in zip(got, gates._numpy_grad(row, row, c, act, tanh_c)):
        assert np.array_equal(g, w)
    with pytest.raises(ValueError):
        gates._grad_kernel(np.ones((4, 6), np.float32), row, c, act, tanh_c)


def test_half_precision_takes_the_numpy_kernels():
    z, c = inputs(3, 4, np.float16, scale=1.0)
    got = gates._gates_kernel(z, c, 1.0)
    for g, w in zip(got, gates._numpy_gates(z, c, 1.0)):
        assert g.dtype == np.float16 and np.array_equal(g, w)
    _, _, act, tanh_c = got
    grads = gates._grad_kernel(c, c, c, act, tanh_c)
    for g, w in zip(grads, gates._numpy_grad(c, c, c, act, tanh_c)):
        assert g.dtype == np.float16 and np.array_equal(g, w)
