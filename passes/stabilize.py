"""Numerical stabilization: replace formulas that overflow or cancel by their stable forms.

These rules change results on purpose, beyond rounding, so all are ``nan-inf-changing``:
where the written formula overflows or cancels (``log(softmax(x))`` is -inf for large
logits, ``log(1 + 1e-20)`` is 0) the stable form gives the finite, more accurate value, and
zeros may change sign (``log1p(-0.0)`` is -0.0 where ``log(1 + -0.0)`` is +0.0). A config
allowing only ``exact`` and ``reassociating`` rules leaves them out. Each keeps the output's
shape (its precondition says how).

The same table serves ``gradients()``, which differentiates the stable form of a forward
subgraph when one exists (a gradient graph cannot recover what an unstable forward formula
already lost).
"""
from __future__ import annotations

from graphc.graph import Graph
from graphc.ops.elementwise import expm1, log1p, negative, softplus
from graphc.ops.nn import log_softmax, softmax_cross_entropy_with_logits_v2
from graphc.ops.reduce import reduce_logsumexp

from .patterns import ONE, Pat, Rule, X, rules_by_root
from .result import DEFAULT_OPTIONS, NAN_INF_CHANGING, Interface, PassOptions, PassResult
from .rewriter import on_copy, run_rule_table

__all__ = ["STABILIZE_RULES", "INDEX", "run", "edit"]

LABELS = Pat(name="labels")


def _log_softmax(m):
    return log_softmax(m.x, axis=m.matched[0].attrs["axis"])


def _one_fits(m):
    return m.fits_output(m.x, m.one)


def _log1p(m):
    return log1p(m.x)


def _expm1(m):
    return expm1(m.x)


def _logsumexp(m):
    total = m.matched[-1]
    return reduce_logsumexp(m.x, axis=total.attrs["axis"], keepdims=total.attrs["keepdims"])


def _xent_axis(m):
    """The class axis, if the sum runs over exactly the log_softmax axis; else None."""
    total, log_probs = m.matched[-1], m.matched[0]
    rank = m.x.shape.rank
    if not rank or total.attrs["keepdims"] or total.attrs["axis"] is None:
        return None
    axis = log_probs.attrs["axis"] % rank
    return axis if [a % rank for a in total.attrs["axis"]] == [axis] else None


def _xent_applies(m):
    """Labels must line up with the logits (same rank, compatible dims)."""
    return (_xent_axis(m) is not None and m.labels.shape.rank == m.x.shape.rank
            and m.labels.shape.is_compatible_with(m.x.shape))


def _cross_entropy(m):
    return softmax_cross_entropy_with_logits_v2(labels=m.labels, logits=m.x, axis=_xent_axis(m))


def _log_sigmoid(sign):
    def rewrite(m):
        if sign < 0:
            return negative(softplus(negative(m.x)))  # log(sigmoid(x)) = -softplus(-x)
        return negative(softplus(m.x))  # log(1 - sigmoid(x)) = -softplus(x)
    return rewrite


STABILIZE_RULES = [
    Rule("log_softmax", Pat("log", Pat("softmax", X)), _log_softmax, NAN_INF_CHANGING,
         "log(softmax(x)) -> log_softmax(x)"),
    Rule("log1p", Pat("log", Pat("add", X, ONE)), _log1p, NAN_INF_CHANGING,
         "log(1 + x) -> log1p(x) if 1 does not broadcast x", _one_fits),
    Rule("expm1", Pat("subtract", Pat("exp", X), ONE), _expm1, NAN_INF_CHANGING,
         "exp(x) - 1 -> expm1(x) if 1 does not broadcast x", _one_fits),
    Rule("logsumexp", Pat("log", Pat("reduce_sum", Pat("exp", X))), _logsumexp,
         NAN_INF_CHANGING, "log(sum(exp(x))) -> logsumexp(x)"),
    Rule("softmax_cross_entropy",
         Pat("negative", Pat("reduce_sum", Pat("multiply", LABELS, Pat("log_softmax", X)))),
         _cross_entropy, NAN_INF_CHANGING,
         "-sum(labels * log_softmax(x)) -> softmax_cross_entropy_with_logits(labels, x) if the "
         "sum runs over the class axis only and labels line up with x", _xent_applies),
    Rule("log_sigmoid", Pat("log", Pat("sigmoid", X)), _log_sigmoid(-1), NAN_INF_CHANGING,
         "log(sigmoid(x)) -> -softplus(-x)"),
    Rule("log_one_minus_sigmoid", Pat("log", Pat("subtract", ONE, Pat("sigmoid", X))),
         _log_sigmoid(+1), NAN_INF_CHANGING,
         "log(1 - sigmoid(x)) -> -softplus(x) if 1 does not broadcast x", _one_fits),
]
INDEX = rules_by_root(STABILIZE_RULES)


def edit(graph: Graph, interface: Interface,
         options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Apply ``STABILIZE_RULES`` wherever they match, in place."""
    return run_rule_table(graph, interface, "stabilize", INDEX, options)


def run(graph: Graph, interface: Interface,
        options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Apply ``STABILIZE_RULES`` to a copy of ``graph`` (``graph`` is not changed).

    Example:
        >>> [r.rule for r in stabilize.run(g, interface).rewrites]
        ['log_softmax']
    """
    return on_copy(edit, graph, interface, options)
