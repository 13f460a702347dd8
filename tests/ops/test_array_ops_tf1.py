"""TF1 semantics of the array ops of issue 11 that the registry samples cannot pin down on
their own: tie orders, empty segments, exclusive/reverse flags, data-dependent shapes and
run-time index errors. Expected values are TensorFlow 2.21's (tf.compat.v1 semantics)."""
import numpy as np
import pytest

import graphc as tf


def run(build, feed=None):
    graph = tf.Graph()
    with graph.as_default():
        fetches = build()
    with tf.Session(graph=graph) as sess:
        return sess.run(fetches, feed_dict=feed(graph) if feed else None)


def values(*fetched):
    return [np.asarray(v).tolist() for v in fetched]


def test_cumsum_and_cumprod_flags():
    got = run(lambda: [tf.cumsum([1, 2, 3], exclusive=True), tf.cumsum([1, 2, 3], reverse=True),
                       tf.cumsum([1, 2, 3], exclusive=True, reverse=True),
                       tf.cumprod([2, 3, 4], exclusive=True),
                       tf.math.cumprod([2, 3, 4], exclusive=True, reverse=True)])
    assert values(*got) == [[0, 1, 3], [6, 5, 3], [5, 3, 0], [1, 2, 6], [12, 4, 1]]


def test_gather_nd_scatter_nd_and_tensor_scatter():
    got = run(lambda: [
        tf.gather_nd([[1, 2], [3, 4]], [[0, 1], [1, 0]]),
        tf.gather_nd([[[1, 2], [3, 4]], [[5, 6], [7, 8]]], [[1]]),
        tf.scatter_nd([[1], [3], [1]], [1.0, 2.0, 3.0], [5]),  # duplicates sum
        tf.tensor_scatter_nd_update([[1, 2], [3, 4], [5, 6]], [[0], [2]], [[9, 9], [8, 8]]),
        tf.tensor_scatter_nd_add([1, 2, 3], [[0], [0]], [5, 5]),
        tf.tensor_scatter_update([1, 2, 3], [[1]], [7])])
    assert values(*got) == [[2, 3], [[[5, 6], [7, 8]]], [0.0, 4.0, 0.0, 2.0, 0.0],
                            [[9, 9], [3, 4], [8, 8]], [11, 2, 3], [1, 7, 3]]


def test_gather_nd_out_of_range_index_is_tfs_invalid_argument_error():
    graph = tf.Graph()
    with graph.as_default():
        indices = tf.placeholder(tf.int32, [None, 2])
        picked = tf.gather_nd(tf.constant([[1, 2], [3, 4]]), indices)
    with tf.Session(graph=graph) as sess:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"gather_nd.*indices\[0\] = \[0, 2\] does not index into shape"):
            sess.run(picked, {indices: [[0, 2]]})


def test_gather_nd_gradient_scatters_back_and_sums_repeats():
    def build():
        params = tf.constant([[1.0, 2.0], [3.0, 4.0]])
        picked = tf.gather_nd(params, [[0, 1], [0, 1], [1, 0]])
        return tf.gradients(tf.reduce_sum(picked * [1.0, 2.0, 5.0]), params)[0]
    assert values(run(build)) == [[[0.0, 3.0], [5.0, 0.0]]]


def test_sort_argsort_top_k_keep_tfs_tie_order():
    got = run(lambda: [tf.argsort([2, 1, 2, 1], direction="DESCENDING", stable=True),
                       tf.argsort([2, 1, 2, 1]), tf.sort([2, 1, 2, 1], direction="DESCENDING"),
                       *tf.nn.top_k([[1, 3, 3, 2], [5, 5, 5, 5]], 3)])
    assert values(*got) == [[0, 2, 1, 3], [1, 3, 0, 2], [2, 2, 1, 1],
                            [[3, 3, 2], [5, 5, 5]], [[1, 2, 3], [0, 1, 2]]]


def test_top_k_gradient_goes_to_the_picked_entries():
    def build():
        x = tf.constant([3.0, 1.0, 2.0])
        top = tf.math.top_k(x, 2).values
        return tf.gradients(tf.reduce_sum(top * [10.0, 1.0]), x)[0]
    assert values(run(build)) == [[10.0, 0.0, 1.0]]


def test_in_top_k_counts_ties_at_the_boundary_as_in():
    predictions = [[0.5, 0.5, 0.5, 0.5], [0.1, 0.9, 0.9, 0.2], [0.3, 0.9, 0.9, 0.2],
                   [0.3, np.inf, 0.9, 0.2]]
    got = run(lambda: tf.nn.in_top_k(tf.constant(predictions, tf.float32), [3, 0, 1, 2], 1))
    assert got.tolist() == [True, False, True, False]  # a non-finite row is never in


def test_unique_keeps_first_occurrence_order_with_a_run_time_length():
    def build():
        x = tf.placeholder(tf.int32, [None])
        y, idx, count = tf.unique_with_counts(x)
        assert y.shape.as_list() == [None] and idx.shape.as_list() == [None]
        return [y, idx, count, tf.unique(x, out_idx=tf.int64)[1]]
    got = run(build, lambda g: {g.get_tensor_by_name("Placeholder:0"): [4, 1, 4, 4, 2, 1]})
    assert values(*got) == [[4, 1, 2], [0, 1, 0, 0, 2, 1], [3, 2, 1], [0, 1, 0, 0, 2, 1]]
    assert got[3].dtype == np.int64


