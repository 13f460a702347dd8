"""Constant folding: evaluate at compile time every op whose inputs are all constants.

The runtime's own kernel computes the value (no second implementation). Ops that are not
``foldable``, stateful or random are never folded; results larger than ``fold_limit``
elements stay unfolded so folding cannot blow up memory or the graph; a kernel that fails
is left for run time, where its error belongs (integer division by zero raises there). Ops
flagged ``value_from_shapes`` fold from static shapes alone, even when their input is not
constant: ``shape``, ``size``, ``rank``, ``shape(x)[i]``, and ``zeros_like``/``ones_like``
of fully known shapes.
"""
from __future__ import annotations

import numpy as np

from graphc import registry
from graphc.graph import Graph
from graphc.ops.creation import constant
from graphc.static_values import constant_value

from .result import (DEFAULT_FOLD_LIMIT, DEFAULT_OPTIONS, EXACT, Interface, PassOptions,
                     PassResult)
from .rewriter import on_copy, rewrite_graph

__all__ = ["run", "edit", "DEFAULT_FOLD_LIMIT"]


def _evaluate(op, inputs):
    opdef = registry.get(op.type)
    arrays = [t.op.attrs["value"] for t in inputs]
    # a kernel that raises (integer division by zero, an index out of range) is left for
    # run time, where its error names the op and the user's line; no warning leaks either
    try:
        with np.errstate(all="ignore"):
            result = opdef.kernel(*arrays, **op.attrs)
            values = list(result) if len(op.outputs) > 1 else [result]
            return [np.asarray(v).astype(t.dtype.np, copy=False)
                    for v, t in zip(values, op.outputs)]
    except Exception:  # noqa: BLE001 - a failing kernel is a run-time error, not a fold
        return None


def _foldable(op) -> bool:
    opdef = registry.get(op.type)
    return op.type != "const" and opdef.foldable and not opdef.stateful and not opdef.random


def _static_value(op):
    """The value of an op that follows from static shapes alone, else None."""
    if not registry.get(op.type).value_from_shapes:
        return None
    with np.errstate(all="ignore"):
        return constant_value(op.outputs[0])


def _all_constant(inputs) -> bool:
    return bool(inputs) and all(t.op.type == "const" for t in inputs)


def edit(graph: Graph, interface: Interface,
         options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Fold the constant subgraphs of ``graph`` in place."""
    def visit(rw, op):
        if not (_all_constant(op.inputs) or registry.get(op.type).value_from_shapes):
            return False  # the cheap test first: most ops read a computed value
        if not _foldable(op) or not rw.may_rewrite(op, EXACT):
            return False
        known = _static_value(op)
        if known is not None:
            values = [known]
            rule = "fold_static_shape"
        else:
            inputs = rw.inputs_of(op)  # earlier folds in this pass count as constants
            if not _all_constant(inputs):
                return False
            values = _evaluate(op, inputs)
            rule = "fold_constants"
        if values is None or sum(v.size for v in values) > options.fold_limit:
            return False
        return rw.replace(op, lambda: [constant(v, dtype=t.dtype, name=f"{op.name}_folded")
                                       for v, t in zip(values, op.outputs)], rule, EXACT)

    return rewrite_graph(graph, interface, "constant_folding", visit, options)


def run(graph: Graph, interface: Interface,
        options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Fold the constant subgraphs of a copy of ``graph`` (``graph`` is not changed).

    Example:
        >>> constant_folding.run(g, interface).rewrites[0].rule
        'fold_constants'
    """
    return on_copy(edit, graph, interface, options)
