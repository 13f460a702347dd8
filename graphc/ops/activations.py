"""TF1's activation functions beyond relu and friends: leaky_relu, selu, swish (silu), gelu
(exact and tanh-approximate) and softsign, elementwise ops like those of ``elementwise``.

Each op's kernel computes float16 and float32 inputs in float64 and rounds once at the end,
the way its loop form runs in a compiled fused loop (numba promotes a float32 met by a
float64 literal), so the engines give the kernel's values. The forms are the stable ones:
``gelu`` as ``0.5 x erfc(-x / sqrt 2)`` (``1 + erf`` loses every digit for x << 0) and its
tanh approximation as ``x sigmoid(2 z)``, which is ``0.5 x (1 + tanh z)`` without its
cancellation, and selu's negative side with ``expm1``. Checked against TensorFlow 2.21 on
NaN, +-Inf, +-0 and random values: the same values, but where TF's own forms cancel (its
tanh-gelu for x < -3, its float64 erfc, selu at tiny negative x, where TF gives 0).
"""
from __future__ import annotations

import math

import numpy as np
import scipy.special

from graphc import dtypes as gdt
from graphc import registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.ops.common import FLOAT, apply_elementwise, broadcast_rule, rand, same_dtype_rule
from graphc.ops.creation import ones_like, zeros_like
from graphc.ops.elementwise import abs, equal, exp, scalar_reference, sigmoid, square
from graphc.ops.select import cast, where
from graphc.registry import ErrorSample, LoopExpr, OpDef, Sample

__all__ = ["leaky_relu", "selu", "swish", "silu", "gelu", "gelu_approximate", "softsign"]

SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE_ALPHA = SELU_SCALE * SELU_ALPHA
SQRT_HALF = math.sqrt(0.5)
GELU_TANH_SCALE = math.sqrt(2.0 / math.pi)  # z = sqrt(2 / pi) (x + 0.044715 x^3)
GELU_CUBIC = 0.044715
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
KEEPS_FINITE = registry.finite_if_inputs_finite  # |f(x)| <= |x|


def _in_float64(fn):
    """``fn`` computed in float64 and rounded once to the input's dtype."""
    def kernel(x):
        if x.dtype == np.float64:
            return fn(x)
        with np.errstate(all="ignore"):
            return fn(x.astype(np.float64)).astype(x.dtype)
    kernel.__name__ = fn.__name__
    return kernel


def _selu(x):
    with np.errstate(all="ignore"):
        return np.where(x < 0, SELU_SCALE_ALPHA * np.expm1(x), SELU_SCALE * x)


def _swish(x):
    with np.errstate(all="ignore"):
        return x / (1 + np.exp(-x))


def _erfc(z):
    """erfc within a few ulp of libm's (scipy's own erfc is off by up to 500 ulp in the
    tail, where it rounds exp(-z^2)): erfcx(z) exp(-z^2), with z^2 split into a head whose
    square is exact and the rest, for z >= 0.5; 1 - erf(z) below, which cancels nothing.
    exp(-head^2) comes in two halves, so that only the last product rounds into denormals."""
    head = (z.view(np.int64) & ~np.int64((1 << 27) - 1)).view(np.float64)
    with np.errstate(all="ignore"):
        half = np.exp(-0.5 * (head * head))
        tail = scipy.special.erfcx(z) * np.exp(-(z - head) * (z + head)) * half * half
    tail = np.where(z == np.inf, 0.0, tail)  # inf - inf above
    return np.where(z >= 0.5, tail, 1.0 - scipy.special.erf(z))


def _gelu(x):
    return 0.5 * x * _erfc(-x * SQRT_HALF)


def _gelu_approximate(x):
    with np.errstate(all="ignore"):
        return x / (1 + np.exp(-2 * GELU_TANH_SCALE * (x + GELU_CUBIC * (x * x * x))))


def _softsign(x):
    with np.errstate(all="ignore"):
        return x / (1 + np.abs(x))


# -- gradients (TF1's SeluGrad, SoftsignGrad, the derivative of its swish and gelu) ------------
def _selu_grad(op, dy):
    y = op.outputs[0]  # for x < 0, d/dx scale alpha (e^x - 1) = y + scale alpha
    return [where(y < 0, dy * (y + SELU_SCALE_ALPHA), dy * SELU_SCALE)]


