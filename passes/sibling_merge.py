"""Sibling merging: ops doing the same thing to blocks of one computation run as one op.

An Inception block's three 1x1 convolutions of one tensor become one convolution with their
filters side by side along the output channels, split into the three results: one GEMM of
40 columns instead of three of 16, 16 and 8. Each rule asks the registry which inputs may
be cut into blocks (``OpDef.blocks``; for elementwise ops, every input of the result's
extent along the axis):

- ``merge_siblings``: ops of one type and attributes whose whole inputs are the same
  tensors, and whose blocked inputs differ # conv(x, w1), conv(x, w2) -> split(conv(x,
  concat(w1, w2)))
- ``merge_pieces``: elementwise ops reading the pieces of one split, in order, at one
  position # relu(split(y)[0]), relu(split(y)[1]) -> split(relu(y))
- ``merge_contraction``: the terms of an ``add_n`` made by contractions sharing their whole
  inputs # bpi(s, w1, d1) + bpi(s, w2, d2) -> bpi(s, concat(w1, w2), concat(d1, d2))
- ``join_pieces``: a concat of every piece of a split, in order, along its axis # -> the
  split's input

It runs on the differentiated graph (``minimize`` builds the gradient before the pipeline
runs), before fusion. The convs' input gradients, summed by the gradient pass, become one
conv2d_backprop_input of the joined dy (one GEMM instead of three and two adds) and their
filter gradients one conv2d_backprop_filter, split. The forward convs merge where their
pieces cost the readers nothing (``pieces_pay``): then their bias_add and relu merge too,
and fusion and the epilogue pass move them into the merged conv's kernel as before. In an
Inception block they do not: a 3x3 and a 5x5 conv would read two pieces as strided channel
slices, slower than the wider GEMM saves.

Joining blocks costs nothing for the pieces of one split in order (their split's input), a
small copy for small static tensors (filters, biases), and a copy of activations otherwise:
a group pays for at most one such join (the filter gradients' dy), elementwise groups for
none (their ops cost no more than a join). Never merged: ops with control edges or that
control others, stateful or random ops, groups where one member depends on another, and
block sizes not known statically. Merged GEMMs may block their sums differently, so the
convolution rules are ``reassociating``; the elementwise ones are exact.
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np

from graphc import registry
from graphc.graph import Graph
from graphc.ops.array import CONCAT, SPLIT, split
from graphc.ops.common import apply_op
from graphc.ops.creation import constant
from graphc.ops.elementwise import ADD_N, add_n
from graphc.static_values import constant_value

from .blocks import (COPY, SMALL, SMALL_ELEMENTS, Cut, costs, declared_cut, elementwise_cut,
                     join_cost, join, same_cut, same_signature, signature, split_input)
from .result import (DEFAULT_OPTIONS, EXACT, REASSOCIATING, Interface, PassOptions,
                     PassResult)
from .rewriter import Rewriter, on_copy

__all__ = ["run", "edit", "SMALL_ELEMENTS"]


def _mergeable(rw: Rewriter, op) -> bool:
    opdef = registry.get(op.type)
    return (len(op.outputs) == 1 and not opdef.stateful and not opdef.random
            and rw.may_rewrite(op, EXACT, any_safety=True))


class _Sweep:
    """One topological sweep over the graph, applying the rules as ops come."""

    def __init__(self, rw: Rewriter):
        self.rw = rw
        self.order = rw.graph.topological_order()
        self.position = {op: i for i, op in enumerate(self.order)}
        self.done: set = set()
        self.fetched = set(rw.interface.fetches)

    def run(self) -> None:
        for op in self.order:
            if op in self.done:
                continue
            self.rw.rule = None
            try:
                self.visit(op)
            except Exception as err:  # noqa: BLE001 - every failure gets the pass, rule and op
                raise self.rw.failure(err, op) from err

    def visit(self, op) -> None:
        if op.type == CONCAT.name:
            self.join_pieces(op)
        elif op.type == ADD_N.name:
            self.merge_contraction(op)
        elif registry.get(op.type).blocks is not None:
            self.merge_siblings(op)
        elif registry.get(op.type).elementwise:
            self.merge_pieces(op)

    # -- the rules ---------------------------------------------------------------------------
    def join_pieces(self, op) -> None:
        rank = op.outputs[0].shape.rank
        if rank is None or not op.inputs or not self.rw.may_rewrite(op, EXACT):
            return
        whole = split_input(list(op.inputs), op.attrs["axis"] % max(rank, 1))
        if whole is not None and self.rw.redirect(op, [whole], "join_pieces", EXACT):
            self.done.add(op)

    def merge_siblings(self, op) -> None:
        cut = declared_cut(op)
        if cut is None or cut.output_axis is None or not cut.whole(op) or not _mergeable(
                self.rw, op):
            return
        key = signature(op, cut)
        members = [m for m in dict.fromkeys(cut.whole(op)[0].consumers())
                   if m.type == op.type and m in self.position and m not in self.done
                   and _mergeable(self.rw, m) and same_signature(m, key)]
        members = self.ordered(members, cut)
        if (len(members) > 1 and costs(members, cut).count(COPY) <= 1
                and self.pieces_pay(members)):
            self.merge(members, cut, "merge_siblings", REASSOCIATING)

    def pieces_pay(self, members) -> bool:
        """Whether the merged result's pieces cost their readers nothing: they are small
        (filter gradients), or read only by elementwise ops (which merge along, followed
        to their readers), concats (which copy anyway) and ops needing only shapes. Pieces
        of activations are strided channel slices, which convolutions and fused loops read
        slower than contiguous arrays (measured 8% and 2x at W7's shapes), more than one
        wider GEMM saves (W7 (b): three 1x1 convs then a 3x3 and a 5x5 on their pieces,
        12% slower merged)."""
        results = [m.outputs[0] for m in members]
        if join_cost(results, 0) == SMALL:
            return True
        seen: set = set()
        stack = [r for t in results for r in t.consumers()]
        while stack:
            reader = stack.pop()
            if reader in seen:
                continue
            seen.add(reader)
            opdef = registry.get(reader.type)
            if opdef.elementwise:
                stack.extend(r for t in reader.outputs for r in t.consumers())
            elif reader.type != CONCAT.name and opdef.distribution is not registry.SHAPE_ONLY:
                return False
        return True

    def merge_pieces(self, op) -> None:
        for k, tensor in enumerate(op.inputs):
            source = tensor.op
            if source.type != SPLIT.name or tensor.shape.rank is None:
                continue
            axis = source.attrs["axis"] % max(tensor.shape.rank, 1)
            cut = elementwise_cut(op, axis + op.outputs[0].shape.rank - tensor.shape.rank) \
                if op.outputs[0].shape.rank is not None else None
            if cut is None or cut.blocked.get(k) != axis or not _mergeable(self.rw, op):
                continue
            key = signature(op, cut)
            members = []
            for piece in source.outputs:
                readers = [m for m in dict.fromkeys(piece.consumers())
                           if m.type == op.type and m in self.position and m not in self.done
                           and m.inputs[k] is piece and _mergeable(self.rw, m)
                           and same_cut(m, cut) and signature(m, cut) == key]
                if not readers:
                    break
                members.append(readers[0])
            if (len(members) == len(source.outputs) > 1
                    and COPY not in costs(members, cut) and self.fuses_on(members, cut)):
                self.merge(members, cut, "merge_pieces", EXACT)
                return

    def fuses_on(self, members, cut: Cut, depth: int = 0) -> bool:
        """Whether merged members still fuse with what they fused with: a member whose
        result only one elementwise op reads fuses with that reader (fusion makes groups of
        one result), so the readers must merge too (relu's mask -> cast -> multiply by an
        upstream gradient that is no piece: merging the mask alone would write it out)."""
        readers = [m.outputs[0].consumers() for m in members]
        if any(len(r) != 1 or m.outputs[0] in self.fetched
               for r, m in zip(readers, members)):
            return True
        followers = [r[0] for r in readers]
        first = followers[0]
        if not registry.get(first.type).elementwise:
            return True
        positions = [k for k, t in enumerate(first.inputs) if t is members[0].outputs[0]]
        if depth > 16 or len(positions) != 1 or len(set(followers)) != len(followers):
            return False
        k = positions[0]
        after = elementwise_cut(first, cut.output_axis + first.outputs[0].shape.rank
                                 - members[0].outputs[0].shape.rank) \
            if first.outputs[0].shape.rank is not None else None
        if after is None or after.blocked.get(k) is None:
            return False
        key = signature(first, after)
        if any(f.type != first.type or f.inputs[k] is not m.outputs[0] or not same_cut(
                f, after) or signature(f, after) != key or not _mergeable(self.rw, f)
                for f, m in zip(followers, members)):
            return False
        joins = [join_cost([f.inputs[j] for f in followers], axis)
                 for j, axis in sorted(after.blocked.items()) if j != k]
        return COPY not in joins and self.fuses_on(followers, after, depth + 1)

    def merge_contraction(self, op) -> None:
        if not self.rw.may_rewrite(op, REASSOCIATING):
            return
        groups: dict = {}
        for tensor in op.inputs:
            term = tensor.op
            cut = declared_cut(term)
            if (cut is None or cut.output_axis is not None or term in self.done
                    or term not in self.position or tensor in self.fetched
                    or tensor.consumers() != [op] or op.inputs.count(tensor) != 1
                    or not _mergeable(self.rw, term)):
                continue
            groups.setdefault(signature(term, cut), []).append(term)
        merged = []
        for terms in groups.values():
            cut = declared_cut(terms[0])
            terms = self.ordered(terms, cut)
            if len(terms) > 1 and costs(terms, cut).count(COPY) <= 1 and self.independent(
                    terms):
                merged.append((terms, cut))
        if merged:
            self.sum_terms(op, merged)

    # -- building ----------------------------------------------------------------------------
    def ordered(self, members, cut: Cut) -> list:
        """Members in the order their blocked inputs come (pieces of a split by piece), so
        the same blocks join the same way wherever they meet (and CSE shares the joins)."""
        def key(member):
            return tuple((self.position.get(member.inputs[k].op, math.inf),
                          member.inputs[k].value_index) for k in sorted(cut.blocked,
                                                                        reverse=True))
        return sorted(members, key=key)

    def independent(self, members) -> bool:
        """No member reads (through any path) another member's result."""
        group = set(members)
        start = min(self.position[m] for m in members)
        seen: set = set()
        stack = [t.op for m in members for t in m.inputs] + [
            c for m in members for c in m.control_inputs]
        while stack:
            op = stack.pop()
            if op in group:
                return False
            if op in seen or self.position.get(op, math.inf) < start:
                continue
            seen.add(op)
            stack.extend(t.op for t in op.inputs)
            stack.extend(op.control_inputs)
        return True

    def merged_inputs(self, members, cut: Cut) -> Optional[list]:
        first = members[0]
        inputs = list(first.inputs)
        for k, axis in cut.blocked.items():
            inputs[k] = join([m.inputs[k] for m in members], axis)
        if cut.sizes is not None:
            sizes = [constant_value(m.inputs[cut.sizes]) for m in members]
            if any(s is None or s.ndim != 1 for s in sizes):
                return None
            total = np.array(sizes[0])
            total[cut.output_axis] = sum(int(s[cut.output_axis]) for s in sizes)
            if any(not np.array_equal(np.delete(s, cut.output_axis),
                                      np.delete(total, cut.output_axis)) for s in sizes):
                return None
            inputs[cut.sizes] = constant(total, dtype=first.inputs[cut.sizes].dtype)
        return inputs

    def merge(self, members, cut: Cut, rule: str, safety: str) -> None:
        """Replace ``members`` by one op on their joined blocks, split along the result's
        blocked axis."""
        rw = self.rw
        budget = rw.options.budget
        widths = [m.outputs[0].shape.dims[cut.output_axis] for m in members]
        if (None in widths or safety not in rw.options.safety or not self.independent(members)
                or (budget is not None and len(rw.rewrites) + len(members) > budget)):
            return
        last = max(members, key=self.position.__getitem__)
        pieces: list = []

        def build():
            inputs = self.merged_inputs(members, cut)
            if inputs is None:
                return None
            whole = apply_op(last.type, inputs, dict(last.attrs),
                             name=f"{members[0].name}_merged")
            pieces.extend(split(whole, widths, axis=cut.output_axis))
            return pieces[members.index(last)]

        others = [m for m in members if m is not last]
        if rw.replace(last, build, rule, safety, others):
            for member in others:
                rw.redirect(member, [pieces[members.index(member)]], rule, safety)
            self.done.update(members)

    def sum_terms(self, op, groups) -> None:
        """Replace the add_n ``op`` by the sum of its other terms and one contraction per
        group of ``(terms, cut)``."""
        rw = self.rw
        summed = [term for terms, _ in groups for term in terms]
        rest = [t for t in op.inputs if t.op not in summed]

        def build():
            parts = []
            for terms, cut in groups:
                inputs = self.merged_inputs(terms, cut)
                if inputs is None:
                    return None
                parts.append(apply_op(terms[0].type, inputs, dict(terms[0].attrs),
                                      name=f"{terms[0].name}_merged"))
            return add_n(rest + parts) if len(rest) + len(parts) > 1 else parts[0]

        if rw.replace(op, build, "merge_contraction", REASSOCIATING, summed):
            rw.remove(summed)  # the add_n was their only reader
            self.done.update(summed + [op])


def edit(graph: Graph, interface: Interface,
         options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Merge sibling ops of ``graph`` in place."""
    rw = Rewriter(graph, interface, "sibling_merge", options)
    _Sweep(rw).run()
    return rw.finish()


def run(graph: Graph, interface: Interface,
        options: PassOptions = DEFAULT_OPTIONS) -> PassResult:
    """Merge sibling ops of a copy of ``graph`` (``graph`` is not changed).

    Example:
        >>> [r.rule for r in sibling_merge.run(g, interface).rewrites]
        ['merge_siblings', 'merge_siblings', 'merge_siblings']
    """
    return on_copy(edit, graph, interface, options)
