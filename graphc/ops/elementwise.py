"""Elementwise ops: unary math, binary arithmetic with NumPy broadcasting, comparisons, logic.

The ops are rows of two tables, so adding one is adding a row. Each row carries a scalar
Python reference (``math`` module) that the registry tests apply element by element, which
checks the NumPy kernel against an independent implementation.
"""
from __future__ import annotations

import functools
import math
import operator
from typing import Callable, Optional

import numpy as np
import scipy.special

from graphc import dtypes as gdt
from graphc import registry
from graphc.ops.common import (ANY, BOOL, FLOAT, NUMERIC, SIGNED, apply_elementwise,
                               broadcast_rule, fast_sigmoid, rand, randbool, randint,
                               same_dtype_rule, unary_kind_errors, unsigned_refusals)
from graphc.ops.creation import ones_like, zeros_like
from graphc.ops.select import cast, where
from graphc.registry import ErrorSample, LoopExpr, OpDef, Sample

__all__: list[str] = []


def scalar_reference(fn: Callable) -> Callable:
    """Apply a Python scalar function elementwise with broadcasting (an independent oracle)."""
    def reference(*arrays, **_):
        arrays = np.broadcast_arrays(*[np.asarray(a) for a in arrays])
        flat = [fn(*(v.item() for v in values)) for values in zip(*(a.ravel() for a in arrays))]
        return np.array(flat, dtype=np.float64 if flat and isinstance(flat[0], float)
                        else None).reshape(arrays[0].shape)
    return reference


def _unary_samples(kind: str, low: float, high: float):
    def samples():
        if kind == BOOL:
            return [Sample((randbool(3, 4),)), Sample((randbool(0, 2),)),
                    Sample((np.bool_(True),))]
        cases = [Sample((rand(3, 4, low=low, high=high),)),
                 Sample((rand(2, 3, low=low, high=high, dtype=np.float32),), rtol=1e-5),
                 Sample((rand(low=low, high=high),)),
                 Sample((rand(0, 3, low=low, high=high),))]
        if kind in (NUMERIC, SIGNED):
            cases.append(Sample((randint(2, 5, low=int(max(low, -5)), high=int(min(high, 6))),)))
        return cases
    return samples


def _unary_errors(kind: str):
    return lambda: unary_kind_errors(kind)


def _define_unary(name, kernel, scalar, kind=FLOAT, domain=(-2.0, 2.0), out=None, grad=None,
                  finite=None, loop=None, doc=""):
    opdef = registry.register(OpDef(
        name=name, dtypes=same_dtype_rule(name, kind, out=out), shapes=broadcast_rule,
        kernel=kernel, grad=grad, elementwise=True, unknown_rank_ok=True, finite_outputs=finite,
        loop=loop,
        reference=scalar_reference(scalar), samples=_unary_samples(kind, *domain),
        error_samples=_unary_errors(kind), doc=doc))

    def api(x, name=None):  # an eager tensor runs a planned call at once (graphc/eager):
        run_now = None if name else getattr(x.__class__, "run_unary", None)
        result = None if run_now is None else run_now(opdef.name, x)
        return apply_elementwise(opdef.name, [x], name=name) if result is None else result
    return _export(opdef, api, f"Elementwise {doc or name}(x) (TF1 ``tf.{name}``).",
                   f"y = gc.{name}(x)")


def _export(opdef, api, summary: str, example: str):
    """Name, document and publish a table-generated function as ``gc.<op name>``."""
    api.__name__ = api.__qualname__ = opdef.name
    api.__doc__ = f"{summary}\n\n    Example:\n        >>> {example}\n"
    registry.public(opdef)(api)
    globals()[opdef.name] = api
    __all__.append(opdef.name)
    return api


def _relu(x):
    return np.maximum(x, x.dtype.type(0))


def _softplus(x):
    return np.logaddexp(x.dtype.type(0), x)


def _rsqrt(x):
    return np.reciprocal(np.sqrt(x))


def _elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, x.dtype.type(0))))


ND = registry.NOT_DIFFERENTIABLE
KEEPS_FINITE = registry.finite_if_inputs_finite


