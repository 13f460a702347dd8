"""gc.linalg.lu, lu_solve, lu_matrix_inverse, lu_reconstruct and sqrtm against TensorFlow's
values and gradients (tests/data/tf_lu.npz, made by tests/data/make_tf_lu.py with TF 2.21),
against SciPy, finite differences, run-time shapes, bad input and singular matrices."""
import pathlib

import numpy as np
import pytest
import scipy.linalg

import graphc as gc
from graphc.errors import InvalidArgumentError

TF = np.load(pathlib.Path(__file__).parent / "data" / "tf_lu.npz")
RNG = np.random.default_rng(5)


def cases(prefix, needing=None):
    names = sorted({k.split("/")[1] for k in TF.files if k.startswith(prefix + "/")})
    return [n for n in names if needing is None or f"{prefix}/{n}/{needing}" in TF.files]


def tolerance(array):
    return dict(rtol=2e-5, atol=2e-5) if array.dtype == np.float32 else \
        dict(rtol=1e-10, atol=1e-10)


def run(fetches, feeds=None):
    with gc.Session() as sess:
        return sess.run(fetches, feeds)


def placeholder_for(array, unknown_dims):
    return gc.placeholder(gc.as_dtype(array.dtype),
                          [None] * array.ndim if unknown_dims else array.shape)


@pytest.mark.parametrize("unknown_dims", [False, True], ids=["static", "none-dims"])
@pytest.mark.parametrize("case", cases("lu", "lu"))
def test_lu_matches_tensorflow(case, unknown_dims):
    a = TF[f"lu/{case}/input"]
    with gc.Graph().as_default():
        x = placeholder_for(a, unknown_dims)
        lu, p = gc.linalg.lu(x)
        assert p.dtype == gc.int32 and lu.dtype == gc.as_dtype(a.dtype)
        got_lu, got_p = run([lu, p], {x: a})
    np.testing.assert_array_equal(got_p, TF[f"lu/{case}/p"])  # TF's pivots exactly
    assert got_p.dtype == np.int32 and got_lu.shape == a.shape
    np.testing.assert_allclose(got_lu, TF[f"lu/{case}/lu"], equal_nan=True, **tolerance(a))


@pytest.mark.parametrize("case", cases("lu", "p64"))
def test_solve_inverse_and_reconstruct_match_tensorflow(case):
    a, rhs = TF[f"lu/{case}/input"], TF[f"lu/{case}/rhs"]
    with gc.Graph().as_default():
        lu, p = gc.linalg.lu(a)
        _, p64 = gc.linalg.lu(a, output_idx_type=gc.int64)
        fetches = [gc.linalg.lu_solve(lu, p, rhs), gc.linalg.lu_matrix_inverse(lu, p), p64]
        solve, inverse, got_p64 = run(fetches)
        if f"lu/{case}/reconstruct" in TF.files:
            np.testing.assert_allclose(run(gc.linalg.lu_reconstruct(lu, p)),
                                       TF[f"lu/{case}/reconstruct"], **tolerance(a))
    assert got_p64.dtype == np.int64
    np.testing.assert_array_equal(got_p64, TF[f"lu/{case}/p64"])
    np.testing.assert_allclose(solve, TF[f"lu/{case}/solve"], **_loose(a, 20))
    np.testing.assert_allclose(inverse, TF[f"lu/{case}/inverse"], **_loose(a, 20))


def _loose(array, factor):
    """Solves amplify the factors' last-bit differences by the condition number."""
    return {k: v * factor for k, v in tolerance(array).items()}


def test_reconstruct_of_an_empty_batch_is_empty():
    """TF's lu_reconstruct fails on an empty batch (its map_fn stacks nothing); graphc gives
    the empty result, as every other op here does."""
    assert "lu/empty_batch/reconstruct_error" in TF.files
    with gc.Graph().as_default():
        got = run(gc.linalg.lu_reconstruct(*gc.linalg.lu(np.zeros((0, 3, 3)))))
    assert got.shape == (0, 3, 3)


