"""TF1 semantics at the edges, optimized or not: matmul's signed zeros, int64 ranges and
constants, integer division by zero."""
import numpy as np
import pytest

import graphc as gc

MODES = [False, True]  # optimize
SPECIAL = [0.0, -0.0, 1.0, -1.0, -3.0, np.inf, -np.inf, np.nan, 1e-30, -1e-30, 1e-300,
           -1e-300, 5e-324]


def _bits_equal(got, want):
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


@pytest.mark.parametrize("optimize", MODES)
@pytest.mark.parametrize("dtype", [gc.float16, gc.float32, gc.float64, gc.int32])
@pytest.mark.parametrize("transposes", [(False, False), (True, False), (False, True),
                                        (True, True)])
def test_matmul_with_inner_dimension_one_is_np_matmul_bit_for_bit(optimize, dtype,
                                                                   transposes):
    """An outer product is a sum of one product starting at +0.0: -1 * 0 gives +0.0 there,
    so 1 / matmul is +inf, as np.matmul gives (a broadcast multiply gives -0.0 and -inf)."""
    ta, tb = transposes
    with np.errstate(all="ignore"):
        column = np.array(SPECIAL).astype(dtype.np)[:, None]
    row = column.T
    a, b = (column.T if ta else column), (row.T if tb else row)
    g = gc.Graph()
    with g.as_default():
        pa = gc.placeholder(dtype, a.shape, name="a")
        pb = gc.placeholder(dtype, b.shape, name="b")
        unknown = gc.placeholder(dtype, None, name="unknown")  # the kernel path, unbound
        products = [gc.matmul(pa, pb, transpose_a=ta, transpose_b=tb),
                    gc.matmul(unknown, pb, transpose_a=ta, transpose_b=tb)]
        inverse = 1.0 / products[0] if dtype.is_floating else products[0]
    with np.errstate(all="ignore"):
        want = np.matmul(column, row)
    with gc.Session(graph=g, optimize=optimize) as sess:
        for _ in range(3):  # later runs write into buffers the plan keeps
            got = sess.run(products + [inverse], {pa: a, pb: b, unknown: a})
            _bits_equal(got[0], want)
            _bits_equal(got[1], want)
    if dtype.is_floating:
        assert got[2][0, 3] == np.inf  # 1 / (0 * -1)


@pytest.mark.parametrize("args, values", [
    ((0, 2 ** 31 + 5, 2 ** 30), [0, 2 ** 30, 2 ** 31]),
    ((2 ** 31, 2 ** 31 + 3), [2 ** 31, 2 ** 31 + 1, 2 ** 31 + 2]),
    ((2 ** 40, 0, -2 ** 39), [2 ** 40, 2 ** 39]),
])
def test_range_beyond_int32_is_int64(args, values):
    """TF1 infers int64 for Python ints beyond int32 (and the widest of mixed arguments)."""
    g = gc.Graph()
    with g.as_default():
        r = gc.range(*args)
        big = gc.constant(2 ** 31)
        mixed = gc.range(gc.constant(0, gc.int32), 2 ** 31 + 1, 2 ** 30)
    assert r.dtype is gc.int64 and big.dtype is gc.int64 and mixed.dtype is gc.int64
    assert r.shape.as_list() == [len(values)]
    with gc.Session(graph=g) as sess:
        got, got_big, got_mixed = sess.run([r, big, mixed])
    np.testing.assert_array_equal(got, np.array(values, np.int64))
    assert got_big == 2 ** 31 and got_mixed.tolist() == [0, 2 ** 30, 2 ** 31]


def test_range_and_constant_refuse_values_their_dtype_cannot_hold():
    g = gc.Graph()
    with g.as_default():
        with pytest.raises(TypeError, match="range: .*2147483653.* int32"):
            gc.range(0, 2 ** 31 + 5, 2 ** 30, dtype=gc.int32)
        with pytest.raises(TypeError, match="does not fit int64"):
            gc.constant(2 ** 63)
    assert len(g) == 0


@pytest.mark.parametrize("optimize", MODES)
@pytest.mark.parametrize("divide", [lambda x, y: x // y, lambda x, y: x % y,
                                    lambda x, y: (x * 3 + 1) % y - 2],  # fused with others
                         ids=["floordiv", "mod", "fused-mod"])
def test_integer_division_by_zero_raises_and_changes_no_variable(optimize, divide):
    """TF1: "Integer division by zero", naming the op and the user's line; the run's
    variable update is not applied."""
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.int32, (3,), name="x")
        y = gc.placeholder(gc.int32, (3,), name="y")
        counter = gc.Variable(0, name="counter")
        step = gc.assign_add(counter, 1)
        result = divide(x, y)
    line = f"{__file__}:"
    with gc.Session(graph=g, optimize=optimize) as sess:
        sess.run(counter.initializer)
        ok = sess.run([result, step], {x: [7, -7, 8], y: [2, 2, 3]})
        np.testing.assert_array_equal(ok[0], divide(np.array([7, -7, 8]), np.array([2, 2, 3])))
        with pytest.raises(gc.errors.InvalidArgumentError,
                           match="Integer division by zero") as caught:
            sess.run([result, step], {x: [7, -7, 8], y: [2, 0, 3]})
        assert sess.run(counter) == 1
    assert line in str(caught.value) and ("floordiv" in str(caught.value)
                                          or "mod" in str(caught.value))


@pytest.mark.parametrize("optimize", MODES)
def test_float_division_by_zero_stays_ieee(optimize):
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float64, (3,), name="x")
        y = gc.placeholder(gc.float64, (3,), name="y")
        quotient, remainder = x // y, x % y
    with gc.Session(graph=g, optimize=optimize) as sess:
        got = sess.run([quotient, remainder], {x: [1.0, -1.0, 0.0], y: [0.0, 0.0, 0.0]})
    with np.errstate(all="ignore"):
        _bits_equal(got[0], np.floor_divide([1.0, -1.0, 0.0], 0.0))
        _bits_equal(got[1], np.mod([1.0, -1.0, 0.0], 0.0))


def test_integer_division_of_no_elements_divides_nothing():
    """Broadcasting against an empty x performs no division, so a zero divisor is fine."""
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.int32, (None, 3), name="x")
        quotient = x // gc.constant([0, 1, 2], gc.int32)
    with gc.Session(graph=g) as sess:
        assert sess.run(quotient, {x: np.zeros((0, 3), np.int32)}).shape == (0, 3)


@pytest.mark.parametrize("optimize", MODES)
@pytest.mark.parametrize("b_shape", [(None, 4), None])
def test_matmul_of_a_column_rejects_a_mismatched_row(optimize, b_shape):
    """A (3, 1) column times a (2, 4) matrix fails (k = 1 against 2), never broadcasts."""
    g = gc.Graph()
    with g.as_default():
        a = gc.placeholder(gc.float64, (3, 1), name="a")
        b = gc.placeholder(gc.float64, b_shape, name="b")
        product = gc.matmul(a, b)
    with gc.Session(graph=g, optimize=optimize) as sess:
        with pytest.raises(gc.errors.InvalidArgumentError, match="matmul"):
            sess.run(product, {a: np.ones((3, 1)), b: np.ones((2, 4))})
        with pytest.raises(gc.errors.InvalidArgumentError, match="matmul"):
            sess.run(product, {a: np.ones((3, 1)), b: np.ones((3, 4))})