def _indicator(condition, like):
    """1 where condition holds, else 0, in ``like``'s dtype. Multiplying by it is how TF1's
    ReluGrad masks (an Inf/NaN upstream gradient stays NaN where masked), and it is several
    times faster than ``where`` on NumPy."""
    return cast(condition, like.dtype)


def _mask(condition, dy):
    """dy where condition holds, else 0 (the convention at kinks: the flat side wins)."""
    return where(condition, dy, zeros_like(dy))


# The tables' last column: how each op runs in compiled fused loops (graphc.runtime.fused),
# to the bit as the kernel, NaN and signed zeros included (NumPy's maximum and minimum give
# the second argument on ties: maximum(-0.0, 0.0) is +0.0), or as libm and SIMD polynomials
# within 4 ulp of NumPy's own functions (measured: 3 at most, tan and tanh in float32).
PLAIN = functools.partial(LoopExpr, plain=True)
APPROX = functools.partial(LoopExpr, ulp=4)

UNARY_TABLE = [
    # name, kernel, scalar reference, dtype kind, sample domain, output dtype, gradient,
    # finite_outputs (the op cannot overflow or make NaN from finite values), loop forms
    ("negative", np.negative, operator.neg, SIGNED, (-2, 2), None,
     lambda op, dy: [-dy], KEEPS_FINITE, PLAIN("-{0}")),  # d(-x) = -dx
    ("abs", np.abs, abs, SIGNED, (-2, 2), None,  # d|x| = sign(x) dx, 0 at x = 0
     lambda op, dy: [dy * sign(op.inputs[0])], KEEPS_FINITE, PLAIN("abs({0})")),
    ("exp", np.exp, math.exp, FLOAT, (-2, 2), None,
     lambda op, dy: [dy * op.outputs[0]], None,  # d exp(x) = exp(x) dx
     APPROX("np.exp({0})", vector="vexp({0})", vector_range=87.0)),
    ("log", np.log, math.log, FLOAT, (0.1, 4), None,  # d log(x) = dx / x
     lambda op, dy: [dy * reciprocal(op.inputs[0])], None, APPROX("np.log({0})")),
    ("log1p", np.log1p, math.log1p, FLOAT, (-0.9, 4), None,  # dx / (1 + x)
     lambda op, dy: [dy * reciprocal(1.0 + op.inputs[0])], None, APPROX("np.log1p({0})")),
    ("expm1", np.expm1, math.expm1, FLOAT, (-2, 2), None,  # d expm1(x) = exp(x) dx
     lambda op, dy: [dy * exp(op.inputs[0])], None, APPROX("np.expm1({0})")),
    ("sqrt", np.sqrt, math.sqrt, FLOAT, (0.1, 4), None,  # dx / (2 sqrt(x))
     lambda op, dy: [dy * 0.5 * reciprocal(op.outputs[0])], None, PLAIN("np.sqrt({0})")),
    ("rsqrt", _rsqrt, lambda v: 1.0 / math.sqrt(v), FLOAT, (0.1, 4), None,
     lambda op, dy: [dy * -0.5 * op.outputs[0] * op.outputs[0] * op.outputs[0]],  # -y^3/2
     None, PLAIN("1 / np.sqrt({0})")),
    ("square", np.square, lambda v: v * v, NUMERIC, (-2, 2), None,
     lambda op, dy: [dy * 2.0 * op.inputs[0]], None, PLAIN("{0} * {0}")),  # d x^2 = 2x dx
    ("reciprocal", np.reciprocal, lambda v: 1.0 / v, FLOAT, (0.2, 3), None,  # -dx / x^2
     lambda op, dy: [-dy * op.outputs[0] * op.outputs[0]], None, PLAIN("1 / {0}")),
    ("sin", np.sin, math.sin, FLOAT, (-3, 3), None,
     lambda op, dy: [dy * cos(op.inputs[0])], KEEPS_FINITE,
     APPROX("np.sin({0})", vector="vsincos({0}, 0)", vector_range=2.0 ** 20)),
    ("cos", np.cos, math.cos, FLOAT, (-3, 3), None,
     lambda op, dy: [-dy * sin(op.inputs[0])], KEEPS_FINITE,
     APPROX("np.cos({0})", vector="vsincos({0}, 1)", vector_range=2.0 ** 20)),
    ("tan", np.tan, math.tan, FLOAT, (-1.2, 1.2), None,  # sec^2 = 1 + tan^2
     lambda op, dy: [dy * (1.0 + square(op.outputs[0]))], None, APPROX("np.tan({0})")),
    ("tanh", np.tanh, math.tanh, FLOAT, (-3, 3), None,
     lambda op, dy: [dy * (1.0 - square(op.outputs[0]))], KEEPS_FINITE,  # 1 - tanh^2
     APPROX("np.tanh({0})", vector="vtanh({0})", vector_range=3.0e38)),
    ("sigmoid", fast_sigmoid, lambda v: 1.0 / (1.0 + math.exp(-v)), FLOAT, (-5, 5), None,
     lambda op, dy: [dy * op.outputs[0] * (1.0 - op.outputs[0])], KEEPS_FINITE,  # s (1 - s)
     APPROX("1 / (1 + np.exp(-{0}))", vector="f32(1) / (f32(1) + vexp(-{0}))",
            vector_range=87.0)),
    ("relu", _relu, lambda v: max(v, 0), NUMERIC, (-2, 2), None,
     # TF1's ReluGrad: masked by the output (y > 0 exactly where x > 0; 0 at x = 0), so the
     # forward bias-add and relu fuse: nothing else reads the pre-activation
     lambda op, dy: [dy * _indicator(op.outputs[0] > 0, dy)], KEEPS_FINITE,
     PLAIN("({0} if {0} > 0 or {0} != {0} else 0)")),  # maximum(x, 0): relu(-0.0) = +0.0
    ("relu6", lambda x: np.clip(x, x.dtype.type(0), x.dtype.type(6)),
     lambda v: min(max(v, 0), 6), NUMERIC, (-3, 9), None,
     lambda op, dy: [dy * _indicator(logical_and(op.inputs[0] > 0, op.inputs[0] < 6), dy)],
     KEEPS_FINITE, PLAIN("(0 if {0} < 0 else (6 if {0} > 6 else {0}))")),  # clip keeps -0.0
    ("elu", _elu, lambda v: v if v > 0 else math.expm1(v), FLOAT, (-3, 3), None,  # elu(-0.0) = +0
     lambda op, dy: [where(op.inputs[0] > 0, dy, dy * (op.outputs[0] + 1.0))], KEEPS_FINITE,
     APPROX("({0} if {0} > 0 else np.expm1({0} if {0} < 0 or {0} != {0} else 0))")),
    ("softplus", _softplus, lambda v: math.log1p(math.exp(v)), FLOAT, (-5, 5), None,
     lambda op, dy: [dy * sigmoid(op.inputs[0])], KEEPS_FINITE,  # sigmoid(x) dx
     APPROX("(np.log1p(np.exp(-abs({0}))) + (0 if {0} < 0 else {0}))")),
    ("erf", scipy.special.erf, math.erf, FLOAT, (-2, 2), None,
     lambda op, dy: [dy * (2.0 / math.sqrt(math.pi)) * exp(-square(op.inputs[0]))],
     KEEPS_FINITE, APPROX("math.erf({0})")),
    ("sign", np.sign, lambda v: (v > 0) - (v < 0), SIGNED, (-2, 2), None, ND, KEEPS_FINITE,
     PLAIN("(1 if {0} > 0 else (-1 if {0} < 0 else ({0} if {0} != {0} else 0)))")),
    ("floor", np.floor, math.floor, FLOAT, (-4, 4), None, ND, KEEPS_FINITE, PLAIN("np.floor({0})")),
    ("ceil", np.ceil, math.ceil, FLOAT, (-4, 4), None, ND, KEEPS_FINITE, PLAIN("np.ceil({0})")),
    ("round", np.round, round, FLOAT, (-4, 4), None, ND, KEEPS_FINITE, None),  # half to even
    ("logical_not", np.logical_not, operator.not_, BOOL, (0, 1), None, ND, None,
     LoopExpr("not {0}")),
    ("is_nan", np.isnan, math.isnan, FLOAT, (-2, 2), gdt.bool, ND, None, LoopExpr("np.isnan({0})")),
    ("is_finite", np.isfinite, math.isfinite, FLOAT, (-2, 2), gdt.bool, ND, None,
     LoopExpr("np.isfinite({0})")),
    ("is_inf", np.isinf, math.isinf, FLOAT, (-2, 2), gdt.bool, ND, None, LoopExpr("np.isinf({0})")),
]

