"""gc.signal beyond TF's recorded values (tests/test_signal_tf.py): gradients of the
composed functions against finite differences, perfect MDCT reconstruction, run-time window
lengths, NaN/Inf and size-0 inputs, second-order gradients, and bad input refused clearly
without changing the graph."""
import numpy as np
import pytest

import graphc as gc
from graphc.ops.signal_dct import dct_matrix

RNG = np.random.default_rng(5)


def _fd_check(build, value, eps=1e-6):
    """JAX's inner-product check of d sum(C * f(x)) / dx along a random direction."""
    with gc.Graph().as_default():
        x = gc.placeholder(gc.float64, value.shape)
        out = build(x)
        with gc.Session() as sess:
            shape = sess.run(gc.shape(out), {x: value})
        weights = gc.constant(RNG.normal(size=tuple(shape)))
        objective = gc.reduce_sum(out * weights)
        grad = gc.gradients(objective, x)[0]
        direction = RNG.normal(size=value.shape)
        with gc.Session() as sess:
            analytic = float(np.sum(sess.run(grad, {x: value}) * direction))
            plus = sess.run(objective, {x: value + eps * direction})
            minus = sess.run(objective, {x: value - eps * direction})
    numeric = (plus - minus) / (2 * eps)
    assert abs(numeric - analytic) <= 1e-6 * max(1.0, abs(numeric)), (numeric, analytic)


@pytest.mark.parametrize("build", [
    lambda x: gc.signal.mdct(x, 16),
    lambda x: gc.signal.mdct(x, 8, window_fn=gc.signal.kaiser_bessel_derived_window,
                             pad_end=True, norm="ortho"),
    lambda x: gc.signal.inverse_mdct(gc.reshape(x, [2, 5, 8])),
    lambda x: gc.signal.mfccs_from_log_mel_spectrograms(gc.reshape(x, [4, 20])),
    lambda x: gc.signal.frame(x, 7, 3, pad_end=True, axis=0),
    lambda x: gc.signal.overlap_and_add(gc.reshape(x, [2, 10, 4]), 3),
    lambda x: gc.signal.idct(x, type=1, n=50),
    lambda x: gc.signal.fftshift(gc.reshape(x, [8, 10]), axes=(0, 1)),
], ids=["mdct", "mdct_kbd_ortho", "inverse_mdct", "mfcc", "frame_axis0", "ola", "idct1_n",
        "fftshift"])
def test_gradients_match_finite_differences(build):
    _fd_check(build, RNG.normal(size=(2, 40)))


def test_second_order_gradient_of_frame_and_dct():
    """The adjoint ops are differentiable again: d/dx <grad f(x), v> for a quadratic f."""
    with gc.Graph().as_default():
        x = gc.placeholder(gc.float64, [3, 12])
        y = gc.signal.dct(gc.signal.frame(x, 5, 2, pad_end=True), type=3)
        first = gc.gradients(gc.reduce_sum(y * y), x)[0]
        second = gc.gradients(gc.reduce_sum(first), x)[0]
        value = RNG.normal(size=(3, 12))
        with gc.Session() as sess:
            got = sess.run(second, {x: value})
    # f = |A x|^2, grad = 2 A^T A x, d sum(grad) / dx = 2 A^T A 1; A's columns: the frames
    # (6 of 5 samples, 2 apart, over 15 samples with the padding) of each basis vector
    columns = []
    for j in range(12):
        basis = np.zeros(15)
        basis[j] = 1.0
        frames = np.stack([basis[2 * i:2 * i + 5] for i in range(6)])
        columns.append((frames @ dct_matrix(5, 3).T).ravel())
    linear = np.stack(columns, 1)
    want = 2 * linear.T @ linear @ np.ones(12)
    np.testing.assert_allclose(got, np.broadcast_to(want, (3, 12)), rtol=1e-10)


@pytest.mark.parametrize("window_fn,norm", [(gc.signal.vorbis_window, None),
                                            (gc.signal.kaiser_bessel_derived_window, "ortho"),
                                            (None, None)])
