"""``map_fn``, ``scan``, ``foldl`` and ``foldr`` (TF1), as ``while_loop``s over
TensorArrays: the elements are the rows of the inputs along axis 0."""
from __future__ import annotations

from typing import Optional

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor, graph_of
from graphc.ops.elementwise import add, less, subtract

from . import nest
from .tensor_array import TensorArray
from .while_loop import while_loop

__all__ = ["map_fn", "scan", "foldl", "foldr"]


def _inputs(elems):
    flat = [convert_to_tensor(e) for e in nest.flatten(elems)]
    if not flat:
        raise ValueError("elems must hold at least one tensor")
    for tensor in flat:
        if not tensor.shape.rank:
            raise ValueError(f"elems must be tensors of rank >= 1, got {tensor.name!r} of "
                             f"shape {tensor.shape}")
    arrays = [TensorArray(t.dtype, size=0, dynamic_size=True).unstack(t) for t in flat]
    length = arrays[0].size()
    return flat, arrays, length


def _reads(elems, arrays, index):
    return nest.pack_as(elems, [ta.read(index) for ta in arrays], rebuild=False)


def _row_count(tensor):
    dims = tensor.shape.dims
    return dims[0] if dims else None


def scan(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
         swap_memory=False, infer_shape=True, reverse=False, name: Optional[str] = None):
    """The successive values of ``acc = fn(acc, element)`` over the rows of ``elems``,
    stacked (TF1 ``tf.scan``); ``initializer`` defaults to the first row.

    Example:
        >>> cumsum = gc.scan(lambda acc, x: acc + x, xs)
    """
    graph = graph_of(*nest.flatten(elems))
    with graph.as_default(), graph.atomic(), graph.name_scope(name or "scan"):
        flat, arrays, length = _inputs(elems)
        if initializer is None:
            first = subtract(length, 1) if reverse else 0
            acc = _reads(elems, arrays, first)
            start = 1
        else:
            acc = nest.pack_as(initializer, [convert_to_tensor(v) for v in
                                             nest.flatten(initializer)], rebuild=False)
            start = 0
        acc_flat = nest.flatten(acc)
        outs = [TensorArray(t.dtype, size=length, element_shape=t.shape) for t in acc_flat]
        if initializer is None:
            outs = [ta.write(subtract(length, 1) if reverse else 0, t)
                    for ta, t in zip(outs, acc_flat)]

        def body(step, acc_values, out_arrays):
            index = subtract(subtract(length, 1), step) if reverse else step
            packed = nest.pack_as(acc, list(acc_values), rebuild=False)
            new = nest.flatten(fn(packed, _reads(elems, arrays, index)))
            out_arrays = [ta.write(index, v) for ta, v in zip(out_arrays, new)]
            return add(step, 1), new, out_arrays

        _, _, outs = while_loop(lambda step, *_: less(step, length), body,
                                [convert_to_tensor(start, dtype=gdt.int32), acc_flat, outs],
                                parallel_iterations=parallel_iterations, back_prop=back_prop)
        stacked = [ta.stack() for ta in outs]
        rows = _row_count(flat[0])
        for tensor, t in zip(stacked, acc_flat):
            tensor.set_shape([rows, *(t.shape.dims or [])])
        return nest.pack_as(acc, stacked, rebuild=False)


def map_fn(fn, elems, dtype=None, parallel_iterations=None, back_prop=True,
           swap_memory=False, infer_shape=True, name: Optional[str] = None):
    """``fn`` applied to each row of ``elems``, results stacked (TF1 ``tf.map_fn``);
    ``dtype`` gives the result structure when it differs from ``elems``'.

    Example:
        >>> squares = gc.map_fn(lambda x: x * x, xs)
    """
    graph = graph_of(*nest.flatten(elems))
    with graph.as_default(), graph.atomic(), graph.name_scope(name or "map"):
        flat, arrays, length = _inputs(elems)
        probe: dict = {}

        def body(step, out_arrays):
            result = fn(_reads(elems, arrays, step))
            probe["structure"] = result
            values = [convert_to_tensor(v) for v in nest.flatten(result)]
            if not out_arrays:
                raise ValueError("map_fn: fn returned no tensors")
            return add(step, 1), [ta.write(step, v) for ta, v in zip(out_arrays, values)]

        structure = dtype if dtype is not None else elems
        kinds = [gdt.as_dtype(d) for d in nest.flatten(dtype)] if dtype is not None \
            else [t.dtype for t in flat]
        outs = [TensorArray(d, size=length) for d in kinds]
        _, outs = while_loop(lambda step, _: less(step, length), body,
                             [convert_to_tensor(0, dtype=gdt.int32), outs],
                             parallel_iterations=parallel_iterations or 10,
                             back_prop=back_prop)
        stacked = [ta.stack() for ta in outs]
        result = probe.get("structure", structure)
        return nest.pack_as(result, stacked, rebuild=False)


def _fold(fn, elems, initializer, reverse, parallel_iterations, back_prop, name):
    graph = graph_of(*nest.flatten(elems))
    with graph.as_default(), graph.atomic(), graph.name_scope(name):
        flat, arrays, length = _inputs(elems)
        if initializer is None:
            acc = _reads(elems, arrays, subtract(length, 1) if reverse else 0)
            start = 1
        else:
            acc = nest.pack_as(initializer, [convert_to_tensor(v) for v in
                                             nest.flatten(initializer)], rebuild=False)
            start = 0

        def body(step, acc_values):
            index = subtract(subtract(length, 1), step) if reverse else step
            packed = nest.pack_as(acc, list(acc_values), rebuild=False)
            return add(step, 1), nest.flatten(fn(packed, _reads(elems, arrays, index)))

        _, final = while_loop(lambda step, _: less(step, length), body,
                              [convert_to_tensor(start, dtype=gdt.int32), nest.flatten(acc)],
                              parallel_iterations=parallel_iterations, back_prop=back_prop)
        return nest.pack_as(acc, final, rebuild=False)


def foldl(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
          swap_memory=False, name: Optional[str] = None):
    """``fn(...fn(fn(initializer, e0), e1)..., en)`` over the rows of ``elems`` (TF1).

    Example:
        >>> total = gc.foldl(lambda acc, x: acc + x, xs, initializer=0.0)
    """
    return _fold(fn, elems, initializer, False, parallel_iterations, back_prop,
                 name or "foldl")


def foldr(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
          swap_memory=False, name: Optional[str] = None):
    """``foldl`` from the last row to the first (TF1 ``tf.foldr``).

    Example:
        >>> total = gc.foldr(lambda acc, x: acc * 2 + x, xs)
    """
    return _fold(fn, elems, initializer, True, parallel_iterations, back_prop,
                 name or "foldr")