def test_segment_reductions_of_empty_segments_and_negative_ids():
    got = run(lambda: [
        tf.segment_max([1.0, 2.0, 3.0], [0, 0, 2]),
        tf.math.segment_mean([1, 2, -4, -7], [0, 0, 1, 1]),  # integer means truncate
        tf.segment_prod([2.0, 3.0, 4.0], [0, 0, 2]),
        tf.math.unsorted_segment_max(tf.constant([1.0, 2.0, 3.0]), [0, 0, -1], 3),
        tf.math.unsorted_segment_min(tf.constant([1.0, 2.0, 3.0]), [1, 1, -1], 3),
        tf.math.unsorted_segment_prod([2.0, 3.0, 4.0], [1, 1, -1], 3),
        tf.math.unsorted_segment_mean([1, 2, 3], [0, 0, 2], 3)])
    lowest, highest = float(np.finfo(np.float32).min), float(np.finfo(np.float32).max)
    assert values(*got) == [[2.0, 0.0, 3.0], [1, -5], [6.0, 1.0, 4.0], [2.0, lowest, lowest],
                            [highest, 1.0, highest], [1.0, 6.0, 1.0], [1.5, 0.0, 3.0]]
    assert got[6].dtype == np.float64  # TF's sum / count of integers


def test_segment_ids_out_of_order_fail_at_run_time():
    graph = tf.Graph()
    with graph.as_default():
        ids = tf.placeholder(tf.int32, [3])
        total = tf.segment_sum([1.0, 2.0, 3.0], ids)
    with tf.Session(graph=graph) as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="sorted and non-negative"):
            sess.run(total, {ids: [1, 0, 2]})


def test_segment_max_and_prod_gradients_match_tf():
    def build():
        d = tf.constant([[1.0, 5.0], [5.0, 2.0], [3.0, 3.0]])
        best = tf.segment_max(d, [0, 0, 1]) * [[1.0, 2.0], [3.0, 4.0]]
        with_zeros = tf.constant([[0.0, 5.0], [5.0, 0.0], [3.0, 0.0]]) * d
        product = tf.math.unsorted_segment_prod(with_zeros, [0, 0, 1], 2)
        return tf.gradients(tf.reduce_sum(best), d) + tf.gradients(tf.reduce_sum(product), d)
    assert values(*run(build)) == [[[0.0, 2.0], [1.0, 0.0], [3.0, 4.0]],
                                   [[0.0, 0.0], [0.0, 0.0], [3.0, 0.0]]]


def test_reverse_and_reverse_sequence():
    got = run(lambda: [
        tf.reverse([[1, 2], [3, 4]], [1]), tf.reverse_v2([[1, 2], [3, 4]], [0, 1]),
        tf.reverse_sequence([[1, 2, 3, 4], [5, 6, 7, 8]], [3, 0], seq_axis=1, batch_axis=0),
        tf.reverse_sequence(tf.reshape(tf.range(24), [4, 2, 3]), [1, 3], seq_axis=0,
                            batch_axis=1)])
    assert values(*got)[:3] == [[[2, 1], [4, 3]], [[4, 3], [2, 1]], [[3, 2, 1, 4], [5, 6, 7, 8]]]
    assert values(got[3])[0] == [[[0, 1, 2], [15, 16, 17]], [[6, 7, 8], [9, 10, 11]],
                                 [[12, 13, 14], [3, 4, 5]], [[18, 19, 20], [21, 22, 23]]]


def test_boolean_mask_shapes_values_and_gradient():
    def build():
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        mask = tf.placeholder(tf.bool, [None], name="mask")
        picked = tf.boolean_mask(x, mask)
        assert picked.shape.as_list() == [None, 2]
        cube = tf.reshape(tf.range(24), [2, 3, 4])
        rows = tf.boolean_mask(cube, [[True, False, True], [False, False, True]])
        columns = tf.boolean_mask(tf.reshape(tf.range(8), [2, 4]), [True, False, False, True],
                                  axis=1)
        grad = tf.gradients(tf.reduce_sum(picked * 3.0), x)[0]
        return [picked, rows, columns, grad]
    got = run(build, lambda g: {g.get_tensor_by_name("x:0"): np.ones((3, 2)),
                                g.get_tensor_by_name("mask:0"): [True, False, True]})
    assert values(*got) == [[[1.0, 1.0], [1.0, 1.0]],
                            [[0, 1, 2, 3], [8, 9, 10, 11], [20, 21, 22, 23]],
                            [[0, 3], [4, 7]], [[3.0, 3.0], [0.0, 0.0], [3.0, 3.0]]]


def test_boolean_mask_errors_name_op_shapes_and_dtypes():
    with tf.Graph().as_default():
        x = tf.zeros([3, 2])
        with pytest.raises(ValueError, match=r"boolean_mask: mask must match.*\(3, 2\) float32"):
            tf.boolean_mask(x, tf.constant([True, False]))
        with pytest.raises(TypeError, match=r"boolean_mask: mask must be bool.*int32"):
            tf.boolean_mask(x, tf.constant([1, 0, 1]))


def test_sequence_mask():
    got = run(lambda: [tf.sequence_mask([1, 3, 2]),
                       tf.sequence_mask([[1], [2]], 3, dtype=tf.float32)])
    assert values(*got) == [[[True, False, False], [True, True, True], [True, True, False]],
                            [[[1.0, 0.0, 0.0]], [[1.0, 1.0, 0.0]]]]
