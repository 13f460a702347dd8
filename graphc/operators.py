"""Python operators on Tensor and Variable: ``+ - * / // % ** @``, unary ``-``, ``abs``,
``< <= > >=``, ``& | ^ ~`` and indexing, each building the op of the same TF1 name.

``==`` and ``!=`` keep Python identity semantics (as in TF1), so tensors can key a feed_dict.
"""
from __future__ import annotations

from graphc.graph import Tensor
from graphc.ops import elementwise, indexing, linalg
from graphc.variables import Variable

BINARY = {
    "add": elementwise.add, "sub": elementwise.subtract, "mul": elementwise.multiply,
    "truediv": elementwise.divide, "floordiv": elementwise.floordiv, "mod": elementwise.mod,
    "pow": elementwise.pow, "matmul": linalg.matmul, "and": elementwise.logical_and,
    "or": elementwise.logical_or, "xor": elementwise.logical_xor,
}
COMPARISONS = {"lt": elementwise.less, "le": elementwise.less_equal,
               "gt": elementwise.greater, "ge": elementwise.greater_equal}
UNARY = {"neg": elementwise.negative, "abs": elementwise.abs, "invert": elementwise.logical_not}


def _forward(fn):
    return lambda self, other: fn(self, other)


def _reflected(fn):
    return lambda self, other: fn(other, self)


def _install(cls) -> None:
    for name, fn in BINARY.items():
        setattr(cls, f"__{name}__", _forward(fn))
        setattr(cls, f"__r{name}__", _reflected(fn))
    for name, fn in COMPARISONS.items():
        setattr(cls, f"__{name}__", _forward(fn))
    for name, fn in UNARY.items():
        setattr(cls, f"__{name}__", fn)
    cls.__div__ = cls.__truediv__
    cls.__getitem__ = lambda self, key: indexing._getitem(self, key)
    cls.__array_priority__ = 100


_install(Tensor)
_install(Variable)
