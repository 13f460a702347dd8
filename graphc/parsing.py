"""``tf.io`` parsing of ``tf.train.Example`` protos: the feature specs (``FixedLenFeature``,
``FixedLenSequenceFeature``, ``VarLenFeature``) and ``parse_example`` /
``parse_single_example`` / ``parse_single_sequence_example``, graph ops whose kernels decode
the serialized protos (graphc/ops/parsing.py). A VarLenFeature gives a ``SparseTensor``.

Example:
    >>> features = {"image": gc.io.FixedLenFeature([], gc.string),
    ...             "label": gc.io.FixedLenFeature([], gc.int64, default_value=-1),
    ...             "tags": gc.io.VarLenFeature(gc.string)}
    >>> ds = gc.data.TFRecordDataset("train.tfrecord").batch(32).map(
    ...     lambda records: gc.io.parse_example(records, features))
"""
from __future__ import annotations

import collections

import numpy as np

from graphc import dtypes as gdt
from graphc.convert import convert_to_tensor, graph_of
from graphc.ops.common import apply_op
from graphc.ops.parsing import check_feature_dtype
from graphc.ops.array import stack
from graphc.ops.shape_ops import reshape
from graphc.shapes import TensorShape
from graphc.sparse.ops import reorder
from graphc.sparse.tensor import SparseTensor
from graphc.static_values import constant_value

__all__ = ["FixedLenFeature", "FixedLenSequenceFeature", "VarLenFeature", "SparseFeature",
           "parse_example",
           "parse_single_example", "parse_single_sequence_example"]


class FixedLenFeature(collections.namedtuple("FixedLenFeature",
                                             ["shape", "dtype", "default_value"])):
    """A feature with a fixed number of values, parsed to a dense tensor of ``shape``
    (TF1 ``tf.io.FixedLenFeature``). Without ``default_value`` it is required.

    Example:
        >>> gc.io.FixedLenFeature([3], gc.float32, default_value=[0.0, 0.0, 0.0])
    """

    __slots__ = ()

    def __new__(cls, shape, dtype, default_value=None):
        return super().__new__(cls, shape, dtype, default_value)


class FixedLenSequenceFeature(collections.namedtuple(
        "FixedLenSequenceFeature", ["shape", "dtype", "allow_missing", "default_value"])):
    """A feature holding any number of rows of ``shape``, parsed to ``[rows] + shape``
    (padded with ``default_value``, a scalar, to the longest in a batch) (TF1
    ``tf.io.FixedLenSequenceFeature``). In an Example, ``allow_missing`` must be True.

    Example:
        >>> gc.io.FixedLenSequenceFeature([], gc.int64, allow_missing=True)
    """

    __slots__ = ()

    def __new__(cls, shape, dtype, allow_missing=False, default_value=None):
        return super().__new__(cls, shape, dtype, allow_missing, default_value)


class VarLenFeature(collections.namedtuple("VarLenFeature", ["dtype"])):
    """A feature with any number of values, parsed to a SparseTensor (TF1
    ``tf.io.VarLenFeature``).

    Example:
        >>> gc.io.VarLenFeature(gc.string)
    """

    __slots__ = ()


class SparseFeature(collections.namedtuple(
        "SparseFeature", ["index_key", "value_key", "dtype", "size", "already_sorted"])):
    """A SparseTensor of dense shape ``[size]`` (``[batch, size]`` in a batch) built from
    two features of each Example: the int64 positions ``index_key`` and the values
    ``value_key`` (TF1 ``tf.io.SparseFeature``; one index key, so 1-D).

    Example:
        >>> gc.io.SparseFeature("word_ids", "word_weights", gc.float32, size=10000)
    """

    __slots__ = ()

    def __new__(cls, index_key, value_key, dtype, size, already_sorted=False):
        return super().__new__(cls, index_key, value_key, dtype, size, already_sorted)


def _expand_sparse_features(features: dict, what: str):
    """``features`` with each SparseFeature replaced by VarLenFeatures of its two keys, and
    the SparseFeatures by key."""
    plain, combined = {}, {}
    for key, spec in features.items():
        if not isinstance(spec, SparseFeature):
            plain[key] = spec
            continue
        if not isinstance(spec.index_key, str):
            raise ValueError(f"{what}: SparseFeature {key!r} takes one index_key (a 1-D "
                             f"SparseTensor), got {spec.index_key!r}")
        combined[key] = spec
    for key, spec in combined.items():
        for part, dtype in ((spec.index_key, gdt.int64), (spec.value_key, spec.dtype)):
            if part in plain and plain[part] != VarLenFeature(dtype):
                raise ValueError(f"{what}: SparseFeature {key!r} reads {part!r}, which has "
                                 f"another spec {plain[part]!r}")
            plain[part] = VarLenFeature(dtype)
    return plain, combined


