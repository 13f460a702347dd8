"""Elementwise ops: unary math, binary arithmetic with NumPy broadcasting, comparisons, logic.

The ops are rows of two tables, so adding one is adding a row. Each row carries a scalar
Python reference (``math`` module) that the registry tests apply element by element, which
checks the NumPy kernel against an independent implementation.
"""
from __future__ import annotations

import math
import operator
from typing import Callable, Optional

import numpy as np
import scipy.special

from graphc import dtypes as gdt
from graphc import registry
from graphc.ops.common import (ANY, BOOL, FLOAT, NUMERIC, apply_elementwise,
                               broadcast_rule, rand, randbool, randint, same_dtype_rule)
from graphc.registry import ErrorSample, OpDef, Sample

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
        if kind == NUMERIC:
            cases.append(Sample((randint(2, 5, low=int(max(low, -5)), high=int(min(high, 6))),)))
        return cases
    return samples


def _unary_errors(kind: str):
    def errors():
        wrong = randbool(2, 2) if kind != BOOL else rand(2, 2)
        return [ErrorSample((wrong,), error=TypeError, match="requires a")]
    return errors


def _define_unary(name, kernel, scalar, kind=FLOAT, domain=(-2.0, 2.0), out=None, doc=""):
    opdef = registry.register(OpDef(
        name=name, dtypes=same_dtype_rule(name, kind, out=out), shapes=broadcast_rule,
        kernel=kernel, elementwise=True, unknown_rank_ok=True,
        reference=scalar_reference(scalar), samples=_unary_samples(kind, *domain),
        error_samples=_unary_errors(kind), doc=doc))

    def api(x, name=None):
        return apply_elementwise(opdef.name, [x], name=name)
    api.__name__ = api.__qualname__ = name
    api.__doc__ = (f"Elementwise {doc or name}(x) (TF1 ``tf.{name}``).\n\n"
                   f"    Example:\n        >>> y = gc.{name}(x)\n")
    registry.public(opdef)(api)
    globals()[name] = api
    __all__.append(name)
    return api


def _relu(x):
    return np.maximum(x, x.dtype.type(0))


def _softplus(x):
    return np.logaddexp(x.dtype.type(0), x)


def _rsqrt(x):
    return np.reciprocal(np.sqrt(x))


def _elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, x.dtype.type(0))))


UNARY_TABLE = [
    # name, kernel, scalar reference, dtype kind, sample domain, output dtype
    ("negative", np.negative, operator.neg, NUMERIC, (-2, 2), None),
    ("abs", np.abs, abs, NUMERIC, (-2, 2), None),
    ("exp", np.exp, math.exp, FLOAT, (-2, 2), None),
    ("log", np.log, math.log, FLOAT, (0.1, 4), None),
    ("log1p", np.log1p, math.log1p, FLOAT, (-0.9, 4), None),
    ("expm1", np.expm1, math.expm1, FLOAT, (-2, 2), None),
    ("sqrt", np.sqrt, math.sqrt, FLOAT, (0.1, 4), None),
    ("rsqrt", _rsqrt, lambda v: 1.0 / math.sqrt(v), FLOAT, (0.1, 4), None),
    ("square", np.square, lambda v: v * v, NUMERIC, (-2, 2), None),
    ("reciprocal", np.reciprocal, lambda v: 1.0 / v, FLOAT, (0.2, 3), None),
    ("sin", np.sin, math.sin, FLOAT, (-3, 3), None),
    ("cos", np.cos, math.cos, FLOAT, (-3, 3), None),
    ("tan", np.tan, math.tan, FLOAT, (-1.2, 1.2), None),
    ("tanh", np.tanh, math.tanh, FLOAT, (-3, 3), None),
    ("sigmoid", scipy.special.expit, lambda v: 1.0 / (1.0 + math.exp(-v)), FLOAT, (-5, 5), None),
    ("relu", _relu, lambda v: max(v, 0), NUMERIC, (-2, 2), None),
    ("relu6", lambda x: np.clip(x, x.dtype.type(0), x.dtype.type(6)),
     lambda v: min(max(v, 0), 6), NUMERIC, (-3, 9), None),
    ("elu", _elu, lambda v: v if v > 0 else math.expm1(v), FLOAT, (-3, 3), None),
    ("softplus", _softplus, lambda v: math.log1p(math.exp(v)), FLOAT, (-5, 5), None),
    ("erf", scipy.special.erf, math.erf, FLOAT, (-2, 2), None),
    ("sign", np.sign, lambda v: (v > 0) - (v < 0), NUMERIC, (-2, 2), None),
    ("floor", np.floor, math.floor, FLOAT, (-4, 4), None),
    ("ceil", np.ceil, math.ceil, FLOAT, (-4, 4), None),
    ("round", np.round, round, FLOAT, (-4, 4), None),  # half to even, as TF1
    ("logical_not", np.logical_not, operator.not_, BOOL, (0, 1), None),
    ("is_nan", np.isnan, math.isnan, FLOAT, (-2, 2), gdt.bool),
    ("is_finite", np.isfinite, math.isfinite, FLOAT, (-2, 2), gdt.bool),
    ("is_inf", np.isinf, math.isinf, FLOAT, (-2, 2), gdt.bool),
]