@pytest.mark.parametrize("case", cases("lu", "grad_solve_lu"))
def test_gradients_match_tensorflow(case):
    a, rhs = TF[f"lu/{case}/input"], TF[f"lu/{case}/rhs"]
    w_solve, w_matrix = TF[f"lu/{case}/w_solve"], TF[f"lu/{case}/w_matrix"]
    with gc.Graph().as_default():
        lu_value, p_value = run(list(gc.linalg.lu(a)))
        lu, b = gc.placeholder(gc.as_dtype(a.dtype), a.shape), gc.constant(rhs)
        p = gc.constant(p_value)
        solve = gc.reduce_sum(w_solve * gc.linalg.lu_solve(lu, p, b))
        inverse = gc.reduce_sum(w_matrix * gc.linalg.lu_matrix_inverse(lu, p))
        rebuilt = gc.reduce_sum(w_matrix * gc.linalg.lu_reconstruct(lu, p))
        grads = gc.gradients(solve, [lu, b]) + gc.gradients(inverse, [lu]) + \
            gc.gradients(rebuilt, [lu])
        got = run(grads, {lu: lu_value})
    names = ["grad_solve_lu", "grad_solve_rhs", "grad_inverse_lu", "grad_reconstruct_lu"]
    for value, name in zip(got, names):
        np.testing.assert_allclose(value, TF[f"lu/{case}/{name}"], err_msg=name,
                                   **_loose(a, 100))


