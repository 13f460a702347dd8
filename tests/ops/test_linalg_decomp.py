"""svd, qr and the symmetric eigensolvers: reconstruction, orthogonality, agreement with
NumPy up to the sign freedom of the factors, and gradients against finite differences of
sign-independent functions of them (float64)."""
import numpy as np
import pytest

import graphc as gc

RNG = np.random.default_rng(3)


def _fd_check(build, x0, eps=1e-6, rtol=1e-5):
    """The gradient of the scalar build(x) at x0 against central finite differences along a
    random direction."""
    with gc.Graph().as_default():
        x = gc.placeholder(gc.float64, x0.shape)
        y = build(x)
        grad, = gc.gradients(y, [x])
        with gc.Session() as sess:
            g = sess.run(grad, {x: x0})
            direction = RNG.standard_normal(x0.shape)
            up = sess.run(y, {x: x0 + eps * direction})
            down = sess.run(y, {x: x0 - eps * direction})
    np.testing.assert_allclose(np.sum(g * direction), (up - down) / (2 * eps), rtol=rtol,
                               atol=1e-8)


def _weights(shape):
    return RNG.standard_normal(shape)


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (3, 3), (2, 4, 3)])
def test_svd_reconstructs_and_matches_numpy(shape):
    a = RNG.standard_normal(shape)
    with gc.Graph().as_default():
        s, u, v = gc.linalg.svd(a)
        only_s = gc.svd(a, compute_uv=False)
        with gc.Session() as sess:
            s_, u_, v_, only = sess.run([s, u, v, only_s])
    np.testing.assert_allclose(u_ @ (s_[..., :, None] * np.swapaxes(v_, -1, -2)), a,
                               atol=1e-12)
    np.testing.assert_allclose(s_, np.linalg.svd(a, compute_uv=False), rtol=1e-12)
    np.testing.assert_allclose(only, s_, rtol=1e-12)


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (3, 3)])
def test_svd_gradients_match_finite_differences(shape):
    a0 = RNG.standard_normal(shape)
    k = min(shape)
    w_s = _weights((k,))
    # sign-free functions of the factors: singular values, and u diag(s) v^T pieces
    _fd_check(lambda a: gc.reduce_sum(gc.linalg.svd(a, compute_uv=False) * w_s), a0)
    w_uv = RNG.standard_normal(shape)

    def projection(a):
        s, u, v = gc.linalg.svd(a)
        return gc.reduce_sum(gc.matmul(u * s[..., None, :] * s[..., None, :], v,
                                       transpose_b=True) * w_uv)
    _fd_check(projection, a0)

    def left_vectors(a):
        s, u, v = gc.linalg.svd(a)
        return gc.reduce_sum(gc.matmul(u, u, transpose_b=True) * w_uv[:, :1])
    _fd_check(left_vectors, a0)


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 5)])
def test_qr_reconstructs_and_its_gradient_matches_finite_differences(shape):
    a0 = RNG.standard_normal(shape)
    with gc.Graph().as_default():
        q, r = gc.linalg.qr(a0)
        with gc.Session() as sess:
            q_, r_ = sess.run([q, r])
    np.testing.assert_allclose(q_ @ r_, a0, atol=1e-12)
    np.testing.assert_allclose(q_.T @ q_, np.eye(q_.shape[1]), atol=1e-12)
    assert np.allclose(np.tril(r_, -1), 0)
    w_q, w_r = RNG.standard_normal(q_.shape), RNG.standard_normal(r_.shape)
    # numpy's (and TF's) Householder QR is smooth where a has full rank: signs are fixed
    _fd_check(lambda a: gc.reduce_sum(gc.linalg.qr(a).q * w_q) +
              gc.reduce_sum(gc.linalg.qr(a).r * w_r), a0)


