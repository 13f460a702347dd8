"""Algebraic simplification: a table of rewrite rules, each with its math and precondition.

A rule fires only where its precondition is proved (``Rule.when``); an unknown rank, an
unknown dim or an unknown value proves nothing, so the rule declines. Every rule but the
two constant combinations is exact under its precondition, NaN, Inf and the sign of zero
included:

- shapes: a rule that drops an operand needs it not to broadcast ``x`` up (``fits_output``);
- ``x + 0 -> x`` needs the zero to be ``-0.0`` (``-0.0 + 0.0`` is ``+0.0``) and ``x - 0 -> x``
  needs ``+0.0``, unless ``x`` is an integer;
- ``x - x -> 0`` needs ``x`` provably finite (``inf - inf`` is NaN), ``x * 0 -> 0`` needs an
  integer ``x`` (for floats ``inf * 0`` is NaN and ``-3 * 0`` is ``-0.0``);
- dropping an inner transpose or reshape needs it provably valid (it would raise at run time).

Combining constants, one rule per op the registry marks ``associative``, reassociates
(``reassociating``: the last bits may differ); it is exact for integers and bools
(wrap-around arithmetic is associative) and declines for floats where the folded constant
overflows, underflows or is inexact, or where the steps could overflow or absorb ``x``
when the folded form does not (``(x + 1e8) - 1e8`` is 0 in float32, not ``x``).
"""
from __future__ import annotations

import numpy as np

import graphc.ops  # noqa: F401 - every op type registered: combination rules come from it
from graphc import registry
from graphc.graph import Graph
from graphc.ops import elementwise
from graphc.ops.common import apply_elementwise
from graphc.ops.creation import zeros, zeros_like
from graphc.ops.select import where
from graphc.ops.shape_ops import broadcast_to, reshape, transpose
from graphc.static_values import constant_value

from .patterns import ONE, ZERO, Pat, Rule, X, const, rules_by_root
from .result import (DEFAULT_OPTIONS, EXACT, REASSOCIATING, Interface, PassOptions,
                     PassResult)
from .rewriter import on_copy, run_rule_table
from .value_facts import provably_finite

__all__ = ["ALGEBRAIC_RULES", "run", "edit"]


def _x(m):
    return m.x


def _x_fits(operand):
    """The side condition of ``x op c -> x``: c must not broadcast x to a larger shape."""
    return lambda m: m.fits_output(m.x, m.captures[operand])


def _integer(m) -> bool:
    return not m.x.dtype.is_floating


def _add_zero_applies(m) -> bool:
    """``x + (-0.0)`` is ``x`` for every x; ``x + (+0.0)`` turns ``-0.0`` into ``+0.0``."""
    negative_zero = _integer(m) or bool(np.all(np.signbit(m.value("zero"))))
    return negative_zero and m.fits_output(m.x, m.zero)


def _sub_zero_applies(m) -> bool:
    """``x - (+0.0)`` is ``x`` for every x; ``x - (-0.0)`` is ``x + 0.0``."""
    positive_zero = _integer(m) or not np.any(np.signbit(m.value("zero")))
    return positive_zero and m.fits_output(m.x, m.zero)


def _zeros_fit(m) -> bool:
    return m.out.shape.is_fully_defined() or m.fits_output(m.x, m.captures.get("zero", m.x))


def _sub_self_applies(m) -> bool:
    """Finite x - x is +0.0 exactly (round to nearest); inf - inf and NaN - NaN are NaN."""
    return provably_finite(m.x) and _zeros_fit(m)


def _mul_zero_applies(m) -> bool:
    return _integer(m) and _zeros_fit(m)


def _zeros(m):
    if m.out.shape.is_fully_defined():
        return zeros(m.out.shape.dims, dtype=m.out.dtype)
    return zeros_like(m.x)


def _folded(m, kernel):
    """``kernel(c1, c2)`` in the output dtype, without warnings (None when it grows)."""
    c1, c2 = m.value("c1"), m.value("c2")
    with np.errstate(all="ignore"):
        combined = np.asarray(kernel(c1, c2)).astype(m.out.dtype.np)
    return combined if combined.size <= max(c1.size, c2.size) else None


def _product_combines(m, combined) -> bool:
    """Floats: ``(x * c1) * c2`` has the value of ``x * (c1 * c2)`` up to rounding when the
    folded constant is finite and normal and c1, c2 both grow or both shrink magnitudes
    (else ``x * c1`` may overflow or underflow where ``x * (c1 * c2)`` does not)."""
    c1, c2 = np.abs(m.value("c1")), np.abs(m.value("c2"))
    tiny = np.finfo(m.out.dtype.np).tiny
    normal = np.all(np.isfinite(combined)) and np.all(np.abs(combined) >= tiny)
    same_direction = np.all(((c1 >= 1) & (c2 >= 1)) | ((c1 <= 1) & (c2 <= 1)))
    return bool(normal and same_direction)


