"""Pool taps: a ``max_pool`` whose gradient the graph also computes records each window's
first-max tap as it pools, and the gradient reads the taps instead of finding every
window's first maximum again from the pool's input and output (graphc.ops.pool_taps).

Rule ``record_taps`` # max_pool(x) -> max_pool_taps(x)[0], and each max_pool_grad(x,
max_pool(x), dy) of the same window, strides and padding -> max_pool_grad_taps(taps, dy,
shape(x)). The taps are one byte per output (int8 for windows of up to 127 taps); the
gradient then reads them and dy instead of x and y (at W7 (b), the 3x3 stride-1 pool's
gradient 1.44 -> 0.82 ms and the 2x2 stride-2 one's 0.75 -> 0.47 ms, cache-cold, for
0.14 and 0.09 ms more in the forward pools), and the pool's input need not live until the
backward pass.

Both results are bitwise the unfused ops' (the same maxima, the same gradients added in
the same order), so the rule is ``exact``. Runs after differentiation (``minimize`` built
the gradients), on pools without control edges.
"""
from __future__ import annotations

from graphc.graph import Graph
from graphc.ops.conv_grads import MAX_POOL_GRAD
from graphc.ops.conv import MAX_POOL, _pool_attrs
from graphc.ops.pool_taps import MAX_POOL_GRAD_TAPS, MAX_POOL_TAPS
from graphc.ops.shape_ops import shape

from .result import DEFAULT_OPTIONS, EXACT, Interface, PassOptions, PassResult
from .rewriter import Rewriter, on_copy

__all__ = ["run", "edit", "find_pools"]


def find_pools(graph: Graph) -> list:
    """``(pool, gradients)``: each max_pool with the max_pool_grad ops of its input, output
    and window (at least one), in topological order."""
    found = []
    for op in graph.topological_order():
        if op.type != MAX_POOL.name:
            continue
        x, y = op.inputs[0], op.outputs[0]
        grads = [c for c in dict.fromkeys(y.consumers())
                 if c.type == MAX_POOL_GRAD.name and c.inputs[0] is x and c.inputs[1] is y
                 and _pool_attrs(c) == _pool_attrs(op)]
        if grads:
            found.append((op, grads))
    return found


def edit(graph: Graph, interface: Interface,
         options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Let each max_pool with gradients record its taps, in place."""
    rw = Rewriter(graph, interface, "pool_taps", options)
    for pool, grads in find_pools(graph):
        try:
            _record(rw, pool, grads)
        except Exception as err:  # noqa: BLE001 - every failure gets the pass, rule and op
            raise rw.failure(err, pool) from err
    return rw.finish()


def _record(rw: Rewriter, pool, grads) -> None:
    if not (rw.may_rewrite(pool, EXACT) and all(rw.may_rewrite(g, EXACT) for g in grads)):
        return
    attrs = _pool_attrs(pool)
    made: list = []

    def build():
        recorded = rw.graph.create_op(MAX_POOL_TAPS.name, [pool.inputs[0]], attrs,
                                      name=f"{pool.name}_taps")
        made.append(recorded)
        return [recorded.outputs[0]]

    if not rw.replace(pool, build, "record_taps", EXACT, grads):
        return
    taps = made[0].outputs[1]
    for grad in grads:
        def build_grad(grad=grad):
            return rw.graph.create_op(
                MAX_POOL_GRAD_TAPS.name, [taps, grad.inputs[2], shape(pool.inputs[0])],
                attrs, name=f"{grad.name}_taps").outputs[0]
        rw.replace(grad, build_grad, "record_taps", EXACT)


def run(graph: Graph, interface: Interface,
        options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Let each max_pool with gradients of a copy of ``graph`` record its taps (``graph``
    is not changed).

    Example:
        >>> pool_taps.run(g, interface).histogram_after["max_pool_grad_taps"]
        1
    """
    return on_copy(edit, graph, interface, options)
