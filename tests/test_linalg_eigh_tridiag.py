"""gc.linalg.eigh_tridiagonal (graphc/linalg_eigh_tridiag.py) against TensorFlow's values
and eigenvectors (tests/data/tf_lu.npz, made by tests/data/make_tf_lu.py with TF 2.21),
against SciPy, and its errors. The eigenvalues come from TF's bisection, op for op, and
agree to rounding; the eigenvectors agree up to each one's sign (the last pivot of the
nearly singular shifted solve decides it, and TF's tridiagonal solver rounds differently
from graphc's dense one) and, within clusters of eigenvalues closer than sqrt(eps) |A|,
up to a rotation of the cluster's basis: there the test checks orthonormality and A v = e v.
"""
import pathlib

import numpy as np
import pytest
import scipy.linalg

import graphc as gc

TF = np.load(pathlib.Path(__file__).parent / "data" / "tf_lu.npz")
CASES = sorted({k.split("/")[1] for k in TF.files if k.startswith("eigh_tridiagonal/")})
KWARGS = {
    "by_index": {"select": "i", "select_range": [2, 5]},
    "by_value": {"select": "v", "select_range": [-0.5, 1.0]},
    "tolerance": {"tol": 1e-3},
    "vectors_by_value": {"eigvals_only": False, "select": "v", "select_range": [-1.0, 1.0]},
}


def run(fetches):
    with gc.Session() as sess:
        return sess.run(fetches)


@pytest.mark.parametrize("case", CASES)
def test_matches_tensorflow(case):
    alpha, beta = TF[f"eigh_tridiagonal/{case}/alpha"], TF[f"eigh_tridiagonal/{case}/beta"]
    kwargs = dict(KWARGS.get(case, {}))
    with_vectors = f"eigh_tridiagonal/{case}/vectors" in TF.files
    if with_vectors:
        kwargs["eigvals_only"] = False
    with gc.Graph().as_default():
        got = run(gc.linalg.eigh_tridiagonal(alpha, beta, **kwargs))
    values = got[0] if with_vectors else got
    eps = np.finfo(alpha.dtype).eps
    scale = np.abs(alpha).max() + 2 * np.abs(beta).max()
    assert values.dtype == alpha.dtype
    np.testing.assert_allclose(values, TF[f"eigh_tridiagonal/{case}/values"], rtol=0,
                               atol=8 * eps * scale)
    if with_vectors:
        vectors, want = got[1], TF[f"eigh_tridiagonal/{case}/vectors"]
        matrix = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
        np.testing.assert_allclose(matrix @ vectors, vectors * values, atol=1e2 * eps * scale)
        # an eigenvector is determined to about eps |A| / (gap to the next eigenvalue):
        # inverse iteration loses orthogonality there (TF's own W21+ vectors by 1.3e-10)
        gaps = np.diff(values)
        nearest = np.minimum(np.append(np.inf, gaps), np.append(gaps, np.inf))
        sensitivity = 1e3 * eps + 10 * eps * scale / nearest
        np.testing.assert_allclose(vectors.T @ vectors, np.eye(len(values)),
                                   atol=10 * sensitivity.max() if len(values) > 1 else eps)
        signs = np.sign(np.sum(vectors * want, axis=0))
        clustered = nearest < np.sqrt(eps) * np.abs(values).max()  # rotated within
        difference = np.abs(vectors * signs - want).max(axis=0)
        assert (difference <= sensitivity)[~clustered].all(), (difference, sensitivity)


def test_matches_scipy():
    rng = np.random.default_rng(3)
    alpha, beta = rng.standard_normal(30), rng.standard_normal(29)
    with gc.Graph().as_default():
        got = run(gc.linalg.eigh_tridiagonal(alpha, beta))
    np.testing.assert_allclose(got, scipy.linalg.eigh_tridiagonal(alpha, beta, True),
                               rtol=0, atol=1e-13)


def test_a_one_by_one_matrix_returns_alpha_as_tensorflow_does():
    with gc.Graph().as_default():
        np.testing.assert_array_equal(run(gc.linalg.eigh_tridiagonal([3.0], [],
                                                                     eigvals_only=False)),
                                      [3.0])


def test_an_empty_select_range_fails():
    """(At build time for constant bounds, as TF's assert_less; at run time for fed ones.)"""
    with gc.Graph().as_default():
        with pytest.raises(gc.errors.InvalidArgumentError, match="empty interval"):
            gc.linalg.eigh_tridiagonal([1.0, 2.0, 3.0], [1.0, 1.0], select="v",
                                       select_range=[1.0, 0.0])
        low = gc.placeholder(gc.float32, [])
        values = gc.linalg.eigh_tridiagonal([1.0, 2.0, 3.0], [1.0, 1.0], select="v",
                                            select_range=[low, 0.0])
        with pytest.raises(gc.errors.InvalidArgumentError, match="empty interval"):
            with gc.Session() as sess:
                sess.run(values, {low: 1.0})


@pytest.mark.parametrize("build, error, match", [
    (lambda: gc.linalg.eigh_tridiagonal([1.0, 2.0], np.array([1.0])), ValueError,
     "same type.*float32 and float64"),
    (lambda: gc.linalg.eigh_tridiagonal([1.0, 2.0, 3.0], [1.0]), ValueError,
     r"length n - 1 = 2, got shape \(1,\)"),
    (lambda: gc.linalg.eigh_tridiagonal([[1.0, 2.0]], [1.0]), ValueError, "vector"),
    (lambda: gc.linalg.eigh_tridiagonal([1, 2], [1]), TypeError, "int32"),
    (lambda: gc.linalg.eigh_tridiagonal([1.0, 2.0], [1.0], select="x"), ValueError,
     "select must be one of"),
])
def test_bad_input_is_refused_clearly(build, error, match):
    with gc.Graph().as_default():
        with pytest.raises(error, match=match):
            build()


def test_eager_call():
    """In eager mode too (its loops trace where(cond, x, y) with the eager operand in the
    middle, which graphc's eager records once mistook for a graph tensor)."""
    alpha, beta = TF["eigh_tridiagonal/all/alpha"], TF["eigh_tridiagonal/all/beta"]
    with gc.eager():
        got = np.asarray(gc.linalg.eigh_tridiagonal(alpha, beta))
    np.testing.assert_allclose(got, TF["eigh_tridiagonal/all/values"], rtol=0, atol=1e-14)