def _sum_combines(m, combined) -> bool:
    """Floats: ``(x + c1) + c2`` has the value of ``x + (c1 + c2)`` up to rounding when
    c1 + c2 is exact and finite and does not cancel (``(x + 1e8) - 1e8`` loses x in
    float32), and ``x + c1`` cannot overflow unless ``x + (c1 + c2)`` does (c1 and c2 of one
    sign, or c1 too small to carry any finite x past the largest float)."""
    c1, c2 = (np.broadcast_to(m.value(n), combined.shape) for n in ("c1", "c2"))
    with np.errstate(all="ignore"):  # TwoSum: the rounding error of c1 + c2, exactly
        back = combined - c1
        error = (c1 - (combined - back)) + (c2 - back)
    if not (np.all(np.isfinite(combined)) and np.all(error == 0)):
        return False
    if np.any(np.abs(combined) < np.maximum(np.abs(c1), np.abs(c2)) / 2):
        return False
    info = np.finfo(m.out.dtype.np)
    carry_limit = np.ldexp(info.dtype.type(1), info.maxexp - info.nmant - 2)  # ulp(max) / 2
    one_sign = np.signbit(c1) == np.signbit(c2)
    return bool(np.all(one_sign | (c1 == 0) | (c2 == 0) | (np.abs(c1) < carry_limit)))


# Integer and bool arithmetic wraps around and stays associative, so every associative op
# combines their constants exactly; for floats only these ops, under these preconditions
# (maximum and minimum would need the sign of tied zeros).
_SUM_CONDITION = ("c1 + c2 is exact, finite, at least max(|c1|, |c2|) / 2, and c1, c2 of one "
                  "sign or |c1| < ulp(max) / 2")
FLOAT_COMBINATIONS = {
    "add": (_sum_combines, _SUM_CONDITION),
    "add_n": (_sum_combines, _SUM_CONDITION),
    "multiply": (_product_combines, "c1 * c2 is finite and normal and |c1|, |c2| are both "
                                    ">= 1 or both <= 1"),
}


def _combination_rule(opdef) -> Rule:
    """``(x op c1) op c2 -> x op (c1 op c2)`` for an op the registry marks associative,
    folding the constants with the op's own kernel."""
    float_check, float_condition = FLOAT_COMBINATIONS.get(opdef.name, (None, None))

    def applies(m) -> bool:
        combined = _folded(m, opdef.kernel)
        if combined is None or not m.x.dtype.is_floating:
            return combined is not None
        return float_check is not None and float_check(m, combined)

    def rewrite(m):
        return apply_elementwise(opdef.name, [m.x, _folded(m, opdef.kernel)])

    op = opdef.name
    floats = f", or floats where {float_condition}" if float_condition else " (not floats)"
    return Rule(f"combine_{op}_consts", Pat(op, Pat(op, X, C1), C2), rewrite, REASSOCIATING,
                f"{op}({op}(x, c1), c2) -> {op}(x, {op}(c1, c2)) if integers or bools{floats}",
                applies)


def _transpose_perm(perm, rank):
    return tuple(perm) if perm is not None else tuple(reversed(range(rank)))


def _compose_transposes(m):
    """The composed permutation; with x of unknown rank only two explicit perms of one
    length compose, and never into dropping both (the inner one checks x's rank)."""
    inner, outer = m.matched[0].attrs["perm"], m.attr("perm")
    rank = m.x.shape.rank
    if rank is None:
        if inner is None or outer is None or len(inner) != len(outer):
            return None
        rank = len(inner)
    inner, outer = _transpose_perm(inner, rank), _transpose_perm(outer, rank)
    perm = tuple(inner[p] for p in outer)
    if perm == tuple(range(rank)):
        return m.x if m.x.shape.rank is not None else None
    return transpose(m.x, list(perm))


def _inner_reshape_valid(m) -> bool:
    """The inner reshape cannot fail at run time, so dropping it hides no error: its shape
    is constant, and x is fully known (shape inference checked it) or holds a multiple of
    the target's known elements with one ``-1`` to take the rest."""
    x, inner = m.x, m.matched[0]
    target = constant_value(inner.inputs[1])
    if target is None:
        return False
    if x.shape.is_fully_defined():
        return True
    target = [int(v) for v in np.ravel(target)]
    known_x = int(np.prod([d for d in x.shape.dims or () if d is not None], dtype=np.int64))
    known_target = int(np.prod([v for v in target if v != -1], dtype=np.int64))
    return target.count(-1) == 1 and known_target > 0 and known_x % known_target == 0


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


def _scalar_operand(m) -> bool:
    """A scalar (rank 0, known statically) neither widens the broadcast's shape nor changes
    which IEEE operation each element gets."""
    return m.c.shape.rank == 0