def _swish_grad(op, dy):
    x = op.inputs[0]
    s = sigmoid(x)  # d x s(x) = s + x s (1 - s)
    return [dy * (s * (1.0 + x * (1.0 - s)))]


def _gelu_grad(op, dy):
    x, y = op.inputs[0], op.outputs[0]  # d x Phi(x) = Phi(x) + x phi(x)
    # Phi(x) = y / x keeps the kernel's tail digits (0.5 (1 + erf) has none left for x << 0)
    at_zero = equal(x, 0.0)
    cdf = where(at_zero, 0.5 * ones_like(x), y / where(at_zero, ones_like(x), x))
    return [dy * (cdf + x * (INV_SQRT_2PI * exp(-0.5 * square(x))))]


def _gelu_approximate_grad(op, dy):
    x = op.inputs[0]  # y = x s(2z): dy/dx = s + 2 x s (1 - s) dz/dx
    s = sigmoid((2.0 * GELU_TANH_SCALE) * (x + GELU_CUBIC * x * square(x)))
    dz = GELU_TANH_SCALE * (1.0 + 3.0 * GELU_CUBIC * square(x))
    return [dy * (s + 2.0 * x * s * (1.0 - s) * dz)]


def _softsign_grad(op, dy):
    return [dy / square(1.0 + abs(op.inputs[0]))]  # d x / (1 + |x|) = 1 / (1 + |x|)^2


def _leaky_relu_grad(op, dy):
    x, alpha = op.inputs  # TF1's LeakyReluGrad for x; alpha, a tensor here, gets x where x <= 0
    positive = x > 0
    return [where(positive, dy, dy * alpha), where(positive, zeros_like(dy), dy * x)]


# -- scalar references (Python math, an independent oracle) ---------------------------------
def _py_selu(v):
    return SELU_SCALE * v if v >= 0 else SELU_SCALE_ALPHA * math.expm1(v)


def _py_swish(v):
    return v / (1.0 + math.exp(-v))


def _py_gelu(v):
    return 0.5 * v * (1.0 + math.erf(v / math.sqrt(2.0)))


def _py_gelu_approximate(v):
    return 0.5 * v * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (v + 0.044715 * v ** 3)))


# the loop forms widen float32 arguments as the kernels do; nothing is plain float32 math but
# leaky_relu, whose loop form is exact in the input's dtype as its kernel is
_X = "np.float64({0})"
UNARY_TABLE = [
    # name, kernel, scalar reference, gradient, smooth at 0 (samples take +-0.0), finite
    # outputs from finite inputs, loop form, TF1 name
    ("selu", _selu, _py_selu, _selu_grad, False, None,  # scale x overflows
     LoopExpr(f"({SELU_SCALE_ALPHA!r} * np.expm1({_X}) if {{0}} < 0 else {SELU_SCALE!r} * {_X})",
              ulp=4), "tf.nn.selu"),
    ("swish", _swish, _py_swish, _swish_grad, True, KEEPS_FINITE,
     LoopExpr(f"{_X} / (1 + np.exp(-{_X}))", vector="{0} / (f32(1) + vexp(-{0}))",
              vector_range=87.0, ulp=4), "tf.nn.swish"),
    ("gelu", _gelu, _py_gelu, _gelu_grad, True, KEEPS_FINITE,
     # libm's erfc and the kernel's differ by up to 8 ulp in float64 (measured; float32
     # rounds them alike)
     LoopExpr(f"0.5 * {_X} * math.erfc(-{_X} * {SQRT_HALF!r})", ulp=8), "tf.nn.gelu"),
    ("gelu_approximate", _gelu_approximate, _py_gelu_approximate, _gelu_approximate_grad, True,
     KEEPS_FINITE,
     LoopExpr(f"{_X} / (1 + np.exp({-2 * GELU_TANH_SCALE!r} * ({_X} + {GELU_CUBIC!r} * "
              f"({_X} * {_X} * {_X}))))", ulp=4), "tf.nn.gelu(approximate=True)"),
    ("softsign", _softsign, lambda v: v / (1.0 + math.fabs(v)), _softsign_grad, True, KEEPS_FINITE,
     LoopExpr(f"{_X} / (1 + abs({_X}))", plain=True), "tf.nn.softsign"),
]


