"""Optimizing inside subgraphs: every branch, loop body and loop condition goes through the
pipeline itself (constant folding, CSE, DCE, algebraic and stabilizing rules, fusion, and
this pass again for the subgraphs nested in them), and the op is rebuilt over the results.

Before that, captured inputs whose outer value is a constant are copied into the subgraph
as constants (and dropped from the op's inputs), so folding inside sees them. The records
of every nested pipeline are kept in the result's ``extra["inside"]`` (``{op name/label:
[PassResult...]}``): the pass report shows what happened inside bodies.
"""
from __future__ import annotations

from graphc.control_flow.subgraph import service, subgraphs_of
from graphc.graph import Graph

from .result import DEFAULT_OPTIONS, Interface, PassOptions, PassResult
from .rewriter import Rewriter, on_copy
from .subgraph_edits import any_subgraphs, captured_start, copied, holds_subgraphs, rebuilt

__all__ = ["run", "edit"]


def _sunk_constants(sub, captured, keep, fold_limit):
    """A copy of ``sub`` whose captured inputs at positions ``not keep`` are constants;
    returns ``(graph, inputs, outputs, effects)``."""
    graph, inputs, outputs, effects = copied(sub)
    start = sub.captured_from
    for k, outer in enumerate(captured):
        if keep[k]:
            continue
        inner = inputs[start + k]
        with graph.as_default(), graph.inserting_before(inner.op), graph.name_scope(None):
            const = graph.create_op("const", [], dict(outer.op.attrs),
                                    name=outer.op.name.rsplit("/", 1)[-1]).outputs[0]
        graph.replace_uses(inner, const)
        outputs = [const if t is inner else t for t in outputs]
    kept_inputs = inputs[:start] + [t for k, t in enumerate(inputs[start:]) if keep[k]]
    return graph, kept_inputs, outputs, effects


def _sinkable(tensor, fold_limit) -> bool:
    return tensor.op.type == "const" and tensor.op.attrs["value"].size <= fold_limit


def _optimized(op, options):
    """``(new subgraph attrs, captured inputs, {label: records}, changed)`` for ``op``."""
    start = captured_start(op)
    captured = list(op.inputs[start:])
    keep = [not _sinkable(t, options.fold_limit) for t in captured]
    changed = not all(keep)
    attrs: dict = {}
    inside: dict = {}
    for key, sub in subgraphs_of(op):
        graph, inputs, outputs, effects = _sunk_constants(sub, captured, keep,
                                                          options.fold_limit)
        # effects an earlier round kept stay targets, whether the outputs need them or not
        interface = Interface(tuple(outputs), tuple(effects), tuple(inputs))
        new_graph, new_interface, records = service("optimize")(graph, interface, options)
        inside[f"{op.name}/{sub.label}"] = records
        changed = changed or any(r.changed for r in records)
        new = sub.replaced(new_graph, new_interface.feeds, new_interface.fetches,
                           new_interface.targets)  # the effects prune kept as targets
        value = attrs.get(key)
        attrs[key] = new if not isinstance(op.attrs[key], tuple) else (value or ()) + (new,)
    kept = [t for t, k in zip(captured, keep) if k]
    unused = _unused_captures(attrs, len(kept))
    if unused:
        attrs = {key: _without(value, unused) for key, value in attrs.items()}
        kept = [t for k, t in enumerate(kept) if k not in unused]
    return attrs, kept, inside, changed or bool(unused)


def _subs(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def _unused_captures(attrs: dict, count: int) -> set:
    """Positions of captured inputs that no subgraph reads any more (after optimizing)."""
    unused = set(range(count))
    for value in attrs.values():
        for sub in _subs(value):
            for k in list(unused):
                inner = sub.inputs[sub.captured_from + k]
                if inner.consumers() or inner in sub.outputs:
                    unused.discard(k)
    return unused


def _without(value, unused: set):
    """The subgraph(s) without the captured inputs at positions ``unused``."""
    out = []
    for sub in _subs(value):
        start = sub.captured_from
        dropped = [sub.inputs[start + k] for k in unused]
        sub.graph.remove_ops([t.op for t in dropped])
        inputs = [t for t in sub.inputs if t not in dropped]
        out.append(sub.replaced(sub.graph, inputs, sub.outputs))
    return tuple(out) if isinstance(value, tuple) else out[0]


def edit(graph: Graph, interface: Interface,
         options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Optimize the subgraphs of every op holding some, in place (innermost first: the
    nested pipeline runs this pass on them too)."""
    rw = Rewriter(graph, interface, "subgraphs", options)
    inside: dict = {}
    for op in graph.topological_order() if any_subgraphs(graph) else ():
        if not holds_subgraphs(op):
            continue
        rw.rule = "optimize_subgraphs"
        try:
            attrs, captured, records, changed = _optimized(op, options)
        except Exception as err:  # noqa: BLE001 - the failure names this pass and the op
            raise rw.failure(err, op) from err
        inside.update(records)
        if changed:
            rw.replace(op, lambda: rebuilt(op, attrs, captured), "optimize_subgraphs")
    return rw.finish(extra={"inside": inside})


def run(graph: Graph, interface: Interface,
        options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """``edit`` on a copy of ``graph`` (``graph`` is not changed).

    Example:
        >>> result = subgraphs.run(g, interface)
        >>> [r.name for r in result.extra["inside"]["while/body"]]
        ['prune', 'constant_folding', ...]
    """
    return on_copy(edit, graph, interface, options)
