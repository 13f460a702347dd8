"""tf.io.parse_example / parse_single_example with FixedLenFeature, FixedLenSequenceFeature
and VarLenFeature: the results TensorFlow gave for the same protos and specs
(tests/data/tf_parsed_examples.npz, from tests/data/make_tf_records.py), static shapes,
tf.data pipelines, and the errors for missing or malformed features."""
import pathlib

import numpy as np
import pytest

import graphc as gc
from tests.data import example_cases
from tests.data_helpers import arrays as _all

DATA = pathlib.Path(__file__).parent / "data"
TF_RESULTS = example_cases.loaded(np.load(DATA / "tf_parsed_examples.npz"))
RECORDS = str(DATA / "tf_examples.tfrecord")
SERIALIZED = [example_cases.build(gc.train, case).SerializeToString()
              for case in example_cases.CASES[:4]]


def _assert_like_tf(results: dict, prefix: str):
    flat = example_cases.flat_results(results, prefix)
    expected = {key: value for key, value in TF_RESULTS.items() if key.startswith(prefix + "/")}
    assert sorted(flat) == sorted(expected)
    for key, value in expected.items():
        got = np.array(flat[key], dtype=object) if isinstance(flat[key], bytes) else \
            np.asarray(flat[key])
        assert got.dtype == value.dtype and got.shape == value.shape, key
        assert got.tolist() == value.tolist(), key


def test_parse_example_gives_tensorflows_results():
    with gc.Graph().as_default():
        records = gc.placeholder(gc.string, [None])
        parsed = gc.io.parse_example(records, example_cases.feature_specs(
            gc, example_cases.BATCH_FEATURES))
        assert parsed["label"].shape.as_list() == [None]
        assert parsed["shape"].shape.as_list() == [None, None, 3]
        assert isinstance(parsed["raw"], gc.SparseTensor) and parsed["raw"].dtype is gc.string
        with gc.Session() as sess:
            _assert_like_tf(sess.run(parsed, {records: SERIALIZED}), "batch")


def test_parse_single_example_gives_tensorflows_results():
    with gc.Graph().as_default():
        parsed = gc.parse_single_example(gc.constant(SERIALIZED[3]), example_cases.feature_specs(
            gc, example_cases.SINGLE_FEATURES))
        assert parsed["shape"].shape.as_list() == [3] and parsed["image"].shape.as_list() == []
        with gc.Session() as sess:
            _assert_like_tf(sess.run(parsed), "single")


def test_tfrecord_pipeline_batches_then_parses():
    features = example_cases.feature_specs(gc, example_cases.BATCH_FEATURES)
    with gc.Graph().as_default():
        dataset = gc.data.TFRecordDataset(RECORDS).take(4).batch(4).map(
            lambda records: gc.io.parse_example(records, features))
        (batch,) = _all(dataset)
    _assert_like_tf(batch, "batch")


def test_tfrecord_pipeline_parses_each_record_then_batches_dense_features():
    features = {"label": gc.io.FixedLenFeature([], gc.int64, default_value=-1),
                "mean": gc.io.FixedLenFeature([1], gc.float32, default_value=[0.5])}
    with gc.Graph().as_default():
        dataset = gc.data.TFRecordDataset(RECORDS).take(4).map(
            lambda record: gc.io.parse_single_example(record, features)).batch(2)
        batches = _all(dataset)
    assert [b["label"].tolist() for b in batches] == [[7, -1], [-1, -1]]
    assert batches[1]["mean"].tolist() == TF_RESULTS["batch/mean"][2:].tolist()


def _parse_one(spec, record=None, key="x"):
    record = SERIALIZED[0] if record is None else record
    with gc.Graph().as_default():
        parsed = gc.io.parse_single_example(gc.constant(record), {key: spec})
        with gc.Session() as sess:
            return sess.run(parsed)[key]


def test_missing_required_feature_names_the_key():
    with pytest.raises(gc.errors.InvalidArgumentError,
                       match=r"feature 'label' \(data type: int64\) is required but could not "
                             r"be found in example 0"):
        _parse_one(gc.io.FixedLenFeature([], gc.int64), SERIALIZED[1], key="label")


@pytest.mark.parametrize("spec, match", [
    (gc.io.FixedLenFeature([3], gc.float32), "'weights' of example 0 has 2 values, but its "
                                             r"shape \[3\] needs 3"),
    (gc.io.FixedLenFeature([2], gc.int64), "'weights' holds a float_list, but its spec's dtype "
                                           "is int64"),
    (gc.io.FixedLenSequenceFeature([3], gc.float32, allow_missing=True),
     r"has 2 values, not a whole number of rows of shape \[3\]"),
    (gc.io.VarLenFeature(gc.string), "'weights' holds a float_list"),
])
def test_malformed_feature_is_an_invalid_argument_naming_it(spec, match):
    with pytest.raises(gc.errors.InvalidArgumentError, match=match):
        _parse_one(spec, key="weights")


