"""tf.io.decode_csv: each case's expected columns (or error text) are TensorFlow 2.21's
(tf.compat.v1.io.decode_csv) for the same records and defaults."""
import numpy as np
import pytest

import graphc as gc
from graphc.errors import InvalidArgumentError

CASES = [
    (["1,2.5,abc", "4,5,x"], [[0], [0.0], [""]], {}, [[1, 4], [2.5, 5.0], [b"abc", b"x"]]),
    (["1,,", ",2,"], [[7], [8.0], ["d"]], {}, [[1, 7], [8.0, 2.0], [b"d", b"d"]]),
    (['"a,b",2,"say ""hi"""'], [[""], [0], [""]], {}, [[b"a,b"], [2], [b'say "hi"']]),
    (['"a,b",2'], [[""], [""], [0]], {"use_quote_delim": False}, [[b'"a'], [b'b"'], [2]]),
    (["1|2"], [[0], [0]], {"field_delim": "|"}, [[1], [2]]),
    (["NA,2", "3,NA"], [[0], [1.0]], {"na_value": "NA"}, [[0, 3], [2.0, 1.0]]),
    (["1,2,3,4"], [[0], [0]], {"select_cols": [1, 3]}, [[2], [4]]),
    ([" 1 , 2.5 ,  s "], [[0], [0.0], [""]], {}, [[1], [2.5], [b"  s "]]),
    ([["1,2", "3,4"], ["5,6", "7,8"]], [[0], [0]], {}, [[[1, 3], [5, 7]], [[2, 4], [6, 8]]]),
    (["inf,-nan,1e5"], [[0.0], [0.0], [0.0]], {}, [[np.inf], [np.nan], [1e5]]),
    (["+5,-3"], [[0], [0]], {}, [[5], [-3]]),
]
ERRORS = [
    (["1,,x"], [[7], [], ["d"]], {}, "Field 1 is required but missing in record 0!"),
    (["1,2"], [[0], [0], [0]], {}, "Expect 3 fields but have 2 in record 0"),
    (["1,2,3,4"], [[0], [0], [0]], {}, "Expect 3 fields but have 4 in record 0"),
    (['"a"b,2'], [[""], [0]], {}, "Quote inside a string has to be escaped by another quote"),
    (["abc,1"], [[0.0], [0]], {}, "Field 0 in record 0 is not a valid float: abc"),
    (["1.5,1"], [[0], [0]], {}, "Field 0 in record 0 is not a valid int32: 1.5"),
    (["9000000000"], [[0]], {}, "Field 0 in record 0 is not a valid int32: 9000000000"),
    ([""], [[5]], {}, "Expect 1 fields but have 0 in record 0"),
    (["0x10"], [[0]], {}, "Field 0 in record 0 is not a valid int32: 0x10"),
]


def decode(records, defaults, **kwargs):
    with gc.Session() as sess:
        return sess.run(gc.io.decode_csv(records, defaults, **kwargs))


@pytest.mark.parametrize("records,defaults,kwargs,expected", CASES)
def test_columns_as_tensorflow(records, defaults, kwargs, expected):
    columns = decode(records, defaults, **kwargs)
    assert len(columns) == len(expected)
    for column, want in zip(columns, expected):
        want = np.asarray(want, dtype=column.dtype)
        if column.dtype.kind == "f":
            np.testing.assert_array_equal(column, want)
        else:
            assert column.tolist() == want.tolist()


@pytest.mark.parametrize("records,defaults,kwargs,message", ERRORS)
def test_errors_as_tensorflow(records, defaults, kwargs, message):
    with pytest.raises(InvalidArgumentError, match="DecodeCSV") as info:
        decode(records, defaults, **kwargs)
    assert message in str(info.value)


def test_column_dtypes_follow_the_defaults():
    columns = gc.io.decode_csv(["9000000000,0.1,x"],
                               [gc.constant([0], gc.int64), gc.constant([0], gc.float64), [""]])
    assert [c.dtype for c in columns] == [gc.int64, gc.float64, gc.string]
    with gc.Session() as sess:
        big, small, text = sess.run(columns)
    assert big.tolist() == [9000000000] and small.tolist() == [0.1] and text.tolist() == [b"x"]


def test_shapes_follow_records_and_bad_defaults_are_refused():
    records = gc.placeholder(gc.string, [None, 3])
    first, second = gc.io.decode_csv(records, [[0], [""]])
    assert first.shape.as_list() == [None, 3] and second.dtype == gc.string
    with pytest.raises(TypeError, match="record_defaults\\[0\\] has dtype bool"):
        gc.io.decode_csv(["1"], [[True]])
    with pytest.raises(ValueError, match="select_cols"):
        gc.io.decode_csv(["1,2"], [[0], [0]], select_cols=[1, 0])


def test_in_a_dataset_map():
    lines = gc.data.Dataset.from_tensor_slices(["1,a", "2,b"]).map(
        lambda line: gc.io.decode_csv(line, [[0], [""]]))
    element = gc.data.make_one_shot_iterator(lines).get_next()
    with gc.Session() as sess:
        assert [tuple(sess.run(element)) for _ in range(2)] == [(1, b"a"), (2, b"b")]