for _row in UNARY_TABLE:
    _define_unary(*_row[:5], out=_row[5], grad=_row[6], finite=_row[7], loop=_row[8])


# -- binary ----------------------------------------------------------------------------------
def _divide_dtype(in_dtypes, attrs):
    out = same_dtype_rule("divide", NUMERIC)(in_dtypes, attrs)[0]
    if out.is_integer:  # TF1 truediv: small ints to float32, others to float64
        return [gdt.float32 if out.size <= 2 else gdt.float64]
    return [out]


def _divide(x, y):
    if x.dtype.kind in "iu":
        target = np.float32 if x.dtype.itemsize <= 2 else np.float64
        return np.true_divide(x, y, dtype=target)
    return np.true_divide(x, y)


def _binary_samples(kind: str, positive: bool = False, nonzero_rhs: bool = False):
    def samples():
        if kind == BOOL:
            return [Sample((randbool(3, 4), randbool(3, 4))),
                    Sample((randbool(2, 1, 3), randbool(4, 1)))]
        low = 0.5 if positive else -2.0
        rhs_low = 0.5 if nonzero_rhs or positive else -2.0
        cases = [
            Sample((rand(3, 4, low=low), rand(3, 4, low=rhs_low))),
            Sample((rand(2, 1, 3, low=low), rand(4, 1, low=rhs_low))),  # broadcasting
            Sample((rand(3, low=low, dtype=np.float32), np.float32(1.5)), rtol=1e-5),
            Sample((rand(0, 3, low=low), rand(3, low=rhs_low))),  # size-0 dimension
            Sample((rand(low=low), rand(low=rhs_low))),  # scalars
        ]
        if kind in (NUMERIC, SIGNED, ANY) and not positive:
            cases.append(Sample((randint(3, 4), randint(3, 4, low=1) if nonzero_rhs
                                 else randint(3, 4))))
        return cases
    return samples


