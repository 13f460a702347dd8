"""tf.train.Example and its kin: graphc's messages serialize to the bytes TensorFlow wrote
(tests/data/tf_examples.tfrecord, from tests/data/example_cases.py, deterministic
serialization) and parse them back;
without protobuf graphc still imports and the names say what to install."""
import pathlib
import subprocess
import sys

import pytest

import graphc as gc
from tests.data import example_cases

DATA = pathlib.Path(__file__).parent / "data"
TF_BYTES = list(gc.python_io.tf_record_iterator(str(DATA / "tf_examples.tfrecord")))


@pytest.mark.parametrize("index", range(len(example_cases.CASES)))
def test_serializes_to_tensorflows_bytes_and_parses_them(index):
    case = example_cases.CASES[index]
    message = example_cases.build(gc.train, case)
    # a map's entries come in hash order unless deterministic (TF's bytes vary so too)
    assert message.SerializeToString(deterministic=True) == TF_BYTES[index]
    parsed = getattr(gc.train, case[0]).FromString(TF_BYTES[index])
    assert parsed == message
    assert getattr(gc.train, case[0]).FromString(message.SerializeToString()) == parsed


def test_fields_read_as_tf_users_read_them():
    example = gc.train.Example.FromString(TF_BYTES[0])
    feature = example.features.feature
    assert sorted(feature) == ["label", "raw", "weights"]
    assert list(feature["label"].int64_list.value) == [7]
    assert list(feature["weights"].float_list.value) == [0.5, -1.25]
    assert feature["raw"].WhichOneof("kind") == "bytes_list"
    sequence = gc.train.SequenceExample.FromString(TF_BYTES[4])
    tokens = sequence.feature_lists.feature_list["tokens"].feature
    assert [list(f.int64_list.value) for f in tokens] == [[1, 2], [3]]
    assert sequence.context.feature["length"].int64_list.value[0] == 2


def test_feature_holds_one_list_and_types_are_checked():
    feature = gc.train.Feature(int64_list=gc.train.Int64List(value=[1]))
    feature.float_list.value.append(2.0)  # the oneof switches, as in TF
    assert feature.WhichOneof("kind") == "float_list" and not feature.HasField("int64_list")
    with pytest.raises(TypeError):
        gc.train.Int64List(value=["one"])
    with pytest.raises(AttributeError, match="graphc.train' has no attribute 'Exampel'"):
        gc.train.Exampel  # noqa: B018


def test_the_classes_are_named_as_tensorflows():
    assert gc.train.Example.DESCRIPTOR.full_name == "tensorflow.Example"
    assert gc.compat.v1.train.FeatureLists is gc.train.FeatureLists


def test_without_protobuf_graphc_imports_and_the_names_say_what_to_install():
    script = ("import sys; sys.modules['google.protobuf'] = None\n"
              "import graphc as tf\n"
              "try:\n    tf.train.Example\nexcept ImportError as err:\n    print(err)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)
    assert "need the 'protobuf' package: pip install 'graphc[tensorboard]'" in result.stdout