def test_bytes_that_are_no_example_are_refused():
    with pytest.raises(gc.errors.InvalidArgumentError, match="could not parse example 0 as a "
                                                             "tf.train.Example"):
        _parse_one(gc.io.VarLenFeature(gc.int64), b"\xff\xff\xff")


@pytest.mark.parametrize("features, error, match", [
    ({"x": gc.io.FixedLenFeature([None], gc.float32)}, ValueError, "fully known shape"),
    ({"x": gc.io.FixedLenFeature([], gc.int32)}, TypeError, "hold int64, float32 or string"),
    ({"x": gc.io.FixedLenSequenceFeature([], gc.int64)}, ValueError, "allow_missing=True"),
    ({"x": gc.io.FixedLenFeature([2], gc.int64, default_value=[1, 2, 3])}, ValueError,
     r"default_value of feature 'x' has 3 values; it must have the shape \[2\]"),
    ({"x": ("int64", [])}, TypeError, "unsupported spec"),
    ({}, ValueError, "non-empty dict"),
])
def test_bad_feature_specs_are_refused_at_build_time(features, error, match):
    with gc.Graph().as_default() as graph:
        records = gc.placeholder(gc.string, [None])
        before = len(graph.get_operations())
        with pytest.raises(error, match=match):
            gc.io.parse_example(records, features)


def test_serialized_of_the_wrong_rank_is_refused():
    with gc.Graph().as_default():
        with pytest.raises(ValueError, match=r"serialized must have rank 0, got shape \(2,\)"):
            gc.io.parse_single_example(gc.constant([b"", b""]), {
                "x": gc.io.VarLenFeature(gc.int64)})
        with pytest.raises(TypeError, match="string"):
            gc.io.parse_example(gc.constant([1.0]), {"x": gc.io.VarLenFeature(gc.int64)})


def test_empty_batch_and_unknown_rank_serialized():
    with gc.Graph().as_default():
        records = gc.placeholder(gc.string)
        parsed = gc.io.parse_example(records, {
            "x": gc.io.FixedLenFeature([2], gc.float32, default_value=[1.0, 2.0]),
            "v": gc.io.VarLenFeature(gc.int64)})
        with gc.Session() as sess:
            empty = sess.run(parsed, {records: np.zeros(0, object)})
            two = sess.run(parsed, {records: [b"", b""]})  # b"" is an empty Example
    assert empty["x"].shape == (0, 2) and empty["v"].dense_shape.tolist() == [0, 0]
    assert two["x"].tolist() == [[1.0, 2.0]] * 2 and two["v"].values.size == 0


def test_a_sparse_feature_travels_through_a_pipeline():
    features = {"names": gc.io.VarLenFeature(gc.string),
                "label": gc.io.FixedLenFeature([], gc.int64, default_value=-1)}
    with gc.Graph().as_default():
        parsed = gc.data.TFRecordDataset(RECORDS).take(4).map(
            lambda record: gc.io.parse_single_example(record, features))
        assert "SparseTensorSpec" in repr(parsed._stage.structure["names"])
        elements = _all(parsed.filter(lambda d: d["label"] < 0).skip(2))
        with pytest.raises(TypeError, match="does not pad; use Dataset.batch"):
            parsed.padded_batch(2)
    (last,) = elements
    assert isinstance(last["names"], gc.SparseTensorValue)
    assert last["names"].values.tolist() == [b"x", b"", b"yz"]
    assert last["names"].indices.tolist() == [[0], [1], [2]]


def test_batching_parsed_sparse_features_gives_what_parse_example_gives():
    keys = ("raw", "big", "names")
    features = {key: gc.io.VarLenFeature(gc.int64 if key == "big" else gc.string)
                for key in keys}
    with gc.Graph().as_default():
        dataset = gc.data.TFRecordDataset(RECORDS).take(4).map(
            lambda record: gc.io.parse_single_example(record, features)).batch(4)
        assert dataset._stage.structure["big"].parts[0].shape.as_list() == [None, 2]
        (batch,) = _all(dataset)
    flat = example_cases.flat_results(batch, "batch")
    for key, value in flat.items():
        assert value.tolist() == TF_RESULTS[key].tolist(), key


SEQUENCE = example_cases.build(gc.train, example_cases.CASES[6]).SerializeToString()


def test_parse_single_sequence_example_gives_tensorflows_results():
    with gc.Graph().as_default():
        context, steps = gc.io.parse_single_sequence_example(
            gc.constant(SEQUENCE), example_cases.feature_specs(gc, example_cases.SEQUENCE_CONTEXT),
            example_cases.feature_specs(gc, example_cases.SEQUENCE_FEATURES))
        assert steps["frames"].shape.as_list() == [None, 2]
        assert isinstance(steps["words"], gc.SparseTensor)
        with gc.Session() as sess:
            context, steps = sess.run([context, steps])
    _assert_like_tf(context, "context")
    _assert_like_tf(steps, "steps")


