"""TF1's remaining elementwise math: inverse and hyperbolic trigonometry, the gamma family
(lgamma, digamma, polygamma, igamma/igammac, zeta), erfc/erfinv/ndtri, rint and atan2, each
an op with TF1's gradient; log_sigmoid and lbeta as compositions.

Kernels are NumPy's and SciPy's (``scipy.special``); where TF1 defines no gradient for an
argument (the order of ``polygamma``, ``a`` of ``igamma``, ``x`` of ``zeta``) the gradient
is None for it, as in TF1.

Example:
    >>> gc.atan2([1.0, -1.0], [0.0, 0.0])      # [pi/2, -pi/2]
    >>> gc.lgamma([0.5, 4.0])                  # [log(sqrt(pi)), log(6)]
"""
from __future__ import annotations

import math

import numpy as np
import scipy.special

from graphc import registry
from graphc.convert import convert_to_tensor
from graphc.graph import Tensor
from graphc.ops.common import FLOAT, apply_elementwise, broadcast_rule, rand, same_dtype_rule
from graphc.ops.elementwise import (_binary_errors, _unary_errors, _unary_samples, equal, exp,
                                    log, negative, reciprocal, rsqrt, scalar_reference, sign,
                                    softplus, square)
from graphc.ops.creation import ones_like
from graphc.ops.select import where
from graphc.ops.reduce import reduce_sum
from graphc.registry import OpDef, Sample

__all__ = ["acos", "asin", "atan", "acosh", "asinh", "atanh", "sinh", "cosh", "erfc",
           "erfinv", "ndtri", "lgamma", "digamma", "rint", "atan2", "igamma", "igammac",
           "zeta", "polygamma", "log_sigmoid", "lbeta", "erfcinv", "bessel_i0", "bessel_i0e",
           "bessel_i1", "bessel_i1e"]

ND = registry.NOT_DIFFERENTIABLE
_SQRT_PI = math.sqrt(math.pi)


def _unary(name, kernel, scalar, domain, grad, summary):
    opdef = registry.register(OpDef(
        name=name, dtypes=same_dtype_rule(name, FLOAT), shapes=broadcast_rule, kernel=kernel,
        grad=grad, elementwise=True, unknown_rank_ok=True, reference=scalar_reference(scalar),
        samples=_unary_samples(FLOAT, *domain), error_samples=_unary_errors(FLOAT), doc=summary))

    def build(x, name=None) -> Tensor:
        return apply_elementwise(opdef.name, [x], name=name)
    build.__name__ = build.__qualname__ = name
    build.__doc__ = (f"Elementwise {summary} (TF1 ``tf.math.{name}``).\n\n    Example:\n"
                     f"        >>> y = gc.math.{name}(x)\n")
    return registry.public(opdef)(build)


def _x(op):
    return op.inputs[0]


acos = _unary("acos", np.arccos, math.acos, (-0.9, 0.9),
              lambda op, dy: [-dy * rsqrt(1.0 - square(_x(op)))], "arc cosine")
asin = _unary("asin", np.arcsin, math.asin, (-0.9, 0.9),
              lambda op, dy: [dy * rsqrt(1.0 - square(_x(op)))], "arc sine")
atan = _unary("atan", np.arctan, math.atan, (-3, 3),
              lambda op, dy: [dy * reciprocal(1.0 + square(_x(op)))], "arc tangent")
acosh = _unary("acosh", np.arccosh, math.acosh, (1.1, 4),
               lambda op, dy: [dy * rsqrt(square(_x(op)) - 1.0)], "inverse hyperbolic cosine")
asinh = _unary("asinh", np.arcsinh, math.asinh, (-3, 3),
               lambda op, dy: [dy * rsqrt(square(_x(op)) + 1.0)], "inverse hyperbolic sine")
atanh = _unary("atanh", np.arctanh, math.atanh, (-0.9, 0.9),
               lambda op, dy: [dy * reciprocal(1.0 - square(_x(op)))],
               "inverse hyperbolic tangent")
sinh = _unary("sinh", np.sinh, math.sinh, (-3, 3),
              lambda op, dy: [dy * cosh(_x(op))], "hyperbolic sine")
cosh = _unary("cosh", np.cosh, math.cosh, (-3, 3),
              lambda op, dy: [dy * sinh(_x(op))], "hyperbolic cosine")
erfc = _unary("erfc", scipy.special.erfc, math.erfc, (-2, 2),
              lambda op, dy: [dy * (-2.0 / _SQRT_PI) * exp(-square(_x(op)))],
              "complementary error function 1 - erf(x)")
