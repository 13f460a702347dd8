"""TensorShape and static broadcasting."""
import pytest

from graphc.shapes import TensorShape, broadcast_shapes


def test_tensor_shape_basics():
    s = TensorShape([None, 3])
    assert s.rank == 2 and s[0] is None and s[1] == 3 and s == (None, 3)
    assert not s.is_fully_defined() and s.num_elements() is None
    assert s.is_compatible_with((5, 3)) and not s.is_compatible_with((5, 4))
    assert s.merge_with((5, None)) == (5, 3)
    assert TensorShape(None).rank is None and str(TensorShape(None)) == "<unknown>"
    assert str(s) == "(?, 3)" and str(TensorShape([4])) == "(4,)"
    with pytest.raises(ValueError):
        s.merge_with((1, 2, 3))
    with pytest.raises(ValueError):
        TensorShape([-2])


@pytest.mark.parametrize("a,b,out", [
    ((2, 1), (3,), (2, 3)), ((None, 1), (4,), (None, 4)), ((None,), (1,), (None,)),
    ((), (2, 2), (2, 2)), ((0, 3), (3,), (0, 3)),
])
def test_broadcast_shapes(a, b, out):
    assert broadcast_shapes(a, b) == out


def test_broadcast_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4, 3\)"):
        broadcast_shapes((2, 3), (4, 3))


from hypothesis import given, strategies as st  # noqa: E402

import numpy as np  # noqa: E402

dims = st.lists(st.integers(0, 3), min_size=0, max_size=4)


@given(dims, dims)
def test_broadcast_agrees_with_numpy(a, b):
    """Static broadcasting gives NumPy's result, or fails exactly when NumPy does."""
    try:
        expected = np.broadcast_shapes(tuple(a), tuple(b))
    except ValueError:
        with pytest.raises(ValueError):
            broadcast_shapes(a, b)
        return
    assert broadcast_shapes(a, b) == expected
    masked = [None if i % 2 else d for i, d in enumerate(a)]
    assert broadcast_shapes(masked, b).is_compatible_with(expected)