@pytest.mark.parametrize("sequence_features, match", [
    ({"tokens": gc.io.FixedLenSequenceFeature([], gc.int64)},
     r"feature list 'tokens' \(data type: int64\) is required but could not be found"),
    ({"frames": gc.io.FixedLenSequenceFeature([3], gc.float32)},
     r"feature 'frames' of step 0 has 2 values, but its shape \[3\] needs 3"),
    ({"words": gc.io.FixedLenSequenceFeature([], gc.int64)}, "holds a bytes_list"),
])
def test_sequence_example_errors_name_the_feature_list(sequence_features, match):
    with gc.Graph().as_default():
        _, steps = gc.io.parse_single_sequence_example(SEQUENCE,
                                                       sequence_features=sequence_features)
        with gc.Session() as sess, pytest.raises(gc.errors.InvalidArgumentError, match=match):
            sess.run(steps)


def test_sequence_example_specs_are_checked_at_build_time():
    with gc.Graph().as_default():
        with pytest.raises(TypeError, match="must be a FixedLenSequenceFeature or a VarLen"):
            gc.io.parse_single_sequence_example(SEQUENCE, sequence_features={
                "labels": gc.io.FixedLenFeature([], gc.int64)})
        with pytest.raises(TypeError, match="context feature cannot be a FixedLenSequence"):
            gc.io.parse_single_sequence_example(SEQUENCE, context_features={
                "id": gc.io.FixedLenSequenceFeature([], gc.string, allow_missing=True)})
        with pytest.raises(ValueError, match="must be a scalar"):
            gc.io.parse_single_sequence_example([SEQUENCE], sequence_features={
                "labels": gc.io.VarLenFeature(gc.int64)})
        with pytest.raises(ValueError, match="give context_features, sequence_features"):
            gc.io.parse_single_sequence_example(SEQUENCE)


def _ids_and_weights(ids, weights):
    return gc.train.Example(features=gc.train.Features(feature={
        "ids": gc.train.Feature(int64_list=gc.train.Int64List(value=ids)),
        "w": gc.train.Feature(float_list=gc.train.FloatList(value=weights))})
    ).SerializeToString()


def test_sparse_feature_builds_a_sparse_tensor_from_two_keys():
    records = [_ids_and_weights([3, 1], [0.5, 2.0]), _ids_and_weights([], []),
               _ids_and_weights([4], [1.0])]
    features = {"bag": gc.io.SparseFeature("ids", "w", gc.float32, size=6)}
    with gc.Graph().as_default():
        batch = gc.io.parse_example(records, features)
        single = gc.parse_single_example(records[0], features)
        assert sorted(batch) == ["bag"]
        with gc.Session() as sess:
            batch, single = sess.run([batch["bag"], single["bag"]])
        with pytest.raises(ValueError, match="one index_key"):
            gc.io.parse_example(records, {"x": gc.io.SparseFeature(["a", "b"], "w", gc.float32,
                                                                   [2, 2])})
    assert batch.indices.tolist() == [[0, 1], [0, 3], [2, 4]]  # sorted, as TF sorts them
    assert batch.values.tolist() == [2.0, 0.5, 1.0] and batch.dense_shape.tolist() == [3, 6]
    assert single.indices.tolist() == [[1], [3]] and single.dense_shape.tolist() == [6]


def test_make_batched_features_dataset_reads_parses_and_splits_the_label(tmp_path):
    for shard in range(2):
        with gc.io.TFRecordWriter(str(tmp_path / f"part-{shard}.tfrecord")) as writer:
            for index in range(3):
                writer.write(gc.train.Example(features=gc.train.Features(feature={
                    "x": gc.train.Feature(float_list=gc.train.FloatList(value=[index, shard])),
                    "y": gc.train.Feature(int64_list=gc.train.Int64List(value=[shard]))}))
                    .SerializeToString())
    features = {"x": gc.io.FixedLenFeature([2], gc.float32),
                "y": gc.io.FixedLenFeature([], gc.int64)}
    with gc.Graph().as_default():
        dataset = gc.data.experimental.make_batched_features_dataset(
            str(tmp_path / "part-*.tfrecord"), 4, features, label_key="y", num_epochs=1,
            shuffle=False)
        batches = _all(dataset)
        parsed = _all(gc.data.TFRecordDataset(str(tmp_path / "part-0.tfrecord")).batch(3)
                      .apply(gc.data.experimental.parse_example_dataset(features)))
        with pytest.raises(ValueError, match="label_key 'z' is not one of the features"):
            gc.data.experimental.make_batched_features_dataset("*", 4, features, label_key="z")
    (first, first_labels), (second, second_labels) = batches
    assert sorted(first) == ["x"] and first_labels.tolist() == [0, 0, 0, 1]
    assert first["x"][:, 0].tolist() == [0, 1, 2, 0] and second_labels.tolist() == [1, 1]
    assert parsed[0]["x"][:, 0].tolist() == [0, 1, 2]
