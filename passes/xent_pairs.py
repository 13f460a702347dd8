"""Cross-entropy pairs: where a graph computes both the sparse softmax cross-entropy of some
labels and logits and its backprop (``softmax - one_hot``: what the loss's gradient builds
on), one ``sparse_softmax_cross_entropy_pair`` op computes both from one softmax, as TF1's
SparseSoftmaxCrossEntropyWithLogits does (a training step otherwise takes the max, exp and
row sums of the logits twice, and checks the labels twice).

The pair replaces the two ops only when nothing else can tell: same labels and logits
tensors, no control edges on either. Both outputs are bitwise the two kernels' (the pair's
kernel makes the same NumPy calls once, graphc.ops.sparse_xent). Runs after differentiation
(the gradient made the backprop op), before fusion.

Then the loss's gradient: a mean or sum of the losses gives every row the same upstream
gradient, which the graph builds as a vector (``broadcast_to(g, shape(loss))``, divided by
the count for a mean), expands and multiplies with the backprop. Where that vector comes
from 0-d values only (rule ``scalar_row_gradient``), the product is ``g' * backprop`` with
the 0-d ``g'`` computed by the same elementwise ops on the 0-d values: each element gets
the same operations on the same values (bitwise), and three steps and a pass go.
"""
from __future__ import annotations

from graphc import registry
from graphc.graph import Graph
from graphc.ops.sparse_xent import SPARSE_BACKPROP, SPARSE_XENT, SPARSE_XENT_PAIR

from .value_facts import has_effect
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
    pairs = []
    for first, second in find_pairs(graph):
        try:
            pairs.append(_pair(rw, first, second))
        except Exception as err:  # noqa: BLE001 - every failure gets the pass, rule and op
            raise rw.failure(err, first) from err
    fetched = set(interface.fetches)
    for pair in filter(None, pairs):
        for product in list(pair.outputs[1].consumers()):
            try:
                _scalar_row_gradient(rw, pair, product, fetched)
            except Exception as err:  # noqa: BLE001 - the pass, rule and op
                raise rw.failure(err, product) from err
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
        return made[0]
    return None


def _tiny(tensor, rank: int) -> bool:
    """A value of one element and at most ``rank`` dims: it broadcasts over any row."""
    shape = tensor.shape
    return (shape.is_fully_defined() and shape.rank <= rank
            and all(d == 1 for d in shape.dims))


def _row_constant(tensor, loss, depth: int = 8):
    """The ops building ``tensor`` as one value for every row of ``loss`` (a broadcast of a
    tiny value to ``shape(loss)``, through elementwise ops whose other operands are tiny),
    outermost first, or None."""
    op, rank = tensor.op, loss.shape.rank
    if depth == 0 or op.control_inputs or rank is None:
        return None
    if op.type == "broadcast_to":
        value, target = op.inputs
        if (_tiny(value, rank) and target.op.type == "shape" and target.op.inputs[0] is loss
                and not target.op.control_inputs):
            return [op]
        return None
    if not registry.get(op.type).elementwise or has_effect(op) or len(op.outputs) != 1:
        return None
    varying = [t for t in op.inputs if not _tiny(t, rank)]
    if len(varying) != 1:
        return None
    inner = _row_constant(varying[0], loss, depth - 1)
    return None if inner is None else [op] + inner


def _scalar_row_gradient(rw: Rewriter, pair, product, fetched) -> None:
    """``expand_dims(rows, -1) * backprop`` -> ``g' * backprop`` where ``rows`` holds one
    value ``g'`` for every row (see the module docstring)."""
    loss, backprop = pair.outputs
    if (product.type != "multiply" or len(product.inputs) != 2 or product.control_inputs
            or list(product.inputs).count(backprop) != 1):
        return
    position = list(product.inputs).index(backprop)
    expanded = product.inputs[1 - position]
    expand = expanded.op
    rank = loss.shape.rank
    if (expand.type != "expand_dims" or rank is None or expand.control_inputs
            or expand.attrs["axis"] not in (-1, rank) or expanded in fetched):
        return
    chain = _row_constant(expand.inputs[0], loss)
    if chain is None or not rw.may_rewrite(product, EXACT):
        return

    def scalar(tensor):
        """The chain's value at ``tensor``, computed on the tiny values alone."""
        op = tensor.op
        if op.type == "broadcast_to":
            return op.inputs[0]
        inputs = [t if _tiny(t, rank) else scalar(t) for t in op.inputs]
        return rw.graph.create_op(op.type, inputs, dict(op.attrs)).outputs[0]

    def build():
        value = scalar(expand.inputs[0])
        operands = [value, backprop] if position == 1 else [backprop, value]
        return rw.graph.create_op("multiply", operands, {}).outputs[0]

    if rw.replace(product, build, "scalar_row_gradient", EXACT, [expand, *chain]):
        _drop_unread(rw, [expand, *chain], fetched)


def _drop_unread(rw: Rewriter, ops, fetched) -> None:
    """Remove those of ``ops`` (outermost first) that nothing reads any more, with the
    ``shape`` ops that fed only them."""
    gone: set = set(rw._dropped)
    for op in ops:
        feeders = [t.op for t in op.inputs if t.op.type == "shape"]
        for candidate in [op, *feeders]:
            if (candidate not in gone and not has_effect(candidate)
                    and candidate not in rw._control_sources
                    and not any(t in fetched for t in candidate.outputs)
                    and all(reader in gone for t in candidate.outputs
                            for reader in t.consumers())):
                gone.add(candidate)
                rw.remove([candidate])


def run(graph: Graph, interface: Interface,
        options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Pair each loss and backprop of a copy of ``graph`` (``graph`` is not changed).

    Example:
        >>> xent_pairs.run(g, interface).histogram_after["sparse_softmax_cross_entropy_pair"]
        1
    """
    return on_copy(edit, graph, interface, options)
