"""The tf.sparse functions composed from other ops (transpose, expand_dims, reset_shape,
retain, to_indicator, add, slice, concat, eye, fill_empty_rows) against NumPy on the dense
values, and gradients reaching the values through them."""
import numpy as np
import pytest

import graphc as gc

INDICES = np.array([[0, 1], [1, 0], [2, 2]])
VALUES = np.array([1.5, -2.0, 3.0])
SHAPE = [3, 4]
DENSE = np.zeros(SHAPE)
DENSE[tuple(INDICES.T)] = VALUES


def _st(indices=INDICES, values=VALUES, shape=SHAPE):
    return gc.SparseTensor(indices, gc.constant(np.asarray(values, np.float64)), shape)


def _dense(value):
    out = np.zeros(value.dense_shape)
    np.add.at(out, tuple(value.indices.T), value.values)
    return out


def _assert_row_major(value):
    linear = np.ravel_multi_index(tuple(value.indices.T), value.dense_shape)
    assert (np.diff(linear) > 0).all()


def _run(fetches):
    with gc.Session() as sess:
        return sess.run(fetches)


def test_transpose_expand_dims_and_reset_shape():
    with gc.Graph().as_default():
        st = _st()
        out = _run({"t": gc.sparse.transpose(st), "t01": gc.sparse_transpose(st, [0, 1]),
                    "e": gc.sparse.expand_dims(st, 1), "last": gc.sparse.expand_dims(st, -1),
                    "tight": gc.sparse.reset_shape(st), "wide": gc.sparse_reset_shape(st, [5, 5])})
        with pytest.raises(ValueError, match="not a permutation"):
            gc.sparse.transpose(st, [0, 0])
    assert _dense(out["t"]).tolist() == DENSE.T.tolist()
    _assert_row_major(out["t"])
    assert _dense(out["t01"]).tolist() == DENSE.tolist()
    assert _dense(out["e"]).tolist() == DENSE[:, None].tolist()
    assert _dense(out["last"]).tolist() == DENSE[..., None].tolist()
    assert out["tight"].dense_shape.tolist() == [3, 3]
    assert out["wide"].dense_shape.tolist() == [5, 5]


def test_retain_slice_and_to_indicator():
    with gc.Graph().as_default():
        st = _st()
        ids = gc.SparseTensor([[0, 0], [0, 1], [2, 0]], [3, 1, 2], [3, 2])
        out = _run({"kept": gc.sparse_retain(st, [True, False, True]),
                    "box": gc.sparse.slice(st, [1, 0], [5, 2]),
                    "inner": gc.sparse_slice(st, [0, 1], [2, 2]),
                    "hot": gc.sparse.to_indicator(ids, 4)})
    assert out["kept"].values.tolist() == [1.5, 3.0]
    assert _dense(out["box"]).tolist() == DENSE[1:, 0:2].tolist()
    assert _dense(out["inner"]).tolist() == DENSE[0:2, 1:3].tolist()
    assert out["hot"].tolist() == [[False, True, False, True], [False] * 4,
                                   [False, False, True, False]]


def test_add_sums_duplicates_and_drops_small_sums():
    with gc.Graph().as_default():
        a = _st()
        b = _st([[1, 0], [0, 3]], [2.0, 0.25], SHAPE)
        both = gc.sparse.add(a, b)
        thresholded = gc.sparse_add(a, b, threshold=0.5)
        mixed = gc.sparse.add(a, np.ones(SHAPE))
        weights = np.arange(12.0).reshape(SHAPE)
        (grad,) = gc.gradients(gc.reduce_sum(gc.sparse.to_dense(both) * weights), [a.values])
        out = _run({"both": both, "thresholded": thresholded, "mixed": mixed, "grad": grad})
        with pytest.raises(TypeError, match="at least one operand"):
            gc.sparse.add(np.ones(2), np.ones(2))
    expected = DENSE.copy()
    expected[1, 0] += 2.0
    expected[0, 3] += 0.25
    assert _dense(out["both"]).tolist() == expected.tolist()
    _assert_row_major(out["both"])
    assert out["thresholded"].indices.tolist() == [[0, 1], [2, 2]]  # -2 + 2 and 0.25 dropped
    assert out["mixed"].tolist() == (DENSE + 1).tolist()
    assert out["grad"].tolist() == weights[tuple(INDICES.T)].tolist()


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concat_joins_along_an_axis(axis):
    with gc.Graph().as_default():
        a, b = _st(), _st([[0, 0]], [9.0], [3, 4])
        out = _run(gc.sparse.concat(axis, [a, b]))
        legacy = _run(gc.sparse_concat(axis, [a, b]))
    second = np.zeros(SHAPE)
    second[0, 0] = 9.0
    assert _dense(out).tolist() == np.concatenate([DENSE, second], axis=axis).tolist()
    _assert_row_major(out)
    assert legacy.values.tolist() == out.values.tolist()


def test_concat_expanding_the_other_dims():
    with gc.Graph().as_default():
        a, b = _st(), _st([[4, 1]], [9.0], [5, 2])
        out = _run(gc.sparse.concat(1, [a, b], expand_nonconcat_dim=True))
    assert out.dense_shape.tolist() == [5, 6] and out.indices.tolist()[-1] == [4, 5]


def test_eye_and_fill_empty_rows():
    with gc.Graph().as_default():
        st = gc.SparseTensor([[0, 1], [2, 0]], [1.0, 2.0], [4, 3])
        filled, empty = gc.sparse.fill_empty_rows(st, -1.0)
        legacy, _ = gc.sparse_fill_empty_rows(st, 0.0)
        out = _run({"eye": gc.sparse.eye(2, 3, dtype=gc.int32), "filled": filled,
                    "empty": empty, "legacy": legacy})
    assert _dense(out["eye"]).tolist() == np.eye(2, 3).tolist()
    assert out["eye"].values.dtype == np.int32
    assert out["filled"].indices.tolist() == [[0, 1], [1, 0], [2, 0], [3, 0]]
    assert out["filled"].values.tolist() == [1.0, -1.0, 2.0, -1.0]
    assert out["empty"].tolist() == [False, True, False, True]
    assert out["legacy"].values.tolist() == [1.0, 0.0, 2.0, 0.0]


def test_an_unknown_rank_is_refused_when_the_graph_is_built():
    with gc.Graph().as_default():
        sp = gc.sparse_placeholder(gc.float32)
        with pytest.raises(ValueError, match=r"rank \(indices.shape\[1\]\) must be known"):
            gc.sparse.transpose(sp)
