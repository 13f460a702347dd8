"""``parse_example``: serialized ``tf.train.Example`` protos decoded into tensors by feature
specs (TF1's ParseExample op; ``gc.io.parse_example``/``parse_single_example`` in
graphc/parsing.py build it from FixedLenFeature, FixedLenSequenceFeature and VarLenFeature).

One op parses a scalar (one Example) or a vector (a batch) of serialized protos. Its inputs
are the serialized strings and one default per dense key (a zero-size tensor where the key
is required); its outputs are, per sparse key, indices, values and dense_shape (TF's order:
all indices, all values, all shapes), then one tensor per dense key: ``shape`` for a fixed
feature (``[batch] + shape`` in a batch), ``[length] + shape`` for a sequence feature, its
length the longest in the batch, shorter ones padded with the default.

Example:
    >>> outs = apply_op("parse_example", [serialized, default], {"dense_keys": ("label",),
    ...     "dense_types": (gc.int64,), "dense_shapes": ((),), ...})
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import example_proto, registry
from graphc.registry import OpDef
from graphc.shapes import TensorShape

__all__ = ["PARSE_EXAMPLE", "LIST_OF_DTYPE", "feature_values", "check_feature_dtype"]

# which of a Feature's lists holds each dtype (TF's three)
LIST_OF_DTYPE = {gdt.int64: "int64_list", gdt.float32: "float_list", gdt.string: "bytes_list"}


def check_feature_dtype(dtype, key: str, what: str):
    dtype = gdt.as_dtype(dtype)
    if dtype not in LIST_OF_DTYPE:
        raise TypeError(f"{what}: feature {key!r} has dtype {dtype.name}; Example features "
                        f"hold int64, float32 or string")
    return dtype


def feature_values(feature, key: str, dtype, where: str) -> np.ndarray:
    """The values of ``feature`` (a Feature proto, None when absent) as an array of dtype."""
    if feature is None:
        return np.zeros(0, dtype.np)
    kind = feature.WhichOneof("kind")
    if kind is None:  # a Feature with no list set holds no values
        return np.zeros(0, dtype.np)
    if kind != LIST_OF_DTYPE[dtype]:
        raise ValueError(f"{where}: feature {key!r} holds a {kind}, but its spec's dtype is "
                         f"{dtype.name} (a {LIST_OF_DTYPE[dtype]})")
    values = getattr(feature, kind).value
    if dtype is gdt.string:
        array = np.empty(len(values), dtype=object)
        array[:] = list(values)
        return array
    return np.array(values, dtype=dtype.np)


def _parse_all(serialized, what: str, message: str = "Example") -> list:
    """The protos of ``serialized`` (any shape), parsed as ``message``s."""
    kind = example_proto.message_class(message)
    protos = []
    for index, record in enumerate(np.asarray(serialized, dtype=object).reshape(-1)):
        try:
            protos.append(kind.FromString(bytes(record)))
        except Exception as err:  # noqa: BLE001 - protobuf's DecodeError has no stable home
            raise ValueError(f"{what}: could not parse example {index} as a tf.train."
                             f"{message} ({type(err).__name__}: {err})") from None
    return protos


def _dtypes(in_dtypes, attrs):
    if in_dtypes[0] is not gdt.string:
        raise TypeError(f"parse_example: serialized must be strings, got {in_dtypes[0].name}")
    for dtype, want in zip(in_dtypes[1:], attrs["dense_types"]):
        if dtype is not want:
            raise TypeError(f"parse_example: a default of dtype {dtype.name} for a feature of "
                            f"dtype {want.name}")
    sparse = list(attrs["sparse_types"])
    return [gdt.int64] * len(sparse) + sparse + [gdt.int64] * len(sparse) + \
        list(attrs["dense_types"])


def _shapes(inputs, attrs):
    rank = inputs[0].shape.rank
    if rank not in (0, 1):
        raise ValueError(f"parse_example: serialized must be a scalar or a vector, got shape "
                         f"{inputs[0].shape}")
    batch = list(inputs[0].shape.dims)
    count = len(attrs["sparse_keys"])
    sparse = [TensorShape([None, rank + 1])] * count + [TensorShape([None])] * count + \
        [TensorShape([rank + 1])] * count
    dense = [TensorShape(batch + ([None] if sequence else []) + list(shape))
             for shape, sequence in zip(attrs["dense_shapes"], attrs["dense_sequence"])]
    return sparse + dense


def _dense(maps, key, dtype, shape, sequence, default, required, single,
           where="parse_example", item="example"):
    per_row = int(np.prod(shape, dtype=np.int64))
    rows = []
    for index, features in enumerate(maps):
        feature = features[key] if key in features else None
        if feature is None and required:
            raise ValueError(f"{where}: feature {key!r} (data type: {dtype.name}) is required "
                             f"but could not be found in {item} {index}")
        values = feature_values(feature, key, dtype, where)
        if feature is None and not sequence:
            values = np.asarray(default).reshape(-1)
        if sequence:
            if per_row == 0 or values.size % per_row:
                raise ValueError(f"{where}: feature {key!r} of {item} {index} has "
                                 f"{values.size} values, not a whole number of rows of shape "
                                 f"{list(shape)}")
            rows.append(values.reshape((-1,) + tuple(shape)))
        elif values.size != per_row:
            raise ValueError(f"{where}: feature {key!r} of {item} {index} has {values.size} "
                             f"values, but its shape {list(shape)} needs {per_row}")
        else:
            rows.append(values.reshape(shape))
    if sequence:
        length = max((row.shape[0] for row in rows), default=0)
        padded = np.empty((len(rows), length) + tuple(shape), dtype=dtype.np)
        padded[...] = np.asarray(default).reshape(()) if np.size(default) else \
            (b"" if dtype is gdt.string else 0)
        for index, row in enumerate(rows):
            padded[index, :row.shape[0]] = row
        out = padded
    else:
        out = np.stack(rows) if rows else np.zeros((0,) + tuple(shape), dtype.np)
    return out[0] if single else out


def _sparse(maps, key, dtype, single, where="parse_example"):
    lists = [feature_values(features[key] if key in features else None, key, dtype, where)
             for features in maps]
    lengths = np.array([values.size for values in lists], dtype=np.int64)
    values = np.concatenate(lists) if lists else np.zeros(0, dtype.np)
    if dtype is gdt.string:
        values = values.astype(object)
    rows = np.repeat(np.arange(len(lists), dtype=np.int64), lengths)
    columns = np.arange(values.size, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths,
                                                               lengths)
    width = int(lengths.max()) if lengths.size else 0
    if single:
        return columns.reshape(-1, 1), values, np.array([width], np.int64)
    return np.stack([rows, columns], axis=1), values, np.array([len(lists), width], np.int64)


def _kernel(serialized, *defaults, sparse_keys, sparse_types, dense_keys, dense_types,
            dense_shapes, dense_sequence, dense_required):
    single = np.ndim(serialized) == 0
    maps = [proto.features.feature for proto in _parse_all(serialized, "parse_example")]
    sparse = [_sparse(maps, key, dtype, single) for key, dtype in zip(sparse_keys, sparse_types)]
    dense = [_dense(maps, key, dtype, shape, sequence, default, required, single)
             for key, dtype, shape, sequence, default, required in zip(
                 dense_keys, dense_types, dense_shapes, dense_sequence, defaults,
                 dense_required)]
    return tuple([s[0] for s in sparse] + [s[1] for s in sparse] + [s[2] for s in sparse]
                 + dense)


PARSE_EXAMPLE = registry.register(OpDef(
    name="parse_example", dtypes=_dtypes, shapes=_shapes, kernel=_kernel,
    grad=registry.NOT_DIFFERENTIABLE, raises_on_values=True,
    attrs={"sparse_keys": (), "sparse_types": (), "dense_keys": (), "dense_types": (),
           "dense_shapes": (), "dense_sequence": (), "dense_required": ()},
    tested_elsewhere="tests/test_parsing.py",
    doc="Serialized tf.train.Example protos decoded into sparse and dense tensors."))


# -- parse_single_sequence_example: one SequenceExample's context and feature lists --------
# Attributes as parse_example's for the context (``context_*``) and for the feature lists
# (``list_*``: sparse keys give [steps, longest] SparseTensors, dense keys [steps] + shape);
# inputs: the serialized scalar, then one default per dense context key.
_SEQUENCE_ATTRS = {f"{part}_{name}": () for part in ("context", "list") for name in (
    "sparse_keys", "sparse_types", "dense_keys", "dense_types", "dense_shapes",
    "dense_required")}


def _sequence_dtypes(in_dtypes, attrs):
    out = []
    for part in ("context", "list"):
        sparse = list(attrs[f"{part}_sparse_types"])
        out += [gdt.int64] * len(sparse) + sparse + [gdt.int64] * len(sparse) + \
            list(attrs[f"{part}_dense_types"])
    if in_dtypes[0] is not gdt.string:
        raise TypeError(f"parse_single_sequence_example: serialized must be strings, got "
                        f"{in_dtypes[0].name}")
    return out


def _sequence_shapes(inputs, attrs):
    if inputs[0].shape.rank != 0:
        raise ValueError(f"parse_single_sequence_example: serialized must be a scalar, got "
                         f"shape {inputs[0].shape}")
    out = []
    for part, rank, lead in (("context", 1, []), ("list", 2, [None])):
        count = len(attrs[f"{part}_sparse_keys"])
        out += [TensorShape([None, rank])] * count + [TensorShape([None])] * count + \
            [TensorShape([rank])] * count
        out += [TensorShape(lead + list(shape)) for shape in attrs[f"{part}_dense_shapes"]]
    return out


def _sequence_kernel(serialized, *defaults, **attrs):
    what = "parse_single_sequence_example"
    (proto,) = _parse_all(serialized, what, "SequenceExample")
    context = [proto.context.feature]
    outputs = []
    lists = proto.feature_lists.feature_list
    for part in ("context", "list"):
        keys = attrs[f"{part}_sparse_keys"]
        sparse = []
        for key, dtype in zip(keys, attrs[f"{part}_sparse_types"]):
            steps = context if part == "context" else _steps(lists, key)
            sparse.append(_sparse(steps, key, dtype, part == "context", what))
        outputs += [s[0] for s in sparse] + [s[1] for s in sparse] + [s[2] for s in sparse]
        for position, (key, dtype, shape, required) in enumerate(zip(
                attrs[f"{part}_dense_keys"], attrs[f"{part}_dense_types"],
                attrs[f"{part}_dense_shapes"], attrs[f"{part}_dense_required"])):
            if part == "context":
                outputs.append(_dense(context, key, dtype, shape, False, defaults[position],
                                      required, True, what))
                continue
            if key not in lists and required:
                raise ValueError(f"{what}: feature list {key!r} (data type: {dtype.name}) is "
                                 "required but could not be found")
            steps = _steps(lists, key)
            outputs.append(_dense(steps, key, dtype, shape, False, None, True, False, what,
                                  "step") if steps else np.zeros((0,) + tuple(shape), dtype.np))
    return tuple(outputs)


def _steps(lists, key) -> list:
    """One ``{key: Feature}`` map per step of feature list ``key`` (none when absent)."""
    return [{key: feature} for feature in lists[key].feature] if key in lists else []


PARSE_SINGLE_SEQUENCE_EXAMPLE = registry.register(OpDef(
    name="parse_single_sequence_example", dtypes=_sequence_dtypes, shapes=_sequence_shapes,
    kernel=_sequence_kernel, grad=registry.NOT_DIFFERENTIABLE, raises_on_values=True,
    attrs=_SEQUENCE_ATTRS, tested_elsewhere="tests/test_parsing.py",
    doc="A serialized tf.train.SequenceExample's context and feature lists as tensors."))
