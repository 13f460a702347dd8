"""Iterator ops of ``tf.data`` input pipelines: make_iterator and iterator_get_next.

An iterator is a piece of Session state, named by the ``iterator`` attribute (a name unique
in its graph), as variables are: each Session iterates on its own. ``make_iterator`` (the
iterator's ``initializer``) starts the element stream of a dataset in the Session, from the
run's values of the tensors the dataset captured (placeholders fed for this run, say);
``iterator_get_next`` takes the next element. Both are stateful, so passes never fold, merge
or drop them; an op runs once per ``session.run`` however many fetches use its outputs, so
one ``get_next()`` op advances its iterator once per run. The dataset itself (a pipeline
description, ``graphc.data``) is an attribute; the kernels hand it to the runtime through
the run context (``RunContext.initialize_iterator`` / ``next_element``).
"""
from __future__ import annotations

from graphc import registry
from graphc.registry import OpDef

__all__ = ["MAKE_ITERATOR", "ITERATOR_GET_NEXT"]


def _make_iterator_kernel(ctx, *captured, iterator, dataset):
    ctx.initialize_iterator(iterator, dataset, captured)


MAKE_ITERATOR = registry.register(OpDef(
    name="make_iterator", dtypes=lambda d, attrs: [], shapes=lambda ins, attrs: [],
    kernel=_make_iterator_kernel, grad=registry.NOT_DIFFERENTIABLE,
    attrs={"iterator": None, "dataset": None}, stateful=True, foldable=False,
    needs_context=True, unknown_rank_ok=True, tested_elsewhere="tests/test_data_iterators.py",
    doc="(Re)start the iterator's element stream from the dataset; its inputs are the tensors "
        "the dataset captured (in the order of ``dataset._captures()``)."))


def _get_next_kernel(ctx, iterator, output_types, output_shapes, one_shot):
    element = ctx.next_element(iterator, one_shot)
    return element[0] if len(element) == 1 else tuple(element)


ITERATOR_GET_NEXT = registry.register(OpDef(
    name="iterator_get_next", dtypes=lambda d, attrs: list(attrs["output_types"]),
    shapes=lambda ins, attrs: list(attrs["output_shapes"]), kernel=_get_next_kernel,
    grad=registry.NOT_DIFFERENTIABLE,
    attrs={"iterator": None, "output_types": (), "output_shapes": (), "one_shot": None},
    stateful=True, foldable=False, needs_context=True, fresh_output=True,
    tested_elsewhere="tests/test_data_iterators.py",
    doc="The iterator's next element, one output per component; raises OutOfRangeError at "
        "the end. ``one_shot``: the dataset a one-shot iterator starts on first use. Its "
        "results are new arrays (the runtime copies what the pipeline keeps), so plans "
        "neither copy them for the caller nor shy away from reusing their buffers."))