erfinv = _unary("erfinv", scipy.special.erfinv,
                lambda v: float(scipy.special.ndtri((v + 1.0) / 2.0)) / math.sqrt(2.0),
                (-0.9, 0.9), lambda op, dy: [dy * (_SQRT_PI / 2.0) * exp(square(op.outputs[0]))],
                "inverse error function")
ndtri = _unary("ndtri", scipy.special.ndtri,
               lambda v: math.sqrt(2.0) * float(scipy.special.erfinv(2.0 * v - 1.0)),
               (0.05, 0.95),
               lambda op, dy: [dy * math.sqrt(2.0 * math.pi) * exp(square(op.outputs[0]) / 2.0)],
               "inverse of the standard normal CDF")
lgamma = _unary("lgamma", scipy.special.gammaln, math.lgamma, (0.5, 4),
                lambda op, dy: [dy * digamma(_x(op))], "log |Gamma(x)|")
digamma = _unary("digamma", scipy.special.psi,
                 lambda v: float(scipy.special.polygamma(0, v)), (0.5, 4),
                 lambda op, dy: [dy * polygamma(convert_to_tensor(1.0, dtype=_x(op).dtype),
                                                _x(op))],
                 "digamma psi(x), the derivative of lgamma")
erfcinv = _unary("erfcinv", lambda x: -scipy.special.ndtri(x / 2.0) / math.sqrt(2.0),
                 lambda v: float(scipy.special.erfinv(1.0 - v)), (0.1, 1.9),
                 lambda op, dy: [dy * (-_SQRT_PI / 2.0) * exp(square(op.outputs[0]))],
                 "inverse complementary error function")


def _bessel_series(x: float, order: int, scaled: bool, terms: int = 80) -> float:
    """I_order(x) from its power series sum (x/2)^(2k+order) / (k! (k+order)!), times
    exp(-|x|) when scaled: the tests' independent reference."""
    half, total, term = x / 2.0, 0.0, (x / 2.0) ** order / math.factorial(order)
    for k in range(terms):
        total += term
        term *= half * half / ((k + 1) * (k + 1 + order))
    return total * math.exp(-abs(x)) if scaled else total


def _safe_x(x):
    """x, with its zeros replaced by ones (for the I1 gradients' y / x, whose limit is set
    apart where x == 0)."""
    return where(equal(x, 0.0), ones_like(x), x)


bessel_i0 = _unary("bessel_i0", scipy.special.i0, lambda v: _bessel_series(v, 0, False),
                   (-3, 3), lambda op, dy: [dy * bessel_i1(_x(op))],
                   "modified Bessel function of the first kind of order 0")
bessel_i0e = _unary("bessel_i0e", scipy.special.i0e, lambda v: _bessel_series(v, 0, True),
                    (-3, 3), lambda op, dy: [dy * (bessel_i1e(_x(op))
                                                   - sign(_x(op)) * op.outputs[0])],
                    "exponentially scaled modified Bessel function of order 0")
bessel_i1 = _unary("bessel_i1", scipy.special.i1, lambda v: _bessel_series(v, 1, False),
                   (-3, 3), lambda op, dy: [dy * where(
                       equal(_x(op), 0.0), ones_like(_x(op)) * 0.5,
                       bessel_i0(_x(op)) - op.outputs[0] / _safe_x(_x(op)))],
                   "modified Bessel function of the first kind of order 1")
bessel_i1e = _unary("bessel_i1e", scipy.special.i1e, lambda v: _bessel_series(v, 1, True),
                    (-3, 3), lambda op, dy: [dy * where(
                        equal(_x(op), 0.0), ones_like(_x(op)) * 0.5,
                        bessel_i0e(_x(op)) - op.outputs[0] * (sign(_x(op))
                                                              + reciprocal(_safe_x(_x(op)))))],
                    "exponentially scaled modified Bessel function of order 1")
rint = _unary("rint", np.rint, round, (-4, 4), ND,
              "rounding to the nearest integer, halves to even")


def _binary_samples(first, second):
    def samples():
        return [Sample((rand(3, 4, low=first[0], high=first[1]),
                        rand(3, 4, low=second[0], high=second[1]))),
                Sample((rand(2, 1, 3, low=first[0], high=first[1]),
                        rand(4, 1, low=second[0], high=second[1]))),  # broadcasting
                Sample((rand(3, low=first[0], high=first[1], dtype=np.float32),
                        np.float32(second[0] + 0.5 * (second[1] - second[0]))), rtol=1e-4),
                Sample((rand(0, 3, low=first[0], high=first[1]),
                        rand(3, low=second[0], high=second[1])))]
    return samples


