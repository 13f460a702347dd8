"""Turning the registry's samples into graphs: arrays become placeholders, the rest passes."""
from __future__ import annotations

import dataclasses

import numpy as np

import graphc as gc
from graphc import registry


def sampled_ops():
    return [op for op in registry.all_ops() if op.samples]


# The unsigned dtypes the samples' signed-integer arrays are also tried in (their magnitudes),
# so every op taking integers is checked on uint32 and uint64 without samples of its own
UNSIGNED_VARIANTS = (np.uint32, np.uint64)


def sample_cases():
    """``(opdef, sample)`` pairs with readable ids, for pytest parametrization: each sample,
    then its ``unsigned_variants`` (ids ``<op>-<index>-uint32``)."""
    cases, ids = [], []
    for opdef in sampled_ops():
        for index, sample in enumerate(opdef.samples()):
            cases.append((opdef, sample))
            ids.append(f"{opdef.name}-{index}")
            for dtype_name, variant in unsigned_variants(opdef, sample):
                cases.append((opdef, variant))
                ids.append(f"{opdef.name}-{index}-{dtype_name}")
    return cases, ids


def _as_unsigned(value, dtype):
    if is_array(value) and np.asarray(value).dtype.kind == "i":
        return np.abs(np.asarray(value)).astype(dtype)
    if isinstance(value, list) and any(is_array(v) for v in value):
        return [_as_unsigned(v, dtype) for v in value]
    return value


def unsigned_variants(opdef, sample):
    """``(dtype name, sample)`` for each of ``UNSIGNED_VARIANTS`` the op accepts in place of
    the sample's signed-integer arrays (none when it has none); the ops refusing unsigned
    types (TF's signed-only ones) say so in their error samples."""
    def signed(value):
        return (is_array(value) and np.asarray(value).dtype.kind == "i") or (
            isinstance(value, list) and any(signed(v) for v in value))
    values = list(sample.args) + list(sample.kwargs.values())
    if not any(signed(v) for v in values):
        return []
    found = []
    for dtype in UNSIGNED_VARIANTS:
        variant = dataclasses.replace(
            sample, args=tuple(_as_unsigned(a, dtype) for a in sample.args),
            kwargs={k: _as_unsigned(v, dtype) for k, v in sample.kwargs.items()})
        try:
            build(opdef, variant)
        except (TypeError, ValueError):
            continue  # the op's dtype rule refuses them
        found.append((np.dtype(dtype).name, variant))
    return found


def error_cases():
    cases, ids = [], []
    for opdef in registry.all_ops():
        for index, sample in enumerate(opdef.error_samples() if opdef.error_samples else []):
            cases.append((opdef, sample))
            ids.append(f"{opdef.name}-{index}")
    return cases, ids


def is_array(value) -> bool:
    return isinstance(value, (np.ndarray, np.generic))


def symbolic_args(args, feeds: dict, unknown_dims):
    """Replace arrays (also inside lists) by placeholders; record the feeds.

    ``unknown_dims``: False (static shapes), True (every dim None), or a function
    ``(k, array) -> declared shape`` for the k-th array met (None: unknown rank)."""
    def declared(array):
        if callable(unknown_dims):
            return unknown_dims(len(feeds), array)
        return [None] * array.ndim if unknown_dims else list(array.shape)

    def convert(value):
        if is_array(value):
            array = np.asarray(value)
            placeholder = gc.placeholder(gc.as_dtype(array.dtype), declared(array))
            feeds[placeholder] = array
            return placeholder
        if isinstance(value, list) and any(is_array(v) for v in value):
            return [convert(v) for v in value]
        return value
    return [convert(a) for a in args]


def symbolic_kwargs(kwargs, feeds: dict, unknown_dims) -> dict:
    keys = list(kwargs)
    return dict(zip(keys, symbolic_args([kwargs[k] for k in keys], feeds, unknown_dims)))


def array_shapes(sample) -> list:
    """The shapes of the sample's arrays, in the order ``build`` makes placeholders."""
    found: list = []
    for value in list(sample.args) + [sample.kwargs[k] for k in sample.kwargs]:
        for item in (value if isinstance(value, list) else [value]):
            if is_array(item):
                found.append(np.shape(item))
    return found


def build(opdef, sample, unknown_dims=False):
    """A fresh graph with the sample's op built from placeholders: (graph, outputs, feeds);
    ``unknown_dims`` as for ``symbolic_args``."""
    graph = gc.Graph()
    feeds: dict = {}
    with graph.as_default():
        args = symbolic_args(sample.args, feeds, unknown_dims)
        kwargs = symbolic_kwargs(sample.kwargs, feeds, unknown_dims)
        out = registry.api_for(opdef.name)(*args, **kwargs)
    outputs = list(out) if isinstance(out, (list, tuple)) else [out]
    return graph, outputs, feeds


def run(graph, outputs, feeds):
    with gc.Session(graph=graph) as sess:
        return sess.run(outputs, feed_dict=feeds)
