"""Algebraic simplification: a table of rewrite rules, each with its math and safety class.

Rules that would change the result's shape (``x * ones(3, 4)`` broadcasts ``x`` up) decline
through ``Match.fits_output``. ``x * 0 -> 0`` and ``x - x -> 0`` apply only where ``x`` is
provably finite (an integer, or the output of a bounded op such as tanh or sigmoid), since
``inf * 0`` and ``inf - inf`` are NaN; they stay classed NaN/Inf-changing so that a config
allowing only "exact" rules excludes them. Reassociating constants may change the last bits;
the rest are exact (``x + 0 -> x`` keeps ``-0.0`` where IEEE addition gives ``+0.0``; the
two compare equal).
"""
from __future__ import annotations

import numpy as np

from graphc.graph import Graph
from graphc.ops import elementwise
from graphc.ops.creation import zeros, zeros_like
from graphc.ops.select import where
from graphc.ops.shape_ops import reshape, transpose

from .patterns import ONE, ZERO, Pat, Rule, X, const, rules_by_root
from .result import EXACT, NAN_INF_CHANGING, REASSOCIATING, Interface, PassResult
from .rewriter import run_rule_table

__all__ = ["ALGEBRAIC_RULES", "run"]


def _x(m):
    return m.x


def _x_fits(operand):
    """The side condition of ``x op c -> x``: c must not broadcast x to a larger shape."""
    return lambda m: m.fits_output(m.x, m.captures[operand])


BOUNDED_OPS = frozenset({"tanh", "sigmoid", "sin", "cos", "erf", "relu6", "softmax",
                         "one_hot", "zeros_like", "ones_like", "sign"})


def provably_finite(tensor) -> bool:
    """True when ``tensor`` can hold no NaN or Inf: integers, bools, bounded ops, finite
    constants (NaN inputs of bounded ops are not considered: they are NaN either way)."""
    if not tensor.dtype.is_floating:
        return True
    op = tensor.op
    if op.type == "const":
        return bool(np.all(np.isfinite(op.attrs["value"])))
    if op.type == "cast":
        return not op.inputs[0].dtype.is_floating
    return op.type in BOUNDED_OPS


def _zeros_fit(m):
    if not provably_finite(m.x):
        return False
    return m.out.shape.is_fully_defined() or m.fits_output(m.x, m.captures.get("zero", m.x))


def _zeros(m):
    if m.out.shape.is_fully_defined():
        return zeros(m.out.shape.dims, dtype=m.out.dtype)
    return zeros_like(m.x)


def _combine(op_name):
    def rewrite(m):
        combined = (np.multiply if op_name == "multiply" else np.add)(m.value("c1"), m.value("c2"))
        combined = combined.astype(m.out.dtype.np)
        return getattr(elementwise, op_name)(m.x, combined)
    return rewrite


def _compose_transposes(m):
    rank = m.x.shape.rank
    inner = m.matched[0].attrs["perm"] or tuple(reversed(range(rank)))
    outer = m.attr("perm") or tuple(reversed(range(rank)))
    perm = tuple(inner[p] for p in outer)
    return m.x if perm == tuple(range(rank)) else transpose(m.x, list(perm))


def _merge_reshapes(m):
    return reshape(m.x, m.shape)


def _same_shape(m):
    return m.x.shape.is_fully_defined() and m.x.shape == m.out.shape


def _same_dtype(m):
    return m.x.dtype is m.out.dtype


def _where_scalar_zero(m):
    return where(m.c, m.x, np.zeros((), dtype=m.x.dtype.np))


def _double(m):
    return elementwise.multiply(m.x, np.asarray(2, dtype=m.x.dtype.np))


C1, C2, SHAPE = const("c1"), const("c2"), Pat(name="shape")

ALGEBRAIC_RULES = [
    Rule("fold_mul_one", Pat("multiply", X, ONE), _x, EXACT, "x * 1 -> x", _x_fits("one")),
    Rule("fold_add_zero", Pat("add", X, ZERO), _x, EXACT, "x + 0 -> x", _x_fits("zero")),
    Rule("fold_sub_zero", Pat("subtract", X, ZERO), _x, EXACT, "x - 0 -> x", _x_fits("zero")),
    Rule("fold_div_one", Pat("divide", X, ONE), _x, EXACT, "x / 1 -> x", _x_fits("one")),
    Rule("fold_neg_neg", Pat("negative", Pat("negative", X)), _x, EXACT, "-(-x) -> x"),
    Rule("fold_sub_self", Pat("subtract", X, X), _zeros, NAN_INF_CHANGING, "x - x -> 0",
         _zeros_fit),
    Rule("fold_mul_zero", Pat("multiply", X, ZERO), _zeros, NAN_INF_CHANGING, "x * 0 -> 0",
         _zeros_fit),
    Rule("double_repeated_sum", Pat("add", X, X), _double, EXACT, "f(x) + f(x) -> 2 * f(x)"),
    Rule("combine_mul_consts", Pat("multiply", Pat("multiply", X, C1), C2),
         _combine("multiply"), REASSOCIATING, "(x * c1) * c2 -> x * (c1 * c2)"),
    Rule("combine_add_consts", Pat("add", Pat("add", X, C1), C2), _combine("add"),
         REASSOCIATING, "(x + c1) + c2 -> x + (c1 + c2)"),
    Rule("compose_transposes", Pat("transpose", Pat("transpose", X)), _compose_transposes,
         EXACT, "transpose(transpose(x, p), q) -> transpose(x, p[q])"),
    Rule("merge_reshapes", Pat("reshape", Pat("reshape", X, Pat()), SHAPE), _merge_reshapes,
         EXACT, "reshape(reshape(x, s1), s2) -> reshape(x, s2)"),
    Rule("drop_same_shape_reshape", Pat("reshape", X, Pat()), _x, EXACT,
         "reshape(x, shape(x)) -> x", _same_shape),
    Rule("drop_same_shape_broadcast", Pat("broadcast_to", X, Pat()), _x, EXACT,
         "broadcast_to(x, shape(x)) -> x", _same_shape),
    Rule("drop_same_shape_sum_to", Pat("sum_to_shape", X, Pat()), _x, EXACT,
         "sum_to_shape(x, shape(x)) -> x", _same_shape),
    Rule("remove_identity", Pat("identity", X), _x, EXACT, "identity(x) -> x"),
    Rule("scalar_zero_in_where", Pat("where", Pat(name="c"), X, Pat("zeros_like", X)),
         _where_scalar_zero, EXACT, "where(c, x, zeros_like(x)) -> where(c, x, 0)"),
    Rule("drop_same_dtype_cast", Pat("cast", X), _x, EXACT, "cast(x, dtype(x)) -> x",
         _same_dtype),
]
INDEX = rules_by_root(ALGEBRAIC_RULES)


def run(graph: Graph, interface: Interface, budget=None, allowed_safety=None,
        **options) -> PassResult:
    """Apply ``ALGEBRAIC_RULES`` wherever they match.

    Example:
        >>> [r.rule for r in algebraic.run(g, interface).rewrites]
        ['fold_mul_one']
    """
    return run_rule_table(graph, interface, "algebraic", INDEX, budget, allowed_safety)
