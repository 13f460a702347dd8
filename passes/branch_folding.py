"""Branch folding: a control-flow op whose branch index is a constant is replaced by the
chosen branch, built into the enclosing graph (``cond(True, f, g) -> f()``).

Which input picks the branch and which subgraphs are branches is the op's business: an op
whose ``OpDef.subgraphs`` names a tuple of branch subgraphs (``branches``) takes the index
as its input 0 and runs one of them, the last when the index is out of range.
"""
from __future__ import annotations

import numpy as np

from graphc.control_flow.subgraph import inline
from graphc.graph import Graph

from .result import DEFAULT_OPTIONS, Interface, PassOptions, PassResult
from .rewriter import on_copy, rewrite_graph
from .subgraph_edits import any_subgraphs

__all__ = ["run", "edit"]


def _chosen_branch(op):
    """The subgraph a constant index picks, or None."""
    keys = [key for key in op.opdef.subgraphs if isinstance(op.attrs[key], tuple)]
    if len(keys) != 1 or op.inputs[0].op.type != "const":
        return None
    branches = op.attrs[keys[0]]
    index = int(np.asarray(op.inputs[0].op.attrs["value"]))
    return branches[index if 0 <= index < len(branches) else len(branches) - 1]


def _fold_branch(rw, op) -> bool:
    branch = _chosen_branch(op)
    if branch is None or not rw.may_rewrite(op):
        return False
    operands = list(op.inputs[branch.first_input:])
    return rw.replace(op, lambda: inline(branch, operands), "fold_constant_branch")


def edit(graph: Graph, interface: Interface,
         options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Replace every op choosing a branch by a constant with that branch, in place."""
    ops = None if any_subgraphs(graph) else ()  # nothing to do without control flow
    return rewrite_graph(graph, interface, "branch_folding", _fold_branch, options, ops)


def run(graph: Graph, interface: Interface,
        options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """``edit`` on a copy (``graph`` is not changed).

    Example:
        >>> branch_folding.run(g, interface).rewrites[0].rule
        'fold_constant_branch'
    """
    return on_copy(edit, graph, interface, options)
