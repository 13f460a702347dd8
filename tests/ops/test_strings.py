"""String ops: TF1's documented behaviour, broadcasting, and run-time errors naming the op."""
import numpy as np
import pytest

import graphc as gc


def _run(fetches, feeds=None):
    with gc.Session() as sess:
        return sess.run(fetches, feeds)


def test_elementwise_string_ops():
    with gc.Graph().as_default():
        text = gc.constant(["Hello World", "  ÉTÉ  "])
        got = _run([gc.strings.length(text), gc.strings.length(text, unit="UTF8_CHAR"),
                    gc.strings.lower(text), gc.strings.lower(text, encoding="utf-8"),
                    gc.strings.upper(["abc"]), gc.string_strip(text),
                    gc.substr(["hello", "world"], [1, -3], [3, 2]),
                    gc.strings.substr(["héllo"], 1, 2, unit="UTF8_CHAR"),
                    gc.string_join([["a", "b"], "x"], separator="-"),
                    gc.strings.regex_full_match(["ab1", "x", "abc2"], "[a-z]+[0-9]"),
                    gc.regex_replace(["a-b-c"], "-", "+"),
                    gc.strings.regex_replace(["a-b-c"], "(\\w)-", "\\1", replace_global=False),
                    gc.string_to_number(["1.5", " -2 "]),
                    gc.strings.to_number(["7", "-3"], out_type=gc.int32),
                    gc.as_string([1.5, 2.0], precision=2), gc.as_string([True, False]),
                    gc.as_string([7], width=3, fill="0")])
    np.testing.assert_array_equal(got[0], [11, 9])
    np.testing.assert_array_equal(got[1], [11, 7])
    assert got[2].tolist() == [b"hello world", "  ÉTÉ  ".encode().lower()]  # ASCII only
    assert got[3].tolist() == [b"hello world", "  été  ".encode()]
    assert got[4].tolist() == [b"ABC"] and got[5].tolist() == [b"Hello World", "ÉTÉ".encode()]
    assert got[6].tolist() == [b"ell", b"rl"] and got[7].tolist() == ["él".encode()]
    assert got[8].tolist() == [b"a-x", b"b-x"]
    assert got[9].tolist() == [True, False, True]
    assert got[10].tolist() == [b"a+b+c"] and got[11].tolist() == [b"ab-c"]
    np.testing.assert_allclose(got[12], [1.5, -2.0])
    assert got[12].dtype == np.float32 and got[13].tolist() == [7, -3]
    assert got[14].tolist() == [b"1.50", b"2.00"] and got[15].tolist() == [b"true", b"false"]
    assert got[16].tolist() == [b"007"]


def test_reduce_join():
    with gc.Graph().as_default():
        words = gc.constant([["a", "b"], ["c", "d"]])
        got = _run([gc.reduce_join(words, axis=1), gc.reduce_join(words, 0, separator=","),
                    gc.strings.reduce_join(words), gc.reduce_join(words, 1, keep_dims=True)])
    assert got[0].tolist() == [b"ab", b"cd"] and got[1].tolist() == [b"a,c", b"b,d"]
    assert got[2] == b"abcd" and got[3].shape == (2, 1)


def test_errors_name_the_op():
    with gc.Graph().as_default():
        text = gc.placeholder(gc.string, [None])
        with pytest.raises(gc.errors.InvalidArgumentError,
                           match="StringToNumber.*could not correctly convert string: x1"):
            _run(gc.string_to_number(text), {text: ["1", "x1"]})
        with pytest.raises(gc.errors.InvalidArgumentError, match="Substr.*out of range"):
            _run(gc.substr(text, 5, 1), {text: ["abc"]})
        with pytest.raises(TypeError, match="string_length: inputs must be strings"):
            gc.strings.length([1, 2])
        with pytest.raises(ValueError, match="invalid pattern"):
            gc.strings.regex_replace(["a"], "(", "")