def _binary_errors(kind: str):
    def errors():
        good = randbool if kind == BOOL else rand
        return [ErrorSample((good(2, 3), good(4, 3)), match="Incompatible shapes"),
                ErrorSample((rand(2).astype(np.float32), randint(2)), error=TypeError,
                            match="requires inputs of one dtype")] + unsigned_refusals(kind, 2)
    return errors


def _define_binary(name, kernel, scalar, kind=NUMERIC, out=None, dtypes=None, grad=ND,
                   commutative=False, associative=False, positive=False, nonzero_rhs=False,
                   finite=None, fresh_output=False, takes_out=False, loop=None, doc="",
                   raises_on_values=False):
    opdef = registry.register(OpDef(
        name=name, dtypes=dtypes or same_dtype_rule(name, kind, out=out), shapes=broadcast_rule,
        kernel=kernel, grad=grad, elementwise=True, commutative=commutative, associative=associative,
        unknown_rank_ok=True, finite_outputs=finite, fresh_output=fresh_output,
        takes_out=takes_out, loop=loop, raises_on_values=raises_on_values,
        reference=scalar_reference(scalar),
        samples=_binary_samples(kind, positive, nonzero_rhs), error_samples=_binary_errors(kind),
        doc=doc))

    def api(x, y, name=None):
        return apply_elementwise(opdef.name, [x, y], name=name)
    return _export(opdef, api, f"Elementwise {doc or name}(x, y) with NumPy broadcasting (TF1 "
                   f"``tf.{name}``).", f"z = gc.{name}(x, y)")