def _combined(result: dict, combined: dict, requested: dict) -> dict:
    """The SparseFeatures' SparseTensors from their keys' VarLen results; only the keys
    asked for stay."""
    out = {key: value for key, value in result.items() if key in requested}
    for key, spec in combined.items():
        index, values = result[spec.index_key], result[spec.value_key]
        rank = index.indices.shape[1]
        leading = [index.indices[:, 0]] if rank == 2 else []
        indices = stack(leading + [index.values], axis=1)
        shape = stack([index.dense_shape[0], np.int64(spec.size)]) if rank == 2 else \
            convert_to_tensor(np.array([spec.size], np.int64))
        sparse = SparseTensor(indices, values.values, shape)
        out[key] = sparse if spec.already_sorted else reorder(sparse)
    return out


def _shape(spec, key: str, what: str) -> tuple:
    shape = TensorShape(spec.shape)
    if shape.rank is None or any(d is None for d in shape.dims):
        raise ValueError(f"{what}: feature {key!r} needs a fully known shape, got {shape}")
    return tuple(int(d) for d in shape.dims)


def _default(spec, key, dtype, shape, sequence, what):
    """The default tensor of a dense feature: its value (reshaped to ``shape``; a scalar
    padding value for a sequence feature), or a zero-size tensor where it is required."""
    if spec.default_value is None:
        return convert_to_tensor(np.zeros(0, dtype.np), dtype=dtype), True
    default = convert_to_tensor(spec.default_value, dtype=dtype)
    want = () if sequence else shape
    known = constant_value(default)
    if known is not None and np.size(known) != int(np.prod(want, dtype=np.int64)):
        raise ValueError(f"{what}: the default_value of feature {key!r} has {np.size(known)} "
                         f"values; it must have the shape {list(want)}")
    return reshape(default, list(want)), False


def _config(features: dict, what: str, sequence_ok: bool):
    """The op's attributes and default inputs for a dict of feature specs."""
    if not isinstance(features, dict) or not features:
        raise ValueError(f"{what}: features must be a non-empty dict of feature specs, got "
                         f"{features!r}")
    attrs = {name: [] for name in ("sparse_keys", "sparse_types", "dense_keys", "dense_types",
                                   "dense_shapes", "dense_sequence", "dense_required")}
    defaults = []
    for key in sorted(features):
        spec = features[key]
        if not isinstance(spec, (FixedLenFeature, FixedLenSequenceFeature, VarLenFeature)):
            raise TypeError(f"{what}: feature {key!r} has an unsupported spec {spec!r} "
                            f"(FixedLenFeature, FixedLenSequenceFeature, VarLenFeature or "
                            f"SparseFeature)")
        dtype = check_feature_dtype(spec.dtype, key, what)
        if isinstance(spec, VarLenFeature):
            attrs["sparse_keys"].append(key)
            attrs["sparse_types"].append(dtype)
            continue
        sequence = isinstance(spec, FixedLenSequenceFeature)
        if sequence and not (spec.allow_missing or sequence_ok):
            raise ValueError(f"{what}: FixedLenSequenceFeature {key!r} needs "
                             f"allow_missing=True in an Example")
        shape = _shape(spec, key, what)
        default, required = _default(spec, key, dtype, shape, sequence, what)
        attrs["dense_keys"].append(key)
        attrs["dense_types"].append(dtype)
        attrs["dense_shapes"].append(shape)
        attrs["dense_sequence"].append(sequence)
        attrs["dense_required"].append(required and not sequence)
        defaults.append(default)
    return {name: tuple(value) for name, value in attrs.items()}, defaults


def _results(outputs, attrs) -> dict:
    count = len(attrs["sparse_keys"])
    result = {}
    for position, key in enumerate(attrs["sparse_keys"]):
        result[key] = SparseTensor(outputs[position], outputs[count + position],
                                   outputs[2 * count + position])
    for position, key in enumerate(attrs["dense_keys"]):
        result[key] = outputs[3 * count + position]
    return result


def _parse(serialized, features, name, what, rank):
    with graph_of(serialized).as_default():
        serialized = convert_to_tensor(serialized, dtype=gdt.string)
        if serialized.shape.rank not in (None, rank):
            raise ValueError(f"{what}: serialized must have rank {rank}, got shape "
                             f"{serialized.shape}")
        if serialized.shape.rank is None:
            serialized = reshape(serialized, [] if rank == 0 else [-1])
        plain, combined = _expand_sparse_features(features, what) if isinstance(
            features, dict) else (features, {})
        attrs, defaults = _config(plain, what, sequence_ok=False)
        outputs = apply_op("parse_example", [serialized] + defaults, attrs,
                           name=name or "ParseExample")
        result = _results(outputs if isinstance(outputs, tuple) else (outputs,), attrs)
        return _combined(result, combined, features) if combined else result


