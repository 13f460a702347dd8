"""Writes tf_lu.npz: TensorFlow's tf.linalg.lu, lu_solve, lu_matrix_inverse, lu_reconstruct,
sqrtm and eigh_tridiagonal on the cases below, with gradients from tf.GradientTape and
which inputs TF refuses (run with TensorFlow installed: python tests/data/make_tf_lu.py).
The keys are ``<family>/<case>/<what>``; tests/test_linalg_lu.py and
tests/test_linalg_eigh_tridiag.py rebuild the same graphs in graphc.
"""
import pathlib

import numpy as np
import tensorflow as tf

RNG = np.random.default_rng(2026)
NAN, INF = np.nan, np.inf

# LU inputs: a batch, single matrices of both dtypes, exact ties, NaN and Inf that TF lets
# through (no zero pivot), and the zero-size shapes
LU_CASES = {
    "batch": RNG.standard_normal((2, 3, 4, 4)),
    "single": np.array([[1.0, 2, 3], [4, 5, 6], [7, 8, 10]]),
    "single32": RNG.standard_normal((5, 5)).astype(np.float32),
    "ties": np.array([[1.0, 2, 0], [-1, 3, 1], [1, 0, 2]]),
    "nan_last": np.array([[2.0, 1], [1, NAN]]),
    "nan_pivot_skipped": np.array([[1.0, 0, 0], [NAN, 1, 0], [3, 0, 1]]),
    "inf": np.array([[1.0, 2], [INF, 3]]),
    "big": RNG.standard_normal((20, 20)),  # past Eigen's unblocked size (16)
    "empty_batch": np.zeros((0, 3, 3)),
    "empty_matrix": np.zeros((2, 0, 0)),
}
# inputs TF's Lu refuses ("Input is not invertible")
SINGULAR = {
    "rank_one": np.array([[1.0, 2], [2, 4]]),
    "zeros": np.zeros((3, 3)),
    "zero_column": np.array([[0.0, 1], [0, 2]]),
    "nan_first": np.array([[NAN, 1], [2, 3]]),
    "one_of_batch": np.array([[[1.0, 0], [0, 1]], [[1, 1], [1, 1]]]),
    "subnormal_pivot": np.array([[1e-320, 0], [0, 1]]),
}
SQRTM_CASES = {
    "spd": np.array([[4.0, 1], [1, 3]]),
    "general": RNG.standard_normal((2, 4, 4)) + 4 * np.eye(4),
    "rotation": np.array([[0.0, -1], [1, 0]]),
    "complex_pair": np.array([[1.0, -2], [2, 1]]),
    "upper": np.array([[1.0, 2, 3], [0, 4, 5], [0, 0, 9]]),
    "singular_simple": np.array([[1.0, 1], [1, 1]]),
    "negative_eigenvalue": np.array([[1.0, 2, 3], [4, 5, 6], [7, 8, 10]]),
    "nilpotent": np.array([[0.0, 1], [0, 0]]),
    "zeros": np.zeros((2, 2)),
    "non_finite_in_batch": np.array([[[4.0, 1], [1, 3]], [[INF, 0], [0, 1]]]),
    "float32": (RNG.standard_normal((3, 3)) + 3 * np.eye(3)).astype(np.float32),
    "empty_batch": np.zeros((0, 2, 2)),
}
SQRTM_GRAD_CASES = ("spd", "general", "complex_pair", "float32")
# eigh_tridiagonal: (alpha, beta, keyword arguments); Wilkinson's W21+ has pairs of
# eigenvalues closer than sqrt(eps) |A|, whose eigenvectors TF re-orthogonalizes
WILKINSON = (np.abs(np.arange(21) - 10.0), np.ones(20))
EIGH_TRIDIAGONAL_CASES = {
    "all": (RNG.standard_normal(9), RNG.standard_normal(8), {}),
    "by_index": (RNG.standard_normal(9), RNG.standard_normal(8),
                 {"select": "i", "select_range": [2, 5]}),
    "by_value": (RNG.standard_normal(9), RNG.standard_normal(8),
                 {"select": "v", "select_range": [-0.5, 1.0]}),
    "tolerance": (RNG.standard_normal(6), RNG.standard_normal(5), {"tol": 1e-3}),
    "float32": (RNG.standard_normal(7).astype(np.float32),
                RNG.standard_normal(6).astype(np.float32), {}),
    "two": (np.array([2.0, 2.0]), np.array([1.0]), {}),
    "wilkinson": WILKINSON + ({},),
    "vectors": (RNG.standard_normal(8), RNG.standard_normal(7), {"eigvals_only": False}),
    "vectors_by_value": (RNG.standard_normal(8), RNG.standard_normal(7),
                         {"eigvals_only": False, "select": "v", "select_range": [-1.0, 1.0]}),
    "vectors_wilkinson": WILKINSON + ({"eigvals_only": False},),
    "vectors_float32": (RNG.standard_normal(6).astype(np.float32),
                        RNG.standard_normal(5).astype(np.float32), {"eigvals_only": False}),
}


