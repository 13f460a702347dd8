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