def _unary_samples(smooth: bool):
    def samples():
        cases = [Sample((rand(3, 4, low=-4.0, high=4.0),)),
                 Sample((rand(2, 3, low=-4.0, high=4.0, dtype=np.float32),), rtol=1e-5),
                 Sample((rand(),)), Sample((rand(0, 3),))]
        if smooth:  # signed zeros and tiny values (at a kink, finite differences would lie)
            cases.append(Sample((np.array([0.0, -0.0, 1e-300, -1e-300, 30.0, -30.0]),)))
        return cases
    return samples


def _errors():
    return [ErrorSample((np.arange(4, dtype=np.int32),), error=TypeError, match="requires a")]


def _define_unary(name, kernel, scalar, grad, smooth, finite, loop, tf_name):
    opdef = registry.register(OpDef(
        name=name, dtypes=same_dtype_rule(name, FLOAT), shapes=broadcast_rule,
        kernel=_in_float64(kernel), grad=grad, elementwise=True, unknown_rank_ok=True,
        fresh_output=True, finite_outputs=finite, loop=loop,
        reference=scalar_reference(scalar), samples=_unary_samples(smooth),
        error_samples=_errors, doc=f"Elementwise {name} (TF1 ``{tf_name}``)."))

    def api(features, name=None):
        return apply_elementwise(opdef.name, [features], name=name)
    api.__name__ = api.__qualname__ = name
    api.__doc__ = (f"Elementwise {name} of a floating tensor (TF1 ``{tf_name}``).\n\n"
                   f"    Example:\n        >>> y = gc.nn.{name.replace('_approximate', '')}"
                   f"(x{', approximate=True' if name.endswith('approximate') else ''})\n")
    return registry.public(opdef)(api)


selu, swish, _gelu_exact, gelu_approximate, softsign = (
    _define_unary(*row) for row in UNARY_TABLE)


def silu(features, beta=1.0, name=None):
    """``features * sigmoid(beta * features)`` (TF2's ``tf.nn.silu``; beta 1 is swish).

    Example:
        >>> h = gc.nn.silu(x, beta=1.5)
    """
    if isinstance(beta, (int, float)) and beta == 1.0:
        return swish(features, name=name)
    return apply_elementwise("multiply", [features, sigmoid(beta * features)], name=name)


def gelu(features, approximate=False, name=None):
    """Gaussian error linear unit ``x * Phi(x)`` (TF's ``tf.nn.gelu``); ``approximate``
    uses ``0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))``.

    Example:
        >>> h = gc.nn.gelu(x, approximate=True)
    """
    return (gelu_approximate if approximate else _gelu_exact)(features, name=name)


registry.public(registry.get("gelu"))(gelu)


def _leaky_relu_kernel(x, alpha):
    return np.where(x > 0, x, x * alpha)  # TF1's LeakyRelu: x > 0 ? x : alpha x


LEAKY_RELU = registry.register(OpDef(
    name="leaky_relu", dtypes=same_dtype_rule("leaky_relu", FLOAT), shapes=broadcast_rule,
    kernel=_leaky_relu_kernel, grad=_leaky_relu_grad, elementwise=True, unknown_rank_ok=True,
    fresh_output=True,  # not finite_outputs: alpha x may overflow
    loop=LoopExpr("({0} if {0} > 0 else {0} * {1})", plain=True),
    reference=scalar_reference(lambda v, a: v if v > 0 else v * a),
    samples=lambda: [Sample((rand(3, 4), 0.2)), Sample((rand(3, 4), rand(4, low=0.0, high=1.0))),
                     Sample((rand(2, 3, dtype=np.float32), 0.1), rtol=1e-6),
                     Sample((rand(0, 2), 0.3))],
    error_samples=lambda: [ErrorSample((np.array([True, False]), np.float32(0.2)),
                                       error=TypeError, match="leaky_relu requires")],
    doc="x where x > 0, else alpha x (TF1 ``tf.nn.leaky_relu``; alpha is an input here)."))


@registry.public(LEAKY_RELU)
def leaky_relu(features, alpha=0.2, name=None):
    """``features`` where positive, else ``alpha * features`` (TF1 ``tf.nn.leaky_relu``);
    integer features are cast to float32 first, as TF1 does.

    Example:
        >>> h = gc.nn.leaky_relu(gc.matmul(x, W), alpha=0.1)
    """
    graph = graph_of(features, alpha)
    with graph.as_default(), graph.atomic():
        features = convert_to_tensor(features, name="features")
        if features.dtype.is_integer:  # as TF1: integers become float32
            features = cast(features, gdt.float32)
        return apply_elementwise("leaky_relu", [features, alpha], name=name or "LeakyRelu")