def _weights(shape, dtype):
    return RNG.standard_normal(shape).astype(dtype)


def lu_cases(out):
    for case, a in LU_CASES.items():
        out[f"lu/{case}/input"] = a
        lu, p = tf.linalg.lu(a)
        out[f"lu/{case}/lu"], out[f"lu/{case}/p"] = lu.numpy(), p.numpy()
        if not np.isfinite(a).all():
            continue
        rhs = _weights(a.shape[:-1] + (2,), a.dtype)
        out[f"lu/{case}/rhs"] = rhs
        out[f"lu/{case}/p64"] = tf.linalg.lu(a, output_idx_type=tf.int64)[1].numpy()
        out[f"lu/{case}/solve"] = tf.linalg.lu_solve(lu, p, rhs).numpy()
        out[f"lu/{case}/inverse"] = tf.linalg.lu_matrix_inverse(lu, p).numpy()
        try:
            out[f"lu/{case}/reconstruct"] = tf.linalg.lu_reconstruct(lu, p).numpy()
        except tf.errors.InvalidArgumentError as err:  # TF's map_fn stacks no empty batch
            out[f"lu/{case}/reconstruct_error"] = np.array(str(err).splitlines()[0])
            continue
        w_solve = _weights(rhs.shape, a.dtype)
        w_matrix = _weights(a.shape, a.dtype)
        out[f"lu/{case}/w_solve"], out[f"lu/{case}/w_matrix"] = w_solve, w_matrix
        lu_var, rhs_var = tf.constant(lu.numpy()), tf.constant(rhs)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch([lu_var, rhs_var])
            solve = tf.reduce_sum(w_solve * tf.linalg.lu_solve(lu_var, p, rhs_var))
            inverse = tf.reduce_sum(w_matrix * tf.linalg.lu_matrix_inverse(lu_var, p))
            rebuilt = tf.reduce_sum(w_matrix * tf.linalg.lu_reconstruct(lu_var, p))
        grads = tape.gradient(solve, [lu_var, rhs_var])
        out[f"lu/{case}/grad_solve_lu"], out[f"lu/{case}/grad_solve_rhs"] = \
            [g.numpy() for g in grads]
        out[f"lu/{case}/grad_inverse_lu"] = tape.gradient(inverse, lu_var).numpy()
        out[f"lu/{case}/grad_reconstruct_lu"] = tape.gradient(rebuilt, lu_var).numpy()
    # lu_solve broadcasting one factorization over a batch of right-hand sides
    a, rhs = LU_CASES["single"], _weights((2, 3, 2), np.float64)
    lu, p = tf.linalg.lu(a)
    out["lu/broadcast/rhs"] = rhs
    out["lu/broadcast/solve"] = tf.linalg.lu_solve(lu, p, rhs).numpy()


def singular_cases(out):
    for case, a in SINGULAR.items():
        out[f"singular/{case}/input"] = a
        try:
            tf.linalg.lu(a)
            out[f"singular/{case}/refused"] = np.array(False)
        except tf.errors.InvalidArgumentError as err:
            assert "not invertible" in str(err), err
            out[f"singular/{case}/refused"] = np.array(True)


def sqrtm_cases(out):
    for case, a in SQRTM_CASES.items():
        out[f"sqrtm/{case}/input"] = a
        out[f"sqrtm/{case}/root"] = tf.linalg.sqrtm(a).numpy()
        if case in SQRTM_GRAD_CASES:
            weights = _weights(a.shape, a.dtype)
            x = tf.constant(a)
            with tf.GradientTape() as tape:
                tape.watch(x)
                loss = tf.reduce_sum(weights * tf.linalg.sqrtm(x))
            out[f"sqrtm/{case}/weights"] = weights
            out[f"sqrtm/{case}/grad"] = tape.gradient(loss, x).numpy()


def eigh_tridiagonal_cases(out):
    for case, (alpha, beta, kwargs) in EIGH_TRIDIAGONAL_CASES.items():
        out[f"eigh_tridiagonal/{case}/alpha"], out[f"eigh_tridiagonal/{case}/beta"] = alpha, beta
        result = tf.linalg.eigh_tridiagonal(alpha, beta, **kwargs)
        if kwargs.get("eigvals_only", True):
            out[f"eigh_tridiagonal/{case}/values"] = result.numpy()
        else:
            out[f"eigh_tridiagonal/{case}/values"] = result[0].numpy()
            out[f"eigh_tridiagonal/{case}/vectors"] = result[1].numpy()


def main():
    out = {}
    lu_cases(out)
    singular_cases(out)
    sqrtm_cases(out)
    eigh_tridiagonal_cases(out)
    np.savez_compressed(pathlib.Path(__file__).parent / "tf_lu.npz", **out,
                        tensorflow_version=tf.__version__)


if __name__ == "__main__":
    main()