def _raising_integer_division(ufunc):
    """``ufunc`` raising "Integer division by zero" as TF1 does (NumPy returns 0); float
    division by zero stays IEEE (inf or NaN)."""
    def kernel(x, y, out=None):
        if x.dtype.kind in "iu" and not np.all(y) and np.broadcast(x, y).size:
            raise ZeroDivisionError("Integer division by zero")
        return ufunc(x, y, out=out)
    return kernel


def _floordiv_scalar(a, b):
    return a // b if isinstance(a, int) else math.floor(a / b)


def _pow_grad(op, dy):
    x, y = op.inputs
    safe_x = where(x > 0, x, ones_like(x))  # log(x) only where it exists; 0 elsewhere
    return [dy * y * pow(x, y - 1.0),  # d x^y / dx = y x^(y-1)
            _mask(x > 0, dy * op.outputs[0] * log(safe_x))]  # d x^y / dy = x^y log x


def _squared_difference_grad(op, dy):
    x, y = op.inputs
    scaled = dy * 2.0 * (x - y)  # d (x-y)^2 = 2 (x-y) (dx - dy)
    return [scaled, -scaled]


BINARY_TABLE = [
    dict(name="add", kernel=np.add, scalar=operator.add, commutative=True, associative=True,
         grad=lambda op, dy: [dy, dy], loop=PLAIN("{0} + {1}")),
    dict(name="subtract", kernel=np.subtract, scalar=operator.sub,
         grad=lambda op, dy: [dy, -dy], loop=PLAIN("{0} - {1}")),
    dict(name="multiply", kernel=np.multiply, scalar=operator.mul, commutative=True,
         associative=True, grad=lambda op, dy: [dy * op.inputs[1], dy * op.inputs[0]],
         loop=PLAIN("{0} * {1}")),
    dict(name="divide", kernel=_divide, scalar=operator.truediv, dtypes=_divide_dtype,
         nonzero_rhs=True, doc="true division",  # d(x/y) = dx/y - x dy/y^2
         grad=lambda op, dy: [dy / op.inputs[1],
                              -dy * op.outputs[0] / op.inputs[1]], loop=PLAIN("{0} / {1}")),
    dict(name="floordiv", kernel=_raising_integer_division(np.floor_divide), raises_on_values=True,
         scalar=_floordiv_scalar, nonzero_rhs=True, fresh_output=True, takes_out=True),
    dict(name="mod", kernel=_raising_integer_division(np.mod), raises_on_values=True,
         scalar=operator.mod, nonzero_rhs=True, fresh_output=True, takes_out=True, doc="floor mod",
         grad=lambda op, dy: [dy, -dy * floordiv(*op.inputs)]),  # x mod y = x - y floor(x/y)
    # no loop form: NumPy's power takes sqrt for a scalar exponent 0.5 (pow(-inf, 0.5) is NaN,
    # pow(-0.0, 0.5) is -0.0) and C's pow otherwise (+inf, +0.0), so no scalar form matches
    dict(name="pow", kernel=np.power, scalar=operator.pow, positive=True, grad=_pow_grad,
         kind=SIGNED),
    dict(name="maximum", kernel=np.maximum, scalar=max, commutative=True, associative=True,
         finite=KEEPS_FINITE, loop=PLAIN("({0} if {0} > {1} or {0} != {0} else {1})"),
         grad=lambda op, dy: [_mask(op.inputs[0] >= op.inputs[1], dy),  # ties: first input
                              _mask(op.inputs[0] < op.inputs[1], dy)]),
    dict(name="minimum", kernel=np.minimum, scalar=min, commutative=True, associative=True,
         finite=KEEPS_FINITE, loop=PLAIN("({0} if {0} < {1} or {0} != {0} else {1})"),
         grad=lambda op, dy: [_mask(op.inputs[0] <= op.inputs[1], dy),  # ties: first input
                              _mask(op.inputs[0] > op.inputs[1], dy)]),
    dict(name="squared_difference", kernel=lambda x, y: np.square(x - y),
         scalar=lambda a, b: (a - b) * (a - b), commutative=True, grad=_squared_difference_grad,
         kind=SIGNED,
         loop=PLAIN("({0} - {1}) * ({0} - {1})")),
    dict(name="equal", kernel=np.equal, scalar=operator.eq, kind=ANY, out=gdt.bool,
         commutative=True, loop=PLAIN("{0} == {1}")),
    dict(name="not_equal", kernel=np.not_equal, scalar=operator.ne, kind=ANY, out=gdt.bool,
         commutative=True, loop=PLAIN("{0} != {1}")),
    dict(name="less", kernel=np.less, scalar=operator.lt, out=gdt.bool, loop=PLAIN("{0} < {1}")),
    dict(name="less_equal", kernel=np.less_equal, scalar=operator.le, out=gdt.bool,
         loop=PLAIN("{0} <= {1}")),
    dict(name="greater", kernel=np.greater, scalar=operator.gt, out=gdt.bool,
         loop=PLAIN("{0} > {1}")),
    dict(name="greater_equal", kernel=np.greater_equal, scalar=operator.ge, out=gdt.bool,
         loop=PLAIN("{0} >= {1}")),
    dict(name="logical_and", kernel=np.logical_and, scalar=lambda a, b: a and b, kind=BOOL,
         commutative=True, associative=True, loop=LoopExpr("{0} and {1}")),
    dict(name="logical_or", kernel=np.logical_or, scalar=lambda a, b: a or b, kind=BOOL,
         commutative=True, associative=True, loop=LoopExpr("{0} or {1}")),
    dict(name="logical_xor", kernel=np.logical_xor, scalar=operator.xor, kind=BOOL,
         commutative=True, associative=True, loop=LoopExpr("{0} != {1}")),
]

