"""Unused columns: the columns of a matrix product that a ``split`` hands to nobody are not
computed.

``split(a @ b, axis=1)`` with its first or last pieces unread is ``a @ b[:, lo:hi]`` for
the columns ``[lo, hi)`` of the pieces read (``b[lo:hi]`` when ``b`` is transposed), split
into those pieces. The typical case is a gradient loop: the gradient of
``matmul(concat([x_t, h]), W)`` is ``split(dgates @ W^T)``, and when nothing asks for the
gradient of ``x_t`` (a placeholder's rows) a third of that product is thrown away every
iteration (the LSTM of benchmark W8: 64 of 192 columns). ``b`` of a transposed product is
sliced by rows, a view; an untransposed one by columns, a copy of ``b`` that costs one
``k x width`` pass against the ``m x k x (columns dropped)`` products it saves.
"""
from __future__ import annotations

from graphc.graph import Graph
from graphc.ops.array import split
from graphc.ops.linalg import matmul

from .result import DEFAULT_OPTIONS, REASSOCIATING, Interface, PassOptions, PassResult
from .rewriter import on_copy, rewrite_graph

__all__ = ["run", "edit"]


def _columns(op, fetched) -> tuple:
    """``(lo, hi, first, last)``: the columns the read pieces of split ``op`` span and the
    pieces they are, or None when every column is read (or none is)."""
    widths = [t.shape.dims[1] for t in op.outputs]
    read = [j for j, t in enumerate(op.outputs) if t.consumers() or t in fetched]
    if not read or None in widths or (read[0] == 0 and read[-1] == len(widths) - 1):
        return None
    first, last = read[0], read[-1]
    return sum(widths[:first]), sum(widths[:last + 1]), first, last


def _product(op, fetched):
    """The matmul split ``op`` splits by columns, alone, or None."""
    x = op.inputs[0]
    product = x.op
    if (product.type != "matmul" or x.shape.rank != 2 or op.attrs["axis"] % 2 != 1
            or x.consumers() != [op] or x in fetched or product.control_inputs
            or any(t.shape.rank != 2 for t in product.inputs)):
        return None
    return product


def _drop_unused_columns(rw, op) -> bool:
    if op.type != "split" or not rw.may_rewrite(op, REASSOCIATING):
        return False
    fetched = set(rw.interface.fetches)
    product = _product(op, fetched)
    span = _columns(op, fetched) if product is not None else None
    if span is None:
        return False
    lo, hi, first, last = span

    def build():
        a, b = product.inputs
        transpose_b = product.attrs["transpose_b"]
        kept = b[lo:hi] if transpose_b else b[:, lo:hi]
        narrow = matmul(a, kept, transpose_a=product.attrs["transpose_a"],
                        transpose_b=transpose_b)
        pieces = op.outputs[first:last + 1]
        inner = [narrow] if len(pieces) == 1 else split(
            narrow, [t.shape.dims[1] for t in pieces], axis=1)
        # a piece nobody reads stands for itself (it goes with the split)
        return [inner[j - first] if first <= j <= last else t
                for j, t in enumerate(op.outputs)]
    # BLAS may block a narrower product differently: the last bits may change
    if not rw.replace(op, build, "drop_unused_columns", REASSOCIATING, [product]):
        return False
    rw.remove([product])  # the split was its only reader
    return True


def edit(graph: Graph, interface: Interface,
         options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Compute only the columns of split matrix products someone reads, in place."""
    ops = [op for op in graph.get_operations() if op.type == "split"]
    return rewrite_graph(graph, interface, "unused_columns", _drop_unused_columns, options,
                         ops)


def run(graph: Graph, interface: Interface,
        options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """``edit`` on a copy (``graph`` is not changed).

    Example:
        >>> unused_columns.run(g, interface).rewrites[0].rule
        'drop_unused_columns'
    """
    return on_copy(edit, graph, interface, options)
