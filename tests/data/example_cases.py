"""The tf.train.Example / SequenceExample messages of the fixtures, as plain data, and one
builder that makes them from either TF's or graphc's classes (``tf.train``, ``gc.train``).
tests/data/make_tf_records.py writes TF's serialization of each into tf_examples.tfrecord."""

CASES = [
    ("Example", {"label": ("int64", [7]), "weights": ("float", [0.5, -1.25]),
                 "raw": ("bytes", [b"a", b"\xff\x00"])}),
    ("Example", {}),
    ("Example", {"empty": ("int64", []), "big": ("int64", [-2 ** 63, 2 ** 63 - 1, 0])}),
    ("Example", {"image": ("bytes", [bytes(range(256)) * 4]), "shape": ("int64", [32, 32, 1]),
                 "mean": ("float", [0.1]), "names": ("bytes", [b"x", b"", b"yz"])}),
    ("SequenceExample", {"length": ("int64", [2])},
     {"tokens": [("int64", [1, 2]), ("int64", [3])], "scores": [("float", [0.25]),
                                                               ("float", [])]}),
    ("SequenceExample", {}, {}),
    ("SequenceExample", {"id": ("bytes", [b"s1"])},
     {"frames": [("float", [1, 2]), ("float", [3, 4]), ("float", [5, 6])],
      "labels": [("int64", [1]), ("int64", [0]), ("int64", [1])],
      "words": [("bytes", [b"a"]), ("bytes", []), ("bytes", [b"b", b"c"])]}),
]


def feature(train, kind, values):
    if kind == "int64":
        return train.Feature(int64_list=train.Int64List(value=values))
    if kind == "float":
        return train.Feature(float_list=train.FloatList(value=values))
    return train.Feature(bytes_list=train.BytesList(value=values))


def features(train, spec):
    return train.Features(feature={key: feature(train, *value) for key, value in spec.items()})


def build(train, case):
    """The message of ``case`` made with ``train``'s classes."""
    if case[0] == "Example":
        return train.Example(features=features(train, case[1]))
    lists = {key: train.FeatureList(feature=[feature(train, *item) for item in items])
             for key, items in case[2].items()}
    return train.SequenceExample(context=features(train, case[1]),
                                 feature_lists=train.FeatureLists(feature_list=lists))


# parse_example over the first four CASES (serialized), and parse_single_example of CASES[3]
BATCH_FEATURES = {
    "label": ("fixed", [], "int64", -1),
    "mean": ("fixed", [1], "float32", [0.5]),
    "weights": ("sequence", [], "float32", None),
    "shape": ("sequence", [3], "int64", 0),
    "empty": ("sequence", [], "int64", None),
    "raw": ("varlen", None, "string", None),
    "big": ("varlen", None, "int64", None),
    "names": ("varlen", None, "string", None),
}
SINGLE_FEATURES = {
    "image": ("fixed", [], "string", None),
    "shape": ("fixed", [3], "int64", None),
    "mean": ("fixed", [], "float32", None),
    "names": ("varlen", None, "string", None),
    "label": ("fixed", [2], "int64", [4, 5]),
}

# parse_single_sequence_example of CASES[6]
SEQUENCE_CONTEXT = {
    "id": ("fixed", [], "string", None),
    "missing": ("fixed", [], "int64", 5),
}
SEQUENCE_FEATURES = {
    "frames": ("steps", [2], "float32", None),
    "labels": ("steps", [], "int64", None),
    "words": ("varlen", None, "string", None),
    "absent": ("sequence", [], "int64", None),
}


def feature_specs(tf, table):
    """The feature-spec dict of ``table`` made with ``tf.io`` and ``tf``'s dtypes."""
    specs = {}
    for key, (kind, shape, dtype, default) in table.items():
        dtype = getattr(tf, dtype)
        if kind == "fixed":
            specs[key] = tf.io.FixedLenFeature(shape, dtype, default_value=default)
        elif kind in ("sequence", "steps"):  # steps: a feature list that must be there
            specs[key] = tf.io.FixedLenSequenceFeature(shape, dtype, allow_missing=kind ==
                                                       "sequence", default_value=default)
        else:
            specs[key] = tf.io.VarLenFeature(dtype)
    return specs


def flat_results(parsed, prefix):
    """``{prefix/key[/indices|values|dense_shape]: array}`` of parse results (TF or graphc
    values: arrays, or SparseTensorValues with their three arrays)."""
    flat = {}
    for key, value in parsed.items():
        if hasattr(value, "dense_shape"):
            for part in ("indices", "values", "dense_shape"):
                flat[f"{prefix}/{key}/{part}"] = getattr(value, part)
        else:
            flat[f"{prefix}/{key}"] = value
    return flat


def storable(flat):
    """``flat`` with string arrays as ``key:bytes`` (uint8, joined) and ``key:lengths``
    (shaped as the array), so that an .npz holds them without pickles or lost NUL bytes."""
    import numpy as np  # noqa: PLC0415 - the builders above need no NumPy
    out = {}
    for key, value in flat.items():
        value = np.asarray(value)
        if value.dtype.kind in "OS":
            items = [bytes(v) for v in value.reshape(-1)]
            out[key + ":bytes"] = np.frombuffer(b"".join(items), np.uint8)
            out[key + ":lengths"] = np.array([len(v) for v in items]).reshape(value.shape)
        else:
            out[key] = value
    return out


def loaded(npz):
    """The arrays ``storable`` stored, strings back as object arrays of bytes."""
    import numpy as np  # noqa: PLC0415
    out = {}
    for key in npz.files:
        if key.endswith(":lengths"):
            name, lengths = key[:-len(":lengths")], npz[key]
            data, ends = npz[name + ":bytes"].tobytes(), np.cumsum(lengths.reshape(-1))
            array = np.empty(lengths.size, dtype=object)
            array[:] = [data[end - n:end] for end, n in zip(ends, lengths.reshape(-1))]
            out[name] = array.reshape(lengths.shape)
        elif not key.endswith(":bytes"):
            out[key] = npz[key]
    return out
