"""leaky_relu, selu, swish/silu, gelu and softsign against TF's own formulas, on NaN, +-Inf,
signed zeros and huge values (the registry tests take finite samples: finite differences
cannot run on NaN), and their public signatures."""
import math

import numpy as np
import pytest

import graphc as gc

SPECIALS = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-310, -1e-310, 1e300, -1e300,
                     40.0, -40.0, 1.0, -1.0, 0.5, -3.0])


def run(build, x):
    g = gc.Graph()
    with g.as_default():
        placeholder = gc.placeholder(gc.as_dtype(x.dtype), x.shape)
        out = build(placeholder)
    with gc.Session(graph=g) as sess:
        return sess.run(out, {placeholder: x})


def tf_formulas(x, alpha=0.2):
    """TF's definitions, in float64 (``tf.nn.*`` Python code and kernels)."""
    with np.errstate(all="ignore"):
        scale, scale_alpha = 1.0507009873554805, 1.0507009873554805 * 1.6732632423543772
        erf = np.vectorize(math.erf)
        return {
            "leaky_relu": np.where(x > 0, x, x * alpha),
            "selu": np.where(x < 0, scale_alpha * np.expm1(x), scale * x),
            "swish": x * (1 / (1 + np.exp(-x))),
            "gelu": 0.5 * x * (1 + erf(x / math.sqrt(2))),
            "gelu_tanh": 0.5 * x * (1 + np.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3))),
            "softsign": x / (1 + np.abs(x)),
        }


BUILDERS = {
    "leaky_relu": gc.nn.leaky_relu, "selu": gc.nn.selu, "swish": gc.nn.swish,
    "gelu": gc.nn.gelu, "gelu_tanh": lambda x: gc.nn.gelu(x, approximate=True),
    "softsign": gc.nn.softsign,
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_special_values_follow_tf(name, dtype):
    with np.errstate(over="ignore"):
        x = SPECIALS.astype(dtype)
    got = run(BUILDERS[name], x)
    want = tf_formulas(x.astype(np.float64))[name]
    assert got.dtype == dtype
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want.astype(dtype)), err_msg=name)
    finite = np.isfinite(want)
    tiny = np.abs(want) < 1e-290  # TF's 1 + erf and 1 + tanh cancel to 0 there; ours do not
    np.testing.assert_allclose(got[finite & ~tiny], want[finite & ~tiny].astype(dtype),
                               rtol=1e-5 if dtype == np.float32 else 1e-12, err_msg=name)
    zeros = want == 0
    assert np.all(got[zeros & ~tiny] == 0), name
    # signed zeros as TF: f(-0.0) is -0.0 for every one of them
    assert np.all(np.signbit(got[4:5])) and not np.any(np.signbit(got[3:4])), (name, got[3:5])


def test_gelu_tail_keeps_its_digits_where_tfs_formula_cancels():
    """0.5 x (1 + erf(x / sqrt 2)) is 0 in float32 below x ~ -5.5; the erfc form is not."""
    x = np.array([-6.0, -8.0, -10.0], np.float32)
    got = run(gc.nn.gelu, x)
    want = 0.5 * x.astype(np.float64) * np.vectorize(math.erfc)(-x.astype(np.float64)
                                                                 / math.sqrt(2))
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert np.all(got < 0)


def test_signatures_and_names():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float32, [2, 3], name="x")
        assert gc.nn.leaky_relu(x).op.type == "leaky_relu"
        assert gc.nn.leaky_relu(x, alpha=0.1, name="lr").op.name == "lr"
        assert gc.nn.silu(x).op.type == "swish"
        assert gc.nn.silu(x, beta=2.0).shape.as_list() == [2, 3]
        assert gc.nn.gelu(x, approximate=True).op.type == "gelu_approximate"
        as_float = gc.nn.leaky_relu(gc.placeholder(gc.int32, [2]))  # TF1 casts integers
        assert as_float.dtype == gc.float32
        with pytest.raises(TypeError, match="softsign requires a floating"):
            gc.nn.softsign(gc.placeholder(gc.int32, [2]))


def test_silu_beta_and_leaky_relu_alpha_tensor_gradient():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float64, [4])
        alpha = gc.placeholder(gc.float64, [])
        silu = gc.nn.silu(x, beta=2.0)
        leaky = gc.nn.leaky_relu(x, alpha)
        d_alpha, d_x = gc.gradients(gc.reduce_sum(leaky), [alpha, x])
    values = np.array([-2.0, -0.5, 0.5, 3.0])
    with gc.Session(graph=g) as sess:
        s, l, da, dx = sess.run([silu, leaky, d_alpha, d_x], {x: values, alpha: 0.3})
    np.testing.assert_allclose(s, values / (1 + np.exp(-2 * values)))
    np.testing.assert_allclose(l, np.where(values > 0, values, 0.3 * values))
    assert da == pytest.approx(-2.5) and np.allclose(dx, [0.3, 0.3, 1, 1])
