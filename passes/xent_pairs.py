"""Cross-entropy pairs: where a graph computes both the sparse softmax cross-entropy of some
labels and logits and its backprop (``softmax - one_hot``: what the loss's gradient builds
on), one ``sparse_softmax_cross_entropy_pair`` op computes both from one softmax, as TF1's
SparseSoftmaxCrossEntropyWithLogits does (a training step otherwise takes the max, exp and
row sums of the logits twice, and checks the labels twice).

The pair replaces the two ops only when nothing else can tell: same labels and logits
tensors, no control edges on either. Both outputs are bitwise the two kernels' (the pair's
kernel makes the same NumPy calls once, graphc.ops.sparse_xent). Runs after differentiation
(the gradient made the backprop op), before fusion.
"""
from __future__ import annotations

from graphc.graph import Graph
from graphc.ops.sparse_xent import SPARSE_BACKPROP, SPARSE_XENT, SPARSE_XENT_PAIR

from .result import DEFAULT_OPTIONS, EXACT, Interface, PassOptions, PassResult
from .rewriter import Rewriter, on_copy

__all__ = ["run", "edit", "find_pairs"]


def find_pairs(graph: Graph) -> list:
    """``(first, second)``: a cross-entropy op and its backprop of the same labels and logits,
    in the graph's topological order (either kind may come first)."""
    seen: dict = {}  # (op type, inputs) -> the first such op
    pairs = []
    partner = {SPARSE_XENT.name: SPARSE_BACKPROP.name, SPARSE_BACKPROP.name: SPARSE_XENT.name}
    for op in graph.topological_order():
        if op.type not in partner:
            continue
        key = tuple(op.inputs)
        first = seen.pop((partner[op.type], key), None)
        if first is None:
            seen.setdefault((op.type, key), op)
        else:
            pairs.append((first, op))
    return pairs


def edit(graph: Graph, interface: Interface,
         options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Replace each loss and backprop of the same inputs by one pair op, in place."""
    rw = Rewriter(graph, interface, "xent_pairs", options)
    for first, second in find_pairs(graph):
        try:
            _pair(rw, first, second)
        except Exception as err:  # noqa: BLE001 - every failure gets the pass, rule and op
            raise rw.failure(err, first) from err
    return rw.finish()


def _output(op) -> int:
    """Which output of the pair stands for ``op``'s: the loss, or the backprop."""
    return 0 if op.type == SPARSE_XENT.name else 1


def _pair(rw: Rewriter, first, second) -> None:
    if not (rw.may_rewrite(first, EXACT) and rw.may_rewrite(second, EXACT)):
        return
    made: list = []

    def build():
        loss = first if _output(first) == 0 else second
        pair = rw.graph.create_op(SPARSE_XENT_PAIR.name, list(first.inputs), {},
                                  name=f"{loss.name}_pair")
        made.append(pair)
        return [pair.outputs[_output(first)]]

    # built just before the first of the two, so that every reader of either follows it
    if rw.replace(first, build, "share_softmax", EXACT, [second]):
        rw.redirect(second, [made[0].outputs[_output(second)]], "share_softmax", EXACT)


def run(graph: Graph, interface: Interface,
        options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Pair each loss and backprop of a copy of ``graph`` (``graph`` is not changed).

    Example:
        >>> xent_pairs.run(g, interface).histogram_after["sparse_softmax_cross_entropy_pair"]
        1
    """
    return on_copy(edit, graph, interface, options)
