"""gc.nest against TensorFlow's tf.nest: each case's expected result (or error type) is what
TF 2.21's tf.nest gave for it."""
import collections

import pytest

import graphc as gc

nest = gc.nest
P = collections.namedtuple("P", "x y")
Q = collections.namedtuple("Q", "x y")

CASES = [
    (lambda: nest.flatten({"b": 1, "a": (2, [3, None])}), [2, 3, None, 1]),
    (lambda: nest.flatten(collections.OrderedDict([("z", 1), ("a", 2)])), [2, 1]),
    (lambda: nest.flatten("abc"), ["abc"]),
    (lambda: nest.flatten(P(1, (2, 3))), [1, 2, 3]),
    (lambda: nest.flatten([]), []),
    (lambda: nest.pack_sequence_as({"a": 0, "b": (0, 0)}, [1, 2, 3]), {"a": 1, "b": (2, 3)}),
    (lambda: nest.pack_sequence_as(collections.OrderedDict([("z", 0), ("a", 0)]), [1, 2]),
     collections.OrderedDict([("z", 2), ("a", 1)])),
    (lambda: nest.pack_sequence_as((0, 0), [1]), ValueError),
    (lambda: nest.pack_sequence_as(5, [1]), 1),
    (lambda: nest.pack_sequence_as([], []), []),
    (lambda: nest.pack_sequence_as(P(0, [0]), (7, 8)), P(7, [8])),
    (lambda: nest.map_structure(lambda x, y: x + y, (1, {"k": 2}), (10, {"k": 20})),
     (11, {"k": 22})),
    (lambda: nest.map_structure(lambda x, y: x + y, (1, 2), [10, 20]), TypeError),
    (lambda: nest.map_structure(lambda x, y: x + y, (1, 2), [10, 20], check_types=False),
     (11, 22)),
    (lambda: nest.assert_same_structure(P(1, 2), (1, 2)), TypeError),
    (lambda: nest.assert_same_structure(P(1, 2), Q(1, 2)), TypeError),
    (lambda: nest.assert_same_structure({"a": 1}, {"b": 1}), ValueError),
    (lambda: nest.assert_same_structure([1, 2], [1, 2, 3]), ValueError),
    (lambda: nest.assert_same_structure([1, [2]], [1, 2]), ValueError),
    (lambda: nest.assert_same_structure({"a": 1}, collections.OrderedDict(a=1)), None),
    (lambda: (nest.is_nested([1]), nest.is_nested("ab"), nest.is_nested({}),
              nest.is_nested(None)), (True, False, True, False)),
]


@pytest.mark.parametrize("index", range(len(CASES)))
def test_as_tensorflow(index):
    call, expected = CASES[index]
    if isinstance(expected, type) and issubclass(expected, Exception):
        with pytest.raises(expected):
            call()
    else:
        result = call()
        assert result == expected and type(result) is type(expected)


def test_defaultdict_keeps_its_factory_and_key_order():
    packed = nest.pack_sequence_as(collections.defaultdict(list, {"b": 0, "a": 0}), [1, 2])
    assert packed.default_factory is list and list(packed.items()) == [("b", 2), ("a", 1)]


def test_tensors_are_leaves_and_map_builds_ops():
    x = gc.constant([1.0, 2.0])
    doubled = nest.map_structure(lambda t: t * 2.0, {"x": x, "pair": (x, x)})
    with gc.Session() as sess:
        values = sess.run(doubled)
    assert values["x"].tolist() == [2.0, 4.0] and len(values["pair"]) == 2


def test_error_names_where_the_structures_differ():
    with pytest.raises(ValueError, match=r"\['a'\]\[1\]"):
        nest.assert_same_structure({"a": [1, [2]]}, {"a": [1, 2]})


def test_unexpected_keyword_is_refused():
    with pytest.raises(ValueError, match="unexpected keyword"):
        nest.map_structure(lambda x: x, [1], check_type=False)