def parse_example(serialized, features, name=None, example_names=None) -> dict:
    """A batch (string vector) of serialized ``tf.train.Example`` protos as a dict of
    tensors, one per key of ``features`` (TF1 ``tf.io.parse_example``): ``[batch] + shape``
    for a FixedLenFeature, ``[batch, longest] + shape`` for a FixedLenSequenceFeature and a
    SparseTensor ``[batch, longest]`` for a VarLenFeature.

    Raises (when run):
        InvalidArgumentError: a required feature is missing, has the wrong number of values
            or another dtype's list (the message names the key and the example), or a
            string is no Example.

    Example:
        >>> parsed = gc.io.parse_example(records, {"x": gc.io.FixedLenFeature([2], gc.float32)})
        >>> parsed["x"].shape
        TensorShape([None, 2])
    """
    return _parse(serialized, features, name, "parse_example", 1)


def parse_single_example(serialized, features, name=None, example_names=None) -> dict:
    """One serialized ``tf.train.Example`` (a string scalar) as a dict of tensors (TF1
    ``tf.io.parse_single_example``); as ``parse_example`` without the batch dim.

    Example:
        >>> ds = gc.data.TFRecordDataset(path).map(
        ...     lambda record: gc.io.parse_single_example(record, features))
    """
    return _parse(serialized, features, name, "parse_single_example", 0)


def _list_config(features: dict, what: str) -> dict:
    """The ``list_*`` attributes for the feature-list specs of a SequenceExample."""
    attrs = {name: [] for name in ("sparse_keys", "sparse_types", "dense_keys",
                                   "dense_types", "dense_shapes", "dense_required")}
    for key in sorted(features):
        spec = features[key]
        if not isinstance(spec, (FixedLenSequenceFeature, VarLenFeature)):
            raise TypeError(f"{what}: sequence feature {key!r} must be a "
                            f"FixedLenSequenceFeature or a VarLenFeature, got {spec!r}")
        dtype = check_feature_dtype(spec.dtype, key, what)
        if isinstance(spec, VarLenFeature):
            attrs["sparse_keys"].append(key)
            attrs["sparse_types"].append(dtype)
            continue
        attrs["dense_keys"].append(key)
        attrs["dense_types"].append(dtype)
        attrs["dense_shapes"].append(_shape(spec, key, what))
        attrs["dense_required"].append(not spec.allow_missing)
    return {f"list_{name}": tuple(value) for name, value in attrs.items()}


def parse_single_sequence_example(serialized, context_features=None, sequence_features=None,
                                  example_name=None, name=None):
    """One serialized ``tf.train.SequenceExample`` as ``(context, sequences)``, two dicts of
    tensors (TF1 ``tf.io.parse_single_sequence_example``). ``context_features`` are parsed
    as by ``parse_single_example``; in ``sequence_features`` a FixedLenSequenceFeature gives
    ``[steps] + shape`` (every step must hold that many values; an absent list is an error
    unless ``allow_missing``, then ``[0] + shape``) and a VarLenFeature a SparseTensor
    ``[steps, longest]``.

    Raises (when run):
        InvalidArgumentError: a required feature or feature list is missing, or a step has
            the wrong number of values (the message names the key).

    Example:
        >>> context, steps = gc.io.parse_single_sequence_example(record,
        ...     {"length": gc.io.FixedLenFeature([], gc.int64)},
        ...     {"tokens": gc.io.FixedLenSequenceFeature([], gc.int64)})
    """
    what = "parse_single_sequence_example"
    context_features, sequence_features = context_features or {}, sequence_features or {}
    if not context_features and not sequence_features:
        raise ValueError(f"{what}: give context_features, sequence_features or both")
    with graph_of(serialized).as_default():
        serialized = convert_to_tensor(serialized, dtype=gdt.string)
        attrs, defaults = _config(context_features, what, sequence_ok=False) \
            if context_features else ({}, [])
        if any(attrs.pop("dense_sequence", ())):
            raise TypeError(f"{what}: a context feature cannot be a FixedLenSequenceFeature")
        attrs = {f"context_{key}": value for key, value in attrs.items()}
        attrs.update(_list_config(sequence_features, what))
        outputs = apply_op("parse_single_sequence_example", [serialized] + defaults, attrs,
                           name=name or "ParseSingleSequenceExample")
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    split = 3 * len(attrs.get("context_sparse_keys", ())) + len(attrs.get(
        "context_dense_keys", ()))
    context = _results(outputs[:split], _unprefixed(attrs, "context_"))
    return context, _results(outputs[split:], _unprefixed(attrs, "list_"))


def _unprefixed(attrs: dict, prefix: str) -> dict:
    found = {key[len(prefix):]: value for key, value in attrs.items() if key.startswith(prefix)}
    return {"sparse_keys": found.get("sparse_keys", ()),
            "dense_keys": found.get("dense_keys", ())}
