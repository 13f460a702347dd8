"""Subgraph plans: how the runtime runs the bodies, conditions and branches of control-flow
ops (the "compile" service of ``graphc.control_flow``).

A subgraph is compiled once, when the plan holding its op is built, into a ``Plan`` of its
own (straight-line code, buffers kept across runs); each iteration or branch run is one
call of that plan on the previous values: no graph is walked per iteration. Its results
are handed to the next iteration as they are (no defensive copies): the op holding the
subgraph is not a fresh-output op, so the enclosing plan never writes into them.
"""
from __future__ import annotations

from graphc.control_flow import register_service

from .plan import Plan

__all__ = ["compile_subgraph"]


def compile_subgraph(subgraph, donated=()):
    """``(run, fresh)`` for ``subgraph``: ``run(values, ctx) -> outputs`` (inputs in its
    input order), and per output whether it is certainly an array the run made (not an
    input, constant or variable value). ``donated``: input positions whose arrays each run
    may change in place (the caller hands over values nobody else holds).

    Example:
        >>> run, fresh = compile_subgraph(op.attrs["body"], donated=(2,))
        >>> values = run(values + captured, ctx)
    """
    plan = Plan(subgraph.graph, list(subgraph.outputs), list(subgraph.effects),
                list(subgraph.inputs),
                own_fetches=False, donated_feeds=donated)
    return plan.run, tuple(aliases == () for aliases in plan.output_aliases)


register_service("compile", compile_subgraph)