def test_mdct_then_inverse_reconstructs_the_signal(window_fn, norm):
    audio = RNG.normal(size=(2, 128))
    with gc.Graph().as_default():
        coefficients = gc.signal.mdct(audio, 32, window_fn=window_fn, norm=norm)
        back = gc.signal.inverse_mdct(coefficients, window_fn=window_fn, norm=norm)
        with gc.Session() as sess:
            got = sess.run(back)
    # the first and last half frames have only one window over them
    np.testing.assert_allclose(got[:, 16:-16], audio[:, 16:-16], atol=1e-10)


def test_idct_inverts_dct():
    x = RNG.normal(size=(3, 9))
    with gc.Graph().as_default():
        outs = [gc.signal.idct(gc.signal.dct(x, type=t, norm="ortho"), type=t, norm="ortho")
                for t in (2, 3, 4)]
        outs.append(gc.signal.idct(gc.signal.dct(x, type=2), type=2) * (0.5 / 9))
        outs.append(gc.signal.idct(gc.signal.dct(x, type=1), type=1) * (0.5 / 8))
        with gc.Session() as sess:
            for got in sess.run(outs):
                np.testing.assert_allclose(got, x, atol=1e-12)


@pytest.mark.parametrize("length", [0, 1, 2, 5, 8])
@pytest.mark.parametrize("periodic", [True, False])
def test_window_length_known_only_at_run_time(length, periodic):
    """The where() path TF takes through tf.cond: a run-time length of 1 gives [1]."""
    with gc.Graph().as_default():
        fed = gc.placeholder(gc.int32, [])
        dynamic = gc.signal.hann_window(fed, periodic=periodic, dtype=gc.float64)
        assert dynamic.shape.as_list() == [None]
        static = gc.signal.hann_window(length, periodic=periodic, dtype=gc.float64)
        vorbis = gc.signal.vorbis_window(fed, dtype=gc.float64)
        with gc.Session() as sess:
            got, want, vorbis_got = sess.run([dynamic, static, vorbis], {fed: length})
    np.testing.assert_allclose(got, want, rtol=1e-15)
    assert vorbis_got.shape == (length,)
    if length > 1:
        # TF's periodic flag acts on even lengths only
        symmetric_length = length + (periodic and length % 2 == 0)
        np.testing.assert_allclose(want, np.hanning(symmetric_length)[:length], atol=1e-15)


def test_nan_and_inf_propagate_as_in_numpy():
    x = np.array([[1.0, np.nan, 2.0, 3.0], [np.inf, 0.0, -0.0, 1.0]])
    with gc.Graph().as_default():
        framed, transformed = gc.signal.frame(x, 2, 1), gc.signal.dct(x, norm="ortho")
        with gc.Session() as sess:
            frames, coefficients = sess.run([framed, transformed])
    assert np.isnan(frames[0, 0, 1]) and np.isnan(frames[0, 1, 0]) and frames[0, 2, 0] == 2.0
    assert np.isnan(coefficients[0]).all() and not np.isfinite(coefficients[1]).all()
    assert np.signbit(frames[1, 1, 1]) and not np.signbit(frames[1, 1, 0])  # -0.0 copied


def test_size_zero_inputs():
    """Empty batches and signals; no frames gives TF's length max(0, frame_length - step)
    (TF's own mdct fails on an empty batch: its RFFT refuses the shape)."""
    with gc.Graph().as_default():
        outs = [gc.signal.frame(np.zeros((0, 6)), 4, 2), gc.signal.overlap_and_add(
            np.zeros((3, 0, 4)), 2), gc.signal.dct(np.zeros((0, 8)), type=4),
            gc.signal.mdct(np.zeros((0, 32)), 16), gc.signal.fftshift(np.zeros((0, 3)))]
        assert [o.shape.as_list() for o in outs] == [[0, 2, 4], [3, 2], [0, 8], [0, 3, 8],
                                                     [0, 3]]
        with gc.Session() as sess:
            assert [v.shape for v in sess.run(outs)] == [(0, 2, 4), (3, 2), (0, 8),
                                                         (0, 3, 8), (0, 3)]


