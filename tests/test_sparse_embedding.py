"""tf.sparse.segment_sum/mean/sqrt_n and tf.nn.embedding_lookup_sparse /
safe_embedding_lookup_sparse against NumPy loops over the rows, with gradients."""
import numpy as np
import pytest

import graphc as gc

TABLE = np.arange(12.0).reshape(6, 2)
ROWS = [[1, 3], [], [5], []]          # the ids of each row of a [4, 2] SparseTensor
WEIGHTS = [[2.0, 1.0], [], [3.0], []]


def _sparse(rows, dtype=np.int64):
    indices = [[r, j] for r, row in enumerate(rows) for j in range(len(row))]
    values = np.array([v for row in rows for v in row], dtype)
    return gc.SparseTensor(np.array(indices, np.int64).reshape(-1, 2), values,
                           [len(rows), max(len(r) for r in rows)])


def _combined(combiner, weights=None, upto=None):
    out = []
    for r, row in enumerate(ROWS[:upto]):
        w = np.ones(len(row)) if weights is None else np.array(weights[r])
        total = (TABLE[row] * w[:, None]).sum(axis=0) if row else np.zeros(2)
        if row and combiner == "mean":
            total /= w.sum()
        if row and combiner == "sqrtn":
            total /= np.sqrt((w * w).sum())
        out.append(total)
    return np.array(out)


@pytest.mark.parametrize("combiner", ["sum", "mean", "sqrtn"])
@pytest.mark.parametrize("weighted", [False, True])
def test_embedding_lookup_sparse_combines_each_row(combiner, weighted):
    with gc.Graph().as_default():
        table = gc.constant(TABLE)
        weights = _sparse(WEIGHTS, np.float64) if weighted else None
        found = gc.nn.embedding_lookup_sparse(table, _sparse(ROWS), weights, combiner=combiner)
        (grad,) = gc.gradients(gc.reduce_sum(found), [table])
        with gc.Session() as sess:
            out, grad = sess.run([found, grad])
    # rows up to the last row with ids, as TF's sorted segment sums make them
    expected = _combined(combiner, WEIGHTS if weighted else None, upto=3)
    np.testing.assert_allclose(out, expected)
    # d(sum of outputs)/d(table row i): the factor each output row applies to row i
    factors = np.zeros(6)
    for r, row in enumerate(ROWS):
        w = np.ones(len(row)) if not weighted else np.array(WEIGHTS[r])
        scale = {"sum": 1.0, "mean": 1 / w.sum() if row else 0,
                 "sqrtn": 1 / np.sqrt((w * w).sum()) if row else 0}[combiner]
        for j, i in enumerate(row):
            factors[i] += w[j] * scale
    np.testing.assert_allclose(grad, np.repeat(factors[:, None], 2, axis=1))


@pytest.mark.parametrize("default_id", [None, 0])
def test_safe_lookup_gives_every_row_and_skips_invalid_ids(default_id):
    rows = [[1, -1, 3], [], [5], [-2]]  # negative ids are dropped
    with gc.Graph().as_default():
        found = gc.nn.safe_embedding_lookup_sparse(gc.constant(TABLE), _sparse(rows),
                                                   combiner="sum", default_id=default_id)
        with gc.Session() as sess:
            out = sess.run(found)
    expected = _combined("sum")
    if default_id is not None:
        expected[[1, 3]] = TABLE[default_id]
    np.testing.assert_allclose(out, expected)


def test_segment_sum_mean_and_sqrt_n():
    with gc.Graph().as_default():
        data = gc.constant(TABLE)
        out = gc.Session().run([gc.sparse.segment_sum(data, [0, 2, 3], [0, 0, 2]),
                                gc.sparse_segment_mean(data, [0, 2, 3], [0, 0, 2]),
                                gc.sparse_segment_sqrt_n(data, [1, 2], [1, 1],
                                                         num_segments=3)])
    np.testing.assert_allclose(out[0], [TABLE[0] + TABLE[2], [0, 0], TABLE[3]])
    np.testing.assert_allclose(out[1], [(TABLE[0] + TABLE[2]) / 2, [0, 0], TABLE[3]])
    np.testing.assert_allclose(out[2], [[0, 0], (TABLE[1] + TABLE[2]) / np.sqrt(2), [0, 0]])


def test_a_bad_combiner_is_refused():
    with gc.Graph().as_default():
        with pytest.raises(ValueError, match="combiner must be one of"):
            gc.nn.embedding_lookup_sparse(gc.constant(TABLE), _sparse(ROWS), None,
                                          combiner="max")