def test_eigh_values_vectors_and_gradients():
    base = RNG.standard_normal((4, 4))
    a0 = base + base.T + np.diag([0.0, 3.0, 6.0, 9.0])
    with gc.Graph().as_default():
        e, v = gc.linalg.eigh(a0)
        values = gc.linalg.eigvalsh(a0)
        with gc.Session() as sess:
            e_, v_, values_ = sess.run([e, v, values])
    np.testing.assert_allclose(e_, np.linalg.eigvalsh(a0), rtol=1e-12)
    np.testing.assert_allclose(values_, e_, rtol=1e-12)
    np.testing.assert_allclose(v_ @ np.diag(e_) @ v_.T, a0, atol=1e-12)
    w = RNG.standard_normal(4)
    w_v = RNG.standard_normal((4, 4))
    _fd_check(lambda a: gc.reduce_sum(gc.linalg.eigvalsh(a) * w), a0)
    _fd_check(lambda a: gc.reduce_sum(gc.linalg.eigh(a).e * w), a0)

    def projector(a):  # v diag(w) v^T: independent of the vectors' signs
        e, v = gc.linalg.eigh(a)
        return gc.reduce_sum(gc.matmul(v * w, v, transpose_b=True) * w_v)
    _fd_check(projector, a0)


def test_bad_inputs_are_named():
    with gc.Graph().as_default():
        with pytest.raises(ValueError, match="self_adjoint_eig: input must be square"):
            gc.linalg.eigh(np.zeros((2, 3)))
        with pytest.raises(TypeError, match="svd"):
            gc.linalg.svd(np.zeros((2, 3), np.int32))
        with pytest.raises(ValueError, match="qr: input must have rank >= 2"):
            gc.linalg.qr(np.zeros(3))


def test_linalg_compositions_against_numpy():
    a = RNG.standard_normal((5, 3))
    b = RNG.standard_normal((5, 2))
    wide = RNG.standard_normal((2, 4))
    spd = a.T @ a + np.eye(3)
    with gc.Graph().as_default():
        got = gc.Session().run([
            gc.linalg.matvec(a, b[:, 0][:3]), gc.linalg.cross(a[:, :3], b[:, :1].repeat(3, 1)),
            gc.linalg.pinv(a), gc.linalg.lstsq(a, b), gc.linalg.lstsq(a, b, fast=False),
            gc.linalg.lstsq(wide, b[:2]), gc.matrix_solve_ls(a, b, l2_regularizer=0.5),
            gc.cholesky_solve(np.linalg.cholesky(spd), b[:3]),
            gc.linalg.matrix_rank(np.outer([1.0, 2.0], [3.0, 4.0])),
            gc.linalg.normalize([3.0, 4.0])[0]])
    np.testing.assert_allclose(got[0], a @ b[:3, 0])
    np.testing.assert_allclose(got[1], np.cross(a[:, :3], b[:, :1].repeat(3, 1)))
    np.testing.assert_allclose(got[2], np.linalg.pinv(a), atol=1e-12)
    least = np.linalg.lstsq(a, b, rcond=None)[0]
    np.testing.assert_allclose(got[3], least, atol=1e-10)
    np.testing.assert_allclose(got[4], least, atol=1e-10)
    np.testing.assert_allclose(wide @ got[5], b[:2], atol=1e-10)  # the minimum-norm solution
    np.testing.assert_allclose(got[5], np.linalg.pinv(wide) @ b[:2], atol=1e-10)
    np.testing.assert_allclose(got[6], np.linalg.solve(a.T @ a + 0.5 * np.eye(3), a.T @ b))
    np.testing.assert_allclose(got[7], np.linalg.solve(spd, b[:3]), atol=1e-12)
    assert got[8] == 1
    np.testing.assert_allclose(got[9], [0.6, 0.8])


def test_lstsq_is_differentiable():
    b = RNG.standard_normal((5, 1))
    _fd_check(lambda a: gc.reduce_sum(gc.linalg.lstsq(a, b)), RNG.standard_normal((5, 3)))