def _binary(name, kernel, scalar, domains, grad, summary, arguments="x, y"):
    opdef = registry.register(OpDef(
        name=name, dtypes=same_dtype_rule(name, FLOAT), shapes=broadcast_rule, kernel=kernel,
        grad=grad, elementwise=True, unknown_rank_ok=True, reference=scalar_reference(scalar),
        samples=_binary_samples(*domains), error_samples=_binary_errors(FLOAT), doc=summary))
    first, second = arguments.split(", ")

    def build(a, b, name=None) -> Tensor:
        return apply_elementwise(opdef.name, [a, b], name=name)
    build.__name__ = build.__qualname__ = name
    build.__doc__ = (f"Elementwise {summary} with broadcasting (TF1 ``tf.math.{name}({first}, "
                     f"{second})``).\n\n    Example:\n        >>> z = gc.math.{name}({first}, "
                     f"{second})\n")
    return registry.public(opdef)(build)


def _zeta_series(x: float, q: float, terms: int = 64) -> float:
    """The Hurwitz zeta by Euler-Maclaurin: a partial sum, its integral tail and two
    correction terms (the tests' independent reference; error far below 1e-12 here)."""
    tail = q + terms
    return (sum((q + k) ** -x for k in range(terms)) + tail ** (1 - x) / (x - 1)
            + tail ** -x / 2 + x * tail ** (-x - 1) / 12
            - x * (x + 1) * (x + 2) * tail ** (-x - 3) / 720)


def _atan2_grad(op, dy):
    y, x = op.inputs
    scale = dy * reciprocal(square(x) + square(y))
    return [scale * x, -scale * y]


def _igamma_x_grad(op):
    a, x = op.inputs  # d/dx P(a, x) = x^(a-1) e^(-x) / Gamma(a)
    return exp((a - 1.0) * log(x) - x - lgamma(a))


atan2 = _binary("atan2", np.arctan2, math.atan2, ((-2, 2), (-2, 2)), _atan2_grad,
                "arc tangent of y / x in the quadrant of (x, y)", "y, x")
igamma = _binary("igamma", scipy.special.gammainc,
                 lambda a, x: float(scipy.special.gammainc(a, x)), ((0.5, 3), (0.1, 4)),
                 lambda op, dy: [None, dy * _igamma_x_grad(op)],
                 "regularized lower incomplete gamma P(a, x)", "a, x")
igammac = _binary("igammac", scipy.special.gammaincc,
                  lambda a, x: 1.0 - float(scipy.special.gammainc(a, x)), ((0.5, 3), (0.1, 4)),
                  lambda op, dy: [None, -dy * _igamma_x_grad(op)],
                  "regularized upper incomplete gamma Q(a, x)", "a, x")
zeta = _binary("zeta", scipy.special.zeta,
               lambda x, q: _zeta_series(x, q),
               ((1.5, 4), (0.5, 3)),
               lambda op, dy: [None, -dy * op.inputs[0] * zeta(op.inputs[0] + 1.0,
                                                              op.inputs[1])],
               "Hurwitz zeta function sum over k of (q + k)^-x", "x, q")
polygamma = _binary("polygamma", lambda a, x: scipy.special.polygamma(a, x).astype(x.dtype),
                    lambda a, x: float(scipy.special.polygamma(int(a), x)),
                    ((0, 0), (0.5, 4)),
                    lambda op, dy: [None, dy * polygamma(op.inputs[0] + 1.0, op.inputs[1])],
                    "polygamma: the a-th derivative of digamma (a a whole number)", "a, x")


def log_sigmoid(x, name=None) -> Tensor:
    """``log(sigmoid(x))``, computed as ``-softplus(-x)`` so it is finite for large
    negative x (TF1 ``tf.math.log_sigmoid``).

    Example:
        >>> gc.math.log_sigmoid([-100.0, 0.0])   # [-100.0, -0.693]
    """
    return negative(softplus(negative(convert_to_tensor(x))), name=name or "LogSigmoid")


def lbeta(x, name=None) -> Tensor:
    """``log(|Beta(x)|)`` over the last dimension: ``sum(lgamma(x)) - lgamma(sum(x))``
    (TF1 ``tf.math.lbeta``).

    Example:
        >>> gc.math.lbeta([[1.0, 2.0]])   # [log(1/2)]
    """
    x = convert_to_tensor(x)
    return reduce_sum(lgamma(x), -1) - lgamma(reduce_sum(x, -1))