for _row in UNARY_TABLE:
    _define_unary(*_row[:5], out=_row[5])


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
        if kind in (NUMERIC, ANY) and not positive:
            cases.append(Sample((randint(3, 4), randint(3, 4, low=1) if nonzero_rhs
                                 else randint(3, 4))))
        return cases
    return samples


def _binary_errors(kind: str):
    def errors():
        good = randbool if kind == BOOL else rand
        return [
            ErrorSample((good(2, 3), good(4, 3)), match="Incompatible shapes"),
            ErrorSample((rand(2).astype(np.float32), randint(2)), error=TypeError,
                        match="requires inputs of one dtype"),
        ]
    return errors


def _define_binary(name, kernel, scalar, kind=NUMERIC, out=None, dtypes=None,
                   commutative=False, associative=False, positive=False, nonzero_rhs=False,
                   doc=""):
    opdef = registry.register(OpDef(
        name=name, dtypes=dtypes or same_dtype_rule(name, kind, out=out), shapes=broadcast_rule,
        kernel=kernel, elementwise=True, commutative=commutative, associative=associative,
        unknown_rank_ok=True, reference=scalar_reference(scalar),
        samples=_binary_samples(kind, positive, nonzero_rhs), error_samples=_binary_errors(kind),
        doc=doc))

    def api(x, y, name=None):
        return apply_elementwise(opdef.name, [x, y], name=name)
    api.__name__ = api.__qualname__ = name
    api.__doc__ = (f"Elementwise {doc or name}(x, y) with NumPy broadcasting (TF1 ``tf.{name}``)."
                   f"\n\n    Example:\n        >>> z = gc.{name}(x, y)\n")
    registry.public(opdef)(api)
    globals()[name] = api
    __all__.append(name)
    return api


def _floordiv_scalar(a, b):
    return a // b if isinstance(a, int) else math.floor(a / b)


BINARY_TABLE = [
    dict(name="add", kernel=np.add, scalar=operator.add, commutative=True, associative=True),
    dict(name="subtract", kernel=np.subtract, scalar=operator.sub),
    dict(name="multiply", kernel=np.multiply, scalar=operator.mul, commutative=True,
         associative=True),
    dict(name="divide", kernel=_divide, scalar=operator.truediv, dtypes=_divide_dtype,
         nonzero_rhs=True, doc="true division"),
    dict(name="floordiv", kernel=np.floor_divide, scalar=_floordiv_scalar, nonzero_rhs=True),
    dict(name="mod", kernel=np.mod, scalar=operator.mod, nonzero_rhs=True, doc="floor modulo"),
    dict(name="pow", kernel=np.power, scalar=operator.pow, positive=True),
    dict(name="maximum", kernel=np.maximum, scalar=max, commutative=True, associative=True),
    dict(name="minimum", kernel=np.minimum, scalar=min, commutative=True, associative=True),
    dict(name="squared_difference", kernel=lambda x, y: np.square(x - y),
         scalar=lambda a, b: (a - b) * (a - b), commutative=True),
    dict(name="equal", kernel=np.equal, scalar=operator.eq, kind=ANY, out=gdt.bool,
         commutative=True),
    dict(name="not_equal", kernel=np.not_equal, scalar=operator.ne, kind=ANY, out=gdt.bool,
         commutative=True),
    dict(name="less", kernel=np.less, scalar=operator.lt, out=gdt.bool),
    dict(name="less_equal", kernel=np.less_equal, scalar=operator.le, out=gdt.bool),
    dict(name="greater", kernel=np.greater, scalar=operator.gt, out=gdt.bool),
    dict(name="greater_equal", kernel=np.greater_equal, scalar=operator.ge, out=gdt.bool),
    dict(name="logical_and", kernel=np.logical_and, scalar=lambda a, b: a and b, kind=BOOL,
         commutative=True, associative=True),
    dict(name="logical_or", kernel=np.logical_or, scalar=lambda a, b: a or b, kind=BOOL,
         commutative=True, associative=True),
    dict(name="logical_xor", kernel=np.logical_xor, scalar=operator.xor, kind=BOOL,
         commutative=True, associative=True),
]

for _row in BINARY_TABLE:
    _define_binary(**_row)

# TF1 aliases
truediv = realdiv = divide
floor_div = floordiv
floormod = mod
sub = subtract
mul = multiply
__all__ += ["truediv", "realdiv", "floor_div", "floormod", "sub", "mul"]