def _scaled_before_broadcast(op_name):
    """``broadcast_to(x op c, shape)``: each element of the broadcast gets the same one
    operation as before, so the values are bitwise the same, computed once per element of
    ``x`` instead of once per element of the broadcast (the gradient of a mean divides its
    broadcast by the count: W7 (b)'s 32x16x16x56 one took 0.6 ms, reading the broadcast
    view element by element)."""
    return lambda m: broadcast_to(apply_elementwise(op_name, [m.x, m.c]), m.shape)


C1, C2, SHAPE = const("c1"), const("c2"), Pat(name="shape")
SCALAR = Pat(name="c")

ALGEBRAIC_RULES = [
    # name, pattern, rewrite, safety, math "if" its precondition, the precondition's test
    Rule("fold_mul_one", Pat("multiply", X, ONE), _x, EXACT,
         "x * 1 -> x if 1 does not broadcast x", _x_fits("one")),
    Rule("fold_add_zero", Pat("add", X, ZERO), _x, EXACT,
         "x + 0 -> x if 0 is -0.0 or x an integer, and 0 does not broadcast x",
         _add_zero_applies),
    Rule("fold_sub_zero", Pat("subtract", X, ZERO), _x, EXACT,
         "x - 0 -> x if 0 is +0.0 or x an integer, and 0 does not broadcast x",
         _sub_zero_applies),
    Rule("fold_div_one", Pat("divide", X, ONE), _x, EXACT,
         "x / 1 -> x if 1 does not broadcast x (and x is a float)", _x_fits("one")),
    Rule("fold_neg_neg", Pat("negative", Pat("negative", X)), _x, EXACT, "-(-x) -> x"),
    Rule("fold_sub_self", Pat("subtract", X, X), _zeros, EXACT,
         "x - x -> 0 if x is provably finite", _sub_self_applies),
    Rule("fold_mul_zero", Pat("multiply", X, ZERO), _zeros, EXACT,
         "x * 0 -> 0 if x is an integer and 0 does not broadcast x", _mul_zero_applies),
    Rule("double_repeated_sum", Pat("add", X, X), _double, EXACT, "f(x) + f(x) -> 2 * f(x)"),
    Rule("compose_transposes", Pat("transpose", Pat("transpose", X)), _compose_transposes,
         EXACT, "transpose(transpose(x, p), q) -> transpose(x, p[q]) if the rank is known "
         "or p, q are explicit (dropped only at a known rank)"),
    Rule("merge_reshapes", Pat("reshape", Pat("reshape", X, Pat()), SHAPE), _merge_reshapes,
         EXACT, "reshape(reshape(x, s1), s2) -> reshape(x, s2) if reshape(x, s1) cannot fail",
         _inner_reshape_valid),
    Rule("drop_same_shape_reshape", Pat("reshape", X, Pat()), _x, EXACT,
         "reshape(x, shape(x)) -> x if both shapes are fully known", _same_shape),
    Rule("drop_same_shape_broadcast", Pat("broadcast_to", X, Pat()), _x, EXACT,
         "broadcast_to(x, shape(x)) -> x if both shapes are fully known", _same_shape),
    Rule("divide_before_broadcast", Pat("divide", Pat("broadcast_to", X, SHAPE), SCALAR),
         _scaled_before_broadcast("divide"), EXACT,
         "broadcast_to(x, s) / c -> broadcast_to(x / c, s) if c is a scalar", _scalar_operand),
    Rule("multiply_before_broadcast", Pat("multiply", Pat("broadcast_to", X, SHAPE), SCALAR),
         _scaled_before_broadcast("multiply"), EXACT,
         "broadcast_to(x, s) * c -> broadcast_to(x * c, s) if c is a scalar", _scalar_operand),
    Rule("drop_same_shape_sum_to", Pat("sum_to_shape", X, Pat()), _x, EXACT,
         "sum_to_shape(x, shape(x)) -> x if both shapes are fully known", _same_shape),
    Rule("remove_identity", Pat("identity", X), _x, EXACT, "identity(x) -> x"),
    Rule("scalar_zero_in_where", Pat("where", Pat(name="c"), X, Pat("zeros_like", X)),
         _where_scalar_zero, EXACT, "where(c, x, zeros_like(x)) -> where(c, x, 0)"),
    Rule("drop_same_dtype_cast", Pat("cast", X), _x, EXACT, "cast(x, dtype(x)) -> x",
         _same_dtype),
] + [_combination_rule(opdef) for opdef in registry.all_ops()
     if opdef.associative and opdef.elementwise]
INDEX = rules_by_root(ALGEBRAIC_RULES)


def edit(graph: Graph, interface: Interface,
         options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Apply ``ALGEBRAIC_RULES`` wherever they match, in place."""
    return run_rule_table(graph, interface, "algebraic", INDEX, options)


def run(graph: Graph, interface: Interface,
        options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Apply ``ALGEBRAIC_RULES`` to a copy of ``graph`` (``graph`` is not changed).

    Example:
        >>> [r.rule for r in algebraic.run(g, interface).rewrites]
        ['fold_mul_one']
    """
    return on_copy(edit, graph, interface, options)
