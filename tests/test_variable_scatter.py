"""tf.scatter_* and tf.scatter_nd_*: sparse variable updates (TF1 semantics), staged like
every variable write, with errors that name the op and change nothing."""
import numpy as np
import pytest

import graphc as gc

START = np.arange(12, dtype=np.float32).reshape(4, 3)


def _session_with(initial):
    graph = gc.Graph()
    with graph.as_default():
        variable = gc.Variable(initial, name="table")
        init = gc.global_variables_initializer()
    sess = gc.Session(graph=graph)
    sess.run(init)
    return graph, variable, sess


def _numpy_scatter(start, indices, updates, ufunc):
    out = start.copy()
    if ufunc is None:
        out[indices] = updates
    else:
        ufunc.at(out, indices, updates)
    return out


@pytest.mark.parametrize("name,ufunc", [
    ("scatter_update", None), ("scatter_add", np.add), ("scatter_sub", np.subtract),
    ("scatter_mul", np.multiply), ("scatter_div", np.divide), ("scatter_max", np.maximum),
    ("scatter_min", np.minimum)])
def test_row_scatters_match_numpy_with_repeated_indices(name, ufunc):
    indices = np.array([2, 0, 2]) if ufunc is not None else np.array([2, 0])
    updates = np.random.default_rng(0).uniform(1, 3, (len(indices), 3)).astype(np.float32)
    graph, table, sess = _session_with(START)
    with graph.as_default():
        new = getattr(gc, name)(table, indices, updates)
    got = sess.run(new)
    want = _numpy_scatter(START, indices, updates, ufunc)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    np.testing.assert_allclose(sess.run(table), want, rtol=1e-6)  # committed
    assert new.op.name == "".join(p.title() for p in name.split("_"))


def test_a_scalar_update_is_broadcast_to_the_rows():
    graph, table, sess = _session_with(START)
    with graph.as_default():
        new = gc.scatter_update(table, [1, 3], 0.5)
    got = sess.run(new)
    assert (got[[1, 3]] == 0.5).all() and (got[[0, 2]] == START[[0, 2]]).all()


def test_nd_scatters_reach_elements_and_slices():
    graph, table, sess = _session_with(START)
    with graph.as_default():
        elements = gc.scatter_nd_add(table, [[0, 1], [3, 2], [0, 1]], [10.0, 20.0, 30.0])
        rows = gc.scatter_nd_update(table, [[1], [2]], np.ones((2, 3), np.float32))
        minus = gc.scatter_nd_sub(table, [[3, 0]], [1.0])
    got = sess.run(elements)
    assert got[0, 1] == START[0, 1] + 40 and got[3, 2] == START[3, 2] + 20
    got = sess.run(rows)
    assert (got[1:3] == 1).all()
    assert sess.run(minus)[3, 0] == START[3, 0] - 1


def test_integer_scatter_div_truncates_each_division_in_turn():
    graph, table, sess = _session_with(np.array([[-7, 9], [8, 8]], np.int32))
    with graph.as_default():
        new = gc.scatter_div(table, [0, 0], np.array([[2, 2], [2, -4]], np.int32))
    # -7 / 2 = -3 then -3 / 2 = -1 (C truncation); 9 / 2 = 4 then 4 / -4 = -1
    np.testing.assert_array_equal(sess.run(new), [[-1, -1], [8, 8]])


def test_an_index_out_of_range_fails_naming_the_op_and_changes_nothing():
    graph, table, sess = _session_with(START)
    with graph.as_default():
        indices = gc.placeholder(gc.int32, [None])
        bump = gc.assign_add(table, gc.ones_like(table))
        bad = gc.scatter_add(table, indices, gc.ones([2, 3]))
        both = gc.group(bump, bad)
    with pytest.raises(gc.errors.InvalidArgumentError,
                       match=r"ScatterAdd.*scatter_add: indices\[1\] = 4 is not in \[0, 4\)"):
        sess.run(both, {indices: [0, 4]})
    np.testing.assert_array_equal(sess.run(table), START)  # neither write was committed


def test_shapes_and_dtypes_are_checked_when_built():
    graph, table, _ = _session_with(START)
    with graph.as_default():
        with pytest.raises(ValueError, match=r"scatter_update: updates of shape \(2, 2\) must "
                                             r"have shape \(2, 3\)"):
            gc.scatter_update(table, [0, 1], np.ones((2, 2), np.float32))
        with pytest.raises(TypeError, match="scatter_add: indices must be int32 or int64"):
            gc.scatter_add(table, gc.constant([0], gc.int8), np.ones((1, 3), np.float32))
        with pytest.raises(TypeError, match="do not match the variable's dtype float32"):
            gc.scatter_add(table, [0], gc.constant(np.ones((1, 3)), gc.float64))
        with pytest.raises(ValueError, match="index 3 dimensions of a variable of rank 2"):
            gc.scatter_nd_add(table, [[0, 0, 0]], [1.0])


def test_scatter_ops_are_not_differentiable_and_need_a_variable():
    graph, table, _ = _session_with(START)
    with graph.as_default():
        updates = gc.constant(np.ones((1, 3), np.float32))
        new = gc.scatter_add(table, [0], updates)
        assert gc.gradients(gc.reduce_sum(new), [updates]) == [None]
        with pytest.raises(TypeError, match="Expected a Variable"):
            gc.scatter_add(gc.constant(START), [0], updates)