def test_solve_broadcasts_one_factorization_over_a_batch_of_rhs():
    a, rhs = TF["lu/single/input"], TF["lu/broadcast/rhs"]
    with gc.Graph().as_default():
        x = gc.linalg.lu_solve(*gc.linalg.lu(a), rhs=rhs)
        assert x.shape.as_list() == [2, 3, 2]
        np.testing.assert_allclose(run(x), TF["lu/broadcast/solve"], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", cases("singular"))
def test_singular_matrices_fail_where_tensorflow_fails(case):
    a, refused = TF[f"singular/{case}/input"], bool(TF[f"singular/{case}/refused"])
    assert refused  # every case there is one TF refuses; the NaN ones it takes are in lu/
    with gc.Graph().as_default():
        lu, p = gc.linalg.lu(a)
        with pytest.raises(InvalidArgumentError, match=r"'Lu'.*lu: Input is not invertible"):
            run(lu)


@pytest.mark.parametrize("n", [1, 2, 5, 17])
def test_lu_matches_scipy_away_from_ties(n):
    """The independent reference: SciPy's (LAPACK's) getrf, pivots turned into TF's p."""
    a = RNG.standard_normal((3, n, n))
    with gc.Graph().as_default():
        got_lu, got_p = run(list(gc.linalg.lu(a)))
    for matrix, lu, p in zip(a, got_lu, got_p):
        want_lu, pivots = scipy.linalg.lu_factor(matrix)
        perm = np.arange(n)
        for k, pivot in enumerate(pivots):
            perm[[k, pivot]] = perm[[pivot, k]]
        np.testing.assert_array_equal(p, perm)
        np.testing.assert_allclose(lu, want_lu, rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(matrix[p], _unit(lu) @ np.triu(lu), rtol=1e-11, atol=1e-12)


def _unit(lu):
    return np.tril(lu, -1) + np.eye(lu.shape[-1])


def test_lu_has_no_gradient_as_in_tensorflow():
    with gc.Graph().as_default():
        x = gc.placeholder(gc.float64, [3, 3])
        lu, _ = gc.linalg.lu(x)
        with pytest.raises(LookupError, match=r"No gradient defined for .*Lu.*TF registers none"):
            gc.gradients(gc.reduce_sum(lu), [x])


def test_static_shapes_follow_tensorflow():
    with gc.Graph().as_default():
        lu, p = gc.linalg.lu(gc.placeholder(gc.float64, [4, None, 3]))
        assert lu.shape.as_list() == [4, 3, 3] and p.shape.as_list() == [4, 3]
        lu, p = gc.linalg.lu(gc.placeholder(gc.float64, None))
        assert lu.shape.rank is None and p.shape.rank is None
        root = gc.linalg.sqrtm(gc.placeholder(gc.float32, [None, 3, None]))
        assert root.shape.as_list() == [None, 3, 3] and root.dtype == gc.float32


@pytest.mark.parametrize("build, error, match", [
    (lambda: gc.linalg.lu(np.ones((2, 3))), ValueError, r"lu: .*square.*\(2, 3\)"),
    (lambda: gc.linalg.lu(np.ones(3)), ValueError, r"lu: .*rank >= 2.*\(3,\)"),
    (lambda: gc.linalg.lu(np.eye(2, dtype=np.int32)), TypeError, "lu.*int32"),
    (lambda: gc.linalg.sqrtm(np.ones((2, 3))), ValueError, r"matrix_square_root: .*\(2, 3\)"),
    (lambda: gc.linalg.sqrtm(np.eye(2, dtype=np.float16)), TypeError, "float16"),
    (lambda: gc.linalg.lu_solve(np.eye(3), [0, 1, 2], np.ones(3)), ValueError,
     r"lu_solve: Input `rhs` must have at least 2 dimensions. Got shape \(3,\)"),
    (lambda: gc.linalg.lu_solve(np.eye(3), [0, 1, 2], np.ones((2, 1))), ValueError,
     r"lu_solve: `lower_upper.shape\[-1\]` must equal `rhs.shape\[-2\]`.*\(3, 3\).*\(2, 1\)"),
    (lambda: gc.linalg.lu_solve(np.eye(3), [0, 1, 2], np.ones((3, 1), np.float32)),
     TypeError, "float64 and float32"),
    (lambda: gc.linalg.lu_reconstruct(np.eye(3), [[0, 1, 2]]), ValueError,
     r"`rank\(lower_upper\)` must equal `rank\(perm\) \+ 1`"),
    (lambda: gc.linalg.lu_reconstruct(np.ones((2, 3)), [0, 1]), ValueError, "square"),
    (lambda: gc.linalg.lu_matrix_inverse(np.ones(3), [0, 1, 2]), ValueError,
     "at least 2 dimensions"),
    (lambda: gc.linalg.lu_reconstruct(np.eye(2), np.array([0.0, 1.0])), TypeError,
     "perm.*float64"),
    (lambda: gc.linalg.logm(np.eye(2)), TypeError,
     "float64 not in list of allowed values: complex64, complex128"),
    (lambda: gc.linalg.logm([[1.0]]), TypeError, "float32 not in list"),
])
def test_bad_input_is_refused_clearly_and_adds_nothing_half_built(build, error, match):
    graph = gc.Graph()
    with graph.as_default():
        with pytest.raises(error, match=match):
            build()


def test_logm_of_a_graph_tensor_names_its_dtype():
    with gc.Graph().as_default() as graph:
        x = gc.placeholder(gc.float32, [2, 2])
        before = len(graph.get_operations())
        with pytest.raises(TypeError, match=r"float32 not in list.*\(2, 2\)"):
            gc.linalg.logm(x)
        assert len(graph.get_operations()) == before


def test_validate_args_checks_run_time_shapes():
    with gc.Graph().as_default():
        lu = gc.placeholder(gc.float64, None)
        perm = gc.placeholder(gc.int32, None)
        rebuilt = gc.linalg.lu_reconstruct(lu, perm, validate_args=True)
        with pytest.raises(InvalidArgumentError, match="must be square"):
            run(rebuilt, {lu: np.ones((2, 3)), perm: [0, 1]})
        np.testing.assert_allclose(run(rebuilt, {lu: np.eye(2), perm: [1, 0]}),
                                   [[0.0, 1.0], [1.0, 0.0]])


def test_size_zero_batches_and_matrices():
    with gc.Graph().as_default():
        for shape in [(0, 3, 3), (2, 0, 0), (0, 0)]:
            a = np.zeros(shape)
            lu, p = run(list(gc.linalg.lu(a)))
            assert lu.shape == shape and p.shape == shape[:-1] and p.dtype == np.int32
            assert run(gc.linalg.sqrtm(a)).shape == shape
            rhs = np.zeros(shape[:-1] + (2,))
            assert run(gc.linalg.lu_solve(*gc.linalg.lu(a), rhs=rhs)).shape == rhs.shape
            assert run(gc.linalg.lu_matrix_inverse(*gc.linalg.lu(a))).shape == shape


def _finite_difference_check(build, inputs, eps=1e-6):
    """JAX's inner-product check of gc.gradients of sum(C * build(*inputs)) in a random
    direction (float64)."""
    with gc.Graph().as_default():
        xs = [gc.placeholder(gc.float64, v.shape) for v in inputs]
        out = build(*xs)
        weights = RNG.standard_normal(out.shape.as_list())
        loss = gc.reduce_sum(out * weights)
        grads = gc.gradients(loss, xs)
        feeds = dict(zip(xs, inputs))
        directions = [RNG.standard_normal(v.shape) for v in inputs]
        with gc.Session() as sess:
            values = sess.run(grads, feeds)
            shifted = [sess.run(loss, {x: v + sign * eps * d for x, v, d in
                                       zip(xs, inputs, directions)}) for sign in (1.0, -1.0)]
    numeric = (shifted[0] - shifted[1]) / (2 * eps)
    analytic = sum(float(np.sum(g * d)) for g, d in zip(values, directions))
    assert abs(numeric - analytic) <= 1e-6 * max(1.0, abs(numeric)), (numeric, analytic)


def _factors(*batch, n=4):
    a = RNG.standard_normal(batch + (n, n)) + 3 * np.eye(n)
    with gc.Graph().as_default():
        return run(list(gc.linalg.lu(a)))


@pytest.mark.parametrize("batch", [(), (2, 3)])
def test_composition_gradients_match_finite_differences(batch):
    lu, p = _factors(*batch)
    rhs = RNG.standard_normal(batch + (4, 2))
    _finite_difference_check(lambda f, b: gc.linalg.lu_solve(f, p, b), [lu, rhs])
    _finite_difference_check(lambda f: gc.linalg.lu_matrix_inverse(f, p), [lu])
    _finite_difference_check(lambda f: gc.linalg.lu_reconstruct(f, p), [lu])


@pytest.mark.parametrize("case", cases("sqrtm", "root"))
def test_sqrtm_matches_tensorflow(case):
    """TF's values, NaN and Inf included: a negative eigenvalue, a nilpotent or zero matrix
    and non-finite input give TF's NaN (and Inf) entries."""
    a = TF[f"sqrtm/{case}/input"]
    with gc.Graph().as_default():
        x = gc.placeholder(gc.as_dtype(a.dtype), [None] * a.ndim)
        got = run(gc.linalg.sqrtm(x), {x: a})
    want = TF[f"sqrtm/{case}/root"]
    assert got.dtype == a.dtype and got.shape == a.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, equal_nan=True, **_loose(a, 10))


@pytest.mark.parametrize("case", cases("sqrtm", "grad"))
def test_sqrtm_gradient_matches_tensorflow(case):
    a, weights = TF[f"sqrtm/{case}/input"], TF[f"sqrtm/{case}/weights"]
    with gc.Graph().as_default():
        x = gc.placeholder(gc.as_dtype(a.dtype), a.shape)
        (grad,) = gc.gradients(gc.reduce_sum(weights * gc.linalg.sqrtm(x)), [x])
        got = run(grad, {x: a})
    np.testing.assert_allclose(got, TF[f"sqrtm/{case}/grad"], **_loose(a, 50))


def test_sqrtm_matches_scipy_and_squares_back():
    a = RNG.standard_normal((3, 6, 6)) + 5 * np.eye(6)  # complex pairs and real eigenvalues
    with gc.Graph().as_default():
        got = run(gc.linalg.sqrtm(a))
    for matrix, root in zip(a, got):
        np.testing.assert_allclose(root, scipy.linalg.sqrtm(matrix).real, rtol=1e-10,
                                   atol=1e-12)
        np.testing.assert_allclose(root @ root, matrix, rtol=1e-10, atol=1e-12)


def test_sqrtm_gradient_matches_finite_differences_on_a_batch():
    a = RNG.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    _finite_difference_check(gc.linalg.sqrtm, [a])


def test_arrays_keep_their_dtype_and_python_values_follow_tensorflow():
    """As tf.convert_to_tensor: NumPy float64 stays float64 (no float32 hint applies to
    arrays), Python rhs values take lower_upper's dtype, Python lower_upper is float32."""
    with gc.Graph().as_default():
        assert gc.linalg.lu_solve(np.eye(2), [0, 1], [[1.0], [2.0]]).dtype == gc.float64
        assert gc.linalg.lu_reconstruct([[1.0, 0.0], [0.0, 1.0]], [0, 1]).dtype == gc.float32
        assert gc.linalg.lu_matrix_inverse(np.eye(2), np.array([1, 0], np.int64)).dtype == \
            gc.float64


def test_eager_calls_and_tape_gradients():
    a = TF["lu/single/input"]
    with gc.eager():
        lu, p = gc.linalg.lu(a)
        np.testing.assert_array_equal(np.asarray(p), TF["lu/single/p"])
        x = gc.constant(TF["sqrtm/spd/input"])
        with gc.GradientTape() as tape:
            tape.watch(x)
            loss = gc.reduce_sum(TF["sqrtm/spd/weights"] * gc.linalg.sqrtm(x))
        np.testing.assert_allclose(np.asarray(tape.gradient(loss, x)), TF["sqrtm/spd/grad"],
                                   rtol=1e-9, atol=1e-12)