for _row in BINARY_TABLE:
    _define_binary(**_row)

def _add_n_dtypes(in_dtypes, attrs):
    if not in_dtypes:
        raise TypeError("add_n requires at least one input")
    return same_dtype_rule("add_n", NUMERIC)(in_dtypes, attrs)


def _add_n_shapes(inputs, attrs):
    merged = inputs[0].shape
    for tensor in inputs[1:]:
        if not merged.is_compatible_with(tensor.shape):
            listed = ", ".join(str(t.shape) for t in inputs)
            raise ValueError(f"add_n requires inputs of one shape, got {listed}")
        merged = merged.merge_with(tensor.shape)
    return [merged]


def _add_n_kernel(*xs):
    total = xs[0] + xs[1] if len(xs) > 1 else np.array(xs[0], copy=True)
    for x in xs[2:]:
        total += x  # total is a fresh array owned by this kernel
    return total


ADD_N = registry.register(OpDef(
    name="add_n", dtypes=_add_n_dtypes, shapes=_add_n_shapes, kernel=_add_n_kernel,
    grad=lambda op, dy: [dy] * len(op.inputs), elementwise=True, commutative=True,
    associative=True, loop=PLAIN(" + ".join),
    reference=lambda values: sum(np.asarray(v, np.float64) for v in values),
    samples=lambda: [Sample(([rand(3, 4), rand(3, 4), rand(3, 4)],)), Sample(([rand(2)],)),
                     Sample(([randint(2, 2), randint(2, 2)],))],
    error_samples=lambda: [ErrorSample(([rand(3), rand(4)],), match="one shape")],
    doc="Sum of n tensors of one shape (how gradients from several paths are summed)."))


@registry.public(ADD_N)
def add_n(inputs, name=None):
    """The elementwise sum of a list of tensors of one shape and dtype.

    Example:
        >>> total = gc.add_n([a, b, c])
    """
    inputs = list(inputs)
    if not inputs:
        raise ValueError("add_n: inputs must be a non-empty list")
    return apply_elementwise("add_n", inputs, name=name or "AddN")


__all__.append("add_n")

# TF1 aliases
truediv = realdiv = divide
floor_div = floordiv
floormod = mod
sub = subtract
mul = multiply
__all__ += ["truediv", "realdiv", "floor_div", "floormod", "sub", "mul"]
