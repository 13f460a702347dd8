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


def compile_subgraph(subgraph):
    """``run(values, ctx) -> outputs`` for ``subgraph`` (inputs in its input order).

    Example:
        >>> run = compile_subgraph(op.attrs["body"])
        >>> values = run(values + captured, ctx)
    """
    plan = Plan(subgraph.graph, list(subgraph.outputs), [], list(subgraph.inputs),
                own_fetches=False)
    return plan.run


register_service("compile", compile_subgraph)
