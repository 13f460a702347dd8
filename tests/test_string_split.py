"""tf.string_split and tf.compat.v1.strings.split (graphc/strings_split.py) against
TensorFlow 2.21's results (tests/data/tf_string_split.json, made by
tests/data/make_tf_string_split.py)."""
import json
import pathlib

import numpy as np
import pytest

import graphc as gc

# (kind, strings, sep, skip_empty, maxsplit)
CASES = [
    ("v1", ["hello world", "a  b c", "", " lead", "trail ", "x,y;z"], " ", True, None),
    ("v1", ["hello world", "a  b c", "", " lead", "x,y;z"], " ", False, None),
    ("v1", ["x,y;z", ",,a", "b;"], ",;", True, None),
    ("v1", ["x,y;z", ",,a", "b;"], ",;", False, None),
    ("v1", ["ab", "c", ""], "", True, None),
    ("v2", ["1<>2<><>3", "", " x  y ", "<>"], "<>", None, -1),
    ("v2", ["  a b  c ", "", "x", " \t\n "], None, None, -1),
    ("v2", ["a b c d", "  e  f  g "], None, None, 2),
    ("v2", ["a,b,c,d", ",,"], ",", None, 1),
    ("v2", ["  a b "], None, None, 0),
]
TF_RESULTS = json.loads((pathlib.Path(__file__).parent / "data" /
                         "tf_string_split.json").read_text())


def parts(value):
    """A SparseTensorValue as JSON-able lists."""
    return [value.indices.tolist(), [v.decode() for v in value.values.tolist()],
            value.dense_shape.tolist()]


@pytest.mark.parametrize("case, want", list(zip(CASES, TF_RESULTS)))
def test_results_are_tfs(case, want):
    kind, strings, sep, skip, maxsplit = case
    with gc.Graph().as_default():
        tokens = gc.string_split(strings, sep, skip_empty=skip) if kind == "v1" else \
            gc.strings.split(strings, sep=sep, maxsplit=maxsplit)
        with gc.Session() as sess:
            value = sess.run(tokens)
    assert value.indices.dtype == np.int64 and parts(value) == want


def test_old_argument_names_and_errors():
    with gc.Graph().as_default():
        old = gc.string_split(["a-b"], delimiter="-")
        source = gc.strings.split(source=["a b"])
        with gc.Session() as sess:
            assert sess.run(old).values.tolist() == [b"a", b"b"]
            assert sess.run(source).values.tolist() == [b"a", b"b"]
        with pytest.raises(ValueError, match="a vector of strings"):
            gc.string_split([["a b"]])
        with pytest.raises(TypeError, match="requested dtype string"):
            gc.strings.split(gc.constant([1, 2]))
        with pytest.raises(ValueError, match="no RaggedTensor"):
            gc.strings.split(["a"], result_type="RaggedTensor")
        with pytest.raises(ValueError, match="not both"):
            gc.string_split(["a"], sep=" ", delimiter=",")