def _refused(build, error, match):
    """``build(x)`` makes the inputs it needs and returns the call that must fail."""
    graph = gc.Graph()
    with graph.as_default():
        x = gc.placeholder(gc.float32, [2, 16], name="x")
        call = build(x)  # makes the inputs the call needs, then the call must change nothing
        before = [op.name for op in graph.get_operations()]
        with pytest.raises(error, match=match):
            call()
        assert [op.name for op in graph.get_operations()] == before


@pytest.mark.parametrize("build,error,match", [
    (lambda x: lambda: gc.signal.hann_window(4, dtype=gc.int32), ValueError,
     "hann_window: dtype must be a floating point type, got int32"),
    (lambda x: lambda: gc.signal.kaiser_window([4, 4]), ValueError,
     r"kaiser_window: window_length must be a scalar, got shape \(2,\)"),
    (lambda x: lambda: gc.signal.hamming_window(4, periodic=[True, False]), ValueError,
     "periodic must be a scalar"),
    (lambda x: lambda: gc.signal.vorbis_window(4.5), TypeError, "float"),
    (lambda x: lambda: gc.signal.mdct(x, 10), ValueError, "multiple of 4"),
    (lambda x: lambda: gc.signal.mdct(x, [8]), ValueError, r"frame_length must be a scalar"),
    (lambda x: (lambda y=x[0]: lambda: gc.signal.inverse_mdct(y))(), ValueError,
     r"rank >= 2, got shape \(16,\)"),
    (lambda x: lambda: gc.signal.inverse_mdct(x, norm="forward"), ValueError, "None or 'ortho'"),
    (lambda x: lambda: gc.signal.linear_to_mel_weight_matrix(0), ValueError, "num_mel_bins"),
    (lambda x: lambda: gc.signal.linear_to_mel_weight_matrix(upper_edge_hertz=5000.0),
     ValueError, "Nyquist"),
    (lambda x: lambda: gc.signal.linear_to_mel_weight_matrix(lower_edge_hertz=4000.0),
     ValueError, "lower_edge_hertz 4000.0 >= upper_edge_hertz 3800.0"),
    (lambda x: lambda: gc.signal.linear_to_mel_weight_matrix(dtype=gc.int32), ValueError,
     "floating"),
    (lambda x: (lambda y=x[:, :0]: lambda: gc.signal.mfccs_from_log_mel_spectrograms(y))(),
     ValueError, "num_mel_bins must be positive"),
    (lambda x: lambda: gc.signal.dct(x, axis=0), NotImplementedError, r"axis must be -1"),
    (lambda x: lambda: gc.signal.idct(x, type=1, norm="ortho"), ValueError, "type-I"),
    (lambda x: (lambda y=gc.cast(x, gc.float16): lambda: gc.signal.dct(y))(), TypeError,
     r"dct requires a float32 or float64 input, got float16"),
    (lambda x: lambda: gc.signal.frame(x, 4, 2, pad_value=[1.0, 2.0]), ValueError,
     "pad_value must be a scalar"),
    (lambda x: (lambda y=gc.constant(2.0): lambda: gc.signal.frame(x, 4, y))(), TypeError,
     "frame_step must be an integer, got float32"),
    (lambda x: (lambda y=gc.constant([1, 2]): lambda: gc.signal.overlap_and_add(x, y))(),
     ValueError, r"frame_step must be a scalar, got shape \(2,\)"),
    (lambda x: lambda: gc.signal.fftshift(x, axes=2), ValueError, "out of range"),
    (lambda x: (lambda y=gc.placeholder(gc.int32, []):
                lambda: gc.signal.inverse_stft_window_fn(y)(8, gc.float32))(),
     ValueError, "needs frame_step when the graph is built"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_bad_input_is_refused_clearly_and_changes_nothing(build, error, match):
    _refused(build, error, match)


def test_frame_error_names_the_op_shapes_and_dtypes():
    with gc.Graph().as_default():
        x = gc.placeholder(gc.float32, [2, 16])
        with pytest.raises(ValueError) as info:
            gc.signal.frame(x, gc.constant([4, 4]), 2)
    message = str(info.value)
    assert "frame" in message and "(2, 16)" in message and "float32" in message, message


def test_exposed_like_tf():
    assert gc.compat.v1.signal is gc.signal
    assert gc.signal.dct.__name__ == "dct" and not hasattr(gc.signal, "stft")
